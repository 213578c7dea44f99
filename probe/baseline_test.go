package probe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// plain is a plain ESMTP server that accepts everything: the rows a
// test adds to it are the behaviour under test.
var plain = probetest.MTA{Name: "plain", Banner: "220 rules.test ESMTP"}

func runRules(t *testing.T, addr string, mutate func(*probe.Options)) probe.HostReport {
	t.Helper()
	target, err := probe.ParseTarget(addr)
	if err != nil {
		t.Fatal(err)
	}
	o := probe.Options{Target: target, Domain: "rules.test", User: "alice", HELO: "client.test",
		From: "probe@client.test", Timeout: 10 * time.Second, TLS: "none"}
	if mutate != nil {
		mutate(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := probe.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Verdicts == nil {
		t.Fatalf("not probed: %+v", rep.Hosts)
	}
	return rep.Hosts[0]
}

func stepNamed(t *testing.T, h probe.HostReport, name string) probe.StepResult {
	t.Helper()
	for _, s := range h.Steps {
		if s.Name == name && !s.Setup {
			return s
		}
	}
	t.Fatalf("no step %s", name)
	return probe.StepResult{}
}

func baselineNamed(t *testing.T, h probe.HostReport, name string) probe.Baseline {
	t.Helper()
	for _, b := range h.Verdicts.Baselines {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("no %s baseline in %+v", name, h.Verdicts.Baselines)
	return probe.Baseline{}
}

// noStrict fails for any step judged strict, lenient or wrong-code whose
// reply is one of codes: a refusal about the client is never a breach.
func noneJudged(t *testing.T, h probe.HostReport, code int) {
	t.Helper()
	for _, s := range h.Steps {
		if s.Reply != nil && s.Reply.Code == code && (s.Conformance == probe.TooStrict || s.Conformance == probe.WrongCode || s.Conformance == probe.Conforms) {
			t.Errorf("%s drew %d and was judged %s: %s", s.Name, code, s.Conformance, s.Verdict)
		}
	}
}

// A Spamhaus hit at RCPT is policy about the client: the mailbox
// baseline fails for the client, nothing is strict, postmaster is withheld.
func TestBaselineBlocklisted(t *testing.T) {
	srv := probetest.StartMTA(t, plain.With(probetest.Rule{Match: `^RCPT`, Reply: "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1"}))
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	b := baselineNamed(t, h, probe.BaselineMailbox)
	if !b.Failed() || b.Fault != probe.FaultClient || b.Cause != explain.CauseBlocklisted {
		t.Errorf("mailbox baseline = %+v; want failed, client, blocklisted", b)
	}
	s := stepNamed(t, h, "rcpt-well-formed")
	if s.Cause != explain.CauseBlocklisted || s.Blocklist != "zen.spamhaus.org" {
		t.Errorf("rcpt-well-formed cause %q list %q", s.Cause, s.Blocklist)
	}
	noneJudged(t, h, 554)
	if h.Verdicts.PostmasterAccepted != nil || h.Verdicts.Withheld["postmaster_accepted"] == "" {
		t.Errorf("postmaster_accepted = %v, withheld %q; a blocklist hit says nothing about postmaster", h.Verdicts.PostmasterAccepted, h.Verdicts.Withheld)
	}
	if w := stepNamed(t, h, "rcpt-source-route"); w.Withheld == "" {
		t.Errorf("rcpt-source-route not withheld: %s", w.Verdict)
	}
}

// The prober's sender refused at RCPT (Postfix reject_non_fqdn_sender with
// smtpd_delay_reject) is the prober's fault, said first.
func TestBaselineSenderNotFQDN(t *testing.T) {
	srv := probetest.StartMTA(t, probetest.MTA{Name: "postfix", Banner: "220 rules.test ESMTP Postfix",
		Rules: []probetest.Rule{{Match: `^RCPT`, Reply: "504 5.5.2 <postmaster@localhost>: Sender address rejected: need fully-qualified address"}}})
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.HELO, o.From = "localhost", "postmaster@localhost" })
	b := baselineNamed(t, h, probe.BaselineSender)
	if !b.Failed() || b.Fault != probe.FaultSender || b.Cause != explain.CauseSenderRejected {
		t.Errorf("sender baseline = %+v; want failed by the sender", b)
	}
	if m := baselineNamed(t, h, probe.BaselineMailbox); m.Failed() {
		t.Errorf("mailbox baseline %+v: it cannot be judged while the sender is refused", m)
	}
	noneJudged(t, h, 504)
	for _, s := range h.Steps {
		if s.Command == explain.RCPT && s.Reply != nil && s.Reply.Code == 504 && s.Name != "rcpt-well-formed" && s.Name != "rcpt-before-mail" && s.Withheld == "" {
			t.Errorf("%s not withheld: %s", s.Name, s.Verdict)
		}
	}
	if h.Verdicts.PostmasterAccepted != nil {
		t.Errorf("postmaster_accepted = %v; want withheld", *h.Verdicts.PostmasterAccepted)
	}
}

// Greylisting and a rate limit are both 4yz, but not the same advice.
func TestDeferredCauses(t *testing.T) {
	grey := probetest.StartMTA(t, plain.With(probetest.Rule{Match: `^RCPT TO:<alice@`, Reply: "450 4.2.0 <alice@rules.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/rules.test.html"}))
	h := runRules(t, grey.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	s := stepNamed(t, h, "rcpt-well-formed")
	if s.Cause != explain.CauseGreylisted || !strings.Contains(s.Verdict, "greylisting") {
		t.Errorf("greylisted step: cause %q, verdict %q", s.Cause, s.Verdict)
	}
	if b := baselineNamed(t, h, probe.BaselineMailbox); b.Fault != probe.FaultClient {
		t.Errorf("mailbox baseline %+v; greylisting is about the client", b)
	}

	rate := probetest.StartMTA(t, plain.With(probetest.Rule{Match: `^RCPT TO:<alice@`, Reply: "421 4.7.0 rules.test Error: too many connections from 127.0.0.1"}))
	h = runRules(t, rate.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	s = stepNamed(t, h, "rcpt-well-formed")
	if s.Cause != explain.CauseRateLimited || !strings.Contains(s.Verdict, "rate limit") {
		t.Errorf("rate-limited step: cause %q, verdict %q", s.Cause, s.Verdict)
	}
}

// 500 (not implemented) and 502 (switched off) are different VRFY policies.
func TestVRFYNotImplementedVersusDisabled(t *testing.T) {
	for _, tc := range []struct {
		reply, want string
	}{
		{"500 5.5.1 Command unrecognized: \"VRFY\"", probe.PolicyNotImplemented},
		{"502 5.5.1 VRFY command is disabled", probe.PolicyDisabled},
	} {
		srv := probetest.StartMTA(t, plain.With(probetest.Rule{Match: `^(VRFY|EXPN)`, Reply: tc.reply}))
		h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"vrfy"} })
		if p := h.Verdicts.VRFYPolicy; p == nil || p.Policy != tc.want {
			t.Errorf("%s: vrfy_policy %+v; want %s", tc.reply, p, tc.want)
		}
		if p := h.Verdicts.EXPNPolicy; p == nil || p.Policy != tc.want {
			t.Errorf("%s: expn_policy %+v; want %s", tc.reply, p, tc.want)
		}
	}
}

