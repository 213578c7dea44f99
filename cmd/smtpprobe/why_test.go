package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// runWhyCLI runs `smtpprobe why args...` with stdin and returns the exit
// code, stdout and stderr.
func runWhyCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	// The default EHLO name is this machine's; tests pin it unless they
	// set it themselves.
	if !slices.Contains(args, "--helo") {
		args = append([]string{"--helo", "localhost"}, args...)
	}
	code := runEnv(context.Background(), append([]string{"why"}, args...), e)
	return code, out.String(), errb.String()
}

func startProfile(t *testing.T, name string) *probetest.ProfileServer {
	t.Helper()
	p, ok := probetest.ProfileByName(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return probetest.StartProfile(t, p)
}

func TestWhyCLIRepaired(t *testing.T) {
	s := startProfile(t, "postfix-strict")
	code, out, errOut := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--color", "never", "MAIL FROM:a@b")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"Line:      MAIL FROM:a@b",
		"Rejected:  501 5.1.7 Bad sender address syntax",
		"Accepted:  250 2.1.0 Ok",
		"Send:      MAIL FROM:<a@b>",
		"[add-angle-brackets]",
		"RFC 5321 §4.1.2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr: %q", errOut)
	}
}

func TestWhyCLIAcceptedLenient(t *testing.T) {
	s := startProfile(t, "postfix-strict")
	code, out, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "MAIL FROM: <a@b>")
	if code != exitOK || !strings.Contains(out, "Accepted:  250") || !strings.Contains(out, "lenient") || strings.Contains(out, "Rejected:") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestWhyCLIOtherCauseExitsOne(t *testing.T) {
	p, _ := probetest.ProfileByName("postfix-strict")
	p.RcptReply = "554 5.7.1 <x@y>: Relay access denied"
	s := probetest.StartProfile(t, p)
	code, out, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--as", "rcpt", "x@y")
	if code != exitCheck {
		t.Errorf("exit %d, want %d", code, exitCheck)
	}
	for _, want := range []string{"Line:      RCPT TO:<x@y>", "Sent first: MAIL FROM:<postmaster@localhost>", "Rejected:  554 5.7.1", "relay"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestWhyCLIJSON(t *testing.T) {
	s := startProfile(t, "rfc-literal")
	code, out, _ := runWhyCLI(t, "", "--json", "--server", s.Addr(), "--tls", "none", "MAIL FROM: <a@b>")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if doc["schema_version"] != float64(1) || doc["command"] != "mail" || doc["line"] != "MAIL FROM: <a@b>" {
		t.Errorf("header fields: %v", doc)
	}
	attempts, _ := doc["attempts"].([]any)
	if len(attempts) != 2 {
		t.Fatalf("attempts: %v", doc["attempts"])
	}
	a2 := attempts[1].(map[string]any)
	if a2["line"] != "MAIL FROM:<a@b>" || a2["outcome"] != "accepted" || a2["connection"] != float64(1) {
		t.Errorf("attempt 2: %v", a2)
	}
	c := doc["conclusion"].(map[string]any)
	if c["kind"] != "repaired" || c["fixed_line"] != "MAIL FROM:<a@b>" {
		t.Errorf("conclusion: %v", c)
	}
	rs := c["repairs"].([]any)
	r := rs[0].(map[string]any)
	if r["name"] != "remove-space-after-colon" || r["ref"] != "RFC 5321 §3.3, §4.1.1.2" || r["rule"] == "" || r["change"] == "" {
		t.Errorf("repair: %v", r)
	}
	orig := c["original"].(map[string]any)
	acc := c["accepted"].(map[string]any)
	if orig["code"] != float64(501) || acc["code"] != float64(250) {
		t.Errorf("replies side by side: %v / %v", orig, acc)
	}
	for _, key := range []string{"host", "extensions", "connections"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("no %q in %v", key, doc)
		}
	}
}

// TestWhyCLIRefusesCRLFNUL: a line that cannot be one command is refused
// before any connection, naming the byte.
func TestWhyCLIRefusesCRLFNUL(t *testing.T) {
	s := startProfile(t, "lenient")
	for _, tc := range []struct{ stdin, arg, pos string }{
		{"", "MAIL FROM:<a@b>\rRSET", "byte 16"},
		{"", "MAIL FROM:<a\n@b>", "byte 13"},
		{"", "MAIL FROM:<a\x00@b>", "byte 13"},
		{"MAIL FROM:<a@b>\r\nDATA\r\n", "-", "byte 16"},
	} {
		code, out, errOut := runWhyCLI(t, tc.stdin, "--server", s.Addr(), tc.arg)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.pos) {
			t.Errorf("%q: exit %d, stderr %q", tc.arg, code, errOut)
		}
		if strings.ContainsAny(errOut[:len(errOut)-1], "\r\x00") {
			t.Errorf("stderr carries the raw control byte: %q", errOut)
		}
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("%d connections made for refused lines", n)
	}
}

