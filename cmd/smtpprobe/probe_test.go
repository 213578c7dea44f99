package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// runCLI runs the program with args and returns stdout, stderr and the
// exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := runEnv(ctx, args, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

// smtpServer is a line server on 127.0.0.1 that answers EHLO, RSET and
// QUIT itself and every other line by a rule: the CLI tests need whole
// sessions, with whatever text a server may send.
type smtpServer struct{ *probetest.LineServer }

func startSMTP(t *testing.T, banner string, answer func(line string) string) *smtpServer {
	t.Helper()
	return &smtpServer{probetest.StartLineServer(t, banner+"\r\n", func(_ *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO":
			return probetest.LineReply{Out: "250-cli.test\r\n250-SIZE 2048\r\n250 8BITMIME\r\n"}
		case "QUIT":
			return probetest.LineReply{Out: "221 2.0.0 bye\r\n", Close: true}
		case "RSET":
			return probetest.LineReply{Out: "250 2.0.0 ok\r\n"}
		}
		return probetest.LineReply{Out: answer(line) + "\r\n"}
	})}
}

func (s *smtpServer) addr() string { return s.Addr() }

// lenient accepts every envelope and answers VRFY 252, RCPT of unknown
// users included: a catch-all.
func lenient(line string) string {
	switch strings.ToUpper(line)[:4] {
	case "VRFY":
		if line == "VRFY" {
			return "501 5.5.4 Syntax: VRFY address"
		}
		return "252 2.0.0 Cannot VRFY user"
	case "EXPN":
		return "502 5.5.1 EXPN not implemented"
	}
	if strings.Contains(line, "XSMTPPROBE") || strings.Contains(line, "SIZE=") {
		return "555 5.5.4 Unsupported option"
	}
	return "250 2.1.0 Ok"
}

// A comma inside a quoted local part is part of the address, not a list.
func TestProbeRcptQuotedComma(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	out, errs, code := runCLI(t, "probe", "--tls", "none", "--suite", "syntax", "--rcpt", `"a,b"@cli.test`, srv.addr())
	if code != exitOK || !strings.Contains(out, `RCPT TO:<"a,b"@cli.test>`) {
		t.Errorf("exit %d; the quoted comma was not sent as one address:\n%s%s", code, out, errs)
	}
	if !hasUnquotedComma(`"a\"b",c@x`) || hasUnquotedComma(`"a\",b"@x`) || hasUnquotedComma("a@x") {
		t.Error("hasUnquotedComma misreads a quoted-pair")
	}
}

