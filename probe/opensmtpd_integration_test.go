package probe_test

import (
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// The OpenSMTPD lab (.ci/services/opensmtpd.sh): Debian's OpenSMTPD 6.8,
// domain opensmtpd.lab.test with mailboxes alice and postmaster. It does
// not advertise PIPELINING.
const openSMTPDLab = "127.0.0.1:2531"

// TestOpenSMTPDSameFindingsInEveryMode: against a real server without
// PIPELINING, lock-step, the default schedule and one connection never
// pipeline, complete the plan, identify the server, and find the same
// verdicts and step outcomes.
func TestOpenSMTPDSameFindingsInEveryMode(t *testing.T) {
	probetest.NeedTCP(t, "the OpenSMTPD lab", openSMTPDLab, "bash .ci/services/opensmtpd.sh install && bash .ci/services/opensmtpd.sh start")
	modes := []struct {
		name   string
		mutate func(*probe.Options)
	}{
		{"lock-step", func(o *probe.Options) { o.LockStep = true }},
		{"default", func(*probe.Options) {}},
		{"one connection", func(o *probe.Options) { o.Connections = 1 }},
	}
	var lock probe.HostReport
	for i, m := range modes {
		h := sameFindingsRun(t, openSMTPDLab, "opensmtpd.lab.test", m.mutate)
		answeredAll(t, m.name, h)
		if h.Schedule == nil || h.Schedule.Pipelining || h.Schedule.Mode == probe.ModePipelined || h.Schedule.Mode == probe.ModePipelinedParallel {
			t.Errorf("%s: schedule %+v; OpenSMTPD does not advertise PIPELINING", m.name, h.Schedule)
		}
		if h.Software == nil || h.Software.Name != "OpenSMTPD" {
			t.Errorf("%s: software %+v; the banner says OpenSMTPD", m.name, h.Software)
		}
		checkOpenSMTPD(t, m.name, h)
		if i == 0 {
			if h.Schedule != nil && h.Schedule.Mode != probe.ModeLockStep {
				t.Errorf("lock-step ran as %s", h.Schedule.Mode)
			}
			lock = h
			continue
		}
		sameFindings(t, m.name, h, lock)
	}
}

// checkOpenSMTPD checks replies the lab's OpenSMTPD 6.8 gives.
func checkOpenSMTPD(t *testing.T, what string, h probe.HostReport) {
	t.Helper()
	verbs := 0
	for _, s := range h.Steps {
		if s.Setup || s.Reply == nil || s.Command != explain.VRFY && s.Command != explain.EXPN {
			continue
		}
		verbs++
		// 6.8 does not know the verbs (7 answers 502 "Command not supported").
		if s.Reply.Code != 500 || !strings.Contains(s.Reply.Text(), "Command unrecognized") {
			t.Errorf("%s: %s: %d %s; want 500 Command unrecognized", what, s.Name, s.Reply.Code, s.Reply.Text())
		}
	}
	if verbs == 0 {
		t.Errorf("%s: no VRFY or EXPN step drew a reply", what)
	}
	if r := replyOf(t, h, "rcpt-random-mailbox"); r.Code != 550 || !strings.Contains(r.Text(), "Invalid recipient") {
		t.Errorf("%s: random mailbox: %d %s; want 550 Invalid recipient", what, r.Code, r.Text())
	}
	for name, code := range map[string]int{"rcpt-well-formed": 250, "rcpt-postmaster-bare": 250} {
		if r := replyOf(t, h, name); r.Code != code {
			t.Errorf("%s: %s: %d %s; want %d", what, name, r.Code, r.Text(), code)
		}
	}
	v := h.Verdicts
	if v.CatchAll == nil || *v.CatchAll {
		t.Errorf("%s: catch_all = %v; unknown mailboxes are refused", what, v.CatchAll)
	}
	if v.PostmasterAccepted == nil || !*v.PostmasterAccepted {
		t.Errorf("%s: postmaster_accepted = %v", what, v.PostmasterAccepted)
	}
}
