package why_test

import (
	"context"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
)

// The Postfix lab (.ci/services/postfix.sh): 127.0.0.1:2525 runs with
// strict_rfc821_envelopes = yes, 127.0.0.1:2526 with the default (no).
const (
	whyPostfixStrict  = "127.0.0.1:2525"
	whyPostfixLenient = "127.0.0.1:2526"
)

// needWhyPostfix skips when the lab is not running, and fails under CI=true,
// where .ci/run must have started it.
func needWhyPostfix(t *testing.T, addr string) {
	t.Helper()
	probetest.NeedTCP(t, "the Postfix lab", addr, "scripts/lab up")
}

func whyPostfix(t *testing.T, addr, line string) *probe.WhyReport {
	t.Helper()
	rep, err := probe.Why(context.Background(), probe.WhyOptions{
		Line:    line,
		Hosts:   []probe.WhyHost{{Addr: addr}},
		Session: probe.Config{HELO: "client.lab.test", ReplyTimeout: 20 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Attempts {
		if a.Reply != nil {
			t.Logf("%d (connection %d) %q → %d %s", a.N, a.Connection, a.Line, a.Reply.Code, a.Reply.Text())
		}
	}
	t.Logf("%s: %s", rep.Conclusion.Kind, rep.Conclusion.Summary)
	return rep
}

// TestWhyPostfixSpaceAfterColon records what real Postfix does with the
// space after "FROM:" even with strict_rfc821_envelopes = yes: its
// tokenizer skips the space, so the line is accepted. why must say so,
// and still name the space as the breach that stricter servers refuse.
func TestWhyPostfixSpaceAfterColon(t *testing.T) {
	needWhyPostfix(t, whyPostfixStrict)
	for _, line := range []string{"MAIL FROM: <a@b>", "RCPT TO: <alice@lab.test>"} {
		rep := whyPostfix(t, whyPostfixStrict, line)
		c := rep.Conclusion
		if c.Kind != probe.WhyAcceptedAsSent || c.Original == nil || c.Original.Code/100 != 2 {
			t.Fatalf("%q: %s, original %+v", line, c.Kind, c.Original)
		}
		if len(c.Violations) != 1 || c.Violations[0].Name != "remove-space-after-colon" {
			t.Errorf("%q: violations %+v", line, c.Violations)
		}
		if !strings.Contains(c.Summary, "lenient") || !strings.Contains(c.Summary, "RFC 5321 §3.3") {
			t.Errorf("%q: summary must say the server is lenient and cite §3.3: %s", line, c.Summary)
		}
		if len(rep.Attempts) != 1 {
			t.Errorf("%q: %d attempts for an accepted line", line, len(rep.Attempts))
		}
		if want := strings.Replace(line, ": ", ":", 1); c.Strict != want {
			t.Errorf("%q: strict line %q, want %q", line, c.Strict, want)
		}
	}
}

// TestWhyPostfixBrackets: without angle brackets strict Postfix answers
// 501 5.1.7 (sender) or 501 5.1.3 (recipient), and the brackets fix it.
func TestWhyPostfixBrackets(t *testing.T) {
	needWhyPostfix(t, whyPostfixStrict)
	for _, tc := range []struct{ line, enhanced, fixed string }{
		{"MAIL FROM:a@b", "5.1.7", "MAIL FROM:<a@b>"},
		{"RCPT TO:alice@lab.test", "5.1.3", "RCPT TO:<alice@lab.test>"},
		// The space passes, the missing brackets do not: the space is tried
		// first and does not help, so the smallest fix is the brackets. The
		// line to send is still the one to the letter, which Postfix takes.
		{"mail from: a@b", "5.1.7", "mail from:<a@b>"},
	} {
		c := whyPostfix(t, whyPostfixStrict, tc.line).Conclusion
		if c.Kind != probe.WhyRepaired || whyRepairNames(c.Repairs) != "add-angle-brackets" || c.Fixed != tc.fixed {
			t.Errorf("%q: %s %q %q", tc.line, c.Kind, whyRepairNames(c.Repairs), c.Fixed)
			continue
		}
		if c.Original.Code != 501 || c.Original.Enhanced != tc.enhanced || c.Accepted.Code != 250 {
			t.Errorf("%q: replies %d %s → %d", tc.line, c.Original.Code, c.Original.Enhanced, c.Accepted.Code)
		}
		// What Postfix let pass is still named, as mended in the line to send.
		if tc.line == "mail from: a@b" && (len(c.Mended) != 1 || c.Mended[0].Name != "remove-space-after-colon" || c.Strict != "") {
			t.Errorf("%q: mended %+v, strict %q", tc.line, c.Mended, c.Strict)
		}
	}
	// The lenient instance takes the bare address, and why warns.
	needWhyPostfix(t, whyPostfixLenient)
	c := whyPostfix(t, whyPostfixLenient, "MAIL FROM:a@b").Conclusion
	if c.Kind != probe.WhyAcceptedAsSent || len(c.Violations) != 1 || c.Violations[0].Name != "add-angle-brackets" {
		t.Errorf("lenient: %s %+v", c.Kind, c.Violations)
	}
}

func TestWhyPostfixOtherRepairs(t *testing.T) {
	needWhyPostfix(t, whyPostfixStrict)
	for _, tc := range []struct{ line, code, repairs, fixed string }{
		{"MAIL FROM :<a@b>", "501 5.5.4", "remove-space-before-colon", "MAIL FROM:<a@b>"},
		{"MAIL FROM:<a@b> FOO=BAR", "555 5.5.4", "drop-parameter-foo", "MAIL FROM:<a@b>"},
		{"MAIL FROM:<john smith@b>", "501 5.1.7", "quote-local-part", `MAIL FROM:<"john smith"@b>`},
		// Postfix advertises SMTPUTF8; a U-label domain needs it declared.
		{"MAIL FROM:<a@exämple.com>", "501 5.1.7", "add-smtputf8", "MAIL FROM:<a@exämple.com> SMTPUTF8"},
	} {
		c := whyPostfix(t, whyPostfixStrict, tc.line).Conclusion
		if c.Kind != probe.WhyRepaired || whyRepairNames(c.Repairs) != tc.repairs || c.Fixed != tc.fixed {
			t.Errorf("%q: %s %q %q", tc.line, c.Kind, whyRepairNames(c.Repairs), c.Fixed)
			continue
		}
		if got := c.Original.Text(); !strings.HasPrefix(got, tc.code[4:]) || c.Original.Code != whyAtoi(tc.code[:3]) {
			t.Errorf("%q: original reply %d %s, want %s", tc.line, c.Original.Code, got, tc.code)
		}
	}
}

func TestWhyPostfixOtherCauses(t *testing.T) {
	needWhyPostfix(t, whyPostfixStrict)
	for _, tc := range []struct{ line, cause string }{
		{"RCPT TO:<nobody@lab.test>", "unknown-mailbox"},
		{"RCPT TO:<someone@example.net>", "relay-denied"},
		// SIZE is advertised: dropping it would only hide the refusal.
		{"MAIL FROM:<a@b> SIZE=999999999", "message-too-big"},
	} {
		c := whyPostfix(t, whyPostfixStrict, tc.line).Conclusion
		if c.Kind != probe.WhyOtherCause || c.Cause != tc.cause {
			t.Errorf("%q: %s/%s, want %s/%s", tc.line, c.Kind, c.Cause, probe.WhyOtherCause, tc.cause)
		}
	}
}

// TestWhyPostfixSpreadsErrors sends a line with three parameters Postfix
// does not know. It names one at a time, so each drop is progress and is
// kept: three refusals come before the acceptance, spread over
// connections.
func TestWhyPostfixSpreadsErrors(t *testing.T) {
	needWhyPostfix(t, whyPostfixStrict)
	rep := whyPostfix(t, whyPostfixStrict, "MAIL FROM:<a@b> FOO=1 BAR=2 BAZ=3")
	c := rep.Conclusion
	if c.Kind != probe.WhyRepaired || whyRepairNames(c.Repairs) != "drop-parameter-foo+drop-parameter-bar+drop-parameter-baz" || c.Fixed != "MAIL FROM:<a@b>" {
		t.Fatalf("%s %q %q", c.Kind, whyRepairNames(c.Repairs), c.Fixed)
	}
	if len(rep.Attempts) != 4 || rep.Connections != 2 || rep.Attempts[3].Connection != 2 {
		t.Errorf("%d attempts over %d connections", len(rep.Attempts), rep.Connections)
	}
}

func whyAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestWhyPostfixSMTPUTF8OnPrelude: a U-label recipient domain is a syntax
// error to Postfix until the MAIL FROM declares SMTPUTF8; then the real
// reason shows: Postfix does not relay there.
func TestWhyPostfixSMTPUTF8OnPrelude(t *testing.T) {
	needWhyPostfix(t, whyPostfixStrict)
	rep := whyPostfix(t, whyPostfixStrict, "RCPT TO:<x@exämple.com>")
	c := rep.Conclusion
	if c.Original == nil || c.Original.Code != 501 || c.Original.Enhanced != "5.1.3" {
		t.Fatalf("original %+v", c.Original)
	}
	if c.Kind != probe.WhySyntaxFixed || c.Cause != "relay-denied" || whyRepairNames(c.Repairs) != "add-smtputf8" {
		t.Errorf("%s/%s %q", c.Kind, c.Cause, whyRepairNames(c.Repairs))
	}
	if c.FixedPrelude != "MAIL FROM:<postmaster@client.lab.test> SMTPUTF8" || c.RepairedReply == nil || c.RepairedReply.Code != 554 {
		t.Errorf("prelude %q, reply %+v", c.FixedPrelude, c.RepairedReply)
	}
}

// TestWhyPostfixKeepsProgress: four problems, which the real Postfix
// reports one at a time; each repair that moves the refusal on is kept.
func TestWhyPostfixKeepsProgress(t *testing.T) {
	needWhyPostfix(t, whyPostfixStrict)
	rep := whyPostfix(t, whyPostfixStrict, `MAIL FROM : <"jörg"@exämple.com.> XFOO=1 BAR=2 BODY=8BITMIME`)
	c := rep.Conclusion
	want := "remove-space-before-colon+add-smtputf8+drop-parameter-xfoo+drop-parameter-bar"
	if c.Kind != probe.WhyRepaired || whyRepairNames(c.Repairs) != want || len(c.Progress) != 3 {
		t.Errorf("%s %q after %d attempts: %s", c.Kind, whyRepairNames(c.Repairs), len(rep.Attempts), c.Summary)
	}
}

// An address the checker refuses is named, with its byte, even when a
// lenient server takes the line: why never calls that syntax fine.
func TestWhyPostfixNamesAnInvalidAddress(t *testing.T) {
	for _, tc := range []struct{ line, at string }{
		{"MAIL FROM:<alice>", "at byte 17 of the line"},
		{"RCPT TO:<a..b@lab.test>", "at byte 12 of the line"},
	} {
		rep := whyPostfix(t, whyPostfixLenient, tc.line)
		var found string
		for _, f := range rep.Findings {
			if f.Kind == "address-invalid" {
				found = f.Detail
			}
		}
		if !strings.Contains(found, tc.at) {
			t.Errorf("%s: findings %+v; want the address named %s", tc.line, rep.Findings, tc.at)
		}
		if strings.Contains(rep.Conclusion.Summary, "syntax is not the problem") {
			t.Errorf("%s: %s", tc.line, rep.Conclusion.Summary)
		}
	}
}
