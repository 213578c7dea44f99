package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// The servers that misbehave, end to end: each case runs the whole CLI
// against a loopback server with --timeout 3s and checks the host status,
// the exit code, that the transcript up to the fault survives in the text
// report (-v) and in the JSON document, and that no control byte the
// server sent reaches stdout raw.

// hostileTimeout is the --timeout every case runs with.
const hostileTimeout = "3s"

// Text a hostile server hides in its banner and replies: CSI colour and
// screen clearing, an OSC 8 hyperlink, an OSC 0 window title ended by BEL
// and by ST, an 8-bit CSI (C1), DEL, a bare CR that would overwrite the
// line, a NUL and invalid UTF-8.
const terminalAttack = "\x1b[31mred\x1b[0m\x1b[2J " +
	"\x1b]8;;https://phish.example/\x1b\\click\x1b]8;;\x1b\\ " +
	"\x1b]0;owned\x07\x1b]2;owned too\x1b\\ " +
	"\u009b31m c1 \x7f del \rhidden \x00nul \xff\xfe bad"

// hostileCase is one misbehaving server and what the CLI must make of it.
type hostileCase struct {
	name string
	// serve starts the server and returns the TARGET to probe.
	serve  func(t testing.TB) string
	args   []string // flags besides --timeout and the output flags
	status string   // hosts[0].status in the JSON document
	exit   int
	// kept is server text the transcript must hold up to the fault; the
	// text report shows it escaped.
	kept string
	// check is an extra assertion on the JSON document, if any.
	check func(t *testing.T, doc map[string]any)
}

const hostileBanner = "220 mx.hostile.test ESMTP\r\n"