func TestProbeUsageErrors(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"probe"}, "smtpprobe probe: takes one TARGET, got 0 arguments\n"},
		{[]string{"probe", "a.test", "b.test"}, "takes one TARGET, got 2 arguments\n"},
		{[]string{"probe", ""}, "empty target"},
		{[]string{"probe", "a@"}, "nothing after the @"},
		{[]string{"probe", "@b"}, "nothing before the @"},
		{[]string{"probe", "host:99999"}, "1 to 65535"},
		{[]string{"probe", "[::1"}, "closing ]"},
		{[]string{"probe", "--bogus", "x.test"}, "unknown flag"},
		{[]string{"probe", "--suite", "nope", srv.addr()}, "unknown suite"},
		{[]string{"probe", "--tls", "maybe", srv.addr()}, "--tls must be"},
		{[]string{"probe", "--fail-on", "sometimes", srv.addr()}, "--fail-on: unknown condition"},
		{[]string{"probe", "--color", "pink", srv.addr()}, `smtpprobe probe: invalid argument "pink" for "--color" flag: want auto, always or never`},
		{[]string{"probe", "--timeout", "0s", srv.addr()}, "--timeout must be positive"},
		{[]string{"probe", "--port", "25", srv.addr()}, "contradicts the port in the target"},
		{[]string{"probe", "--helo", "evil\r\nMAIL FROM:<x>", srv.addr()}, "--helo has a carriage return (CR) at position 5"},
		{[]string{"probe", "--from", "a@b\nRCPT TO:<c@d>", srv.addr()}, "--from has a line feed (LF) at position 4"},
		{[]string{"probe", "--rcpt", "ok@x.test", "--rcpt", "a\x00b", srv.addr()}, "--rcpt #2 has a NUL byte at position 2"},
		{[]string{"probe", "--vrfy", "x\ny", srv.addr()}, "--vrfy #1 has a line feed"},
		{[]string{"probe", srv.addr() + "\r\nQUIT"}, "carriage return"},
		{[]string{"probe", "--from", "x@lab.test> SIZE=999999999", srv.addr()}, `--from "x@lab.test> SIZE=999999999" is not a mailbox`},
		{[]string{"probe", "--user", "al ice", srv.addr()}, `--user "al ice" is not a local part`},
		{[]string{"probe", "--user", "alice@lab.test", srv.addr()}, "without @domain"},
		{[]string{"probe", "--rcpt", "<<alice@lab.test>>", srv.addr()}, "--rcpt #1"},
		{[]string{"probe", "--vrfy", "bob", srv.addr()}, `--vrfy #1 "bob" is not a mailbox`},
		{[]string{"probe", "--rcpt", "a@lab.test,b@lab.test", srv.addr()}, `--rcpt #1 "a@lab.test,b@lab.test": one address per --rcpt; repeat the flag`},
		{[]string{"probe", "--rcpt", "a@lab.test", "--vrfy", "a@lab.test, b@lab.test", srv.addr()}, `--vrfy #1 "a@lab.test, b@lab.test": one address per --vrfy; repeat the flag`},
		{[]string{"probe", "--rcpt", `"a\",b"@lab.test,c@lab.test`, srv.addr()}, "one address per --rcpt"},
		{[]string{"probe", "--domain", "lab.test> x", srv.addr()}, "is not a mail domain"},
		{[]string{"probe", "--suite", "", srv.addr()}, "empty suite"},
		{[]string{"probe", "--suite", "vrfy,", srv.addr()}, "empty suite"},
		{[]string{"probe", "--max-time", "9999999h", srv.addr()}, "too large (max 24h)"},
		{[]string{"probe", "--timeout", "25h", srv.addr()}, "too large (max 24h)"},
		{[]string{"vrfy", "--server", srv.addr(), "al ice@x.test"}, "white space"},
		{[]string{"vrfy", "--server", srv.addr(), "a..b@x.test"}, "is not a mailbox"},
		{[]string{"vrfy"}, "smtpprobe vrfy: takes one or more ADDRESSes, got 0 arguments\n"},
		{[]string{"vrfy", "alice"}, "not an address"},
		{[]string{"vrfy", "--server", "a@b", "alice@x.test"}, "--server takes"},
		{[]string{"vrfy", "--server", srv.addr(), "al\rice@x.test"}, "carriage return"},
	}
	for _, tt := range tests {
		out, errs, code := runCLI(t, tt.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d; want 2", tt.args, code)
		}
		if out != "" {
			t.Errorf("%q: printed to stdout: %q", tt.args, out)
		}
		if !strings.Contains(errs, tt.msg) {
			t.Errorf("%q: stderr %q lacks %q", tt.args, errs, tt.msg)
		}
		if first, _, _ := strings.Cut(errs, "\n"); strings.ContainsAny(first, "\r\x00") {
			t.Errorf("%q: stderr's first line holds raw control bytes: %q", tt.args, first)
		}
	}
	if n := srv.Accepted(); n != 0 {
		t.Errorf("usage errors opened %d connections; nothing may be sent", n)
	}
}

