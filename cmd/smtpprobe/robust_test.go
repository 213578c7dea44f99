package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// TestDNSDeadlineIsExit3: a DNS server that never answers, one that sets
// TC=1 and then never answers over TCP, and one that answers after 10 s
// are DNS failures, exit 3, in probe, vrfy and why: the resolution has a
// deadline of its own (--dns-timeout, 5 s by default), so none of them
// runs into --max-time.
func TestDNSDeadlineIsExit3(t *testing.T) {
	zone := mxZone(t)
	servers := map[string]resolvertest.Behavior{
		"no answer":              {Silent: true},
		"TC=1 then a silent TCP": {Truncate: true, SilentTCP: true},
		"answer after 10s":       {Delay: 10 * time.Second},
	}
	for name, b := range servers {
		dns := resolvertest.StartBehavior(t, zone, b).Addr()
		for _, args := range [][]string{
			{"probe", "--dns", dns, "--max-time", "30s", "explicit.mx.test"}, // the default deadline
			{"vrfy", "--dns", dns, "--dns-timeout", "1s", "alice@explicit.mx.test"},
			{"why", "--dns", dns, "--dns-timeout", "1s", "--server", "explicit.mx.test", "MAIL FROM:<a@b.test>"},
		} {
			t.Run(name+"/"+args[0], func(t *testing.T) {
				t.Parallel()
				out, errs, code := runCLI(t, append(args[:1:1], append([]string{"--helo", "client.test"}, args[1:]...)...)...)
				if code != exitDNS {
					t.Fatalf("exit %d, want %d (DNS failure)\nstdout: %.400s\nstderr: %s", code, exitDNS, out, errs)
				}
				if strings.Contains(out+errs, "budget") || strings.Contains(out+errs, "--max-time") {
					t.Errorf("a DNS failure reported as the run's budget running out:\n%s%s", out, errs)
				}
			})
		}
	}
}

// TestLongHELOIsUsageError: a 300-character --helo is bad input, exit 2,
// and the error names --helo, not the --from derived from it.
func TestLongHELOIsUsageError(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, args := range [][]string{
		{"probe", "--helo", long, "127.0.0.1:1"},
		{"probe", "--helo", long + ".example", "127.0.0.1:1"},
		{"vrfy", "--helo", long, "--server", "127.0.0.1:1", "alice@x.test"},
		{"why", "--helo", long, "--server", "127.0.0.1:1", "MAIL FROM:<a@b.test>"},
		{"probe", "--helo", strings.Repeat("abcdefghi.", 25) + "test", "127.0.0.1:1"}, // 254 octets: a name, but postmaster@ it is no path
	} {
		t.Run(args[0]+"/"+args[2][:10], func(t *testing.T) {
			_, errs, code := runCLI(t, args...)
			if code != exitUsage || !strings.Contains(errs, "--helo") || strings.Contains(errs, "--from \"") {
				t.Errorf("exit %d, stderr %q; want exit 2 naming --helo", code, errs)
			}
		})
	}
}

// loopbackZone is a remote domain (not under .test or .localhost) whose
// MX hosts are this machine in every spelling, or no host at all.
const loopbackZone = `$ORIGIN remote.example.
@        300 SOA  ns hostmaster 1 3600 600 86400 60
ns       300 A    127.0.0.53
lh       300 MX   10 localhost.
lb       300 MX   10 mx.lb
mx.lb    300 A    127.0.0.1
v6       300 MX   10 mx.v6
mx.v6    300 AAAA ::1
zero     300 MX   10 mx.zero
mx.zero  300 A    0.0.0.0
mixed    300 MX   10 mx.zero
mixed    300 MX   20 mx.lb
$ORIGIN localhost.
@        300 SOA  ns.remote.example. hostmaster.remote.example. 1 3600 600 86400 60
@        300 A    127.0.0.1
`

