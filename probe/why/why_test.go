package why_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

func whyProfile(t *testing.T, name string) probetest.Profile {
	t.Helper()
	p, ok := probetest.ProfileByName(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return p
}

func whyOpts(addr, line string) probe.WhyOptions {
	return probe.WhyOptions{
		Line:    line,
		Hosts:   []probe.WhyHost{{Addr: addr}},
		Session: probe.Config{HELO: "client.test", TLS: probe.TLSNone, ReplyTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second},
	}
}

func whyRepairNames(rs []probe.Repair) string {
	var n []string
	for _, r := range rs {
		n = append(n, r.Name)
	}
	return strings.Join(n, "+")
}

// checkWhySessionRules asserts what every diagnosis must do on the wire:
// never DATA, RSET between attempts on one connection, QUIT at the end of
// each connection the server did not close itself.
func checkWhySessionRules(t *testing.T, s *probetest.ProfileServer) {
	t.Helper()
	if err := s.Err(); err != nil {
		t.Errorf("server side: %v", err)
	}
	byConn := map[string][]string{}
	var order []string
	for _, l := range s.Lines() {
		n, line, _ := strings.Cut(l, " ")
		if _, ok := byConn[n]; !ok {
			order = append(order, n)
		}
		byConn[n] = append(byConn[n], line)
	}
	for _, n := range order {
		lines := byConn[n]
		envelopes := 0
		for i, l := range lines {
			v := strings.ToUpper(l[:min(4, len(l))])
			if v == "DATA" || v == "BDAT" {
				t.Errorf("connection %s sent %q", n, l)
			}
			if v == "MAIL" && i > 0 {
				prev := strings.ToUpper(lines[i-1][:min(4, len(lines[i-1]))])
				if prev != "RSET" && prev != "EHLO" && prev != "HELO" {
					t.Errorf("connection %s: MAIL after %q without RSET: %q", n, lines[i-1], lines)
				}
			}
			if v == "MAIL" {
				envelopes++
			}
		}
		if envelopes == 0 {
			t.Errorf("connection %s sent no MAIL at all: %q", n, lines)
		}
	}
}

// TestWhyFindsTheRepairForEachProfile is the heart of why: for each
// strictness profile and line, the conclusion and the smallest repair.
func TestWhyFindsTheRepairForEachProfile(t *testing.T) {
	for _, tc := range []struct {
		profile, line string
		kind          string
		repairs       string // repair names joined by +
		fixed         string
	}{
		{"postfix-strict", "MAIL FROM:a@b", probe.WhyRepaired, "add-angle-brackets", "MAIL FROM:<a@b>"},
		{"postfix-strict", "MAIL FROM: <a@b>", probe.WhyAcceptedAsSent, "", ""},
		{"postfix-strict", "MAIL FROM :<a@b>", probe.WhyRepaired, "remove-space-before-colon", "MAIL FROM:<a@b>"},
		{"postfix-strict", "MAIL FROM:<a@b> FOO=BAR", probe.WhyRepaired, "drop-parameter-foo", "MAIL FROM:<a@b>"},
		{"postfix-strict", "MAIL FROM:<jörg@exämple.com>", probe.WhyRepaired, "add-smtputf8", "MAIL FROM:<jörg@exämple.com> SMTPUTF8"},
		{"postfix-strict", "RCPT TO:<b@exämple.com>", probe.WhyRepaired, "add-smtputf8", "RCPT TO:<b@exämple.com>"},
		{"postfix-strict", "MAIL FROM:<jörg@b.example>", probe.WhyAcceptedAsSent, "", ""},
		{"postfix-strict", "RCPT TO: b@c", probe.WhyRepaired, "add-angle-brackets", "RCPT TO:<b@c>"}, // sent to the letter, which it also accepts
		{"exim", "MAIL FROM :<a@b>", probe.WhyRepaired, "remove-space-before-colon", "MAIL FROM:<a@b>"},
		{"exim", "MAIL FROM <a@b>", probe.WhyRepaired, "add-colon", "MAIL FROM:<a@b>"},
		{"exim", "MAIL FROM:<a@b", probe.WhyRepaired, "balance-angle-brackets", "MAIL FROM:<a@b>"},
		{"exim", "MAIL FROM: a@b", probe.WhyAcceptedAsSent, "", ""},
		{"lenient", "mail from: a@b ", probe.WhyAcceptedAsSent, "", ""},
		{"ascii-only", "MAIL FROM:<a@exämple.com>", probe.WhyRepaired, "domain-to-a-label", "MAIL FROM:<a@xn--exmple-cua.com>"},
		{"ascii-only", "MAIL FROM:<jörg@exämple.com>", probe.WhyOtherCause, "", ""},
		{"ascii-only", "MAIL FROM:<a@b> SMTPUTF8", probe.WhyRepaired, "drop-parameter-smtputf8", "MAIL FROM:<a@b>"},
		{"brackets-required", "MAIL FROM: a@b", probe.WhyRepaired, "add-angle-brackets", "MAIL FROM:<a@b>"},
		{"rfc-literal", "MAIL FROM: <a@b>", probe.WhyRepaired, "remove-space-after-colon", "MAIL FROM:<a@b>"},
		{"rfc-literal", "MAIL FROM:<a@b.example.>", probe.WhyRepaired, "remove-trailing-dot", "MAIL FROM:<a@b.example>"},
		{"rfc-literal", `MAIL FROM:<"john"@b>`, probe.WhyRepaired, "unquote-local-part", "MAIL FROM:<john@b>"},
		// Three changes: the verb first (500 becomes 501: the server now
		// knows the command), then the other two together, since this
		// server refuses each of them with the same 501 5.5.2.
		{"rfc-literal", "mail from: a@b", probe.WhyRepaired, "upper-case-verb+remove-space-after-colon+add-angle-brackets", "MAIL FROM:<a@b>"},
	} {
		t.Run(tc.profile+"/"+tc.line, func(t *testing.T) {
			s := probetest.StartProfile(t, whyProfile(t, tc.profile))
			rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), tc.line))
			if err != nil {
				t.Fatal(err)
			}
			c := rep.Conclusion
			if c.Kind != tc.kind || whyRepairNames(c.Repairs) != tc.repairs || c.Fixed != tc.fixed {
				t.Fatalf("conclusion %s %q %q, want %s %q %q\n%s", c.Kind, whyRepairNames(c.Repairs), c.Fixed, tc.kind, tc.repairs, tc.fixed, c.Summary)
			}
			if rep.Attempts[0].Line != tc.line || len(rep.Attempts[0].Repairs) != 0 {
				t.Errorf("the first attempt must be the line as given: %+v", rep.Attempts[0])
			}
			if c.Kind == probe.WhyRepaired {
				last := rep.Attempts[len(rep.Attempts)-1]
				if last.Outcome != "accepted" || c.Accepted == nil || c.Accepted.Code/100 != 2 || c.Original == nil || c.Original.Code < 400 {
					t.Errorf("replies side by side: original %+v accepted %+v", c.Original, c.Accepted)
				}
				if !strings.Contains(c.Summary, c.Repairs[0].Ref) {
					t.Errorf("summary does not cite the rule: %s", c.Summary)
				}
			}
			checkWhySessionRules(t, s)
		})
	}
}

