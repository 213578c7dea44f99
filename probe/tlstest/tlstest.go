// Package tlstest makes certificate authorities and certificates for tests:
// a root, intermediates and leaves with chosen names and dates, and the TLS
// configurations that serve them.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a certificate authority: a certificate and its key.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// Options shape a certificate. Zero dates mean a validity of one year
// around now.
type Options struct {
	CommonName string
	DNSNames   []string
	IPs        []net.IP
	NotBefore  time.Time
	NotAfter   time.Time
}

func (o Options) dates() (time.Time, time.Time) {
	nb, na := o.NotBefore, o.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().Add(365 * 24 * time.Hour)
	}
	return nb, na
}

func nextSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

// NewCA makes a self-signed root named cn.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	return issue(t, nil, Options{CommonName: cn}, true)
}

// Intermediate makes a CA signed by ca.
func (ca *CA) Intermediate(t testing.TB, o Options) *CA {
	t.Helper()
	return issue(t, ca, o, true)
}

// Leaf makes a server certificate signed by ca.
func (ca *CA) Leaf(t testing.TB, o Options) *CA {
	t.Helper()
	return issue(t, ca, o, false)
}

// SelfSigned makes a self-signed server certificate.
func SelfSigned(t testing.TB, o Options) *CA {
	t.Helper()
	return issue(t, nil, o, false)
}

func issue(t testing.TB, parent *CA, o Options, isCA bool) *CA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nb, na := o.dates()
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: o.CommonName},
		DNSNames:              o.DNSNames,
		IPAddresses:           o.IPs,
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key}
}

// Pool is a certificate pool holding ca alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM is the certificate in PEM form.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// TLSConfig serves leaf with the chain after it (intermediates, then
// perhaps the root), for a tls.Listener or an httptest server.
func TLSConfig(leaf *CA, chain ...*CA) *tls.Config {
	c := tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, ca := range chain {
		c.Certificate = append(c.Certificate, ca.Cert.Raw)
	}
	return &tls.Config{Certificates: []tls.Certificate{c}}
}
