package wire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testPKI is a certificate authority made for one test run, with server
// certificates good and bad.
type testPKI struct {
	roots             *x509.CertPool
	good, expired     tls.Certificate // signed by the CA, for mx.test and 127.0.0.1
	selfSigned, wrong tls.Certificate // self-signed for mx.test; CA-signed for other.test
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtpprobe test CA"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{roots: x509.NewCertPool()}
	p.roots.AddCert(ca)

	leaf := func(serial int64, name string, from, to time.Time, self bool) tls.Certificate {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			DNSNames: []string{name}, NotBefore: from, NotAfter: to,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		if name == "mx.test" {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		parent, signer := ca, any(caKey)
		if self {
			parent, signer = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer.(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	p.good = leaf(2, "mx.test", now.Add(-time.Hour), now.Add(24*time.Hour), false)
	p.expired = leaf(3, "mx.test", now.Add(-40*time.Hour), now.Add(-20*time.Hour), false)
	p.selfSigned = leaf(4, "mx.test", now.Add(-time.Hour), now.Add(24*time.Hour), true)
	p.wrong = leaf(5, "other.test", now.Add(-time.Hour), now.Add(24*time.Hour), false)
	return p
}

func serverTLS(c tls.Certificate) *tls.Config { return &tls.Config{Certificates: []tls.Certificate{c}} }

func hasProblem(info *TLSInfo, sub string) bool {
	for _, p := range info.Problems {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}