// Exim says "550 Unrouteable address" without an enhanced code: a mailbox
// answer to a form that must be refused is inconclusive, as on Postfix.
func TestEximUnrouteableIsInconclusive(t *testing.T) {
	srv := probetest.StartMTA(t, probetest.Exim)
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	if s := stepNamed(t, h, "rcpt-utf8-without-smtputf8"); s.Conformance != probe.Undecided || s.Cause != explain.CauseUnknownMailbox {
		t.Errorf("rcpt-utf8-without-smtputf8: %s, cause %q: %s", s.Conformance, s.Cause, s.Verdict)
	}
}

// OpenSMTPD's syntax refusal of a valid quoted local part is strict.
func TestOpenSMTPDQuotedIsStrict(t *testing.T) {
	srv := probetest.StartMTA(t, probetest.OpenSMTPD)
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	if s := stepNamed(t, h, "mail-quoted-local-part"); s.Conformance != probe.TooStrict {
		t.Errorf("mail-quoted-local-part: %s: %s", s.Conformance, s.Verdict)
	}
}

// EHLO refused and HELO accepted: the report shows the fallback.
func TestHELOFallbackShown(t *testing.T) {
	srv := probetest.StartMTA(t, probetest.MTA{Name: "helo-only", Banner: "220 rules.test SMTP",
		Rules: []probetest.Rule{{Match: `^EHLO`, Reply: "502 5.5.2 Error: command not recognized"}}})
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"vrfy"} })
	if f := h.HELOFallback; f == nil || f.EHLO.Code != 502 || f.HELO == nil || f.HELO.Code != 250 {
		t.Fatalf("helo_fallback = %+v", h.HELOFallback)
	}
	if b := baselineNamed(t, h, probe.BaselineHELO); b.Failed() {
		t.Errorf("helo baseline failed though HELO was taken: %+v", b)
	}
}

// A server that sleeps after errors is reported as throttling.
func TestThrottlingMeasured(t *testing.T) {
	srv := probetest.StartMTA(t, plain.With(probetest.Rule{Match: `^VRFY smtpprobe-`, Reply: "550 5.1.1 User unknown"}).
		Slowed(probetest.Slowdown{From: 3, Delay: time.Second})) // from the 3rd error reply on
	// One command at a time on one connection, so the errors pile up
	// where the server slows down.
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"vrfy"}; o.LockStep = true })
	th := h.Verdicts.Throttling
	if th == nil || th.AfterErrors != 2 || th.MinDelayMS < 700 || th.SlowReplies < 2 {
		t.Fatalf("throttling = %+v; want slow replies after 2 errors", th)
	}
}

// Advice names the identified MTA's own setting, never Postfix's for
// another MTA.
func TestAdviceKeyedOnSoftware(t *testing.T) {
	for _, tc := range []struct {
		name string
		mta  probetest.MTA
		want []string
	}{
		{"Sendmail", probetest.Sendmail, []string{"Sendmail: PrivacyOptions=novrfy"}},
		{"Exim", probetest.Exim, []string{"Exim: leave acl_smtp_vrfy unset", "Exim: allow_domain_literals = true"}},
		{"OpenSMTPD", probetest.OpenSMTPD, []string{"VRFY is not implemented (502 5.5.1)", "OpenSMTPD: does not implement VRFY"}},
	} {
		srv := probetest.StartMTA(t, tc.mta)
		h := runRules(t, srv.Addr(), nil)
		if h.Software == nil || h.Software.Name != tc.name {
			t.Errorf("%s: identified as %+v", tc.name, h.Software)
			continue
		}
		advice := strings.Join(probe.Advise(&h), "\n")
		for _, w := range tc.want {
			if !strings.Contains(advice, w) {
				t.Errorf("%s: advice lacks %q:\n%s", tc.name, w, advice)
			}
		}
		for _, w := range []string{"Postfix", "disable_vrfy_command", "strict_rfc821_envelopes"} {
			if strings.Contains(advice, w) {
				t.Errorf("%s: advice names %q:\n%s", tc.name, w, advice)
			}
		}
	}
}