// hostileCases is the table shared by the tests, the benchmarks and
// scripts/hostile-table.
func hostileCases() []hostileCase {
	scripted := func(steps ...probetest.Step) func(t testing.TB) string {
		return func(t testing.TB) string { return probetest.NewScripted(t, steps...).Addr() }
	}
	stall := probetest.Stall(time.Minute)
	ehlo := probetest.ExpectPrefix("EHLO ")
	ruled := func(banner string, answer probetest.AnswerFunc) func(t testing.TB) string {
		return func(t testing.TB) string { return probetest.StartLineServer(t, banner, answer).Addr() }
	}
	withTLS := func(cert func(t testing.TB) tls.Certificate, inject string) func(t testing.TB) string {
		return func(t testing.TB) string {
			c := cert(t)
			s := probetest.StartLineServer(t, hostileBanner, starttlsRules(&tls.Config{Certificates: []tls.Certificate{c}}, inject))
			_, port, _ := net.SplitHostPort(s.Addr())
			return "localhost:" + port // a name, so the certificate's name is checked
		}
	}
	tlsProblem := func(sub string) func(t *testing.T, doc map[string]any) {
		return func(t *testing.T, doc map[string]any) {
			h := firstHost(doc)
			info, _ := h["tls"].(map[string]any)
			if info == nil {
				t.Fatalf("no tls object in %v", h)
			}
			if !strings.Contains(fmt.Sprint(info["problems"]), sub) {
				t.Errorf("tls.problems %v lacks %q", info["problems"], sub)
			}
			if info["verified"] != false {
				t.Errorf("tls.verified = %v", info["verified"])
			}
		}
	}
	return []hostileCase{
		{name: "silent-after-accept", serve: scripted(stall), status: "io-timeout", exit: exitConnection},
		{name: "banner-then-nothing", serve: scripted(probetest.Send(hostileBanner), stall),
			status: "io-timeout", exit: exitConnection, kept: "220 mx.hostile.test ESMTP"},
		{name: "one-byte-per-second", serve: scripted(probetest.DripForever("220-drip ", time.Second)),
			status: "io-timeout", exit: exitConnection, kept: "220"},
		{name: "drip-after-ehlo", serve: ruled(hostileBanner, dripAfterEHLO),
			status: "unresponsive", exit: exitOK, kept: "250-mx.hostile.test", check: noVerdictFromDrips},
		{name: "repeats-each-reply-late", serve: ruled(hostileBanner, repeatsLate),
			status: "desynchronised", exit: exitOK, kept: "252 2.0.0 cannot VRFY", check: hasDeviation("desynchronised")},
		{name: "tarpit-every-other-command", serve: func(t testing.TB) string {
			return probetest.StartLineServer(t, hostileBanner, everyOtherCommand()).Addr()
		},
			status: "unresponsive", exit: exitOK, kept: "250-"},
		{name: "endless-250-dash", serve: scripted(probetest.Send(hostileBanner), ehlo, probetest.Flood("250-more\r\n", 10<<20)),
			status: "protocol-error", exit: exitConnection, kept: "250-more"},
		{name: "10MB-line-without-CRLF", serve: scripted(probetest.Send("220 "), probetest.Flood("a", 10<<20)),
			status: "protocol-error", exit: exitConnection, kept: "220 aaaaaaaa"},
		{name: "bare-LF", serve: ruled("220 mx.hostile.test bare\n", bareLF), status: "ok", exit: exitOK, kept: "220 mx.hostile.test bare"},
		{name: "NUL-bytes", serve: ruled("220 mx.hostile\x00.test ESMTP\r\n", saying("\x00nul")), status: "ok", exit: exitOK, kept: "220 mx.hostile\x00.test"},
		{name: "invalid-UTF-8", serve: ruled("220 mx.hostile.test \xff\xfe\xc3\r\n", saying("\xc3\x28 \xed\xa0\x80")), status: "ok", exit: exitOK, kept: "220 mx.hostile.test \xff"},
		{name: "terminal-escapes", serve: ruled("220 mx.hostile.test "+terminalAttack+"\r\n", saying(terminalAttack)),
			status: "ok", exit: exitOK, kept: "\x1b]8;;https://phish.example/"},
		{name: "code-000", serve: ruled(hostileBanner, badCode("000")), status: "ok", exit: exitOK, kept: "000 bad code"},
		{name: "code-999", serve: ruled(hostileBanner, badCode("999")), status: "ok", exit: exitOK, kept: "999 bad code"},
		{name: "code-abc", serve: ruled(hostileBanner, badCode("abc")), status: "ok", exit: exitOK, kept: "abc bad code"},
		{name: "code-2500", serve: ruled(hostileBanner, badCode("2500")), status: "ok", exit: exitOK, kept: "2500 bad code"},
		{name: "greeting-2500", serve: scripted(probetest.Send("2500 mx.hostile.test\r\n"), stall),
			status: "protocol-error", exit: exitConnection, kept: "2500 mx.hostile.test"},
		{name: "mixed-codes", serve: ruled(hostileBanner, mixedCodes), status: "ok", exit: exitOK, kept: "550 5.1.1 second line disagrees", check: judgedByLastLine},
		{name: "unsolicited-lines", serve: ruled(hostileBanner, unsolicited), status: "ok", exit: exitOK, kept: "a reply to nothing", check: hasDeviation("unsolicited-data")},
		{name: "reply-before-command", serve: ruled(hostileBanner+"250 early bird\r\n", lenientRules), status: "ok", exit: exitOK, kept: "250 early bird", check: hasDeviation("unsolicited-data")},
		{name: "close-after-banner", serve: scripted(probetest.Send(hostileBanner), probetest.Close()),
			status: "closed-by-server", exit: exitConnection, kept: "220 mx.hostile.test"},
		{name: "reset-mid-reply", serve: scripted(probetest.Send(hostileBanner), ehlo, probetest.Send("250-mx.hostile.test\r\n250-PIPE"), probetest.Reset()),
			status: "closed-by-server", exit: exitConnection, kept: "250-PIPE"},
		{name: "421-to-everything", serve: ruled(hostileBanner, func(*probetest.LineConn, string) probetest.LineReply {
			return probetest.LineReply{Out: "421 4.3.2 go away\r\n", Close: true}
		}),
			status: "closed-by-server", exit: exitConnection, kept: "421 4.3.2 go away"},
		{name: "drops-after-3-errors", serve: ruled(hostileBanner, dropsAfter(3)), args: []string{"--lock-step"}, status: "ok", exit: exitOK, kept: "421 4.7.0 too many errors",
			check: func(t *testing.T, doc map[string]any) {
				h := firstHost(doc)
				if n, _ := h["connections"].(float64); n < 2 {
					t.Errorf("connections = %v; the runner should reconnect after the drop", h["connections"])
				}
				v, _ := h["verdicts"].(map[string]any)
				if v == nil || v["error_limit"] != float64(3) {
					t.Errorf("verdicts.error_limit = %v, want 3", v["error_limit"])
				}
			}},
		{name: "starttls-then-454", serve: ruled(hostileBanner, starttls454), status: "ok", exit: exitOK, kept: "454 4.7.0 TLS not available"},
		{name: "starttls-454-required", serve: ruled(hostileBanner, starttls454), args: []string{"--tls", "starttls"},
			status: "tls-unavailable", exit: exitConnection, kept: "454 4.7.0 TLS not available"},
		{name: "starttls-220-then-plain-text", serve: scripted(probetest.Send(hostileBanner), ehlo, probetest.Send("250-mx.hostile.test\r\n250 STARTTLS\r\n"),
			probetest.Expect("STARTTLS"), probetest.Send("220 2.0.0 go ahead\r\n"), probetest.AwaitBytes(), probetest.Send("250 I still speak plain text\r\n"), stall),
			status: "tls-handshake-error", exit: exitConnection, kept: "220 2.0.0 go ahead",
			check: func(t *testing.T, doc map[string]any) {
				if e := fmt.Sprint(firstHost(doc)["error"]); !strings.Contains(e, "plain text") {
					t.Errorf("error %q does not say the server answered in plain text", e)
				}
			}},
		{name: "tls-handshake-fails", serve: scripted(probetest.Send(hostileBanner), ehlo, probetest.Send("250-mx.hostile.test\r\n250 STARTTLS\r\n"),
			probetest.Expect("STARTTLS"), probetest.Send("220 2.0.0 go ahead\r\n"), probetest.AwaitBytes(), probetest.Send("\x15\x03\x03\x00\x02\x02\x28"), stall),
			status: "tls-handshake-error", exit: exitConnection, kept: "220 2.0.0 go ahead"},
		{name: "expired-certificate", serve: withTLS(expiredCert, ""), status: "ok", exit: exitOK, kept: "250 2.0.0 over TLS", check: tlsProblem("expired")},
		{name: "expired-certificate-verify", serve: withTLS(expiredCert, ""), args: []string{"--tls-verify"},
			status: "tls-handshake-error", exit: exitConnection, kept: "220 2.0.0 go ahead"},
		{name: "self-signed-certificate", serve: withTLS(selfSignedCert, ""), status: "ok", exit: exitOK, kept: "250 2.0.0 over TLS", check: tlsProblem("self-signed")},
		{name: "self-signed-certificate-verify", serve: withTLS(selfSignedCert, ""), args: []string{"--tls-verify"},
			status: "tls-handshake-error", exit: exitConnection, kept: "220 2.0.0 go ahead"},
		{name: "wrong-name-certificate", serve: withTLS(wrongNameCert, ""), status: "ok", exit: exitOK, kept: "250 2.0.0 over TLS", check: tlsProblem(`not valid for "localhost"`)},
		{name: "wrong-name-certificate-verify", serve: withTLS(wrongNameCert, ""), args: []string{"--tls-verify"},
			status: "tls-handshake-error", exit: exitConnection, kept: "220 2.0.0 go ahead"},
		{name: "starttls-plaintext-injection", serve: withTLS(selfSignedCert, "250-injected\r\n250 SMUGGLED\r\n"),
			status: "ok", exit: exitOK, kept: "250 2.0.0 over TLS",
			check: func(t *testing.T, doc map[string]any) {
				h := firstHost(doc)
				if h["tls"] == nil {
					t.Fatal("TLS was not established")
				}
				if strings.Contains(fmt.Sprint(h["ehlo"]), "SMUGGLED") || strings.Contains(fmt.Sprint(h["extensions"]), "SMUGGLED") {
					t.Errorf("injected plain text was read as the reply to EHLO: %v", h["ehlo"])
				}
				if !strings.Contains(fmt.Sprint(h["deviations"]), "starttls-plaintext-injection") {
					t.Errorf("hosts[0].deviations lacks the STARTTLS injection: %v", h["deviations"])
				}
				if !strings.Contains(fmt.Sprint(h["transcript"]), "discarded 28 plain-text bytes") {
					t.Errorf("the transcript does not say the injected bytes were discarded: %v", h["transcript"])
				}
			}},
	}
}