func TestProbeHelp(t *testing.T) {
	out, _, code := runCLI(t, "probe", "--help")
	if code != 0 || !strings.Contains(out, "smtpprobe probe example.com") || !strings.Contains(out, "--fail-on") {
		t.Errorf("probe --help: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, "vrfy", "--help")
	if code != 0 || !strings.Contains(out, "--server") {
		t.Errorf("vrfy --help: exit %d\n%s", code, out)
	}
}

func TestProbeExitCodes(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := refused.Addr().String()
	refused.Close()
	rejecting := startSMTP(t, "220 cli.test ESMTP", func(line string) string {
		if strings.HasPrefix(line, "RCPT TO:<alice@") {
			return "550 5.1.1 <alice@cli.test>: Recipient address rejected: User unknown"
		}
		return lenient(line)
	})
	deferring := startSMTP(t, "220 cli.test ESMTP", func(line string) string {
		if line == "VRFY busy@cli.test" {
			return "450 4.2.1 busy, try later"
		}
		return lenient(line)
	})
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ran", []string{"probe", "--tls", "none", "--helo", "client.test", srv.addr()}, exitOK, ""},
		{"every connection failed", []string{"probe", "--tls", "none", "--timeout", "2s", deadAddr}, exitConnection, "every connection failed"},
		{"nonconforming", []string{"probe", "--tls", "none", "--fail-on", "nonconforming", srv.addr()}, exitCheck, "nonconforming"},
		{"catch-all", []string{"probe", "--tls", "none", "--fail-on", "catch-all", srv.addr()}, exitCheck, "catch-all"},
		{"vrfy-leak not matched", []string{"probe", "--tls", "none", "--fail-on", "vrfy-leak", srv.addr()}, exitOK, ""},
		{"permanent not matched", []string{"probe", "--tls", "none", "--fail-on", "permanent", "--suite", "syntax", srv.addr()}, exitOK, ""},
		{"given address rejected", []string{"probe", "--tls", "none", "--suite", "syntax", "alice@[127.0.0.1]", "--port", portOf(rejecting.addr())}, exitCheck, "refused"},
		{"given --rcpt rejected", []string{"probe", "--tls", "none", "--suite", "syntax", "--rcpt", "alice@cli.test", rejecting.addr()}, exitCheck, "refused"},
		// The well-formed RCPT TO:<alice@cli.test> is refused, but no
		// address was given: only --fail-on makes that a failure.
		{"baseline refused, no --fail-on", []string{"probe", "--tls", "none", "--suite", "syntax", "--domain", "cli.test", "--user", "alice", rejecting.addr()}, exitOK, ""},
		{"baseline refused, --fail-on permanent", []string{"probe", "--tls", "none", "--suite", "syntax", "--domain", "cli.test", "--user", "alice", "--fail-on", "permanent", rejecting.addr()}, exitCheck, `permanent: 127.0.0.1 answered ` + "`RCPT TO:<alice@cli.test>`" + ` with 550`},
		{"baseline refused, --fail-on transient", []string{"probe", "--tls", "none", "--suite", "syntax", "--domain", "cli.test", "--user", "alice", "--fail-on", "transient", rejecting.addr()}, exitOK, ""},
		{"baseline refused, --fail-on any", []string{"probe", "--tls", "none", "--suite", "syntax", "--domain", "cli.test", "--user", "alice", "--fail-on", "any", rejecting.addr()}, exitCheck, "--fail-on"},
		{"any, nothing holds", []string{"probe", "--tls", "none", "--suite", "vrfy", "--fail-on", "any", srv.addr()}, exitOK, ""},
		{"any, only a transient refusal holds", []string{"probe", "--tls", "none", "--suite", "vrfy", "--vrfy", "busy@cli.test", "--fail-on", "any", deferring.addr()}, exitCheck, `transient: 127.0.0.1 answered ` + "`VRFY busy@cli.test`" + ` with 450`},
		{"the same run without --fail-on", []string{"probe", "--tls", "none", "--suite", "vrfy", "--vrfy", "busy@cli.test", deferring.addr()}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.msg)
			}
		})
	}
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func TestProbeEscapesServerText(t *testing.T) {
	evil := "\x1b[2J\x1b]0;pwned\x07\rhidden\x00"
	srv := startSMTP(t, "220 cli.test "+evil, func(line string) string {
		return "250 2.1.0 ok " + evil
	})
	for _, args := range [][]string{
		{"probe", "--tls", "none", "-v", "--color", "never", "--vrfy", "x@cli.test", srv.addr()},
		{"probe", "--tls", "none", "--json", srv.addr()},
		{"vrfy", "--tls", "none", "--server", srv.addr(), "alice@cli.test"},
	} {
		out, errs, code := runCLI(t, args...)
		if code != exitOK && code != exitCheck {
			t.Fatalf("%q: exit %d: %s", args, code, errs)
		}
		for _, b := range []string{"\x1b", "\x07", "\x00", "\r"} {
			if strings.Contains(out, b) || strings.Contains(errs, b) {
				t.Errorf("%q: output holds a raw %q", args, b)
			}
		}
		if !strings.Contains(out, `\x1b[2J`) && !strings.Contains(out, `\u001b[2J`) {
			t.Errorf("%q: the escaped server text is missing:\n%s", args, out)
		}
	}
}

func TestProbeColor(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	out, _, _ := runCLI(t, "probe", "--tls", "none", "--color", "always", srv.addr())
	if !strings.Contains(out, "\x1b[32m250") || !strings.Contains(out, "\x1b[31m5") {
		t.Errorf("--color always: no green 250 or red 5yz in the report")
	}
	out, _, _ = runCLI(t, "probe", "--tls", "none", srv.addr())
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour written to a buffer that is not a terminal")
	}
}

