package wire

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TLSInfo describes a session's TLS layer and its certificate, with every
// problem found. Problems do not end the session unless Config.TLSVerify.
type TLSInfo struct {
	Version   string    `json:"version"`
	Cipher    string    `json:"cipher"`
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	SANs      []string  `json:"sans"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Verified  bool      `json:"verified"`   // the chain leads to a trusted root and is in its validity period
	NameMatch bool      `json:"name_match"` // the certificate is valid for the server name
	Problems  []string  `json:"problems,omitempty"`
	// Chain is the certificate chain the server sent, leaf first, for
	// checks beyond PKIX (DANE).
	Chain []*x509.Certificate `json:"-"`
}

// tlsConfig verifies nothing during the handshake: a diagnostic tool must
// see a bad certificate to report it. inspectTLS does the verification.
func (s *Session) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         s.cfg.ServerName,
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS10,
	}
}

// inspectTLS verifies the peer's chain against roots and its name against
// name, as of now, and describes what it found.
func inspectTLS(st tls.ConnectionState, name string, roots *x509.CertPool, now time.Time) *TLSInfo {
	info := &TLSInfo{Version: tls.VersionName(st.Version), Cipher: tls.CipherSuiteName(st.CipherSuite)}
	if st.Version < tls.VersionTLS12 {
		info.Problems = append(info.Problems, info.Version+" is deprecated (RFC 8996)")
	}
	if len(st.PeerCertificates) == 0 {
		info.Problems = append(info.Problems, "server sent no certificate")
		return info
	}
	info.Chain = st.PeerCertificates
	leaf := st.PeerCertificates[0]
	info.Subject = leaf.Subject.String()
	info.Issuer = leaf.Issuer.String()
	info.SANs = append(info.SANs, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		info.SANs = append(info.SANs, ip.String())
	}
	info.NotBefore, info.NotAfter = leaf.NotBefore, leaf.NotAfter

	if now.After(leaf.NotAfter) {
		info.Problems = append(info.Problems, "certificate expired on "+leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if now.Before(leaf.NotBefore) {
		info.Problems = append(info.Problems, "certificate not valid before "+leaf.NotBefore.UTC().Format(time.DateOnly))
	}
	selfSigned := leaf.Subject.String() == leaf.Issuer.String() && leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now})
	info.Verified = err == nil
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case err == nil:
	case errors.As(err, &ua) && selfSigned:
		info.Problems = append(info.Problems, "certificate is self-signed")
	case errors.As(err, &ua):
		info.Problems = append(info.Problems, "certificate chain does not lead to a trusted root")
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		// reported above with the dates
	default:
		info.Problems = append(info.Problems, "certificate chain does not verify: "+err.Error())
	}
	info.NameMatch = name != "" && leaf.VerifyHostname(name) == nil
	if !info.NameMatch {
		info.Problems = append(info.Problems, nameProblem(leaf, name, info.SANs))
	}
	return info
}

// nameProblem says why leaf is not valid for name. A certificate with no
// subjectAltName is valid for no name at all: its subject CN is not used
// for name checks (RFC 6125 §6.4.4), as modern clients no longer do.
func nameProblem(leaf *x509.Certificate, name string, sans []string) string {
	if len(sans) == 0 {
		if cn := leaf.Subject.CommonName; cn != "" {
			return fmt.Sprintf("certificate is not valid for %q: it has no subjectAltName, and its CN %q is not used for name checks (RFC 6125 §6.4.4)", name, cn)
		}
		return fmt.Sprintf("certificate is not valid for %q: it names no host (no subjectAltName)", name)
	}
	return fmt.Sprintf("certificate is not valid for %q (it names %s)", name, strings.Join(sans, ", "))
}