// hasDeviation checks hosts[0].deviations for a kind.
func hasDeviation(kind string) func(t *testing.T, doc map[string]any) {
	return func(t *testing.T, doc map[string]any) {
		if d := fmt.Sprint(firstHost(doc)["deviations"]); !strings.Contains(d, "kind:"+kind) {
			t.Errorf("hosts[0].deviations lacks %s: %s", kind, d)
		}
	}
}

// firstHost is hosts[0] of a probe JSON document.
func firstHost(doc map[string]any) map[string]any {
	hosts, _ := doc["hosts"].([]any)
	if len(hosts) == 0 {
		return map[string]any{}
	}
	h, _ := hosts[0].(map[string]any)
	return h
}

// rawControl counts what would act on a terminal in out: C0 controls other
// than LF and TAB, DEL, C1 controls (as UTF-8 or as single bytes) and
// bytes that are not UTF-8.
func rawControl(out []byte) int {
	n := 0
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRune(out[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n++
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r < 0xa0:
			n++
		}
		i += size
	}
	return n
}

// runHostile runs the CLI with args; the context is the test's overall
// bound, far above what any case should take.
func runHostile(t *testing.T, args ...string) (stdout []byte, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = runEnv(ctx, args, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if ctx.Err() != nil {
		t.Fatalf("%q did not return within the test's bound", args)
	}
	return out.Bytes(), errb.String(), code
}

// jsonStrings gathers every string value of a decoded JSON document.
// hexEscapeInvalid writes each byte of s that is not valid UTF-8 as \xNN,
// the way the JSON transcript does.
func hexEscapeInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func jsonStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case []any:
		for _, e := range x {
			jsonStrings(e, out)
		}
	case map[string]any:
		for _, e := range x {
			jsonStrings(e, out)
		}
	}
}