func TestVRFYCommand(t *testing.T) {
	leaky := startSMTP(t, "220 cli.test ESMTP", func(line string) string {
		if strings.HasPrefix(line, "VRFY") {
			if strings.Contains(line, "alice") || strings.Contains(line, "postmaster") {
				return "252 2.0.0 " + strings.TrimPrefix(line, "VRFY ")
			}
			return "550 5.1.1 User unknown"
		}
		return lenient(line)
	})
	out, errs, code := runCLI(t, "vrfy", "--tls", "none", "--server", leaky.addr(), "alice@cli.test", "nobody@cli.test")
	if code != exitCheck {
		t.Errorf("exit %d (%s); want 1 for an address that does not exist", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// One line per address, then the software each host runs.
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "alice@cli.test: likely-exists") || !strings.HasPrefix(lines[1], "nobody@cli.test: does-not-exist") ||
		!strings.HasPrefix(lines[2], "127.0.0.1 runs ") {
		t.Errorf("vrfy output:\n%s", out)
	}
	hiding := startSMTP(t, "220 cli.test ESMTP", lenient)
	out, _, code = runCLI(t, "vrfy", "--tls", "none", "--json", "--server", hiding.addr(), "alice@cli.test")
	var doc render.VRFY
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("vrfy --json: %v\n%s", err, out)
	}
	if code != exitOK || doc.SchemaVersion != 1 || len(doc.Addresses) != 1 || doc.Addresses[0].Answer != "unknown" || doc.Addresses[0].Policy != "hides" {
		t.Errorf("vrfy --json on a server that answers 252 to all: exit %d, %+v", code, doc.Addresses)
	}
}

// An address is judged by what the server does with the form it was sent
// in: here "VRFY user" leaks (252 vs 550) but "VRFY user@domain" answers
// 252 to everything, so a 252 to a given address tells nothing.
func TestVRFYJudgesTheFormSent(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", func(line string) string {
		arg, ok := strings.CutPrefix(line, "VRFY ")
		switch {
		case !ok:
			return lenient(line)
		case strings.Contains(arg, "@"):
			return "252 2.0.0 Cannot VRFY user"
		case arg == "postmaster" || arg == "alice":
			return "252 2.0.0 " + arg
		}
		return "550 5.1.1 User unknown"
	})
	out, errs, code := runCLI(t, "vrfy", "--tls", "none", "--json", "--server", srv.addr(), "<zz-nobody@cli.test>")
	var doc render.VRFY
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v (%s)\n%s", err, errs, out)
	}
	if code != exitOK || len(doc.Addresses) != 1 {
		t.Fatalf("exit %d, %+v", code, doc.Addresses)
	}
	a := doc.Addresses[0]
	if a.Answer != "unknown" || a.Policy != "hides" || a.Sent != "VRFY zz-nobody@cli.test" {
		t.Errorf("answer %+v; want unknown under the user@domain form's policy (hides), sent without brackets", a)
	}
	if doc.Reports[0].Verdicts.VRFYPolicy.Policy != "leaks" {
		t.Errorf("summary vrfy_policy = %s; want leaks (decided on the bare user form)", doc.Reports[0].Verdicts.VRFYPolicy.Policy)
	}
}