func TestWhyCLIStdin(t *testing.T) {
	s := startProfile(t, "rfc-literal")
	code, out, _ := runWhyCLI(t, "MAIL FROM:<a@b>\t\r\n", "--json", "--server", s.Addr(), "--tls", "none", "-")
	var doc struct {
		Line       string `json:"line"`
		Conclusion struct {
			Kind  string `json:"kind"`
			Fixed string `json:"fixed_line"`
		} `json:"conclusion"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if code != exitOK || doc.Line != "MAIL FROM:<a@b>\t" || doc.Conclusion.Fixed != "MAIL FROM:<a@b>" {
		t.Errorf("exit %d, %+v", code, doc)
	}
}

func TestWhyCLIUsage(t *testing.T) {
	for _, args := range [][]string{
		{"MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1"},
		{"--server", "127.0.0.1:1", "MAIL", "FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "--as", "vrfy", "a@b"},
		{"--server", "127.0.0.1:99999", "MAIL FROM:<a@b>"},
		{"--server", "bad host", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "HELO x"},
		{"--server", "127.0.0.1:1", "--tls", "sometimes", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "--from", "a b@c", "RCPT TO:<a@b>"},
		{"--server", "127.0.0.1:1", "--max-attempts", "0", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "--max-time", "0s", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "--max-time", "25h", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "--timeout", "25h", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1", "--port", "0", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "--from", "a..b@example.com", "RCPT TO:<a@b>"},
		{"--server", "127.0.0.1:1", "--from", "<<a@b>>", "RCPT TO:<a@b>"},
		{"--server", "127.0.0.1:25", "--port", "26", "MAIL FROM:<a@b>"},
		{"--server", "127.0.0.1:1", "--dns", "bad host", "MAIL FROM:<a@b>"},
		{"--bogus"},
	} {
		code, out, errOut := runWhyCLI(t, "", args...)
		if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "smtpprobe why: ") || strings.Count(errOut, "\n") != 2 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	code, out, _ := runWhyCLI(t, "", "--help")
	if code != exitOK || !strings.Contains(out, "--server") || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

func TestWhyCLINoConnectionExitsFour(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, out, _ := runWhyCLI(t, "", "--server", addr, "--tls", "none", "MAIL FROM:<a@b>")
	if code != exitConnection || !strings.Contains(out, "connection-refused") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// With no reply to show, one blank line separates the header from the
	// conclusion, not two.
	if strings.Contains(out, "\n\n\n") {
		t.Errorf("two blank lines in a row:\n%q", out)
	}
}

// TestWhyCLIEscapesServerText: a hostile reply text reaches the terminal
// only as visible escapes.
func TestWhyCLIEscapesServerText(t *testing.T) {
	p, _ := probetest.ProfileByName("lenient")
	p.MailReply = "550 5.7.1 \x1b]0;owned\x07 \x1b[2J refused"
	s := probetest.StartProfile(t, p)
	code, out, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--color", "never", "MAIL FROM:<a@b>")
	if code != exitCheck {
		t.Errorf("exit %d", code)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("raw control bytes in output: %q", out)
	}
	if !strings.Contains(out, `\x1b]0;owned\x07`) {
		t.Errorf("escaped text missing:\n%s", out)
	}
}

const whyZone = `$ORIGIN why.test.
@      300 IN SOA ns.why.test. admin.why.test. 1 3600 600 86400 60
@      300 IN NS  ns.why.test.
ns     300 IN A   127.0.0.1
mail   300 IN MX  10 mx1.why.test.
mx1    300 IN A   127.0.0.1
nomail 300 IN MX  0 .
`

// TestWhyCLIResolvesMX: a bare --server name is a mail domain; its MX
// host is dialled on --port.
func TestWhyCLIResolvesMX(t *testing.T) {
	dnsSrv := resolvertest.Start(t, whyZone)
	s := startProfile(t, "postfix-strict")
	_, port, _ := net.SplitHostPort(s.Addr())
	code, out, errOut := runWhyCLI(t, "", "--json", "--server", "mail.why.test", "--dns", dnsSrv.Addr(), "--port", port, "--tls", "none", "MAIL FROM:a@b")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	var doc struct {
		Server string `json:"server"`
		Host   struct {
			Addr string `json:"address"`
			Name string `json:"name"`
		} `json:"host"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Server != "mail.why.test" || doc.Host.Addr != "127.0.0.1:"+port || doc.Host.Name != "mx1.why.test" {
		t.Errorf("%+v", doc)
	}

	// A null MX: nothing to try, exit 1, nothing sent.
	code, out, _ = runWhyCLI(t, "", "--server", "nomail.why.test", "--dns", dnsSrv.Addr(), "--port", port, "MAIL FROM:a@b")
	if code != exitCheck || !strings.Contains(out, "no mail host") {
		t.Errorf("null MX: exit %d\n%s", code, out)
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestWhyCLIDNSFailureExitsThree(t *testing.T) {
	dnsSrv := resolvertest.StartBehavior(t, whyZone, resolvertest.Behavior{Rcode: dns.RcodeServerFailure})
	code, out, _ := runWhyCLI(t, "", "--json", "--server", "mail.why.test", "--dns", dnsSrv.Addr(), "MAIL FROM:<a@b>")
	if code != exitDNS {
		t.Errorf("exit %d\n%s", code, out)
	}
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Conclusion    struct {
			Kind string `json:"kind"`
		} `json:"conclusion"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.SchemaVersion != 1 || doc.Conclusion.Kind != "dns-error" {
		t.Errorf("%v %+v\n%s", err, doc, out)
	}
}

func TestWhyExitCodesMatchHelp(t *testing.T) {
	// The exit codes why uses are the ones `smtpprobe help exit-codes` lists.
	for _, c := range []int{exitOK, exitCheck, exitUsage, exitDNS, exitConnection} {
		if !strings.Contains(exitCodesHelp, "\n  "+strconv.Itoa(c)+"  ") {
			t.Errorf("exit code %d is not in the help", c)
		}
	}
}

func TestWhyCLINotesLimits(t *testing.T) {
	s := startProfile(t, "lenient")
	code, out, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--as", "mail", strings.Repeat("x", 65)+"@b")
	if code != exitOK || !strings.Contains(out, "Note: the local part is 65 octets") || !strings.Contains(out, "(RFC 5321 §4.5.3.1.1)") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestWhyCLIMaxTime: a server that never answers the line cannot keep why
// past --max-time, however long --timeout allows per reply.
func TestWhyCLIMaxTime(t *testing.T) {
	s := probetest.NewScripted(t,
		probetest.Send("220 slow.test ESMTP\r\n"),
		probetest.ExpectPrefix("EHLO "),
		probetest.Send("250 slow.test\r\n"),
		probetest.ExpectPrefix("MAIL FROM"),
		probetest.Stall(time.Minute),
	)
	done := make(chan struct{})
	var code int
	var out string
	go func() {
		defer close(done)
		code, out, _ = runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--timeout", "1m", "--max-time", "300ms", "MAIL FROM:a@b")
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("why ran on past --max-time")
	}
	if code != exitCheck || !strings.Contains(out, "The time allowed ran out after 1 attempt") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestWhyCLIDefaultHELO: without --helo, why announces the same name as
// probe does.
func TestWhyCLIDefaultHELO(t *testing.T) {
	s := startProfile(t, "lenient")
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := runEnv(context.Background(), []string{"why", "--server", s.Addr(), "--tls", "none", "--json", "--as", "rcpt", "x@y"}, e)
	var doc struct {
		Prelude string `json:"prelude"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, errb.String())
	}
	if want := "MAIL FROM:<postmaster@" + probe.HELOToward(s.Addr()) + ">"; doc.Prelude != want {
		t.Errorf("prelude %q, want %q", doc.Prelude, want)
	}
	if strings.Contains(doc.Prelude, "localhost") {
		t.Errorf("prelude %q: a silent localhost", doc.Prelude)
	}
	// What the server saw: the same name, never localhost.
	for _, l := range s.Lines() {
		if strings.HasPrefix(l, "1 EHLO ") && (strings.Contains(l, "localhost") || !strings.HasSuffix(doc.Prelude, "@"+strings.TrimPrefix(l, "1 EHLO ")+">")) {
			t.Errorf("the server saw %q; the prelude says %q", l, doc.Prelude)
		}
	}
}

