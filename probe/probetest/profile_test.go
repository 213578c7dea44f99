package probetest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

func TestFormsOf(t *testing.T) {
	adv := []string{"8BITMIME", "SIZE 1000"}
	for _, tc := range []struct {
		line     string
		smtputf8 bool
		want     []Form
	}{
		{"MAIL FROM:<a@b>", false, nil},
		{"MAIL FROM: <a@b>", false, []Form{FormSpaceAfterColon}},
		{"MAIL FROM :<a@b>", false, []Form{FormSpaceBeforeColon}},
		{"MAIL FROM <a@b>", false, []Form{FormNoColon}},
		{"mail from:<a@b>", false, []Form{FormLowerCaseVerb}},
		{"MAIL FROM:<a@b> ", false, []Form{FormTrailingSpace}},
		{"MAIL FROM:a@b", false, []Form{FormNoBrackets}},
		{"MAIL FROM:<a@b", false, []Form{FormUnbalancedBrackets}},
		{"MAIL FROM:<<a@b>>", false, []Form{FormStrayBrackets}},
		{"MAIL FROM:<john smith@b>", false, []Form{FormUnquotedSpecial}},
		{`MAIL FROM:<"john smith"@b>`, false, nil},
		{`MAIL FROM:<"john"@b>`, false, []Form{FormNeedlessQuotes}},
		{"MAIL FROM:<a@b.>", false, []Form{FormTrailingDot}},
		{"MAIL FROM:<jörg@b>", false, []Form{FormNonASCIILocal}},
		{"MAIL FROM:<jörg@exämple.com>", false, []Form{FormNonASCIILocal, FormNonASCIIDomain}},
		{"MAIL FROM:<jörg@exämple.com> SMTPUTF8", true, []Form{FormUnknownParam}},
		{"MAIL FROM:<jörg@b> SMTPUTF8", true, []Form{FormUnknownParam}},
		{"MAIL FROM:<a@b> BODY=8BITMIME SIZE=10", false, nil},
		{"MAIL FROM:<a@b> RET=HDRS", false, []Form{FormUnknownParam}},
		{"RCPT TO: a@b", false, []Form{FormSpaceAfterColon, FormNoBrackets}},
		{"MAIL FROM:<>", false, nil},
	} {
		got := FormsOf(tc.line, tc.smtputf8, adv)
		if strings.Join(formNames(got), ",") != strings.Join(formNames(tc.want), ",") {
			t.Errorf("%q: forms %v, want %v", tc.line, got, tc.want)
		}
	}
}

func formNames(fs []Form) []string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f))
	}
	return s
}

// dialProfile talks to a profile server line by line.
type profileClient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialProfile(t *testing.T, addr string) *profileClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	pc := &profileClient{t: t, c: c, r: bufio.NewReader(c)}
	pc.read()
	return pc
}

// read returns the last line of one reply.
func (pc *profileClient) read() string {
	pc.t.Helper()
	for {
		l, err := pc.r.ReadString('\n')
		if err != nil {
			return "EOF"
		}
		l = strings.TrimSuffix(l, "\r\n")
		if len(l) < 4 || l[3] != '-' {
			return l
		}
	}
}

func (pc *profileClient) cmd(line string) string {
	pc.t.Helper()
	if _, err := pc.c.Write([]byte(line + "\r\n")); err != nil {
		return "EOF"
	}
	return pc.read()
}

