package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// Bad input from the user, end to end: every subcommand refuses it with a
// one-line error and exit 2 before a single byte leaves the machine, and
// input that reaches the wire is ASCII unless the server said SMTPUTF8.

// udpRecorder is a DNS "server" on 127.0.0.1 that never answers and counts
// the packets it gets: a usage error must not even ask DNS.
type udpRecorder struct {
	c  net.PacketConn
	mu sync.Mutex
	n  int
}

func startUDPRecorder(t *testing.T) *udpRecorder {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRecorder{c: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
			r.mu.Lock()
			r.n++
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return r
}

func (r *udpRecorder) packets() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *udpRecorder) addr() string { return r.c.LocalAddr().String() }

// runInput runs the CLI with args and stdin.
func runInput(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = runEnv(ctx, args, &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

// checkUsageError asserts exit 2, nothing on stdout, and a first stderr
// line that is the whole error, free of raw control bytes.
func checkUsageError(t *testing.T, args []string, out, errs string, code int) string {
	t.Helper()
	if code != exitUsage {
		t.Errorf("%q: exit %d, want 2; stderr %q", args, code, errs)
	}
	if out != "" {
		t.Errorf("%q: wrote to stdout: %q", args, out)
	}
	first, rest, _ := strings.Cut(errs, "\n")
	if first == "" {
		t.Errorf("%q: no error on stderr", args)
	}
	if rest != "" && !strings.HasPrefix(rest, "Run 'smtpprobe ") {
		t.Errorf("%q: the error is more than one line (plus the hint): %q", args, errs)
	}
	if n := rawControl([]byte(errs)); n != 0 {
		t.Errorf("%q: stderr holds %d raw control bytes: %q", args, n, errs)
	}
	return first
}

// positionNamed matches how subcommands name the offending byte: its
// 1-based position, or its 0-based offset when called an offset.
func positionNamed(pos int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`(position|byte) %d\b|offset %d\b`, pos, pos-1))
}