func TestHostileServers(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := tc.serve(t)
			base := append([]string{"probe", "--timeout", hostileTimeout, "--helo", "client.test"}, tc.args...)

			out, errs, code := runHostile(t, append(base, "--json", target)...)
			if n := rawControl(out); n != 0 {
				t.Errorf("--json: %d raw control bytes on stdout", n)
			}
			if code != tc.exit {
				t.Errorf("--json: exit %d, want %d; stderr %q", code, tc.exit, errs)
			}
			var doc map[string]any
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("--json: %v\n%s", err, out)
			}
			if doc["schema_version"] != float64(1) {
				t.Errorf("schema_version = %v", doc["schema_version"])
			}
			h := firstHost(doc)
			if h["status"] != tc.status {
				t.Errorf("hosts[0].status = %v, want %s (error %v)", h["status"], tc.status, h["error"])
			}
			if tc.kept != "" {
				var all []string
				jsonStrings(doc, &all)
				// reply lines carry U+FFFD for invalid bytes, the
				// transcript spells them \xNN
				if !containsAny(all, strings.ToValidUTF8(tc.kept, "\uFFFD")) && !containsAny(all, hexEscapeInvalid(tc.kept)) {
					t.Errorf("the JSON document lost %q", tc.kept)
				}
			}
			if tc.check != nil {
				tc.check(t, doc)
			}

			out, errs, code = runHostile(t, append(base, "-v", "--color", "always", target)...)
			if n := rawControl(bytes.ReplaceAll(out, []byte("\x1b["), nil)); n != 0 {
				t.Errorf("text: %d raw control bytes on stdout besides our own colour codes", n)
			}
			if stripped := stripOurColour(out); bytes.ContainsRune(stripped, 0x1b) {
				t.Errorf("text: an ESC on stdout that is not one of our colour codes")
			}
			if rawControl([]byte(errs)) != 0 {
				t.Errorf("stderr holds raw control bytes: %q", errs)
			}
			if code != tc.exit {
				t.Errorf("text: exit %d, want %d; stderr %q", code, tc.exit, errs)
			}
			if !bytes.Contains(out, []byte("status      "+tc.status)) {
				t.Errorf("text report lacks the status %s:\n%s", tc.status, out)
			}
			if tc.kept != "" && !bytes.Contains(stripOurColour(out), []byte(escapeUntrusted(tc.kept))) {
				t.Errorf("the text report (-v) lost %q:\n%s", escapeUntrusted(tc.kept), clip(out))
			}
		})
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// stripOurColour removes the SGR sequences paint writes, leaving any other
// ESC in place.
func stripOurColour(b []byte) []byte {
	for _, c := range []string{"\x1b[32m", "\x1b[36m", "\x1b[33m", "\x1b[31m", "\x1b[0m"} {
		b = bytes.ReplaceAll(b, []byte(c), nil)
	}
	return b
}