func TestWhyAcceptedButLenient(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM: <a@b>"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if len(c.Violations) != 1 || c.Violations[0].Name != "remove-space-after-colon" {
		t.Fatalf("violations %+v", c.Violations)
	}
	if !strings.Contains(c.Summary, "lenient") || !strings.Contains(c.Summary, "RFC 5321 §3.3") {
		t.Errorf("summary: %s", c.Summary)
	}
	if len(rep.Attempts) != 1 {
		t.Errorf("an accepted line needs no repairs: %d attempts", len(rep.Attempts))
	}

	s2 := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	rep, _ = probe.Why(context.Background(), whyOpts(s2.Addr(), "MAIL FROM:<a@b>"))
	if c := rep.Conclusion; c.Kind != probe.WhyAcceptedAsSent || len(c.Violations) != 0 || strings.Contains(c.Summary, "lenient") {
		t.Errorf("a well-formed line: %+v", c)
	}
}

func TestWhyOtherCauses(t *testing.T) {
	base := whyProfile(t, "postfix-strict")
	for _, tc := range []struct {
		name, mail, rcpt, line string
		kind, cause            string
	}{
		{"policy", "550 5.7.1 Sender rejected by local policy", "", "MAIL FROM:<a@b>", probe.WhyOtherCause, "policy"},
		{"auth", "530 5.7.0 Authentication required", "", "MAIL FROM:<a@b>", probe.WhyOtherCause, "auth-required"},
		{"unknown domain", "450 4.1.8 <a@b>: Sender address rejected: Domain not found", "", "MAIL FROM:<a@b>", probe.WhyOtherCause, "unknown-domain"},
		{"relay", "", "554 5.7.1 <x@y>: Relay access denied", "RCPT TO:<x@y>", probe.WhyOtherCause, "relay-denied"},
		{"unknown mailbox", "", "550 5.1.1 <x@y>: Recipient address rejected: User unknown", "RCPT TO:<x@y>", probe.WhyOtherCause, "unknown-mailbox"},
		// The brackets fix the syntax; then policy refuses.
		{"syntax then policy", "550 5.7.1 Sender rejected by local policy", "", "MAIL FROM:a@b", probe.WhySyntaxFixed, "policy"},
		{"prelude refused", "530 5.7.0 Authentication required", "", "RCPT TO:<x@y>", probe.WhyPreludeRejected, "auth-required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			p.MailReply, p.RcptReply = tc.mail, tc.rcpt
			s := probetest.StartProfile(t, p)
			rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), tc.line))
			if err != nil {
				t.Fatal(err)
			}
			c := rep.Conclusion
			if c.Kind != tc.kind || c.Cause != tc.cause {
				t.Fatalf("got %s/%s, want %s/%s: %s", c.Kind, c.Cause, tc.kind, tc.cause, c.Summary)
			}
			if c.CauseDetail == "" || c.Summary == "" || c.Found() {
				t.Errorf("conclusion %+v", c)
			}
			if tc.kind == probe.WhySyntaxFixed && (c.RepairedReply == nil || c.RepairedReply.Code != 550 || c.Fixed != "MAIL FROM:<a@b>") {
				t.Errorf("the reply to the repaired line: %+v", c.RepairedReply)
			}
			checkWhySessionRules(t, s)
		})
	}
}

