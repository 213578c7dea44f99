package probe_test

import (
	"context"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
)

// The policy lab (.ci/services/postfix-policy.sh): Postfix endpoints that
// refuse the client rather than the line.
const (
	policyNonFQDN   = "127.0.12.1:2525" // reject_non_fqdn_helo_hostname, reject_non_fqdn_sender
	policyDNSBL     = "127.0.12.1:2526" // reject_rbl_client bl.policy.test
	policyGreylist  = "127.0.12.1:2527" // postgrey
	policyRateLimit = "127.0.12.1:2528" // smtpd_client_recipient_rate_limit = 3
)

// needPolicyLab skips when the policy lab is not running, and fails under
// CI=true, where .ci/run must have started it.
func needPolicyLab(t *testing.T, addr string) {
	t.Helper()
	probetest.NeedTCP(t, "the policy lab", addr, "bash .ci/services/postfix-policy.sh start")
}

func probePolicy(t *testing.T, addr string, mutate func(*probe.Options)) probe.HostReport {
	t.Helper()
	needPolicyLab(t, addr)
	target, err := probe.ParseTarget(addr)
	if err != nil {
		t.Fatal(err)
	}
	o := probe.Options{Target: target, Domain: "lab.test", User: "alice", HELO: "client.test",
		From: "probe-" + probe.RandomLocalPart() + "@client.test", Timeout: 30 * time.Second, TLS: "none", Suites: []string{"syntax"}}
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
		t.Fatalf("not probed: %+v", rep.Hosts)
	}
	return rep.Hosts[0]
}

// noBreachOn fails for any step judged strict or wrong-code on a reply
// with cause c: a refusal of the client is never an RFC breach.
func noBreachOn(t *testing.T, h probe.HostReport, c explain.Cause) int {
	t.Helper()
	n := 0
	for _, s := range h.Steps {
		if s.Cause != c {
			continue
		}
		n++
		if s.Conformance == probe.TooStrict || s.Conformance == probe.WrongCode {
			t.Errorf("%s: %s on a %s refusal: %s", s.Name, s.Conformance, c, s.Verdict)
		}
	}
	return n
}

// A non-FQDN sender (the old silent postmaster@localhost) is refused at
// RCPT; the report's first finding is the prober's own sender.
func TestPolicyLabNonFQDNSender(t *testing.T) {
	h := probePolicy(t, policyNonFQDN, func(o *probe.Options) { o.HELO, o.From = "client.test", "postmaster@localhost" })
	var first probe.Baseline
	for _, b := range h.Verdicts.Baselines {
		if b.Failed() {
			first = b
			break
		}
	}
	if first.Name != probe.BaselineSender || first.Fault != probe.FaultSender || first.Code != 504 {
		t.Errorf("first failed baseline = %+v; want the sender, refused with 504", first)
	}
	if noBreachOn(t, h, explain.CauseSenderRejected) == 0 {
		t.Error("no step drew Postfix's sender refusal")
	}
	if h.Verdicts.PostmasterAccepted != nil {
		t.Errorf("postmaster_accepted = %v; want withheld", *h.Verdicts.PostmasterAccepted)
	}
}

// With no EHLO name or sender given, the prober's default identity (the
// FQDN or the local address literal) passes the same restrictions.
func TestPolicyLabDefaultIdentityPasses(t *testing.T) {
	h := probePolicy(t, policyNonFQDN, func(o *probe.Options) { o.HELO, o.From = "", "" })
	for _, b := range h.Verdicts.Baselines {
		if b.Failed() {
			t.Errorf("baseline %s failed with the default identity %s: %s", b.Name, h.HELOName, b.Reason)
		}
	}
}

// A DNSBL hit from a local zone: blocklisted, with the list's name.
func TestPolicyLabDNSBL(t *testing.T) {
	h := probePolicy(t, policyDNSBL, nil)
	s := stepNamed(t, h, "rcpt-well-formed")
	if s.Cause != explain.CauseBlocklisted || s.Blocklist != "bl.policy.test" {
		t.Errorf("rcpt-well-formed: cause %q list %q: %s", s.Cause, s.Blocklist, s.Verdict)
	}
	if b := baselineNamed(t, h, probe.BaselineMailbox); b.Fault != probe.FaultClient {
		t.Errorf("mailbox baseline %+v; a blocklist hit is about the client", b)
	}
	noBreachOn(t, h, explain.CauseBlocklisted)
}

// postgrey's first answer: greylisted, deferred, and no verdict on it.
func TestPolicyLabGreylist(t *testing.T) {
	h := probePolicy(t, policyGreylist, nil)
	s := stepNamed(t, h, "rcpt-well-formed")
	if s.Cause != explain.CauseGreylisted || s.Outcome != probe.Deferred {
		t.Errorf("rcpt-well-formed: %s, cause %q: %s", s.Outcome, s.Cause, s.Verdict)
	}
	noBreachOn(t, h, explain.CauseGreylisted)
}

// Postfix's anvil recipient rate: rate-limited, told apart from greylisting.
func TestPolicyLabRateLimit(t *testing.T) {
	h := probePolicy(t, policyRateLimit, nil)
	if noBreachOn(t, h, explain.CauseRateLimited) == 0 {
		t.Errorf("no step drew the recipient rate limit")
	}
	for _, s := range h.Steps {
		if s.Cause == explain.CauseGreylisted {
			t.Errorf("%s read as greylisting: %s", s.Name, s.Reply.Text())
		}
	}
}
