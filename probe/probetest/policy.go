package probetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Policy is what a PolicyServer says yes and no to. It models a small
// Postfix-like mail host: one local domain, a few mailboxes, and the
// temporary and permanent refusals a prober meets every day.
//
// The server is go-smtp's, and it is lenient where real MTAs are strict: it
// accepts `MAIL FROM:a@b` without angle brackets, answers every VRFY with
// 252 2.5.0, rejects a bare `RCPT TO:<postmaster>` (RFC 5321 §4.1.1.3 says it
// must be accepted) and closes the connection after its fourth unknown or
// unparseable command ("500 5.5.1 Too many errors"). Never use it to show
// strictness; use a scripted raw server for that.
type Policy struct {
	// Domain is the local mail domain (e.g. "demo.test"). A recipient at
	// any other domain is refused as relaying, 554 5.7.1.
	Domain string
	// Hostname is the name in the 220 banner and the certificate's CN and
	// DNS SAN (e.g. "mx1.demo.test").
	Hostname string
	// Mailboxes are the local parts accepted with 250. "postmaster" is
	// always accepted, as RFC 5321 §4.5.1 requires.
	Mailboxes []string
	// Greylisted local parts get 450 4.2.0, a temporary refusal.
	Greylisted []string
	// OverQuota local parts get 452 4.2.2, mailbox full (RFC 3463 §3.3).
	OverQuota []string
	// MaxMessageBytes is advertised as SIZE and enforced on MAIL FROM's
	// SIZE= parameter (552 5.3.4 above it). Zero advertises a bare SIZE.
	MaxMessageBytes int64
	// NoSTARTTLS leaves STARTTLS out of the EHLO reply.
	NoSTARTTLS bool
	// TLS, when set, is served after STARTTLS instead of a self-signed
	// certificate for Hostname (a chain from a test CA, say).
	TLS *tls.Config
}

// Replies the policy gives, in the wording Postfix uses so that the explain
// and recognizer layers meet realistic text.
const (
	policyUserUnknown = "%s: Recipient address rejected: User unknown in local recipient table"
	policyGreylisted  = "%s: Recipient address rejected: Greylisted, please try again later"
	policyOverQuota   = "%s: Recipient address rejected: Mailbox full"
	policyRelayDenied = "%s: Relay access denied"
)

// PolicyServer is a go-smtp server applying a Policy on a listener. It
// records what clients sent so that tests can check what a probe did, and
// above all that it never reached DATA.
type PolicyServer struct {
	policy Policy
	srv    *smtp.Server
	ln     *policyListener
	cert   *x509.Certificate
	served chan error // Serve's result

	mu       sync.Mutex
	commands []string // client command lines, in arrival order
	dataSeen bool
	mails    []string // reverse-paths passed to Mail
	rcpts    []string // forward-paths passed to Rcpt
	logged   []string // go-smtp's internal error log

	closeOnce sync.Once
	closeErr  error
}

// NewPolicyServer starts serving p on l and returns at once. The caller owns
// nothing further: Close stops the server and closes l.
func NewPolicyServer(l net.Listener, p Policy) (*PolicyServer, error) {
	if p.Domain == "" {
		return nil, errors.New("probetest: Policy.Domain is empty")
	}
	if p.Hostname == "" {
		p.Hostname = "mx." + p.Domain
	}
	s := &PolicyServer{policy: p, ln: newPolicyListener(l), served: make(chan error, 1)}

	srv := smtp.NewServer(policyBackend{s})
	srv.Domain = p.Hostname
	srv.MaxMessageBytes = p.MaxMessageBytes
	srv.ReadTimeout = 2 * time.Minute // an abandoned client cannot hold a goroutine forever
	srv.WriteTimeout = 30 * time.Second
	srv.Debug = policyRecorder{s}
	srv.ErrorLog = policyErrorLog{s}
	if !p.NoSTARTTLS && p.TLS != nil {
		srv.TLSConfig = p.TLS
	} else if !p.NoSTARTTLS {
		cert, tlsCert, err := policyCert(p.Hostname)
		if err != nil {
			return nil, err
		}
		s.cert = cert
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12}
	}
	s.srv = srv
	go func() { s.served <- srv.Serve(s.ln) }()
	return s, nil
}

// StartPolicy starts a PolicyServer on a fresh 127.0.0.1:0 listener and
// closes it when the test ends.
func StartPolicy(t testing.TB, p Policy) *PolicyServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("probetest: listen: %v", err)
	}
	s, err := NewPolicyServer(l, p)
	if err != nil {
		l.Close()
		t.Fatalf("probetest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("probetest: closing policy server: %v", err)
		}
	})
	return s
}

// Addr is the listener's address, "127.0.0.1:PORT".
func (s *PolicyServer) Addr() string { return s.ln.Addr().String() }

// Certificate is the self-signed certificate offered after STARTTLS, or nil
// when STARTTLS is off.
func (s *PolicyServer) Certificate() *x509.Certificate { return s.cert }

// Connections is the number of TCP connections accepted so far.
func (s *PolicyServer) Connections() int { return s.ln.accepted() }

// DataSeen reports whether any client ever sent DATA or BDAT, whether or not
// the server went on to accept it. A probe must never do so.
func (s *PolicyServer) DataSeen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dataSeen
}

// Commands returns every command line clients sent, across all connections,
// in arrival order and without the CRLF, including those sent inside TLS.
func (s *PolicyServer) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// Verbs counts the commands received by their upper-cased verb ("EHLO",
// "VRFY", "MAIL", …).
func (s *PolicyServer) Verbs() map[string]int {
	counts := map[string]int{}
	for _, c := range s.Commands() {
		counts[policyVerb(c)]++
	}
	return counts
}