// TestLoopbackMXWarns: an MX host named localhost, on 127.0.0.0/8 or ::1
// for a remote domain is probed with a warning; one on 0.0.0.0 is never
// dialled.
func TestLoopbackMXWarns(t *testing.T) {
	srv := startSMTP(t, "220 loop.example ESMTP", lenient)
	dns := resolvertest.Start(t, loopbackZone).Addr()
	port := portOf(srv.addr())
	for _, tc := range []struct {
		domain, warn string
		code         int
	}{
		{"lh.remote.example", "MX host localhost of lh.remote.example is a name for this machine", exitOK},
		{"lb.remote.example", "MX host mx.lb.remote.example of lb.remote.example has the loopback address 127.0.0.1", exitOK},
		{"v6.remote.example", "MX host mx.v6.remote.example of v6.remote.example has the loopback address ::1", -1},
		{"zero.remote.example", "has the address 0.0.0.0, which names no host", exitCheck},
		{"mixed.remote.example", "has the address 0.0.0.0, which names no host", exitOK},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			before := srv.Accepted()
			out, errs, code := runCLI(t, "probe", "--dns", dns, "--port", port, "--helo", "client.test", "--suite", "vrfy", tc.domain)
			if tc.code >= 0 && code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, errs)
			}
			if !strings.Contains(out, "warning: ") || !strings.Contains(strings.Join(strings.Fields(out), " "), tc.warn) {
				t.Errorf("report lacks the warning %q:\n%s", tc.warn, out)
			}
			if tc.domain == "zero.remote.example" {
				if n := srv.Accepted() - before; n != 0 {
					t.Errorf("%d connections reached the server through 0.0.0.0", n)
				}
				if !strings.Contains(out, "not-dialled") || !strings.Contains(errs, "no MX host can be dialled") {
					t.Errorf("stdout:\n%s\nstderr: %s", out, errs)
				}
			}
		})
	}
	// why says the same, and does not dial 0.0.0.0 either.
	before := srv.Accepted()
	out, _, code := runCLI(t, "why", "--dns", dns, "--port", port, "--helo", "client.test", "--json", "--server", "zero.remote.example", "MAIL FROM:<a@b.example>")
	if code != exitCheck || srv.Accepted() != before || !strings.Contains(out, "0.0.0.0, which names no host") {
		t.Errorf("why at zero.remote.example: exit %d, %d connections\n%s", code, srv.Accepted()-before, out)
	}
	out, _, _ = runCLI(t, "why", "--dns", dns, "--port", port, "--helo", "client.test", "--json", "--server", "mixed.remote.example", "MAIL FROM:<a@b.example>")
	if !strings.Contains(out, `"status": "not-dialled"`) || !strings.Contains(out, "has the loopback address 127.0.0.1") {
		t.Errorf("why at mixed.remote.example:\n%s", out)
	}
}

// hiddenRunes is every character a server could use to make text look
// like other text: each format character (Unicode category Cf), the tag
// block U+E0000-U+E007F, and the line and paragraph separators.
func hiddenRunes() []rune {
	var rs []rune
	for _, rg := range unicode.Cf.R16 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			rs = append(rs, r)
		}
	}
	for _, rg := range unicode.Cf.R32 {
		for r := rune(rg.Lo); r <= rune(rg.Hi); r += rune(rg.Stride) {
			rs = append(rs, r)
		}
	}
	for r := rune(0xe0000); r <= 0xe007f; r++ {
		rs = append(rs, r)
	}
	return append(rs, '\u2028', '\u2029', '\u00ad', '\u180e', '\ufff9', '\ufffa', '\ufffb')
}

// TestHiddenCharactersEscaped: no character of hiddenRunes reaches the
// terminal raw, in text or in JSON; JSON writes each as \uXXXX (a
// surrogate pair above U+FFFF) and still decodes to the same string.
func TestHiddenCharactersEscaped(t *testing.T) {
	for _, r := range hiddenRunes() {
		in := "250 a" + string(r) + "b"
		if got := escapeUntrusted(in); strings.ContainsRune(got, r) || !strings.HasPrefix(got, "250 a\\") {
			t.Errorf("text: U+%04X shown raw: %q", r, got)
		}
		var b bytes.Buffer
		writeJSON(&b, map[string]string{"text": in})
		if strings.ContainsRune(b.String(), r) || !strings.Contains(b.String(), `a\u`) {
			t.Errorf("JSON: U+%04X not escaped as \\uXXXX: %s", r, b.String())
		}
		var back map[string]string
		if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["text"] != in {
			t.Errorf("JSON of U+%04X decodes to %q (%v)", r, back["text"], err)
		}
	}
	if got := escapeUntrusted("a\U000E0041b"); got != `a\U000e0041b` {
		t.Errorf("tag A shown as %q", got)
	}
}

// TestHiddenCharactersFromServer: a server whose replies carry tag
// characters, a soft hyphen, U+180E, interlinear annotations and bidi
// controls cannot get one of them onto the terminal, in the report or in
// the JSON.
func TestHiddenCharactersFromServer(t *testing.T) {
	text := "2.1.5 ok\u00ad\u180e\ufff9a\ufffab\ufffb\u202e\u200d\U000E0041\U000E007F\u2028"
	srv := startSMTP(t, "220 hidden.test ESMTP\u200b", func(string) string { return "250 " + text })
	for _, args := range [][]string{
		{"probe", "--tls", "none", "--helo", "client.test", "--domain", "hidden.test", "-v", srv.addr()},
		{"probe", "--tls", "none", "--helo", "client.test", "--domain", "hidden.test", "--json", srv.addr()},
	} {
		out, errs, _ := runCLI(t, args...)
		for _, r := range hiddenRunes() {
			if strings.ContainsRune(out+errs, r) {
				t.Errorf("%s: U+%04X reached the output raw", args[len(args)-2], r)
			}
		}
		if !strings.Contains(out, `\u00ad`) {
			t.Errorf("%s: the soft hyphen is not shown escaped:\n%.600s", args[len(args)-2], out)
		}
	}
}