func TestWhyNonASCIIWithoutSMTPUTF8(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "ascii-only"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM:<jörg@exämple.com>"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if c.Cause != "non-ascii-unsupported" || !strings.Contains(c.CauseDetail, "SMTPUTF8") {
		t.Errorf("%+v", c)
	}
	// The A-label was tried, and nothing added SMTPUTF8: it was not advertised.
	if len(rep.Attempts) != 2 || whyRepairNames(rep.Attempts[1].Repairs) != "domain-to-a-label" {
		t.Errorf("attempts %+v", rep.Attempts)
	}
	for _, l := range s.Lines() {
		if strings.Contains(l, "SMTPUTF8") {
			t.Errorf("SMTPUTF8 sent to a server that did not advertise it: %q", l)
		}
	}
}

// TestWhySpreadsAttemptsOverConnections checks the error-limit rules: no
// connection takes more refusals than PerConnection, and a server that
// hangs up on its own does not derail the diagnosis.
func TestWhySpreadsAttemptsOverConnections(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "rfc-literal"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "mail from: a@b"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conclusion.Kind != probe.WhyRepaired || len(rep.Attempts) != 7 {
		t.Fatalf("%s after %d attempts", rep.Conclusion.Kind, len(rep.Attempts))
	}
	refused := map[int]int{}
	for _, a := range rep.Attempts {
		if a.Outcome != "accepted" {
			refused[a.Connection]++
		}
	}
	for c, n := range refused {
		if n > probe.DefaultWhyPerConnection {
			t.Errorf("connection %d took %d refusals", c, n)
		}
	}
	if rep.Connections != s.Connections() || rep.Connections < 3 {
		t.Errorf("report says %d connections, server saw %d", rep.Connections, s.Connections())
	}
	// Every connection the server did not drop ends with QUIT.
	last := map[string]string{}
	for _, l := range s.Lines() {
		n, line, _ := strings.Cut(l, " ")
		last[n] = line
	}
	for n, l := range last {
		if l != "QUIT" {
			t.Errorf("connection %s ended with %q, not QUIT", n, l)
		}
	}
	checkAttemptsMatchTranscript(t, rep)
	checkWhySessionRules(t, s)
}