// Recipients returns the forward-paths that reached the policy (those go-smtp
// parsed), in order, whatever the policy answered.
func (s *PolicyServer) Recipients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rcpts...)
}

// Senders returns the reverse-paths that reached the policy, in order; the
// null reverse-path is "".
func (s *PolicyServer) Senders() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.mails...)
}

// Logged returns what go-smtp wrote to its error log (failed TLS
// handshakes, broken connections); tests may assert it is empty.
func (s *PolicyServer) Logged() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logged...)
}

// Close stops accepting, drops every open connection and waits until all of
// the server's goroutines have returned. It is safe to call more than once.
func (s *PolicyServer) Close() error {
	s.closeOnce.Do(func() {
		s.ln.shut() // closes the listener and every connection, now and later
		// Once Serve has returned no connection goroutine can start, so
		// Shutdown's wait covers them all; their reads fail at once.
		if err := <-s.served; err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// decide is the policy's answer to one recipient: nil for 250, else the
// refusal.
func (s *PolicyServer) decide(to string) error {
	// The domain follows the last "@": a quoted local part may hold one.
	local, domain, ok := to, "", false
	if i := strings.LastIndexByte(to, '@'); i >= 0 {
		local, domain, ok = to[:i], to[i+1:], true
	}
	quoted := "<" + to + ">"
	if !ok || !strings.EqualFold(domain, s.policy.Domain) {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: fmt.Sprintf(policyRelayDenied, quoted)}
	}
	switch {
	case strings.EqualFold(local, "postmaster"), policyHas(s.policy.Mailboxes, local):
		return nil
	case policyHas(s.policy.Greylisted, local):
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: fmt.Sprintf(policyGreylisted, quoted)}
	case policyHas(s.policy.OverQuota, local):
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: fmt.Sprintf(policyOverQuota, quoted)}
	}
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: fmt.Sprintf(policyUserUnknown, quoted)}
}

func policyHas(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// policyBackend hands every connection a policySession bound to the server.
type policyBackend struct{ s *PolicyServer }

func (b policyBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &policySession{b.s}, nil }

type policySession struct{ s *PolicyServer }

func (ss *policySession) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, from)
	ss.s.mu.Unlock()
	return nil
}

func (ss *policySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	ss.s.rcpts = append(ss.s.rcpts, to)
	ss.s.mu.Unlock()
	return ss.s.decide(to)
}

// Data refuses the message: a probe never gets here, and if one does the
// server records it and keeps nothing.
func (ss *policySession) Data(r io.Reader) error {
	ss.s.mu.Lock()
	ss.s.dataSeen = true
	ss.s.mu.Unlock()
	io.Copy(io.Discard, r)
	return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Test server accepts no messages"}
}

func (ss *policySession) Reset()        {}
func (ss *policySession) Logout() error { return nil }

// policyRecorder receives go-smtp's Debug stream: every chunk the server
// read (client bytes, after TLS is removed) and every reply line it wrote.
// go-smtp flushes each reply line in its own write, so a chunk that is one
// "NNN-…" or "NNN …" line is the server's; everything else is client input.
// Connections share the stream, but a client writes each command in one
// piece, so lines are not torn apart in practice.
type policyRecorder struct{ s *PolicyServer }

func (r policyRecorder) Write(p []byte) (int, error) {
	if policyReplyLine(p) {
		return len(p), nil
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line == "" {
			continue
		}
		line = strings.TrimRight(line, "\r\n")
		r.s.commands = append(r.s.commands, line)
		if v := policyVerb(line); v == "DATA" || v == "BDAT" {
			r.s.dataSeen = true
		}
	}
	return len(p), nil
}

// policyReplyLine reports whether p is exactly one CRLF-terminated reply line,
// as go-smtp writes them.
func policyReplyLine(p []byte) bool {
	if len(p) < 5 || p[len(p)-2] != '\r' || p[len(p)-1] != '\n' {
		return false
	}
	for _, b := range p[:3] {
		if b < '0' || b > '9' {
			return false
		}
	}
	if p[3] != ' ' && p[3] != '-' && p[3] != '\r' {
		return false
	}
	return strings.Count(string(p), "\n") == 1
}

// policyVerb is the first word of a command line, upper-cased.
func policyVerb(line string) string {
	verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	return strings.ToUpper(verb)
}

type policyErrorLog struct{ s *PolicyServer }

func (l policyErrorLog) Printf(format string, v ...any) { l.add(fmt.Sprintf(format, v...)) }
func (l policyErrorLog) Println(v ...any)               { l.add(strings.TrimSuffix(fmt.Sprintln(v...), "\n")) }
func (l policyErrorLog) add(s string) {
	l.s.mu.Lock()
	l.s.logged = append(l.s.logged, s)
	l.s.mu.Unlock()
}

// policyCert makes an ECDSA P-256 certificate for host, valid from an
// hour ago for a day, with host as CN and DNS SAN (or IP SAN for a literal).
func policyCert(host string) (*x509.Certificate, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("probetest: generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("probetest: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"smtpprobe test server"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("probetest: creating certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("probetest: parsing certificate: %w", err)
	}
	return cert, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, nil
}

// policyListener remembers every accepted connection so that shut can
// close them all, including one accepted while shutting down.
type policyListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	count  int
	closed bool
}

func newPolicyListener(l net.Listener) *policyListener {
	return &policyListener{Listener: l, conns: map[net.Conn]struct{}{}}
}

func (l *policyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &policyConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

func (l *policyListener) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}

// Close is a no-op after shut, so go-smtp closing it again is harmless.
func (l *policyListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.Listener.Close()
}

func (l *policyListener) shut() {
	l.Close()
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

type policyConn struct {
	net.Conn
	l    *policyListener
	once sync.Once
}

func (c *policyConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