func TestInputLineBreaksRefusedBeforeConnecting(t *testing.T) {
	srv := probetest.StartLineServer(t, hostileBanner, lenientRules)
	dns := startUDPRecorder(t)
	s := srv.Addr()
	cases := []struct {
		name  string
		stdin string
		args  []string
		pos   int // 1-based byte the error must name
	}{
		{"probe target CR", "", []string{"probe", s + "\r\nQUIT"}, len(s) + 1},
		{"probe address target LF", "", []string{"probe", "--dns", dns.addr(), "ali\nce@x.test"}, 4},
		{"probe --helo CR", "", []string{"probe", "--helo", "evil\r\nMAIL FROM:<x>", s}, 5},
		{"probe --helo NUL", "", []string{"probe", "--helo", "a\x00", s}, 2},
		{"probe --from LF", "", []string{"probe", "--from", "a@b\nRCPT TO:<c@d>", s}, 4},
		{"probe --rcpt NUL", "", []string{"probe", "--rcpt", "ok@x.test", "--rcpt", "a\x00b@x.test", s}, 2},
		{"probe --vrfy LF", "", []string{"probe", "--vrfy", "x\ny", s}, 2},
		{"probe --user CR", "", []string{"probe", "--user", "u\rx", s}, 2},
		{"probe --domain LF", "", []string{"probe", "--domain", "d\n.test", s}, 2},
		{"probe --expn NUL", "", []string{"probe", "--expn", "list\x00", s}, 5},
		{"vrfy address CR", "", []string{"vrfy", "--server", s, "al\rice@x.test"}, 3},
		{"vrfy address NUL", "", []string{"vrfy", "--server", s, "alice@x\x00.test"}, 8},
		{"vrfy --server LF", "", []string{"vrfy", "--server", s + "\n", "alice@x.test"}, len(s) + 1},
		{"vrfy --helo CR", "", []string{"vrfy", "--server", s, "--helo", "h\r", "alice@x.test"}, 2},
		{"vrfy --from LF", "", []string{"vrfy", "--server", s, "--from", "a@b\n", "alice@x.test"}, 4},
		{"why line CRLF", "", []string{"why", "--server", s, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>"}, 16},
		{"why line NUL", "", []string{"why", "--server", s, "MAIL FROM:<a\x00@b>"}, 13},
		{"why stdin line with a second line", "MAIL FROM:<a@b>\nRCPT TO:<c@d>\n", []string{"why", "--server", s, "-"}, 16},
		{"why stdin CR inside", "MAIL FROM:<a\r@b>\n", []string{"why", "--server", s, "-"}, 13},
		{"why --from NUL", "", []string{"why", "--server", s, "--from", "a\x00@b", "RCPT TO:<c@d>"}, 2},
		{"why --helo LF", "", []string{"why", "--server", s, "--helo", "h\nx", "MAIL FROM:<a@b>"}, 2},
		{"why --server CR", "", []string{"why", "--server", s + "\r", "MAIL FROM:<a@b>"}, len(s) + 1},
		{"why --as rcpt address LF", "", []string{"why", "--server", s, "--as", "rcpt", "a\n@b"}, 11}, // in the line RCPT TO:<a\n@b>
		{"address CR", "", []string{"address", "a\rb@x.test"}, 2},
		{"address NUL", "", []string{"address", "a@x\x00.test"}, 4},
		{"address LF", "", []string{"address", "a@x.test\n"}, 9},
		{"mx LF", "", []string{"mx", "--dns", dns.addr(), "x\n.test"}, 2},
		{"mx NUL", "", []string{"mx", "--dns", dns.addr(), "x.te\x00st"}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runInput(t, tc.stdin, tc.args...)
			first := checkUsageError(t, tc.args, out, errs, code)
			if !positionNamed(tc.pos).MatchString(first) {
				t.Errorf("%q: the error does not name position %d: %q", tc.args, tc.pos, first)
			}
		})
	}
	if n := srv.Accepted(); n != 0 {
		t.Errorf("input with CR, LF or NUL opened %d connections; nothing may be sent", n)
	}
	if got := srv.Received(); len(got) != 0 {
		t.Errorf("the server received %q", got)
	}
	if n := dns.packets(); n != 0 {
		t.Errorf("input with CR, LF or NUL sent %d DNS queries", n)
	}
}

func TestInputMalformedRefused(t *testing.T) {
	srv := probetest.StartLineServer(t, hostileBanner, lenientRules)
	dns := startUDPRecorder(t)
	s := srv.Addr()
	d := dns.addr()
	type tcase struct {
		name string
		args []string
	}
	var cases []tcase
	add := func(name string, args ...string) { cases = append(cases, tcase{name, args}) }
	// Malformed targets, for each subcommand that takes one. Every value
	// that a broken parser might accept still points at loopback.
	for _, bad := range []string{"a@", "@b", "host:99999", "[::1", "", "[256.1.1.1]", "[IPv6:127.0.0.1]:25", "a b.test", "-.test", "x..test", "host:0", "host:-1", "[127.0.0.1]:x"} {
		add("probe target "+bad, "probe", "--dns", d, bad)
		add("why --server "+bad, "why", "--dns", d, "--server", bad, "MAIL FROM:<a@b>")
		if bad != "" { // an empty --server is --server not given
			add("vrfy --server "+bad, "vrfy", "--dns", d, "--server", bad, "alice@x.test")
		}
	}
	for _, bad := range []string{"a@", "@b", "", "[256.1.1.1]", "host:99999", "x..test", "a b"} {
		add("mx "+bad, "mx", "--dns", d, bad)
		add("vrfy address "+bad, "vrfy", "--dns", d, bad)
	}
	// Unknown flags and bad values, on every subcommand.
	for _, sub := range []string{"probe", "vrfy", "why", "address", "mx", "explain"} {
		add(sub+" unknown flag", sub, "--bogus", "x.test")
		add(sub+" unknown flag with ESC", sub, "--b\x1b[2Jogus", "x.test")
		add(sub+" bad --color", sub, "--color", "pink", "x.test")
	}
	add("flag before the subcommand", "--bogus")
	add("unknown subcommand", "nosuchcommand")
	// Conflicting flags, and values out of range.
	add("probe --tls none --tls-verify", "probe", "--tls", "none", "--tls-verify", s)
	add("vrfy --tls none --tls-verify", "vrfy", "--tls", "none", "--tls-verify", "--server", s, "alice@x.test")
	add("probe --port 99999", "probe", "--port", "99999", s)
	add("probe --port -1", "probe", "--port", "-1", s)
	add("why --port 0", "why", "--port", "0", "--server", s, "MAIL FROM:<a@b>")
	add("why --as rcpt with a MAIL line", "why", "--as", "rcpt", "--server", s, "MAIL FROM:<a@b>")
	add("why --as sideways", "why", "--as", "sideways", "--server", s, "a@b")
	add("probe --suite", "probe", "--suite", "vrfy,nope", s)
	add("probe --fail-on", "probe", "--fail-on", "sometimes", s)
	add("probe --tls maybe", "probe", "--tls", "maybe", s)
	add("why --tls maybe", "why", "--tls", "maybe", "--server", s, "MAIL FROM:<a@b>")
	add("probe two targets", "probe", s, s)
	add("vrfy no address", "vrfy", "--server", s)
	add("why no line", "why", "--server", s)
	add("why no --server", "why", "MAIL FROM:<a@b>")
	add("mx no domain", "mx")
	add("address no address", "address")
	// Absurd durations: zero, negative, over a day, not a duration.
	for _, dur := range []string{"0", "0s", "-1s", "25h", "100000h", "soon", "1"} {
		add("probe --timeout "+dur, "probe", "--timeout", dur, s)
		add("probe --max-time "+dur, "probe", "--max-time", dur, s)
		add("vrfy --timeout "+dur, "vrfy", "--timeout", dur, "--server", s, "alice@x.test")
		add("why --timeout "+dur, "why", "--timeout", dur, "--server", s, "MAIL FROM:<a@b>")
		add("mx --timeout "+dur, "mx", "--timeout", dur, "--dns", d, "x.test")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Accepted()
			out, errs, code := runInput(t, "", tc.args...)
			checkUsageError(t, tc.args, out, errs, code)
			if srv.Accepted() != before {
				t.Errorf("%q opened a connection; nothing may be sent", tc.args)
			}
		})
	}
	if n := dns.packets(); n != 0 {
		t.Errorf("malformed input sent %d DNS queries", n)
	}
}