func TestWhySurvivesServerDrops(t *testing.T) {
	for _, name := range []string{"rfc-literal", "exim"} {
		t.Run(name, func(t *testing.T) {
			p := whyProfile(t, name)
			p.DropAfter = 2 // hang up after two errors: sooner than why expects
			s := probetest.StartProfile(t, p)
			line := "mail from: a@b"
			want := "upper-case-verb+remove-space-after-colon+add-angle-brackets"
			if name == "exim" {
				line, want = "MAIL FROM :<a@b", "remove-space-before-colon+balance-angle-brackets"
			}
			o := whyOpts(s.Addr(), line)
			o.PerConnection = 10
			rep, err := probe.Why(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Conclusion.Kind != probe.WhyRepaired || whyRepairNames(rep.Conclusion.Repairs) != want {
				t.Fatalf("%s %q: %s", rep.Conclusion.Kind, whyRepairNames(rep.Conclusion.Repairs), rep.Conclusion.Summary)
			}
			for _, a := range rep.Attempts {
				if a.Reply == nil {
					t.Errorf("attempt %d has no reply: %+v", a.N, a)
				}
			}
			checkWhySessionRules(t, s)
		})
	}
}

func TestWhyBoundsAttempts(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "rfc-literal"))
	o := whyOpts(s.Addr(), "mail from: a@b BODY=8BITMIME SIZE=1")
	o.MaxAttempts = 5
	rep, err := probe.Why(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Attempts) != 5 || rep.Conclusion.Found() {
		t.Errorf("%d attempts, conclusion %s", len(rep.Attempts), rep.Conclusion.Kind)
	}
	o.MaxAttempts = 1
	rep, err = probe.Why(context.Background(), o)
	if err != nil || len(rep.Attempts) != 1 {
		t.Errorf("--max-attempts 1: %d attempts, %v", len(rep.Attempts), err)
	}
	mails := 0
	for _, l := range s.Lines() {
		if strings.Contains(strings.ToUpper(l), " MAIL ") {
			mails++
		}
	}
	if mails != 6 {
		t.Errorf("server saw %d MAIL lines, want 5 + 1", mails)
	}
}

func TestWhyRefusesBadLinesBeforeConnecting(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "lenient"))
	for _, line := range []string{"MAIL FROM:<a@b>\r\nDATA", "MAIL FROM:<a\x00@b>", "EHLO x", "RCPT FROM:<a@b>"} {
		_, err := probe.Why(context.Background(), whyOpts(s.Addr(), line))
		var le *probe.LineError
		if !errors.As(err, &le) {
			t.Errorf("%q: want a LineError, got %v", line, err)
		}
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("%d connections made for refused lines", n)
	}
}