func TestProfileServers(t *testing.T) {
	for _, tc := range []struct {
		profile, line, want string
	}{
		{"postfix-strict", "MAIL FROM: <a@b>", "250 "},
		{"postfix-strict", "MAIL FROM:a@b", "501 5.1.7 Bad sender address syntax"},
		{"postfix-strict", "MAIL FROM :<a@b>", "501 5.5.4 Syntax: MAIL FROM:<address>"},
		{"postfix-strict", "MAIL FROM:<a@b> FOO=BAR", "555 5.5.4 Unsupported option: FOO=BAR"},
		{"postfix-strict", "MAIL FROM:<jörg@b>", "250 "},
		{"postfix-strict", "MAIL FROM:<a@exämple.com>", "501 5.1.7 Bad sender address syntax"},
		{"postfix-strict", "MAIL FROM:<a@exämple.com> SMTPUTF8", "250 "},
		{"exim", "MAIL FROM: <a@b>", "250 "},
		{"exim", "MAIL FROM:a@b", "250 "},
		{"exim", "MAIL FROM :<a@b>", "500 unrecognized command"},
		{"exim", "MAIL FROM:<a@b", "501 <a@b: malformed address: missing >"},
		{"lenient", "mail from: a@b ", "250 "},
		{"ascii-only", "MAIL FROM:<a@exämple.com>", "553 5.6.7 "},
		{"ascii-only", "MAIL FROM:<a@xn--exmple-cua.com>", "250 "},
		{"brackets-required", "MAIL FROM: <a@b>", "250 "},
		{"brackets-required", "MAIL FROM: a@b", "553 5.1.7 Path must be in angle brackets"},
		{"rfc-literal", "MAIL FROM: <a@b>", "501 5.5.2 Syntax error: no space allowed after the colon"},
	} {
		p, ok := ProfileByName(tc.profile)
		if !ok {
			t.Fatalf("no profile %q", tc.profile)
		}
		s := StartProfile(t, p)
		c := dialProfile(t, s.Addr())
		c.cmd("EHLO client.test")
		if got := c.cmd(tc.line); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q got %q, want %q…", tc.profile, tc.line, got, tc.want)
		}
		c.cmd("QUIT")
		if err := s.Err(); err != nil {
			t.Error(err)
		}
	}
}

func TestProfileServerRCPTAndState(t *testing.T) {
	p, _ := ProfileByName("postfix-strict")
	s := StartProfile(t, p)
	c := dialProfile(t, s.Addr())
	c.cmd("EHLO client.test")
	if got := c.cmd("RCPT TO:<a@b>"); !strings.HasPrefix(got, "503 ") {
		t.Errorf("RCPT before MAIL: %q", got)
	}
	c.cmd("MAIL FROM:<>")
	if got := c.cmd("RCPT TO:a@b"); got != "501 5.1.3 Bad recipient address syntax" {
		t.Errorf("bare RCPT: %q", got)
	}
	if got := c.cmd("RCPT TO:<b@exämple.com>"); !strings.HasPrefix(got, "501 5.1.3 ") {
		t.Errorf("non-ASCII RCPT without SMTPUTF8 on MAIL: %q", got)
	}
	c.cmd("RSET")
	c.cmd("MAIL FROM:<> SMTPUTF8")
	if got := c.cmd("RCPT TO:<b@exämple.com>"); !strings.HasPrefix(got, "250 ") {
		t.Errorf("non-ASCII RCPT after MAIL with SMTPUTF8: %q", got)
	}
	if got := c.cmd("DATA"); !strings.HasPrefix(got, "554 ") {
		t.Errorf("DATA: %q", got)
	}
	if s.Err() == nil {
		t.Error("DATA must be reported as a client failure")
	}
	if n := len(s.Lines()); n != 9 {
		t.Errorf("recorded %d lines: %q", n, s.Lines())
	}
}

func TestProfileServerDropsAfterErrors(t *testing.T) {
	p, _ := ProfileByName("exim")
	s := StartProfile(t, p)
	c := dialProfile(t, s.Addr())
	c.cmd("EHLO client.test")
	for i := 0; i < 3; i++ {
		if got := c.cmd("MAIL FROM :<a@b>"); !strings.HasPrefix(got, "500 ") {
			t.Fatalf("error %d: %q", i+1, got)
		}
	}
	// The fourth error reply ends with the last straw, as one reply.
	if got := c.cmd("MAIL FROM :<a@b>"); got != "500 Too many syntax or protocol errors" {
		t.Fatalf("fourth error: %q", got)
	}
	if got := c.read(); got != "EOF" {
		t.Errorf("after the drop: %q", got)
	}
}

// TestProfileServerCloseDoesNotWaitForIdleClients: a client that never
// says QUIT must not hold Close up.
func TestProfileServerCloseDoesNotWaitForIdleClients(t *testing.T) {
	p, _ := ProfileByName("lenient")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewProfileServer(l, p)
	t.Cleanup(func() { s.Close() }) // a second Close is harmless
	c := dialProfile(t, s.Addr())
	c.cmd("EHLO idle.test")
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for an idle client")
	}
	if got := c.read(); got != "EOF" {
		t.Errorf("after Close the client read %q", got)
	}
}