// TestInputIDN checks that a non-ASCII domain goes on the wire as its
// A-label (RFC 5890) to a server that does not advertise SMTPUTF8, and that
// a non-ASCII local part, which has no ASCII form, is not sent there at all.
func TestInputIDN(t *testing.T) {
	zone := "$ORIGIN xn--bcher-kva.test.\n@ 300 SOA ns h 1 3600 600 86400 60\n@ 300 MX 10 mx\nmx 300 A 127.0.0.1\n"
	dns := resolvertest.Start(t, zone)
	cases := []struct {
		name    string
		args    func(s, port string) []string
		aLabel  bool // the A-label must appear on the wire
		refused bool // a usage error, nothing sent
	}{
		{"probe address at an IDN domain", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--dns", dns.Addr(), "--port", port, "alice@bücher.test"}
		}, true, false},
		{"probe domain", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--dns", dns.Addr(), "--port", port, "bücher.test"}
		}, true, false},
		{"probe --domain", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--domain", "bücher.test", s}
		}, true, false},
		{"probe --rcpt", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--suite", "syntax", "--rcpt", "bob@bücher.test", s}
		}, true, false},
		{"probe --vrfy", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--suite", "vrfy", "--vrfy", "bob@bücher.test", s}
		}, true, false},
		{"probe --from", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--suite", "syntax", "--from", "me@bücher.test", s}
		}, true, false},
		{"probe --rcpt with a UTF-8 local part", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--suite", "syntax", "--rcpt", "jörg@x.test", s}
		}, false, true},
		{"probe address target with a UTF-8 local part", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--dns", dns.Addr(), "--port", port, "jörg@bücher.test"}
		}, false, true},
		{"probe --user with a UTF-8 local part", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--user", "jörg", s}
		}, false, true},
		{"vrfy", func(s, port string) []string {
			return []string{"vrfy", "--tls", "none", "--server", s, "bob@bücher.test"}
		}, true, false},
		{"vrfy UTF-8 local part", func(s, port string) []string {
			return []string{"vrfy", "--tls", "none", "--server", s, "jörg@x.test"}
		}, false, true},
		{"probe --helo", func(s, port string) []string {
			return []string{"probe", "--tls", "none", "--helo", "bücher.test", s}
		}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := probetest.StartLineServer(t, hostileBanner, lenientRules)
			_, port, _ := net.SplitHostPort(srv.Addr())
			args := tc.args(srv.Addr(), port)
			out, errs, code := runInput(t, "", args...)
			got := srv.Received()
			for _, line := range strings.SplitAfter(string(got), "\n") {
				// The syntax suite's own UTF-8 cases (prüfung@) test the
				// server on purpose; nothing the user typed may go raw.
				if !isASCIIString(line) && !strings.Contains(line, "prüfung@") {
					t.Errorf("%q: non-ASCII user input went to a server without SMTPUTF8: %q", args, line)
				}
			}
			if code == exitUsage {
				if !tc.refused {
					t.Fatalf("%q: refused: %s", args, errs)
				}
				first := checkUsageError(t, args, out, errs, code)
				if !strings.Contains(first, "SMTPUTF8") && !strings.Contains(strings.ToLower(first), "ascii") {
					t.Errorf("%q: the refusal does not say why: %q", args, first)
				}
				return
			}
			if tc.refused {
				t.Fatalf("%q: exit %d, want a refusal", args, code)
			}
			if tc.aLabel && !bytes.Contains(got, []byte("xn--bcher-kva.test")) {
				t.Errorf("%q: the A-label never went on the wire:\n%s", args, got)
			}
			if len(got) == 0 {
				t.Errorf("%q: nothing was sent (exit %d, %s)", args, code, errs)
			}
		})
	}
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestInputExplainLogEscapes feeds explain a log whose reply text carries
// terminal sequences, as a server can put them there: the text and JSON
// outputs must not pass them on raw.
func TestInputExplainLogEscapes(t *testing.T) {
	log := "S: 220 mx.test ESMTP\r\nC: RCPT TO:<a@b>\r\nS: 550 5.1.1 " + terminalAttack + "\r\n" +
		"Nov 28 12:00:00 mx postfix/smtp[1]: to=<a@b>, status=bounced (host mx said: 550 5.7.1 " + terminalAttack + " (in reply to RCPT TO command))\n"
	for _, args := range [][]string{{"explain", "-"}, {"explain", "--json", "-"}, {"explain", "550 5.1.1 " + terminalAttack}} {
		name := strings.Join(args[:len(args)-1], " ")
		if args[len(args)-1] != "-" {
			name += " LINE"
		}
		t.Run(name, func(t *testing.T) {
			out, errs, code := runInput(t, log, args...)
			if code == exitUsage {
				t.Fatalf("exit 2: %s", errs)
			}
			if n := rawControl([]byte(out)); n != 0 {
				t.Errorf("%d raw control bytes on stdout", n)
			}
			if n := rawControl([]byte(errs)); n != 0 {
				t.Errorf("%d raw control bytes on stderr: %q", n, errs)
			}
		})
	}
}

