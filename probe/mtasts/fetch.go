package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// DefaultFetchTimeout bounds one policy fetch (RFC 8461 §3.3 suggests a
// timeout of about a minute; a diagnostic tool needs less).
const DefaultFetchTimeout = 20 * time.Second

// Fetcher fetches policies over HTTPS.
type Fetcher struct {
	// DialContext opens the TCP connection to "mta-sts.<domain>:443";
	// nil uses net.Dialer, which asks the system resolver. A caller that
	// must not (smtpprobe with --dns) resolves the name itself here.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// RootCAs verify the policy host's certificate; nil uses the system
	// roots (which honour SSL_CERT_FILE and SSL_CERT_DIR).
	RootCAs *x509.CertPool
	// Timeout bounds a fetch; DefaultFetchTimeout when zero.
	Timeout time.Duration
}

// Fetch is what one policy fetch found.
type Fetch struct {
	URL         string `json:"url"`
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// Location is the target of a redirect, which is never followed.
	Location string `json:"location,omitempty"`
	Body     []byte `json:"-"`
	// Stage is where a failure happened: connect, tls, http, redirect,
	// status, content-type, size; empty on success.
	Stage string `json:"stage,omitempty"`
	Error string `json:"error,omitempty"`
}

// PolicyURL is where a domain's policy lives (RFC 8461 §3.3).
func PolicyURL(domain string) string {
	return "https://mta-sts." + strings.TrimSuffix(domain, ".") + "/.well-known/mta-sts.txt"
}

// Fetch gets the policy of domain: HTTPS with a PKIX-valid certificate for
// mta-sts.<domain>, no redirect followed, a 200 answer of type text/plain
// of at most MaxPolicySize bytes (RFC 8461 §3.3). A failure is in the
// returned Fetch's Stage and Error.
func (f *Fetcher) Fetch(ctx context.Context, domain string) Fetch {
	out := Fetch{URL: PolicyURL(domain)}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := f.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	host := "mta-sts." + strings.TrimSuffix(domain, ".")
	tr := &http.Transport{
		Proxy:             nil,
		DialContext:       dial,
		TLSClientConfig:   &tls.Config{RootCAs: f.RootCAs, ServerName: host, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, out.URL, nil)
	if err != nil {
		out.Stage, out.Error = "http", err.Error()
		return out
	}
	resp, err := client.Do(req)
	if err != nil {
		out.Stage, out.Error = failureStage(err), describe(err, host)
		return out
	}
	defer resp.Body.Close()
	out.Status = resp.StatusCode
	out.ContentType = resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		out.Location = resp.Header.Get("Location")
		out.Stage, out.Error = "redirect", fmt.Sprintf("HTTP %d redirect to %q, which senders must not follow (RFC 8461 §3.3)", resp.StatusCode, out.Location)
		return out
	case resp.StatusCode != http.StatusOK:
		out.Stage, out.Error = "status", fmt.Sprintf("HTTP %d; only 200 gives a policy (RFC 8461 §3.3)", resp.StatusCode)
		return out
	}
	mt, _, err := mime.ParseMediaType(out.ContentType)
	if err != nil || mt != "text/plain" {
		out.Stage, out.Error = "content-type", fmt.Sprintf("Content-Type %q; the policy must be served as text/plain (RFC 8461 §3.2)", out.ContentType)
		return out
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicySize+1))
	if err != nil {
		out.Stage, out.Error = "http", "reading the body: "+err.Error()
		return out
	}
	if len(body) > MaxPolicySize {
		out.Stage, out.Error = "size", fmt.Sprintf("the body is larger than %d bytes, the most senders read (RFC 8461 §3.3)", MaxPolicySize)
		return out
	}
	out.Body = body
	return out
}

// failureStage tells a TLS failure from a connection failure.
func failureStage(err error) string {
	var cv *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	var he x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &cv), errors.As(err, &rh), errors.As(err, &ae), errors.As(err, &he), errors.As(err, &ua), errors.As(err, &ci):
		return "tls"
	}
	return "connect"
}

func describe(err error, host string) string {
	var he x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &he):
		return fmt.Sprintf("the certificate of %s is not valid for that name (%v); senders require it (RFC 8461 §3.3)", host, he)
	case errors.As(err, &ua):
		return fmt.Sprintf("the certificate of %s does not lead to a trusted root; senders require a PKIX-valid one (RFC 8461 §3.3)", host)
	case errors.As(err, &ci):
		return fmt.Sprintf("the certificate of %s is not valid: %v (RFC 8461 §3.3)", host, ci)
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}