func clip(b []byte) string {
	if len(b) > 4000 {
		return string(b[:4000]) + "..."
	}
	return string(b)
}

// A rule server (a probetest.LineServer) answers each line the client
// sends by a function: the cases whose fault is in the replies to
// commands, not in the session.

// lenientRules answers like a permissive server: EHLO with SIZE, VRFY 252,
// EXPN 502, every envelope line 250.
func lenientRules(_ *probetest.LineConn, line string) probetest.LineReply {
	verb := strings.ToUpper(strings.Fields(line + " x")[0])
	switch verb {
	case "EHLO":
		return probetest.LineReply{Out: "250-mx.hostile.test\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"}
	case "QUIT":
		return probetest.LineReply{Out: "221 2.0.0 bye\r\n", Close: true}
	case "VRFY":
		return probetest.LineReply{Out: "252 2.0.0 cannot VRFY\r\n"}
	case "EXPN":
		return probetest.LineReply{Out: "502 5.5.1 EXPN not implemented\r\n"}
	}
	return probetest.LineReply{Out: "250 2.0.0 ok\r\n"}
}

// saying answers like lenientRules with extra appended to every reply
// line after the greeting.
func saying(extra string) probetest.AnswerFunc {
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		r := lenientRules(c, line)
		r.Out = strings.ReplaceAll(r.Out, "\r\n", " "+extra+"\r\n")
		return r
	}
}

// bareLF ends every reply line with LF alone.
func bareLF(c *probetest.LineConn, line string) probetest.LineReply {
	r := lenientRules(c, line)
	r.Out = strings.ReplaceAll(r.Out, "\r\n", "\n")
	return r
}

// badCode answers every probe command (not EHLO, RSET or QUIT) with code.
func badCode(code string) probetest.AnswerFunc {
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "QUIT", "RSET":
			return lenientRules(c, line)
		}
		return probetest.LineReply{Out: code + " bad code\r\n"}
	}
}

// mixedCodes answers RCPT TO with a multi-line reply whose lines disagree.
func mixedCodes(c *probetest.LineConn, line string) probetest.LineReply {
	if strings.HasPrefix(strings.ToUpper(line), "RCPT") {
		return probetest.LineReply{Out: "250-2.1.5 first line accepts\r\n550 5.1.1 second line disagrees\r\n"}
	}
	return lenientRules(c, line)
}

// unsolicited sends a second reply nobody asked for behind the EHLO reply
// and behind every VRFY reply.
func unsolicited(c *probetest.LineConn, line string) probetest.LineReply {
	r := lenientRules(c, line)
	switch strings.ToUpper(strings.Fields(line + " x")[0]) {
	case "EHLO", "VRFY":
		r.Out += "250 a reply to nothing\r\n"
	}
	return r
}