// --color means the same on every subcommand: it takes a value, refuses any
// other than auto, always or never with the same words, and never takes
// the argument after it for its own.
func TestColorFlagSameEverywhere(t *testing.T) {
	for _, sub := range []string{"probe", "vrfy", "why", "address", "mx", "explain", "demo"} {
		_, errs, code := runInput(t, "", sub, "--color", "pink", "x.test")
		want := "smtpprobe " + sub + `: invalid argument "pink" for "--color" flag: want auto, always or never`
		if code != exitUsage || strings.SplitN(errs, "\n", 2)[0] != want {
			t.Errorf("%s --color pink: exit %d, stderr %q; want exit 2 and %q", sub, code, errs, want)
		}
		_, errs, code = runInput(t, "", sub, "--color")
		if code != exitUsage || !strings.Contains(errs, "flag needs an argument: --color") {
			t.Errorf("%s --color with no value: exit %d, stderr %q", sub, code, errs)
		}
	}
	out, errs, code := runInput(t, "", "address", "--color", "always", "x@y.test")
	if code != exitOK || !strings.Contains(out, "\x1b[32mvalid SMTP mailbox") {
		t.Errorf("address --color always x@y.test: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = runInput(t, "", "explain", "--color", "never", "550")
	if code != exitOK || strings.Contains(out, "\x1b[") {
		t.Errorf("explain --color never 550: exit %d\n%q%s", code, out, errs)
	}
}
