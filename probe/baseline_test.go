package probe_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// rule answers the lines matching re with reply (CRLF added); delay,
// when set, is slept before replying once errs error replies were sent.
type rule struct {
	re    string
	reply string
}

// replyRules is a raw-TCP server answering by the first matching rule,
// else like a plain ESMTP server that accepts everything.
func replyRules(t *testing.T, banner string, ehlo []string, rules []rule, slow func(c *probetest.LineConn) time.Duration) *probetest.LineServer {
	t.Helper()
	type compiled struct {
		re    *regexp.Regexp
		reply string
	}
	var rs []compiled
	for _, r := range rules {
		rs = append(rs, compiled{regexp.MustCompile("(?i)" + r.re), r.reply})
	}
	if ehlo == nil {
		ehlo = []string{"250-rules.test", "250-8BITMIME", "250 ENHANCEDSTATUSCODES"}
	}
	return probetest.StartLineServer(t, banner+"\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		out := ""
		for _, r := range rs {
			if r.re.MatchString(line) {
				out = r.reply
				break
			}
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		if out == "" {
			switch verb {
			case "EHLO":
				out = strings.Join(ehlo, "\r\n")
			case "HELO":
				out = "250 rules.test"
			case "MAIL":
				out = "250 2.1.0 Ok"
			case "RCPT":
				out = "250 2.1.5 Ok"
			case "RSET", "NOOP":
				out = "250 2.0.0 Ok"
			case "VRFY":
				out = "252 2.0.0 Cannot VRFY user"
			case "QUIT":
				return probetest.LineReply{Out: "221 2.0.0 Bye\r\n", Close: true}
			default:
				out = "502 5.5.2 Error: command not recognized"
			}
		}
		if slow != nil && (out[0] == '4' || out[0] == '5') {
			time.Sleep(slow(c))
		}
		return probetest.LineReply{Out: out + "\r\n", Close: strings.HasPrefix(out, "421")}
	})
}

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
	srv := replyRules(t, "220 rules.test ESMTP", nil, []rule{{`^RCPT`, "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1"}}, nil)
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
	srv := replyRules(t, "220 rules.test ESMTP Postfix", nil, []rule{{`^RCPT`, "504 5.5.2 <postmaster@localhost>: Sender address rejected: need fully-qualified address"}}, nil)
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
	grey := replyRules(t, "220 rules.test ESMTP", nil, []rule{{`^RCPT TO:<alice@`, "450 4.2.0 <alice@rules.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/rules.test.html"}}, nil)
	h := runRules(t, grey.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	s := stepNamed(t, h, "rcpt-well-formed")
	if s.Cause != explain.CauseGreylisted || !strings.Contains(s.Verdict, "greylisting") {
		t.Errorf("greylisted step: cause %q, verdict %q", s.Cause, s.Verdict)
	}
	if b := baselineNamed(t, h, probe.BaselineMailbox); b.Fault != probe.FaultClient {
		t.Errorf("mailbox baseline %+v; greylisting is about the client", b)
	}

	rate := replyRules(t, "220 rules.test ESMTP", nil, []rule{{`^RCPT TO:<alice@`, "421 4.7.0 rules.test Error: too many connections from 127.0.0.1"}}, nil)
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
		srv := replyRules(t, "220 rules.test ESMTP", nil, []rule{{`^VRFY`, tc.reply}, {`^EXPN`, tc.reply}}, nil)
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
	srv := replyRules(t, "220 mx.exim.test ESMTP Exim 4.96", nil, []rule{{`^RCPT TO:<pr`, "550 Unrouteable address"}}, nil)
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	if s := stepNamed(t, h, "rcpt-utf8-without-smtputf8"); s.Conformance != probe.Undecided || s.Cause != explain.CauseUnknownMailbox {
		t.Errorf("rcpt-utf8-without-smtputf8: %s, cause %q: %s", s.Conformance, s.Cause, s.Verdict)
	}
}

// OpenSMTPD's syntax refusal of a valid quoted local part is strict.
func TestOpenSMTPDQuotedIsStrict(t *testing.T) {
	srv := replyRules(t, "220 mx.opensmtpd.test ESMTP OpenSMTPD", nil, []rule{{`^MAIL FROM:<"`, "553 5.1.0 Sender address syntax error"}}, nil)
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"syntax"} })
	if s := stepNamed(t, h, "mail-quoted-local-part"); s.Conformance != probe.TooStrict {
		t.Errorf("mail-quoted-local-part: %s: %s", s.Conformance, s.Verdict)
	}
}