func TestWhyTriesHostsInOrder(t *testing.T) {
	deadAddr := refusingAddr(t)
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	o := whyOpts(s.Addr(), "MAIL FROM:a@b")
	o.Hosts = []probe.WhyHost{{Addr: deadAddr}, {Addr: s.Addr()}}
	rep, err := probe.Why(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Host == nil || rep.Host.Addr != s.Addr() || len(rep.HostErrors) != 1 || rep.HostErrors[0].Status != probe.StatusConnectionRefused {
		t.Errorf("host %+v, errors %+v", rep.Host, rep.HostErrors)
	}
	if rep.Conclusion.Kind != probe.WhyRepaired {
		t.Errorf("conclusion %s", rep.Conclusion.Kind)
	}

	o.Hosts = []probe.WhyHost{{Addr: deadAddr}}
	rep, err = probe.Why(context.Background(), o)
	if !errors.Is(err, probe.ErrNoHost) || rep.Conclusion.Kind != probe.WhyNoConnection || len(rep.Attempts) != 0 {
		t.Errorf("no host: %v %+v", err, rep.Conclusion)
	}
}

func TestWhyRCPTPrelude(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	o := whyOpts(s.Addr(), "RCPT TO:x@y")
	o.From = "sender@client.test"
	rep, err := probe.Why(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Prelude != "MAIL FROM:<sender@client.test>" || rep.Attempts[0].Prelude != rep.Prelude {
		t.Errorf("prelude %q / %q", rep.Prelude, rep.Attempts[0].Prelude)
	}
	lines := s.Lines()
	want := []string{"1 EHLO client.test", "1 MAIL FROM:<sender@client.test>", "1 RCPT TO:x@y", "1 RSET", "1 MAIL FROM:<sender@client.test>", "1 RCPT TO:<x@y>", "1 QUIT"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("wire:\n%q\nwant\n%q", lines, want)
	}
	checkAttemptsMatchTranscript(t, rep)
	// Default sender: postmaster at the HELO name.
	o.From = ""
	rep, _ = probe.Why(context.Background(), o)
	if rep.Prelude != "MAIL FROM:<postmaster@client.test>" {
		t.Errorf("default prelude %q", rep.Prelude)
	}
}

// TestWhy421IsNotAVerdict: a 421 answers no question about the line; why
// tries once more on a fresh connection, then gives up without blaming
// the line.
func TestWhy421IsNotAVerdict(t *testing.T) {
	p := whyProfile(t, "lenient")
	p.MailReply = "421 4.3.2 Service shutting down"
	s := probetest.StartProfile(t, p)
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM:a@b"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if c.Kind != probe.WhyIncomplete || c.Cause != "server-closing" || c.Found() {
		t.Errorf("%s/%s: %s", c.Kind, c.Cause, c.Summary)
	}
	if s.Connections() != 2 || len(rep.Attempts) != 1 {
		t.Fatalf("%d connections, %d attempts", s.Connections(), len(rep.Attempts))
	}
	// The attempt names the connection of the reply it reports, and the
	// one the line went on first.
	a := rep.Attempts[0]
	if rep.Connections != 2 || a.Connection != 2 || a.ResentFrom != 1 {
		t.Errorf("%d connections; attempt on %d, resent from %d; want 2; 2, 1", rep.Connections, a.Connection, a.ResentFrom)
	}
	sent, _ := transcriptByConnection(rep)
	for n := 1; n <= 2; n++ {
		if want := []sentLine{{"MAIL FROM:a@b", 421}}; !slices.Equal(sent[n], want) {
			t.Errorf("connection %d carried %v, want %v", n, sent[n], want)
		}
	}
	checkWhySessionRules(t, s)
}

// TestWhyReportsLimitsItWillNotRepair: an over-long local part is reported
// with its limit, never shortened.
func TestWhyReportsLimitsItWillNotRepair(t *testing.T) {
	p := whyProfile(t, "lenient")
	p.MailReply = "553 5.1.7 Local part too long"
	s := probetest.StartProfile(t, p)
	local := strings.Repeat("l", 70)
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM:<"+local+"@b>"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != "local-part-too-long" {
		t.Fatalf("findings %+v", rep.Findings)
	}
	for _, a := range rep.Attempts {
		if !strings.Contains(a.Line, local) {
			t.Errorf("the local part was changed: %q", a.Line)
		}
	}
	if rep.Findings[0].Ref != "RFC 5321 §4.5.3.1.1" || !strings.Contains(rep.Findings[0].Detail, "70 octets") {
		t.Errorf("finding %+v", rep.Findings[0])
	}
}