// dripAfterEHLO greets and answers EHLO, then answers every command with a
// reply that never ends, one byte per second: a tarpit past the greeting.
func dripAfterEHLO(c *probetest.LineConn, line string) probetest.LineReply {
	switch strings.ToUpper(strings.Fields(line + " x")[0]) {
	case "EHLO", "QUIT":
		return lenientRules(c, line)
	}
	return probetest.LineReply{Drip: "250-still thinking "}
}

// judgedByLastLine: a reply whose lines disagree carries the last line's
// code and every line's code.
func judgedByLastLine(t *testing.T, doc map[string]any) {
	steps, _ := firstHost(doc)["steps"].([]any)
	for _, st := range steps {
		rep, _ := st.(map[string]any)["reply"].(map[string]any)
		if codes, ok := rep["line_codes"].([]any); ok {
			if len(codes) < 2 || rep["code"] != codes[len(codes)-1] {
				t.Errorf("code %v, line_codes %v: not the last line's", rep["code"], codes)
			}
			return
		}
	}
	t.Error("no reply carries line_codes")
}

// repeatsLate answers as a lenient server does and sends each reply but
// the greeting's and EHLO's again 30 ms later, before it reads the next
// command: left alone, every later reply would answer the command before.
func repeatsLate(c *probetest.LineConn, line string) probetest.LineReply {
	r := lenientRules(c, line)
	switch strings.ToUpper(strings.Fields(line + " x")[0]) {
	case "EHLO", "QUIT", "RSET":
		return r
	}
	r.Again, r.Later = r.Out, 30*time.Millisecond
	return r
}

// noVerdictFromDrips: replies that never completed decide no verdict.
func noVerdictFromDrips(t *testing.T, doc map[string]any) {
	v, _ := doc["verdicts"].(map[string]any)
	p, _ := v["vrfy_policy"].(map[string]any)
	if p["policy"] != "unknown" || v["catch_all"] != nil {
		t.Errorf("verdicts from dripped replies: vrfy_policy %v, catch_all %v", p, v["catch_all"])
	}
}

// everyOtherCommand answers EHLO, RSET and QUIT, and every other command
// after them (counted over all connections); the rest draw a reply that
// never ends. No two steps in a row go silent.
func everyOtherCommand() probetest.AnswerFunc {
	var n atomic.Int32
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "QUIT", "RSET":
			return lenientRules(c, line)
		}
		if n.Add(1)%2 == 1 {
			return lenientRules(c, line)
		}
		return probetest.LineReply{Out: "250-", Drip: "250-still thinking "}
	}
}

// dropsAfter answers the probe's errors as a strict server does, and says
// 421 and hangs up after n error replies on one connection (RFC 5321
// §4.1.1 lets a server close on too many errors).
func dropsAfter(n int) probetest.AnswerFunc {
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		r := lenientRules(c, line)
		upper := strings.ToUpper(line)
		if strings.HasPrefix(upper, "MAIL FROM:") && !strings.HasPrefix(line[10:], "<") ||
			strings.HasPrefix(upper, "RCPT TO:") && !strings.HasPrefix(line[8:], "<") || strings.HasPrefix(upper, "EXPN") {
			r = probetest.LineReply{Out: "501 5.1.7 bad syntax\r\n"}
		}
		if c.Errors >= n && strings.HasPrefix(r.Out, "5") {
			return probetest.LineReply{Out: "421 4.7.0 too many errors\r\n", Close: true}
		}
		return r
	}
}

// starttls454 offers STARTTLS and refuses it.
func starttls454(c *probetest.LineConn, line string) probetest.LineReply {
	switch strings.ToUpper(line) {
	case "STARTTLS":
		return probetest.LineReply{Out: "454 4.7.0 TLS not available due to local problem\r\n"}
	}
	if strings.HasPrefix(strings.ToUpper(line), "EHLO") {
		return probetest.LineReply{Out: "250-mx.hostile.test\r\n250-STARTTLS\r\n250 SIZE 10240000\r\n"}
	}
	return lenientRules(c, line)
}

