package probetest_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

var testPolicy = probetest.Policy{
	Domain:          "demo.test",
	Hostname:        "mx1.demo.test",
	Mailboxes:       []string{"alice", "bob"},
	Greylisted:      []string{"greylisted"},
	OverQuota:       []string{"full"},
	MaxMessageBytes: 10240000,
}

// policyClient is a minimal line-oriented SMTP policyClient for these tests; the real
// one lives in package probe.
type policyClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialPolicy(t *testing.T, addr string) *policyClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &policyClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// reply reads one possibly multi-line reply and returns its lines without
// CRLF.
func (c *policyClient) reply() []string {
	c.t.Helper()
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply after %q: %v", lines, err)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return lines
		}
	}
}

func (c *policyClient) cmd(line string) []string {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
	return c.reply()
}

// expect sends line and checks the last reply line starts with want.
func (c *policyClient) expect(line, want string) []string {
	c.t.Helper()
	got := c.cmd(line)
	if last := got[len(got)-1]; !strings.HasPrefix(last, want) {
		c.t.Errorf("%s: got %q, want prefix %q", line, got, want)
	}
	return got
}

func (c *policyClient) startTLS(serverName string, roots *x509.CertPool) *tls.ConnectionState {
	c.t.Helper()
	c.expect("STARTTLS", "220 ")
	tc := tls.Client(c.conn, &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
	st := tc.ConnectionState()
	return &st
}

func TestPolicyServerSession(t *testing.T) {
	s := probetest.StartPolicy(t, testPolicy)
	c := dialPolicy(t, s.Addr())

	if got := c.reply(); !slices.Equal(got, []string{"220 mx1.demo.test ESMTP Service Ready"}) {
		t.Errorf("banner = %q", got)
	}
	ehlo := c.expect("EHLO client.test", "250 ")
	for _, kw := range []string{"PIPELINING", "8BITMIME", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES"} {
		if !slices.ContainsFunc(ehlo, func(l string) bool { return l[4:] == kw }) {
			t.Errorf("EHLO reply %q lacks %s", ehlo, kw)
		}
	}

	c.expect("VRFY alice", "252 2.5.0 ")
	c.expect("VRFY nobody@demo.test", "252 2.5.0 ")
	c.expect("MAIL FROM:<sender@client.test>", "250 2.0.0 ")

	cases := []struct{ rcpt, want string }{
		{"alice@demo.test", "250 2.0.0 "},
		{"ALICE@Demo.Test", "250 2.0.0 "},
		{"postmaster@demo.test", "250 2.0.0 "},
		{"Postmaster@DEMO.TEST", "250 2.0.0 "},
		{"nobody@demo.test", "550 5.1.1 <nobody@demo.test>: Recipient address rejected: User unknown"},
		{"greylisted@demo.test", "450 4.2.0 <greylisted@demo.test>: Recipient address rejected: Greylisted"},
		{"full@demo.test", "452 4.2.2 <full@demo.test>: Recipient address rejected: Mailbox full"},
		{"alice@elsewhere.test", "554 5.7.1 <alice@elsewhere.test>: Relay access denied"},
	}
	for _, tc := range cases {
		c.expect("RCPT TO:<"+tc.rcpt+">", tc.want)
	}
	c.expect("RSET", "250 ")
	c.expect("MAIL FROM:<> SIZE=20000000", "552 5.3.4 ")
	c.expect("MAIL FROM:<> SIZE=1000", "250 ")
	c.expect("QUIT", "221 ")

	if s.DataSeen() {
		t.Error("DataSeen = true, but no DATA was sent")
	}
	wantRcpts := make([]string, len(cases))
	for i, tc := range cases {
		wantRcpts[i] = tc.rcpt
	}
	if got := s.Recipients(); !slices.Equal(got, wantRcpts) {
		t.Errorf("Recipients = %q, want %q", got, wantRcpts)
	}
	if got, want := s.Senders(), []string{"sender@client.test", ""}; !slices.Equal(got, want) {
		t.Errorf("Senders = %q, want %q", got, want)
	}
	verbs := s.Verbs()
	for verb, n := range map[string]int{"EHLO": 1, "VRFY": 2, "MAIL": 3, "RCPT": len(cases), "RSET": 1, "QUIT": 1} {
		if verbs[verb] != n {
			t.Errorf("server saw %d %s, want %d (all: %v)", verbs[verb], verb, n, verbs)
		}
	}
	if got := s.Commands()[0]; got != "EHLO client.test" {
		t.Errorf("first command = %q", got)
	}
	if s.Connections() != 1 {
		t.Errorf("Connections = %d, want 1", s.Connections())
	}
	if l := s.Logged(); len(l) != 0 {
		t.Errorf("server logged %q", l)
	}
}

func TestPolicyServerSTARTTLS(t *testing.T) {
	s := probetest.StartPolicy(t, testPolicy)
	cert := s.Certificate()
	if cert == nil {
		t.Fatal("Certificate() = nil with STARTTLS on")
	}
	if cert.Subject.CommonName != "mx1.demo.test" || !slices.Equal(cert.DNSNames, []string{"mx1.demo.test"}) {
		t.Errorf("certificate CN %q SANs %q, want mx1.demo.test", cert.Subject.CommonName, cert.DNSNames)
	}
	if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		t.Errorf("certificate not valid now: %v – %v", cert.NotBefore, cert.NotAfter)
	}

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	c := dialPolicy(t, s.Addr())
	c.reply()
	c.expect("EHLO client.test", "250 ")
	st := c.startTLS("mx1.demo.test", roots) // verifies chain, name and dates
	if st.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", st.Version)
	}
	ehlo := c.expect("EHLO client.test", "250 ")
	if slices.ContainsFunc(ehlo, func(l string) bool { return strings.HasSuffix(l, "STARTTLS") }) {
		t.Errorf("STARTTLS offered again inside TLS: %q", ehlo)
	}
	c.expect("MAIL FROM:<a@client.test>", "250 ")
	c.expect("RCPT TO:<nobody@demo.test>", "550 5.1.1 ")
	c.expect("QUIT", "221 ")

	// Commands inside TLS are recorded in clear.
	want := []string{"EHLO client.test", "STARTTLS", "EHLO client.test", "MAIL FROM:<a@client.test>", "RCPT TO:<nobody@demo.test>", "QUIT"}
	if got := s.Commands(); !slices.Equal(got, want) {
		t.Errorf("Commands = %q, want %q", got, want)
	}

	// The certificate does not verify for another name.
	c2 := dialPolicy(t, s.Addr())
	c2.reply()
	c2.expect("EHLO client.test", "250 ")
	c2.expect("STARTTLS", "220 ")
	err := tls.Client(c2.conn, &tls.Config{ServerName: "mx2.demo.test", RootCAs: roots}).Handshake()
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Errorf("handshake for the wrong name: err = %v, want a HostnameError", err)
	}
}