// TestWhyWarnsNonASCIIWithoutSMTPUTF8: when the refusal does not say so
// itself, the conclusion still points out that the server cannot take a
// non-ASCII local part at all.
func TestWhyWarnsNonASCIIWithoutSMTPUTF8(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "exim"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM:<jörg@b.example>"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if c.Kind != probe.WhyNoRepair || c.Cause != "syntax" || len(rep.Attempts) != 1 {
		t.Fatalf("%s/%s after %d attempts", c.Kind, c.Cause, len(rep.Attempts))
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "SMTPUTF8") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// TestWhyRCPTRepairNeedsItsPrelude: a RCPT line fixed by SMTPUTF8 needs
// it on the MAIL FROM before it, and the conclusion says so; once a repair
// gets past the syntax check no larger combination is tried.
func TestWhyRCPTRepairNeedsItsPrelude(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "RCPT TO:<b@exämple.com>"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if c.Kind != probe.WhyRepaired || c.FixedPrelude != "MAIL FROM:<postmaster@client.test> SMTPUTF8" {
		t.Errorf("%s, prelude %q", c.Kind, c.FixedPrelude)
	}

	p := whyProfile(t, "postfix-strict")
	p.RcptReply = "554 5.7.1 <b@exämple.com>: Relay access denied"
	s = probetest.StartProfile(t, p)
	rep, err = probe.Why(context.Background(), whyOpts(s.Addr(), "RCPT TO:<b@exämple.com>"))
	if err != nil {
		t.Fatal(err)
	}
	c = rep.Conclusion
	if c.Kind != probe.WhySyntaxFixed || c.Cause != "relay-denied" || c.FixedPrelude == "" {
		t.Errorf("%s/%s, prelude %q", c.Kind, c.Cause, c.FixedPrelude)
	}
	for _, a := range rep.Attempts {
		if len(a.Repairs) > 1 {
			t.Errorf("attempt %d tried a combination after a single repair got past the syntax check", a.N)
		}
	}
}

// TestWhyKeepsProgress: a repair that moves the refusal to a later check
// is kept, and the search goes on from the repaired line. The line has
// four problems the server reports one at a time; singles and pairs of
// the original line alone could never be accepted.
func TestWhyKeepsProgress(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), `MAIL FROM : <"jörg"@exämple.com.> XFOO=1 BAR=2 BODY=8BITMIME`))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	want := "remove-space-before-colon+add-smtputf8+drop-parameter-xfoo+drop-parameter-bar"
	if c.Kind != probe.WhyRepaired || whyRepairNames(c.Repairs) != want {
		t.Fatalf("%s %q: %s", c.Kind, whyRepairNames(c.Repairs), c.Summary)
	}
	if c.Fixed != `MAIL FROM:<jörg@exämple.com> BODY=8BITMIME SMTPUTF8` {
		t.Errorf("fixed %q", c.Fixed)
	}
	var steps []string
	for _, p := range c.Progress {
		steps = append(steps, whyRepairNames(p.Repairs)+": "+p.From+" → "+p.To)
	}
	wantSteps := []string{
		"remove-space-before-colon: the command's syntax → the address syntax",
		"add-smtputf8: the address syntax → a parameter",
		"drop-parameter-xfoo: a parameter → a parameter",
	}
	if strings.Join(steps, "\n") != strings.Join(wantSteps, "\n") {
		t.Errorf("progress:\n%s", strings.Join(steps, "\n"))
	}
	if len(rep.Attempts) > probe.DefaultWhyAttempts {
		t.Errorf("%d attempts", len(rep.Attempts))
	}
	checkWhySessionRules(t, s)

	// With too few attempts the search stops part-way and says how far it got.
	s2 := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	o := whyOpts(s2.Addr(), `MAIL FROM : <"jörg"@exämple.com.> XFOO=1 BAR=2 BODY=8BITMIME`)
	o.MaxAttempts = 7
	rep, err = probe.Why(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	c = rep.Conclusion
	if c.Kind != probe.WhyPartial || len(rep.Attempts) != 7 || whyRepairNames(c.Repairs) != "remove-space-before-colon+add-smtputf8" {
		t.Fatalf("%s after %d attempts, %q: %s", c.Kind, len(rep.Attempts), whyRepairNames(c.Repairs), c.Summary)
	}
	if c.RepairedReply == nil || c.RepairedReply.Code != 555 || c.Cause != "unsupported-parameter" ||
		!strings.Contains(c.Summary, "the attempts ran out (7 attempts)") || !strings.Contains(c.Summary, "from the address syntax to a parameter (555 5.5.4)") {
		t.Errorf("%+v", c)
	}
}