// starttlsRules offers STARTTLS with cfg and, when inject is not empty,
// sends it in plain text right behind the 220 (CVE-2011-0411).
func starttlsRules(cfg *tls.Config, inject string) probetest.AnswerFunc {
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(line) {
		case "STARTTLS":
			return probetest.LineReply{Out: "220 2.0.0 go ahead\r\n" + inject, TLS: cfg}
		}
		if strings.HasPrefix(strings.ToUpper(line), "EHLO") {
			return probetest.LineReply{Out: "250-mx.hostile.test\r\n250-STARTTLS\r\n250 2.0.0 over TLS or not\r\n"}
		}
		return lenientRules(c, line)
	}
}

// Certificates for the TLS cases, made at run time.

func makeCert(t testing.TB, name string, from, to time.Time) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: from, NotAfter: to,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func expiredCert(t testing.TB) tls.Certificate {
	return makeCert(t, "localhost", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
}

func selfSignedCert(t testing.TB) tls.Certificate {
	return makeCert(t, "localhost", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

func wrongNameCert(t testing.TB) tls.Certificate {
	return makeCert(t, "other.hostile.test", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// TestHostileServe serves one case for scripts/hostile-table, which runs
// the built binary against it: HOSTILE_CASE names the case, and a line
// "target, flags, status, exit, kept" separated by US (0x1f) is written to
// HOSTILE_TARGET_FILE; the server stops when that file is removed (or
// after five minutes). HOSTILE_CASE=list writes the case names instead.
func TestHostileServe(t *testing.T) {
	name, file := os.Getenv("HOSTILE_CASE"), os.Getenv("HOSTILE_TARGET_FILE")
	if name == "" || file == "" {
		t.Skip("serves a case for scripts/hostile-table; set HOSTILE_CASE and HOSTILE_TARGET_FILE")
	}
	if name == "list" {
		var names []string
		for _, tc := range hostileCases() {
			names = append(names, tc.name)
		}
		if err := os.WriteFile(file, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, tc := range hostileCases() {
		if tc.name != name {
			continue
		}
		target := tc.serve(t)
		line := strings.Join([]string{target, strings.Join(tc.args, " "), tc.status, fmt.Sprint(tc.exit), escapeUntrusted(tc.kept)}, "\x1f") + "\n"
		if err := os.WriteFile(file+".tmp", []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
		for end := time.Now().Add(5 * time.Minute); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if _, err := os.Stat(file); err != nil {
				return
			}
		}
		return
	}
	t.Fatalf("no hostile case %q", name)
}

// TestHostileOtherSubcommands runs vrfy and why, which share the session
// layer but print their own documents, against a few of the servers.
func TestHostileOtherSubcommands(t *testing.T) {
	pick := map[string]bool{"silent-after-accept": true, "endless-250-dash": true, "terminal-escapes": true,
		"421-to-everything": true, "code-999": true, "starttls-220-then-plain-text": true}
	for _, tc := range hostileCases() {
		if !pick[tc.name] {
			continue
		}
		for _, sub := range [][]string{
			{"vrfy", "--timeout", hostileTimeout, "--server", "TARGET", "alice@x.test"},
			{"vrfy", "--timeout", hostileTimeout, "--json", "--server", "TARGET", "alice@x.test"},
			{"why", "--timeout", hostileTimeout, "--server", "TARGET", "MAIL FROM:<a@x.test>"},
			{"why", "--timeout", hostileTimeout, "--json", "--server", "TARGET", "MAIL FROM:<a@x.test>"},
		} {
			name := tc.name + "/" + strings.Join(sub[:len(sub)-3], " ")
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				target := tc.serve(t)
				args := append([]string(nil), sub...)
				args[len(args)-2] = target
				out, errs, code := runHostile(t, args...)
				if n := rawControl(out); n != 0 {
					t.Errorf("%d raw control bytes on stdout:\n%s", n, clip(out))
				}
				if n := rawControl([]byte(errs)); n != 0 {
					t.Errorf("%d raw control bytes on stderr: %q", n, errs)
				}
				if code == exitUsage {
					t.Errorf("exit 2 (usage) for a server fault: %s", errs)
				}
				if tc.exit == exitConnection && code != exitConnection {
					t.Errorf("exit %d; a host that could not be probed is exit 4", code)
				}
			})
		}
	}
}