// TestWhyCLIFromBrackets: --from is a mailbox, with or without one pair
// of brackets.
func TestWhyCLIFromBrackets(t *testing.T) {
	s := startProfile(t, "lenient")
	code, out, errOut := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--from", "<me@example.org>", "--as", "rcpt", "x@y")
	if code != exitOK || !strings.Contains(out, "Sent first: MAIL FROM:<me@example.org>") {
		t.Errorf("exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// TestWhyCLIStdinTooLong: an over-long line on standard input is refused,
// not cut short and sent.
func TestWhyCLIStdinTooLong(t *testing.T) {
	s := startProfile(t, "lenient")
	long := "MAIL FROM:<" + strings.Repeat("x", 70000) + "@b>\n"
	code, out, errOut := runWhyCLI(t, long, "--server", s.Addr(), "--tls", "none", "-")
	if code != exitUsage || out != "" || !strings.Contains(errOut, "longer than 65536 bytes") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("%d connections for a refused line", n)
	}
}

// TestWhyCLIVerbose: -v adds the transcript of every connection, server
// text escaped.
func TestWhyCLIVerbose(t *testing.T) {
	p, _ := probetest.ProfileByName("postfix-strict")
	p.MailReply = "250 2.1.0 Ok \x1b[2J"
	s := probetest.StartProfile(t, p)
	code, out, _ := runWhyCLI(t, "", "-v", "--server", s.Addr(), "--tls", "none", "--color", "never", "MAIL FROM:a@b")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"Transcript:", "-- connection 1", "C: MAIL FROM:a@b", "C: MAIL FROM:<a@b>", "S: 250 2.1.0 Ok", "S: 250-PIPELINING\n", `\x1b[2J`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("raw ESC in output")
	}
	_, quiet, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--color", "never", "MAIL FROM:a@b")
	if strings.Contains(quiet, "Transcript:") {
		t.Errorf("transcript without -v")
	}
}

// TestWhyCLITLSVerify: --tls-verify makes a certificate no one vouches
// for fatal; without it the diagnosis goes on over the encrypted session.
func TestWhyCLITLSVerify(t *testing.T) {
	s := probetest.StartPolicy(t, probetest.Policy{Domain: "tls.test", Hostname: "mx.tls.test"})
	code, out, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "starttls", "MAIL FROM:<a@b>")
	if code != exitOK {
		t.Errorf("without --tls-verify: exit %d\n%s", code, out)
	}
	code, out, _ = runWhyCLI(t, "", "--server", s.Addr(), "--tls", "starttls", "--tls-verify", "MAIL FROM:<a@b>")
	if code != exitConnection || !strings.Contains(out, "tls") {
		t.Errorf("with --tls-verify: exit %d\n%s", code, out)
	}
}