// TestWhyPartialWhenNothingMoreHelps: the first problem is repaired, the
// second cannot be (a local part that is not ASCII, a server without
// SMTPUTF8): the conclusion says what was fixed and what is left.
func TestWhyPartialWhenNothingMoreHelps(t *testing.T) {
	p := probetest.Profile{
		Name:       "unknown-command-ascii",
		Extensions: []string{"8BITMIME", "ENHANCEDSTATUSCODES"},
		Reject: map[probetest.Form]string{
			probetest.FormSpaceBeforeColon: "500 5.5.1 Command unrecognized",
			probetest.FormNonASCIILocal:    "553 5.6.7 Non-ASCII addresses are not permitted",
		},
	}
	s := probetest.StartProfile(t, p)
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM :<jörg@b.example>"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if c.Kind != probe.WhyPartial || whyRepairNames(c.Repairs) != "remove-space-before-colon" || c.Fixed != "MAIL FROM:<jörg@b.example>" ||
		c.Cause != "non-ascii-unsupported" || len(c.Progress) != 1 || c.Progress[0].To != "the address's characters" {
		t.Errorf("%+v", c)
	}
	if !strings.Contains(c.Summary, "no further repair helped") {
		t.Errorf("summary: %s", c.Summary)
	}
}

// TestWhyControlCharacterIsUnfixable: no repair quotes a control
// character into the local part; the conclusion says the address itself
// cannot be sent.
func TestWhyControlCharacterIsUnfixable(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM:<a\x01@b>"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if c.Kind != probe.WhyNoRepair || c.Cause != "control-character" || !strings.Contains(c.Summary, "no form of this address can be sent") || c.Strict != "" {
		t.Errorf("%+v", c)
	}
	for _, a := range rep.Attempts {
		if strings.Contains(a.Line, `"`) {
			t.Errorf("attempt %d quoted the control character: %q", a.N, a.Line)
		}
	}
}

// TestWhyControlCharacterAccepted: a lenient server's acceptance does not
// make the address sendable; the conclusion does not say the syntax is fine.
func TestWhyControlCharacterAccepted(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "lenient"))
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM:<a\x01@b>"))
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Conclusion
	if c.Kind != probe.WhyAcceptedAsSent || !strings.Contains(c.Summary, "control character") || strings.Contains(c.Summary, "not the problem") {
		t.Errorf("%+v", c)
	}
}

// TestWhyManyParameters: a line with hundreds of unknown parameters is
// diagnosed within the attempt budget, dropping the one the server names
// each time.
func TestWhyManyParameters(t *testing.T) {
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	var b strings.Builder
	b.WriteString("MAIL FROM:<a@b>")
	for i := 0; i < 300; i++ {
		b.WriteString(" X" + strings.Repeat("Y", i%7) + "=" + string(rune('a'+i%26)))
	}
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Attempts) != probe.DefaultWhyAttempts || rep.Conclusion.Kind != probe.WhyPartial || len(rep.Conclusion.Progress) != probe.DefaultWhyAttempts-1 {
		t.Errorf("%d attempts, %s, %d steps of progress", len(rep.Attempts), rep.Conclusion.Kind, len(rep.Conclusion.Progress))
	}
}

// refusingAddr is a loopback address nothing listens on: a dial to it is
// refused at once.
func refusingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
