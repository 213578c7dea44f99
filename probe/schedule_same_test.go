package probe_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe"
)

// findings are what a run must find whatever its schedule: the verdicts,
// and each probe step's outcome, reply code and annotation.
func findings(t *testing.T, h probe.HostReport) (string, map[string]string) {
	t.Helper()
	verdicts := h.Verdicts
	if verdicts != nil && verdicts.Throttling != nil {
		// Whether the server throttles is a finding; by how many
		// milliseconds, on which connection, after how many errors
		// depends on the schedule and the clock.
		vv := *verdicts
		vv.Throttling = &probe.Throttling{}
		verdicts = &vv
	}
	v, err := json.Marshal(verdicts)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]string{}
	for _, s := range h.Steps {
		if s.Setup {
			continue
		}
		code := 0
		if s.Reply != nil {
			code = s.Reply.Code
		}
		steps[s.Name] = fmt.Sprintf("%s %d %s", s.Outcome, code, s.Annotation)
	}
	return string(v), steps
}

// TestPostfixSameFindingsInEveryMode: pipelined groups over parallel
// connections find what one command per round trip finds, at the lab's
// strict and lenient Postfix.
func TestPostfixSameFindingsInEveryMode(t *testing.T) {
	for _, addr := range []string{postfixStrict, postfixLenient} {
		lock := probePostfix(t, addr, func(o *probe.Options) { o.LockStep = true })
		lv, ls := findings(t, lock)
		for _, conns := range []int{1, 3} {
			h := probePostfix(t, addr, func(o *probe.Options) { o.Connections = conns })
			if h.Schedule == nil || !h.Schedule.Pipelining || lock.Schedule.Mode != probe.ModeLockStep {
				t.Fatalf("%s: schedules %+v and %+v", addr, h.Schedule, lock.Schedule)
			}
			v, s := findings(t, h)
			if v != lv {
				t.Errorf("%s, %d connections: verdicts\n%s\nlock-step:\n%s", addr, conns, v, lv)
			}
			for name, want := range ls {
				if s[name] != want {
					t.Errorf("%s, %d connections: %s = %q; lock-step %q", addr, conns, name, s[name], want)
				}
			}
			if len(s) != len(ls) {
				t.Errorf("%s: %d steps; lock-step %d", addr, len(s), len(ls))
			}
		}
	}
}