// TestWhyCLIAsWithCommandLine: --as with a LINE that is already a command
// takes it as it is when the verb matches, and refuses the other verb;
// it never wraps a command in another.
func TestWhyCLIAsWithCommandLine(t *testing.T) {
	s := startProfile(t, "lenient")
	code, out, errOut := runWhyCLI(t, "", "--json", "--server", s.Addr(), "--tls", "none", "--as", "rcpt", "RCPT TO:<a@b>")
	var doc struct {
		Line string `json:"line"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK || doc.Line != "RCPT TO:<a@b>" {
		t.Errorf("exit %d, %v, line %q, stderr %q", code, err, doc.Line, errOut)
	}
	for _, l := range s.Lines() {
		if strings.Contains(l, "TO:<RCPT") {
			t.Errorf("sent %q", l)
		}
	}
	code, out, errOut = runWhyCLI(t, "", "--server", s.Addr(), "--as", "mail", "rcpt to:<a@b>")
	if code != exitUsage || out != "" || !strings.Contains(errOut, "already a RCPT command, but --as says mail") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestWhyCLIBetterKeepsVerbCase: the line "to the letter" does not change
// the verb's case, which RFC 5321 §2.4 leaves to the client.
func TestWhyCLIBetterKeepsVerbCase(t *testing.T) {
	s := startProfile(t, "postfix-strict")
	code, out, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--color", "never", "mail from: <a@b>")
	if code != exitOK || !strings.Contains(out, "Better:    mail from:<a@b>  (to the letter of RFC 5321)") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestWhyCLILinesAreExact: the lines to copy (Line, Send, Better) show a
// quoted pair with its one backslash; control bytes are escaped and
// flagged.
func TestWhyCLILinesAreExact(t *testing.T) {
	s := startProfile(t, "postfix-strict")
	code, out, _ := runWhyCLI(t, "", "--server", s.Addr(), "--tls", "none", "--color", "never", `MAIL FROM:"a\"b"@x.com`)
	for _, want := range []string{"Line:      MAIL FROM:\"a\\\"b\"@x.com\n", "Send:      MAIL FROM:<\"a\\\"b\"@x.com>\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("exit %d: output lacks %q:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, `\\`) {
		t.Errorf("doubled backslash in output:\n%s", out)
	}
	lenient := startProfile(t, "lenient")
	_, out, _ = runWhyCLI(t, "", "--server", lenient.Addr(), "--tls", "none", "--color", "never", "MAIL FROM: <\"a\\\"b\"@x.com>")
	if !strings.Contains(out, "Better:    MAIL FROM:<\"a\\\"b\"@x.com>  (to the letter of RFC 5321)") {
		t.Errorf("Better line:\n%s", out)
	}
	_, out, _ = runWhyCLI(t, "", "--server", lenient.Addr(), "--tls", "none", "--color", "never", "MAIL FROM:<a\x01@b>")
	if !strings.Contains(out, `Line:      MAIL FROM:<a\x01@b>`+exactNote) || strings.Contains(out, "\x01") {
		t.Errorf("control byte:\n%q", out)
	}
}

// TestWhyCLIImplicitTLSPort: with --tls implicit and no port, why dials
// 465 as probe does.
func TestWhyCLIImplicitTLSPort(t *testing.T) {
	_, out, _ := runWhyCLI(t, "", "--json", "--server", "127.0.0.1", "--tls", "implicit", "--timeout", "2s", "--max-time", "5s", "MAIL FROM:<a@b>")
	var doc struct {
		Host *struct {
			Addr string `json:"address"`
		} `json:"host"`
		HostErrors []struct {
			Host string `json:"host"`
		} `json:"host_errors"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dialled := ""
	if doc.Host != nil {
		dialled = doc.Host.Addr
	} else if len(doc.HostErrors) > 0 {
		dialled = doc.HostErrors[0].Host
	}
	if dialled != "127.0.0.1:465" {
		t.Errorf("dialled %q\n%s", dialled, out)
	}
}

// TestWhyCLIJSONEscapesControls: DEL and C1 controls from the server,
// which encoding/json leaves raw, reach stdout only as \u escapes.
func TestWhyCLIJSONEscapesControls(t *testing.T) {
	p, _ := probetest.ProfileByName("lenient")
	p.MailReply = "550 5.7.1 \u009b31m c1 \x7f del"
	s := probetest.StartProfile(t, p)
	_, out, _ := runWhyCLI(t, "", "--json", "--server", s.Addr(), "--tls", "none", "MAIL FROM:<a@b>")
	if strings.ContainsAny(out, "\u009b\x7f") {
		t.Errorf("raw control in JSON: %q", out)
	}
	var doc struct {
		Conclusion struct {
			Original struct {
				Lines []string `json:"lines"`
			} `json:"original"`
		} `json:"conclusion"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(doc.Conclusion.Original.Lines, ""); !strings.Contains(got, "\u009b31m c1 \x7f del") {
		t.Errorf("the text does not survive the escaping: %q", got)
	}
}

// busyZone's domain has two MX hosts at one address, as when one server
// has two names.
const busyZone = `$ORIGIN why.test.
@      300 IN SOA ns.why.test. admin.why.test. 1 3600 600 86400 60
@      300 IN NS  ns.why.test.
ns     300 IN A   127.0.0.1
busy   300 IN MX  10 mx1.why.test.
busy   300 IN MX  20 mx2.why.test.
mx1    300 IN A   127.0.0.1
mx2    300 IN A   127.0.0.1
`

// TestWhyCLINumbersRefusedConnections: the first MX host greets with 421
// and the second is served; the text, the transcript and the JSON number
// the connections alike, the refused one first.
func TestWhyCLINumbersRefusedConnections(t *testing.T) {
	dnsSrv := resolvertest.Start(t, busyZone)
	start := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := probetest.ProfileByName("postfix-strict")
		s := probetest.NewProfileServer(probetest.Refusing(l, probetest.TooManyConnections, func(n int) bool { return n == 1 }), p)
		t.Cleanup(func() { s.Close() })
		_, port, _ := net.SplitHostPort(s.Addr())
		return port
	}
	args := func(port string, more ...string) []string {
		return append([]string{"--server", "busy.why.test", "--dns", dnsSrv.Addr(), "--port", port, "--tls", "none",
			"--color", "never", "--per-connection", "1"}, append(more, "MAIL FROM:a@b")...)
	}

	code, out, errOut := runWhyCLI(t, "", args(start(), "-v")...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"failed: closed-by-server", "Attempts (2 on 2 of the 3 connections dialled):"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// What each connection of the transcript carried.
	carried := map[string][]string{}
	conn := ""
	for _, l := range strings.Split(out, "\n") {
		if n, ok := strings.CutPrefix(l, "  -- connection "); ok {
			conn = n
			continue
		}
		if _, what, ok := strings.Cut(l, "ms "); ok && conn != "" && (strings.HasPrefix(what, "C: MAIL") || strings.HasPrefix(what, "S: 421")) {
			carried[conn] = append(carried[conn], what)
		}
	}
	want := map[string][]string{
		"1": {"S: 421 4.7.0 Too many connections"},
		"2": {"C: MAIL FROM:a@b"},
		"3": {"C: MAIL FROM:<a@b>"},
	}
	for n, w := range want {
		if !slices.Equal(carried[n], w) {
			t.Errorf("transcript connection %s carried %q, want %q\n%s", n, carried[n], w, out)
		}
	}

	code, out, _ = runWhyCLI(t, "", args(start(), "--json")...)
	var doc struct {
		Connections int `json:"connections"`
		Attempts    []struct {
			Line       string `json:"line"`
			Connection int    `json:"connection"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if doc.Connections != 3 || len(doc.Attempts) != 2 || doc.Attempts[0].Connection != 2 || doc.Attempts[1].Connection != 3 {
		t.Errorf("JSON: %+v", doc)
	}
}