// EHLO refused and HELO accepted: the report shows the fallback.
func TestHELOFallbackShown(t *testing.T) {
	srv := replyRules(t, "220 rules.test SMTP", nil, []rule{{`^EHLO`, "502 5.5.2 Error: command not recognized"}}, nil)
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
	srv := replyRules(t, "220 rules.test ESMTP", nil, []rule{{`^VRFY smtpprobe-`, "550 5.1.1 User unknown"}}, func(c *probetest.LineConn) time.Duration {
		if c.Errors >= 2 {
			return time.Second
		}
		return 0
	})
	// One command at a time on one connection, so the errors pile up
	// where the server slows down.
	h := runRules(t, srv.Addr(), func(o *probe.Options) { o.Suites = []string{"vrfy"}; o.LockStep = true })
	th := h.Verdicts.Throttling
	if th == nil || th.AfterErrors != 2 || th.MinDelayMS < 700 || th.SlowReplies < 2 {
		t.Fatalf("throttling = %+v; want slow replies after 2 errors", th)
	}
}

// The stock texts of Sendmail and Exim, as far as the advice cases need
// them: the banner and EHLO greeting that identify the MTA, and its VRFY
// and RCPT answers.
var (
	sendmailBanner = "220 mx.sendmail.test ESMTP Sendmail 8.17.1.9/8.17.1.9; Wed, 2 Dec 2026 15:00:00 GMT"
	sendmailEHLO   = []string{"250-mx.sendmail.test Hello client.test [127.0.0.1], pleased to meet you", "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250-8BITMIME", "250-SIZE", "250-DSN", "250-ETRN", "250-DELIVERBY", "250 HELP"}
	sendmailRules  = []rule{
		{`^VRFY (alice|<alice|postmaster)`, "250 2.1.5 Alice <alice@rules.test>"},
		{`^VRFY smtpprobe-`, "550 5.1.1 smtpprobe-x... User unknown"},
		{`^EXPN`, "502 5.7.0 Sorry, we do not allow this operation"},
		{`^MAIL FROM:[^<]`, "553 5.5.4 <probe@client.test>... Domain name required for sender address probe@client.test"},
		{`^RCPT TO:<smtpprobe-`, "550 5.1.1 <smtpprobe-x@rules.test>... User unknown"},
		{`^RCPT TO:<`, "250 2.1.5 <alice@rules.test>... Recipient ok"},
		{`^MAIL`, "250 2.1.0 <probe@client.test>... Sender ok"},
	}
	eximBanner = "220 mx.exim.test ESMTP Exim 4.96 Wed, 02 Dec 2026 15:00:00 +0000"
	eximEHLO   = []string{"250-mx.exim.test Hello client.test [127.0.0.1]", "250-SIZE 52428800", "250-8BITMIME", "250-PIPELINING", "250-PIPECONNECT", "250-CHUNKING", "250-PRDR", "250 HELP"}
	eximRules  = []rule{
		{`^VRFY alice`, "250 <alice@rules.test>"},
		{`^VRFY`, "550 <smtpprobe-x@rules.test> Unrouteable address"},
		{`^EXPN`, "550 Administrative prohibition"},
		{`@\[`, "501 <postmaster@[127.0.0.1]>: domain literals not allowed"},
		{`^RCPT TO:<smtpprobe-`, "550 Unrouteable address"},
		{`^RCPT`, "250 Accepted"},
		{`^MAIL`, "250 OK"},
	}
)

// Advice names the identified MTA's own setting, never Postfix's for
// another MTA.
func TestAdviceKeyedOnSoftware(t *testing.T) {
	for _, tc := range []struct {
		name, banner string
		ehlo         []string
		rules        []rule
		want         []string
	}{
		{"Sendmail", sendmailBanner, sendmailEHLO, sendmailRules, []string{"Sendmail: PrivacyOptions=novrfy"}},
		{"Exim", eximBanner, eximEHLO, eximRules, []string{"Exim: leave acl_smtp_vrfy unset", "Exim: allow_domain_literals = true"}},
	} {
		srv := replyRules(t, tc.banner, tc.ehlo, tc.rules, nil)
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