// A server that answers 250 to every VRFY, random names included, confirms
// nothing (RFC 5321 §3.5.3): no address may be reported as existing.
func TestVRFYServerAnswering250ToAll(t *testing.T) {
	yes := startSMTP(t, "220 cli.test ESMTP", func(line string) string {
		if strings.HasPrefix(line, "VRFY ") {
			return "250 2.1.5 <" + strings.Trim(strings.TrimPrefix(line, "VRFY "), "<>") + ">"
		}
		return lenient(line)
	})
	out, errs, code := runCLI(t, "vrfy", "--tls", "none", "--server", yes.addr(), "alice@cli.test", "zz-nobody@cli.test")
	if code != exitOK {
		t.Errorf("exit %d (%s)", code, errs)
	}
	if strings.Contains(out, "exists") || strings.Count(out, ": unknown") != 2 || !strings.Contains(out, "tells nothing") {
		t.Errorf("a server answering 250 to every VRFY must not confirm anything:\n%s", out)
	}
	out, _, _ = runCLI(t, "probe", "--tls", "none", "--suite", "vrfy", "--json", yes.addr())
	var rep struct {
		Verdicts struct {
			VRFYPolicy struct{ Policy string } `json:"vrfy_policy"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdicts.VRFYPolicy.Policy != "accepts-all" {
		t.Errorf("vrfy_policy = %q; want accepts-all", rep.Verdicts.VRFYPolicy.Policy)
	}
}

// normalize removes what changes from run to run: ports, timings, the
// random mailbox.
func normalize(s string) string {
	for _, re := range []struct{ re, to string }{
		{`127\.0\.0\.1:\d+`, "127.0.0.1:PORT"},
		{`"rtt_ms": [0-9.e-]+`, `"rtt_ms": 0`},
		{`"wall_ms": [0-9.e-]+`, `"wall_ms": 0`},
		{`"at_ns": \d+`, `"at_ns": 0`},
		{`"at_ms": [0-9.e-]+`, `"at_ms": 0`},
		{`smtpprobe-[a-z0-9]{10}`, "smtpprobe-xxxxxxxxxx"},
		{`\d+\.\dms`, "T.Tms"},
		{`"port": \d+`, `"port": 0`},
	} {
		s = regexp.MustCompile(re.re).ReplaceAllString(s, re.to)
	}
	return s
}

func TestProbeGolden(t *testing.T) {
	strict := startSMTP(t, "220 cli.test ESMTP ready", func(line string) string {
		upper := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(upper, "VRFY"):
			if line == "VRFY" {
				return "501 5.5.4 Syntax: VRFY address"
			}
			if strings.Contains(line, "smtpprobe-") {
				return "550 5.1.1 <" + strings.Trim(strings.TrimPrefix(line, "VRFY "), "<>") + ">: Recipient address rejected: User unknown"
			}
			return "252 2.0.0 " + strings.TrimPrefix(line, "VRFY ")
		case strings.HasPrefix(upper, "EXPN"):
			return "502 5.5.1 EXPN command is disabled"
		case strings.Contains(line, ":<") || strings.Contains(line, ": <"):
			return lenient(line)
		}
		return "501 5.1.7 Bad sender address syntax"
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		// One connection at a time: the golden files keep one order of
		// connections and transcript lines.
		{"probe-strict.txt", []string{"probe", "--tls", "none", "--connections", "1", "--helo", "client.test", "--domain", "cli.test", "--user", "alice", strict.addr()}},
		{"probe-strict.json", []string{"probe", "--tls", "none", "--connections", "1", "--helo", "client.test", "--domain", "cli.test", "--user", "alice", "--json", strict.addr()}},
	} {
		out, errs, code := runCLI(t, tc.args...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errs)
		}
		checkGolden(t, filepath.Join("testdata", "golden", tc.name), normalize(out))
	}
}

func TestProbeJSONSchema(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	out, _, code := runCLI(t, "probe", "--tls", "none", "--json", srv.addr())
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema_version"] != float64(1) {
		t.Errorf("schema_version = %v", doc["schema_version"])
	}
	for _, k := range []string{"target", "mx", "hosts", "verdicts"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no top-level %q", k)
		}
	}
	host := doc["hosts"].([]any)[0].(map[string]any)
	for _, k := range []string{"host", "address", "status", "banner", "extensions", "tls", "steps"} {
		if _, ok := host[k]; !ok {
			t.Errorf("no hosts[0].%s", k)
		}
	}
	step := host["steps"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "sent", "reply", "rtt_ms", "annotation", "verdict"} {
		if _, ok := step[k]; !ok {
			t.Errorf("no steps[0].%s", k)
		}
	}
	reply := step["reply"].(map[string]any)
	for _, k := range []string{"code", "lines"} {
		if _, ok := reply[k]; !ok {
			t.Errorf("no steps[0].reply.%s", k)
		}
	}
	verdicts := doc["verdicts"].(map[string]any)
	for _, k := range []string{"vrfy_policy", "expn_policy", "envelope_syntax", "catch_all", "postmaster_accepted", "starttls", "smtputf8", "error_limit"} {
		if _, ok := verdicts[k]; !ok {
			t.Errorf("no verdicts.%s", k)
		}
	}
}

func TestProbeDNSExitCodes(t *testing.T) {
	servfail := resolvertest.StartBehavior(t, "$ORIGIN x.test.\n@ 300 SOA ns.x.test. h.x.test. 1 3600 600 86400 60\n", resolvertest.Behavior{Rcode: 2})
	_, errs, code := runCLI(t, "probe", "--dns", servfail.Addr(), "x.test")
	if code != exitDNS || !strings.Contains(errs, "DNS") {
		t.Errorf("SERVFAIL: exit %d, stderr %q; want 3", code, errs)
	}
	null := resolvertest.Start(t, "$ORIGIN null.test.\n@ 300 SOA ns.null.test. h.null.test. 1 3600 600 86400 60\n@ 300 MX 0 .\n")
	out, errs, code := runCLI(t, "probe", "--dns", null.Addr(), "null.test")
	if code != exitCheck || !strings.Contains(out, "null MX") {
		t.Errorf("null MX: exit %d, stdout %q, stderr %q; want 1", code, out, errs)
	}
	out, errs, code = runCLI(t, "vrfy", "--dns", null.Addr(), "alice@null.test")
	if code != exitCheck || !strings.Contains(errs, "null MX") || !strings.Contains(out, "alice@null.test: unknown") {
		t.Errorf("vrfy at a null MX: exit %d, stdout %q, stderr %q; want 1", code, out, errs)
	}
}

func TestProbeDomainTarget(t *testing.T) {
	srv := probetest.StartPolicy(t, probetest.Policy{Domain: "policy.test", Hostname: "mx1.policy.test", Mailboxes: []string{"alice"}})
	dns := resolvertest.Start(t, `$ORIGIN policy.test.
@      300 SOA  ns.policy.test. hostmaster.policy.test. 1 3600 600 86400 60
@      300 MX   10 mx1
@      300 MX   20 mx2
mx1    300 A    127.0.0.1
mx2    300 A    127.0.0.1
`)
	args := []string{"probe", "--dns", dns.Addr(), "--port", portOf(srv.Addr()), "--helo", "client.test", "alice@policy.test"}
	out, errs, code := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"mx          explicit (NOERROR)", "  10  mx1.policy.test  127.0.0.1", "  20  mx2.policy.test  127.0.0.1",
		"Host mx1.policy.test [127.0.0.1:", "TLS 1.3", "certificate CN=mx1.policy.test", "vrfy_policy         hides", "starttls            offered", "Capabilities (EHLO over TLS)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Host mx2.policy.test") {
		t.Error("probed the second MX host without --all-mx")
	}
	out, _, code = runCLI(t, append(args, "--all-mx", "--suite", "vrfy")...)
	if code != exitOK || !strings.Contains(out, "Host mx2.policy.test") {
		t.Errorf("--all-mx: exit %d, no second host:\n%s", code, out)
	}
	if !strings.Contains(errs, "resolving the MX hosts of policy.test") {
		t.Errorf("no progress on stderr: %q", errs)
	}
	if srv.DataSeen() {
		t.Error("DATA was sent")
	}
}

func TestProbeRefusingGreeting(t *testing.T) {
	srv := startSMTP(t, "554 5.7.1 no SMTP service here", lenient)
	out, errs, code := runCLI(t, "probe", "--tls", "none", srv.addr())
	if code != exitConnection || !strings.Contains(errs, "every connection failed") {
		t.Errorf("exit %d, stderr %q; want 4", code, errs)
	}
	if !strings.Contains(out, "banner      554 5.7.1 no SMTP service here") || !strings.Contains(out, "status      no-smtp-service") {
		t.Errorf("report does not show the refusing greeting:\n%s", out)
	}
}

// stallingServer answers the greeting, EHLO and one VRFY, then goes
// silent: a run against it can only end by its budget or an interrupt.
func stallingServer(t *testing.T) *probetest.Scripted {
	return probetest.NewScripted(t,
		probetest.Send("220 stall.test ESMTP\r\n"),
		probetest.Expect("EHLO client.test"),
		probetest.Send("250 stall.test\r\n"),
		probetest.ExpectPrefix("VRFY "),
		probetest.Send("252 2.0.0 Cannot VRFY user\r\n"),
		probetest.ExpectPrefix("VRFY "),
		probetest.Stall(time.Minute),
	)
}

type incompleteDoc struct {
	Incomplete       bool   `json:"incomplete"`
	IncompleteReason string `json:"incomplete_reason"`
	Hosts            []struct {
		Status   string `json:"status"`
		Steps    []struct{ Name, Outcome, Verdict string }
		Verdicts *struct {
			VRFYPolicy struct{ Policy, Reason string } `json:"vrfy_policy"`
			ErrorLimit *int                            `json:"error_limit"`
		}
	}
}

// Ctrl-C cancels the context runEnv is given: the report shows what was
// seen, marked interrupted, and the exit code is 130, not "every
// connection failed".
func TestProbeInterrupted(t *testing.T) {
	srv := stallingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- runEnv(ctx, []string{"probe", "--json", "--tls", "none", "--helo", "client.test", "--domain", "stall.test", "--suite", "vrfy", srv.Addr()},
			&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	}()
	// Cancel once the server has seen the second VRFY and gone silent.
	deadline := time.Now().Add(10 * time.Second)
	for srv.Accepted() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not end after its context was canceled")
	}
	if code != exitInterrupted {
		t.Errorf("exit %d; want %d (stderr %q)", code, exitInterrupted, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") || strings.Contains(errb.String(), "every connection failed") {
		t.Errorf("stderr %q", errb.String())
	}
	var doc incompleteDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !doc.Incomplete || doc.IncompleteReason != "interrupted" || len(doc.Hosts) != 1 {
		t.Fatalf("incomplete %v %q, %d hosts", doc.Incomplete, doc.IncompleteReason, len(doc.Hosts))
	}
	h := doc.Hosts[0]
	if h.Verdicts == nil || h.Verdicts.VRFYPolicy.Policy != "unknown" || !strings.Contains(h.Verdicts.VRFYPolicy.Reason, "incomplete") {
		t.Errorf("verdicts %+v; want vrfy_policy unknown (incomplete)", h.Verdicts)
	}
	if h.Verdicts != nil && h.Verdicts.ErrorLimit != nil {
		t.Errorf("error_limit %d learned from an interrupted run", *h.Verdicts.ErrorLimit)
	}
	if len(h.Steps) == 0 || h.Steps[0].Outcome != "cannot-verify" {
		t.Errorf("the reply seen before the interrupt is missing: %+v", h.Steps)
	}
	interrupted := 0
	for _, s := range h.Steps {
		if s.Verdict == "not sent: the run was interrupted" {
			interrupted++
		}
	}
	if interrupted < 2 {
		t.Errorf("steps not marked as interrupted: %+v", h.Steps)
	}
}

// A spent --max-time is exit 1 with a partial report marked incomplete,
// never "ok" with verdicts from half the pairs.
func TestProbeMaxTimeSpent(t *testing.T) {
	srv := stallingServer(t)
	out, errs, code := runCLI(t, "probe", "--json", "--tls", "none", "--helo", "client.test", "--domain", "stall.test", "--suite", "vrfy", "--max-time", "1s", srv.Addr())
	if code != exitCheck || !strings.Contains(errs, "--max-time") {
		t.Errorf("exit %d, stderr %q; want 1 naming --max-time", code, errs)
	}
	var doc incompleteDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !doc.Incomplete || doc.IncompleteReason != "budget-spent" || len(doc.Hosts) != 1 || doc.Hosts[0].Verdicts == nil {
		t.Fatalf("%+v", doc)
	}
	if p := doc.Hosts[0].Verdicts.VRFYPolicy.Policy; p != "unknown" {
		t.Errorf("vrfy_policy %s from a partial run; want unknown", p)
	}
	for _, s := range doc.Hosts[0].Steps {
		if strings.Contains(s.Verdict, "i/o timeout") || strings.Contains(s.Verdict, "connect:") {
			t.Errorf("step %s: %q; a spent budget is not a connection failure", s.Name, s.Verdict)
		}
	}
	// Spent before anything started: still a report, still exit 1.
	out, errs, code = runCLI(t, "probe", "--tls", "none", "--max-time", "1ns", srv.Addr())
	if code != exitCheck || !strings.Contains(out, "incomplete") || strings.Contains(errs, "no host to probe") {
		t.Errorf("--max-time 1ns: exit %d, stderr %q\n%s", code, errs, out)
	}
}

// A host target without --domain says where the mail domain came from, on
// stderr and in the report, and suggests --domain.
func TestProbeHostTargetWithoutDomain(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	out, errs, _ := runCLI(t, "probe", "--tls", "none", "--suite", "vrfy", srv.addr())
	if !strings.Contains(errs, "warning: no --domain given") || !strings.Contains(errs, "address literal [127.0.0.1]") {
		t.Errorf("stderr %q", errs)
	}
	if !strings.Contains(out, "note        no --domain given") {
		t.Errorf("report lacks the note:\n%s", out)
	}
	_, port, _ := net.SplitHostPort(srv.addr())
	_, errs, _ = runCLI(t, "probe", "--tls", "none", "--suite", "vrfy", "localhost:"+port)
	if !strings.Contains(errs, "probing the host name localhost as the mail domain") {
		t.Errorf("stderr %q", errs)
	}
	out, errs, _ = runCLI(t, "probe", "--tls", "none", "--suite", "vrfy", "--json", "--domain", "cli.test", srv.addr())
	if strings.Contains(errs, "no --domain") || strings.Contains(out, "domain_note") {
		t.Errorf("--domain given, yet a note: %q\n%s", errs, out)
	}
}

// reply.deviations is always in the JSON, [] for a clean reply.
func TestProbeJSONDeviationsAlwaysPresent(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	for _, args := range [][]string{
		{"probe", "--tls", "none", "--suite", "vrfy", "--json", "--domain", "cli.test", srv.addr()},
		{"vrfy", "--tls", "none", "--json", "--server", srv.addr(), "alice@cli.test"},
	} {
		out, errs, _ := runCLI(t, args...)
		var doc any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%q: %v (%s)", args, err, errs)
		}
		replies := 0
		var walk func(v any, key string)
		walk = func(v any, key string) {
			switch v := v.(type) {
			case map[string]any:
				if _, isReply := v["lines"]; isReply && (key == "reply" || key == "banner" || key == "ehlo") {
					replies++
					if d, ok := v["deviations"].([]any); !ok || d == nil {
						t.Errorf("%q: %s without deviations: %v", args, key, v)
					}
				}
				for k, x := range v {
					walk(x, k)
				}
			case []any:
				for _, x := range v {
					walk(x, key)
				}
			}
		}
		walk(doc, "")
		if replies < 3 {
			t.Errorf("%q: only %d replies found", args, replies)
		}
	}
}

// vrfy interrupted: exit 130, not "no server could be asked".
func TestVRFYInterrupted(t *testing.T) {
	srv := stallingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- runEnv(ctx, []string{"vrfy", "--tls", "none", "--helo", "client.test", "--server", srv.Addr(), "alice@stall.test"},
			&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for srv.Accepted() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted") {
			t.Errorf("exit %d, stderr %q; want 130", code, errb.String())
		}
		if !strings.Contains(out.String(), "alice@stall.test: unknown") {
			t.Errorf("stdout %q", out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("vrfy did not end after its context was canceled")
	}
}

// TestProbeEqualPreferenceOrder: MX hosts of equal preference are tried in
// random order (RFC 5321 §5.1), and --mx-seed repeats one order exactly.
func TestProbeEqualPreferenceOrder(t *testing.T) {
	srv := probetest.StartPolicy(t, probetest.Policy{Domain: "eq.test", Hostname: "mx.eq.test", Mailboxes: []string{"alice"}})
	dns := resolvertest.Start(t, `$ORIGIN eq.test.
@      300 SOA  ns.eq.test. hostmaster.eq.test. 1 3600 600 86400 60
@      300 MX   10 mx-a
@      300 MX   10 mx-b
mx-a   300 A    127.0.0.1
mx-b   300 A    127.0.0.1
`)
	first := func(seed int) string {
		out, errs, code := runCLI(t, "probe", "--dns", dns.Addr(), "--port", portOf(srv.Addr()), "--helo", "client.test",
			"--tls", "none", "--suite", "vrfy", "--mx-seed", strconv.Itoa(seed), "alice@eq.test")
		if code != exitOK {
			t.Fatalf("seed %d: exit %d: %s", seed, code, errs)
		}
		_, rest, ok := strings.Cut(out, "\nHost ")
		if !ok {
			t.Fatalf("seed %d: no host section:\n%s", seed, out)
		}
		name, _, _ := strings.Cut(rest, " ")
		return name
	}
	seen := map[string]bool{}
	for seed := range 16 {
		name := first(seed)
		seen[name] = true
		if again := first(seed); again != name {
			t.Errorf("seed %d: %s first, then %s", seed, name, again)
		}
	}
	if !seen["mx-a.eq.test"] || !seen["mx-b.eq.test"] {
		t.Errorf("16 seeds tried only %v first; equal preferences must be shuffled", seen)
	}
}