func TestPolicyServerNoSTARTTLS(t *testing.T) {
	p := testPolicy
	p.NoSTARTTLS = true
	p.MaxMessageBytes = 0
	s := probetest.StartPolicy(t, p)
	if s.Certificate() != nil {
		t.Error("Certificate() != nil with STARTTLS off")
	}
	c := dialPolicy(t, s.Addr())
	c.reply()
	ehlo := c.expect("EHLO client.test", "250 ")
	if slices.ContainsFunc(ehlo, func(l string) bool { return strings.HasSuffix(l, "STARTTLS") }) {
		t.Errorf("STARTTLS advertised: %q", ehlo)
	}
	if !slices.Contains(ehlo, "250 SIZE") {
		t.Errorf("bare SIZE not advertised: %q", ehlo)
	}
	c.expect("STARTTLS", "502 5.5.1 ")
}

func TestPolicyServerDataSeen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string // sent before DATA, each expecting any reply
		want  string   // reply to DATA
	}{
		{"without recipients", []string{"EHLO c.test"}, "502 "},
		{"after a recipient", []string{"EHLO c.test", "MAIL FROM:<a@c.test>", "RCPT TO:<alice@demo.test>"}, "354 "},
		{"lower case", []string{"EHLO c.test"}, "502 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := probetest.StartPolicy(t, testPolicy)
			c := dialPolicy(t, s.Addr())
			c.reply()
			for _, l := range tc.lines {
				c.cmd(l)
			}
			if s.DataSeen() {
				t.Fatal("DataSeen before DATA")
			}
			data := "DATA"
			if tc.name == "lower case" {
				data = "data"
			}
			c.expect(data, tc.want)
			if tc.want == "354 " {
				c.expect("Subject: x\r\n\r\nbody\r\n.", "554 5.7.0 ")
			}
			if !s.DataSeen() {
				t.Error("DataSeen = false after DATA")
			}
		})
	}
	t.Run("BDAT", func(t *testing.T) {
		s := probetest.StartPolicy(t, testPolicy)
		c := dialPolicy(t, s.Addr())
		c.reply()
		c.cmd("EHLO c.test")
		c.expect("BDAT 0 LAST", "502 ")
		if !s.DataSeen() {
			t.Error("DataSeen = false after BDAT")
		}
	})
}

// go-smtp closes the connection after its fourth unknown (500) or
// unparseable (501) command; MAIL and RCPT syntax errors do not count. The
// engine relies on meeting such limits, so the behaviour is pinned here.
func TestPolicyServerErrorLimit(t *testing.T) {
	s := probetest.StartPolicy(t, testPolicy)
	c := dialPolicy(t, s.Addr())
	c.reply()
	c.expect("EHLO c.test", "250 ")
	for range 5 {
		c.expect("MAIL FROM:<<bad>>", "501 5.5.2 ") // not a protocol error to go-smtp
	}
	c.expect("XYZW", "500 5.5.2 Syntax errors, XYZW command unrecognized")
	c.expect("BOGUS1", "501 5.5.2 Bad command")
	c.expect("XYZW", "500 5.5.2 ")
	io.WriteString(c.conn, "BOGUS2\r\n")
	if got := c.reply(); !strings.HasPrefix(got[0], "501 5.5.2 ") {
		t.Errorf("fourth error: %q", got)
	}
	if got := c.reply(); !strings.HasPrefix(got[0], "500 5.5.1 Too many errors") {
		t.Errorf("after the fourth error: %q", got)
	}
	if _, err := c.r.ReadByte(); err != io.EOF {
		t.Errorf("connection still open after the error limit: %v", err)
	}
}

func TestPolicyServerCloseDropsClients(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := probetest.NewPolicyServer(l, testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	var clients []*policyClient
	for range 3 {
		c := dialPolicy(t, s.Addr())
		c.reply()
		c.expect("EHLO c.test", "250 ")
		clients = append(clients, c)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with idle clients connected")
	}
	for i, c := range clients {
		if _, err := c.r.ReadByte(); err == nil {
			t.Errorf("policyClient %d: connection still open after Close", i)
		}
		c.conn.Close()
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("listener still accepting after Close")
	}
	// Every server goroutine has returned: the count settles back.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestNewPolicyServerNeedsDomain(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := probetest.NewPolicyServer(l, probetest.Policy{}); err == nil {
		t.Error("NewPolicyServer with no Domain: err = nil")
	}
}
