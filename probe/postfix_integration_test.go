package probe_test

import (
	"context"
	"fmt"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
)

// The Postfix lab (.ci/services/postfix.sh, scripts/lab): one instance, two
// smtpd endpoints for the domain lab.test with mailboxes alice and bob.
const (
	postfixStrict  = "127.0.0.1:2525" // VRFY on, strict_rfc821_envelopes = yes
	postfixLenient = "127.0.0.1:2526" // disable_vrfy_command = yes, strict_rfc821_envelopes = no
)

// needPostfix skips when the lab is not running, and fails under CI=true,
// where .ci/run must have started it.
func needPostfix(t *testing.T, addr string) {
	t.Helper()
	probetest.NeedTCP(t, "the Postfix lab", addr, "bash .ci/services/postfix.sh")
}

func probePostfix(t *testing.T, addr string, mutate func(*probe.Options)) probe.HostReport {
	t.Helper()
	needPostfix(t, addr)
	target, err := probe.ParseTarget(addr)
	if err != nil {
		t.Fatal(err)
	}
	o := probe.Options{Target: target, Domain: "lab.test", User: "alice", HELO: "client.test",
		From: "probe@client.test", Timeout: 30 * time.Second}
	if mutate != nil {
		mutate(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := probe.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Verdicts == nil {
		t.Fatalf("no host probed: %+v", rep.Hosts)
	}
	h := rep.Hosts[0]
	// The whole suite completes despite Postfix's error limits: every
	// step has a reply, none the 421 of a dropped session.
	for _, s := range h.Steps {
		if s.Outcome == probe.NoReply || s.Outcome == probe.Skipped && !strings.Contains(s.Verdict, "advertise") {
			t.Errorf("%s did not complete: %s %s", s.Name, s.Verdict, s.Error)
		}
		if s.Reply != nil && s.Reply.Code == 421 {
			t.Errorf("%s: 421 %s", s.Name, s.Reply.Text())
		}
	}
	return h
}

func replyOf(t *testing.T, h probe.HostReport, name string) probe.Reply {
	t.Helper()
	for _, s := range h.Steps {
		if s.Name == name && !s.Setup && s.Reply != nil {
			return *s.Reply
		}
	}
	t.Fatalf("step %s has no reply", name)
	return probe.Reply{}
}

func checkCommon(t *testing.T, h probe.HostReport) {
	t.Helper()
	v := h.Verdicts
	if v.PostmasterAccepted == nil || !*v.PostmasterAccepted {
		t.Errorf("postmaster_accepted = %v; Postfix accepts postmaster at lab.test", v.PostmasterAccepted)
	}
	if !v.STARTTLS || h.TLS == nil {
		t.Errorf("starttls %v, tls %+v; the lab offers STARTTLS", v.STARTTLS, h.TLS)
	}
	if v.CatchAll == nil || *v.CatchAll {
		t.Errorf("catch_all = %v; unknown users get 550 5.1.1", v.CatchAll)
	}
	if r := replyOf(t, h, "rcpt-random-mailbox"); r.Code != 550 || r.Enhanced != "5.1.1" {
		t.Errorf("random mailbox: %d %s", r.Code, r.Enhanced)
	}
	for name, code := range map[string]int{"rcpt-before-mail": 503, "mail-twice": 503, "mail-null-reverse-path": 250,
		"mail-unknown-parameter": 555, "mail-size-over-limit": 552, "rcpt-postmaster-bare": 250, "rcpt-well-formed": 250,
		// smtpd_helo_required is off by default, and reject_invalid_helo_hostname
		// would act at RCPT, not at EHLO.
		"mail-before-ehlo": 250, "ehlo-invalid-name": 250} {
		if r := replyOf(t, h, name); r.Code != code {
			t.Errorf("%s: %d %s; want %d", name, r.Code, r.Text(), code)
		}
	}
}

func TestPostfixStrict(t *testing.T) {
	h := probePostfix(t, postfixStrict, nil)
	v := h.Verdicts
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != probe.PolicyLeaks || v.VRFYPolicy.RealCode != 252 || v.VRFYPolicy.RandomCode != 550 {
		t.Errorf("vrfy_policy = %+v; Postfix answers 252 for alice and 550 for unknown users", v.VRFYPolicy)
	}
	if v.EnvelopeSyntax == nil || v.EnvelopeSyntax.Verdict != probe.SyntaxMixed || !strings.Contains(strings.Join(v.EnvelopeSyntax.Deciding, ","), "mail-space-after-colon") {
		t.Errorf("envelope_syntax = %+v; strict_rfc821_envelopes = yes still takes MAIL FROM: <a@b>", v.EnvelopeSyntax)
	}
	if r := replyOf(t, h, "mail-no-brackets"); r.Code != 501 {
		t.Errorf("mail-no-brackets: %d %s; want 501", r.Code, r.Text())
	}
	// strict_rfc821_envelopes wants the brackets, so a lone > is refused;
	// a space before the > and a sender without a domain still pass (the
	// latter until reject_non_fqdn_sender is set).
	for name, code := range map[string]int{"mail-trailing-bracket-only": 501, "mail-space-before-close": 250, "mail-unqualified": 250} {
		if r := replyOf(t, h, name); r.Code != code {
			t.Errorf("%s: %d %s; want %d", name, r.Code, r.Text(), code)
		}
	}
	checkCommon(t, h)
}

func TestPostfixLenient(t *testing.T) {
	h := probePostfix(t, postfixLenient, nil)
	v := h.Verdicts
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != probe.PolicyDisabled {
		t.Errorf("vrfy_policy = %+v; disable_vrfy_command = yes answers 502", v.VRFYPolicy)
	}
	if v.EnvelopeSyntax == nil || v.EnvelopeSyntax.Verdict != probe.SyntaxLenient {
		t.Errorf("envelope_syntax = %+v; strict_rfc821_envelopes = no takes addresses without brackets", v.EnvelopeSyntax)
	}
	for _, name := range []string{"mail-no-brackets", "mail-trailing-bracket-only", "mail-space-before-close", "mail-unqualified"} {
		if r := replyOf(t, h, name); r.Code != 250 {
			t.Errorf("%s: %d %s; want 250", name, r.Code, r.Text())
		}
	}
	checkCommon(t, h)
}

func TestPostfixHardErrorLimit(t *testing.T) {
	// With a budget above Postfix's hard limit (20), the session is cut
	// with 421; the runner must learn the limit and still finish. Past
	// the soft limit (10) Postfix sleeps a second per error: this test
	// takes about ten seconds.
	if testing.Short() {
		t.Skip("slow: waits out Postfix's error sleeps")
	}
	var unknown []string
	for i := range 12 {
		unknown = append(unknown, fmt.Sprintf("nobody%d@lab.test", i))
	}
	h := probePostfix(t, postfixStrict, func(o *probe.Options) {
		o.ErrorBudget = 100
		o.LockStep = true // one connection carries all the errors it can
		o.VRFY = unknown
	})
	v := h.Verdicts
	if v.ErrorLimit == nil || *v.ErrorLimit != 20 {
		t.Errorf("error_limit = %v; Postfix's smtpd_hard_error_limit is 20", v.ErrorLimit)
	}
	if h.Connections < 2 {
		t.Errorf("%d connections; the hard limit should have forced a second", h.Connections)
	}
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != probe.PolicyLeaks {
		t.Errorf("vrfy_policy = %+v", v.VRFYPolicy)
	}
}

// A mailbox that does not exist is a finding about the mailbox: the
// cases that used it are withheld, never strict, and the VRFY policy is
// judged on postmaster, where Postfix leaks (252 vs 550).
func TestPostfixUnknownMailbox(t *testing.T) {
	h := probePostfix(t, postfixStrict, func(o *probe.Options) { o.User = "nosuch" })
	v := h.Verdicts
	var mailbox probe.Baseline
	for _, b := range v.Baselines {
		if b.Name == probe.BaselineMailbox {
			mailbox = b
		}
	}
	if !mailbox.Failed() || mailbox.Fault != probe.FaultMailbox || mailbox.Code != 550 {
		t.Errorf("mailbox baseline = %+v; want failed: the mailbox does not exist", mailbox)
	}
	for _, name := range []string{"rcpt-well-formed", "rcpt-lowercase-verb", "rcpt-source-route", "rcpt-quoted-local-part"} {
		s := replyStep(t, h, name)
		if s.Conformance == probe.TooStrict || s.Conformance == probe.Conforms {
			t.Errorf("%s judged %s on a 550 5.1.1: %s", name, s.Conformance, s.Verdict)
		}
	}
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != probe.PolicyLeaks || v.VRFYPolicy.RealCode != 252 || v.VRFYPolicy.RandomCode != 550 {
		t.Errorf("vrfy_policy = %+v; judged on postmaster, Postfix leaks 252 vs 550", v.VRFYPolicy)
	}
	if v.PostmasterAccepted == nil || !*v.PostmasterAccepted {
		t.Errorf("postmaster_accepted = %v; postmaster is still a valid check", v.PostmasterAccepted)
	}
	for _, s := range h.Steps {
		if s.Conformance == probe.TooStrict || s.Conformance == probe.WrongCode {
			t.Errorf("%s: %s: a missing mailbox must not read as a breach", s.Name, s.Verdict)
		}
	}
}

func replyStep(t *testing.T, h probe.HostReport, name string) probe.StepResult {
	t.Helper()
	for _, s := range h.Steps {
		if s.Name == name && !s.Setup {
			return s
		}
	}
	t.Fatalf("no step %s", name)
	return probe.StepResult{}
}
