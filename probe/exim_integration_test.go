package probe_test

import (
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// The Exim lab (.ci/services/exim.sh): Debian's Exim 4.96 for the domain
// exim.lab.test with mailboxes alice and postmaster, VRFY answered.
const eximLab = "127.0.0.1:2530"

// probeExim probes the Exim lab with the default suite, mutate setting
// the schedule; it skips when the lab is not running, and fails under
// CI=true, where .ci/run must have started it.
func probeExim(t *testing.T, mutate func(*probe.Options)) probe.HostReport {
	t.Helper()
	probetest.NeedTCP(t, "the Exim lab", eximLab, "bash .ci/services/exim.sh install && bash .ci/services/exim.sh start")
	// Exim offers STARTTLS with a certificate of its own: the lab is
	// probed with TLS as the default has it.
	return sameFindingsRun(t, eximLab, "exim.lab.test", func(o *probe.Options) {
		o.TLS, o.Timeout = "", 30*time.Second
		mutate(o)
	})
}

// TestEximSameFindingsInEveryMode: at a real Exim, pipelined groups over
// parallel connections, and over one, find the verdicts and step
// outcomes that one command per round trip finds, and every mode
// completes the suite despite Exim dropping sessions after too many
// syntax errors.
func TestEximSameFindingsInEveryMode(t *testing.T) {
	lock := probeExim(t, func(o *probe.Options) { o.LockStep = true })
	if lock.Schedule == nil || lock.Schedule.Mode != probe.ModeLockStep {
		t.Fatalf("lock-step ran as %+v", lock.Schedule)
	}
	checkExim(t, "lock-step", lock)
	for _, mode := range []struct {
		name   string
		mutate func(*probe.Options)
	}{
		{"default", func(*probe.Options) {}},
		{"one connection", func(o *probe.Options) { o.Connections = 1 }},
	} {
		h := probeExim(t, mode.mutate)
		if h.Schedule == nil || !h.Schedule.Pipelining {
			t.Errorf("%s: schedule %+v; Exim advertises PIPELINING", mode.name, h.Schedule)
		}
		checkExim(t, mode.name, h)
		sameFindings(t, mode.name, h, lock) // error_limit included: the errors Exim counts
		t.Logf("%s: error_limit %d; lock-step %d", mode.name, *h.Verdicts.ErrorLimit, *lock.Verdicts.ErrorLimit)
	}
}

// checkExim checks what any mode must find at the Exim lab: the whole
// suite answered, the software named, the replies Exim is known to give.
func checkExim(t *testing.T, what string, h probe.HostReport) {
	t.Helper()
	answeredAll(t, what, h)
	if h.Software == nil || h.Software.Name != "Exim" || h.Software.Version != "4.96" {
		t.Errorf("%s: software %+v; the banner names Exim 4.96", what, h.Software)
	}
	v := h.Verdicts
	if v.ErrorLimit == nil || *v.ErrorLimit != 4 {
		t.Errorf("%s: error_limit %v; Exim drops a session on its fourth syntax or protocol error (smtp_max_synprot_errors = 3)", what, v.ErrorLimit)
	}
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != probe.PolicyReveals || v.VRFYPolicy.RealCode != 250 || v.VRFYPolicy.RandomCode != 550 {
		t.Errorf("%s: vrfy_policy %+v; Exim answers 250 for alice@exim.lab.test and 550 for an unknown mailbox", what, v.VRFYPolicy)
	}
	if v.CatchAll == nil || *v.CatchAll || v.PostmasterAccepted == nil || !*v.PostmasterAccepted {
		t.Errorf("%s: catch_all %v, postmaster_accepted %v", what, v.CatchAll, v.PostmasterAccepted)
	}
	for name, code := range map[string]int{
		"vrfy-address": 250, "vrfy-random-address": 550, "vrfy-user": 501, "expn-list": 550,
		"mail-before-ehlo": 503, "mail-twice": 503, "mail-unqualified": 501, "mail-size-over-limit": 552,
		"rcpt-well-formed": 250, "rcpt-random-mailbox": 550, "rcpt-postmaster-bare": 250,
	} {
		if r := replyOf(t, h, name); r.Code != code {
			t.Errorf("%s: %s: %d %s; want %d", what, name, r.Code, r.Text(), code)
		}
	}
	if r := replyOf(t, h, "rcpt-random-mailbox"); !strings.Contains(r.Text(), "Unrouteable address") {
		t.Errorf("%s: rcpt-random-mailbox: %q; Exim's wording is \"Unrouteable address\"", what, r.Text())
	}
}
