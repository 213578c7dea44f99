package probe

import (
	"context"
	"slices"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// splitBeforeHello takes out of steps those sent before any EHLO
// (State BeforeHello), keeping both lists in plan order.
func splitBeforeHello(steps []Step) (rest, early []Step) {
	for _, s := range steps {
		if s.State == BeforeHello {
			early = append(early, s)
		} else {
			rest = append(rest, s)
		}
	}
	return rest, early
}

// runBeforeHello sends steps on one new connection that is greeted but
// never says EHLO: how the server treats a client that skips or botches
// the hello (RFC 5321 §4.1.4). Then it quits, or, when goOn (which may
// be nil), given the results, says the plan has steps left for it, says
// EHLO and returns the session open. conn is the connection's number in
// the report; mem is the run's memory budget. The session is returned for
// its transcript, nil when the dial failed before a session existed; the
// error is the dial's.
func runBeforeHello(ctx context.Context, cfg Config, steps []Step, conn int, mem *memBudget, goOn func([]StepResult) bool) ([]StepResult, *Session, error) {
	cfg.NoHello = true
	s, err := Dial(ctx, cfg)
	if err != nil {
		var out []StepResult
		for _, st := range steps {
			out = append(out, skipped(st, conn, "not sent: "+err.Error()))
		}
		if s != nil {
			s.Close()
		}
		return out, s, err
	}
	var out []StepResult
	for i, st := range steps {
		if ended(ctx) {
			out = append(out, cutShort(ctx, st, conn))
			continue
		}
		start := time.Now()
		reply, err := s.Cmd(ctx, st.Line)
		res := judgeResult(st, st.Line, reply, err, time.Since(start), conn, mem)
		out = append(out, res)
		if err != nil || res.code() == 421 || s.Closed() {
			for _, left := range steps[i+1:] {
				out = append(out, skipped(left, conn, "not sent: the server closed the connection opened without EHLO"))
			}
			break
		}
	}
	if !s.Closed() && !ended(ctx) && goOn != nil && goOn(out) {
		// A hello the server refuses (some answer a second EHLO with
		// 503) leaves a session the plan cannot use: it quits, and the
		// plan goes on elsewhere.
		if err := s.Hello(ctx); err == nil && helloAccepted(s) {
			return out, s, nil
		}
	}
	if !s.Closed() {
		qctx, cancel := wire.QuitContext(ctx)
		s.Quit(qctx)
		cancel()
	}
	s.Close()
	return out, s, nil
}

// helloAccepted tells whether the session's last EHLO, or the HELO it
// fell back to, was accepted.
func helloAccepted(s *Session) bool {
	if h := s.HELOReply(); h != nil {
		return h.Code/100 == 2
	}
	return s.EHLOReply().Code/100 == 2
}

// insertAtSuite puts early at the front of the results of their suite, so
// the report keeps plan order: the steps before EHLO lead the syntax suite.
func insertAtSuite(results, early []StepResult) []StepResult {
	if len(early) == 0 {
		return results
	}
	at := slices.IndexFunc(results, func(r StepResult) bool { return r.Suite == early[0].Suite })
	if at < 0 {
		at = len(results)
	}
	return slices.Insert(results, at, early...)
}

// helloUnderTest reads a refusal of a step sent before EHLO for what it
// is: when the hello itself is under test, "send HELO first" to MAIL is
// the command order the step asks about, and "invalid HELO name" to a bad
// EHLO is the syntax check it probes, not a refusal of the prober.
func helloUnderTest(s Step, ref explain.Refusal) explain.Refusal {
	if s.State != BeforeHello || ref.Cause != explain.CauseHELORejected {
		return ref
	}
	ref.Cause = explain.CauseSyntax
	if s.Command != explain.EHLO && s.Command != explain.HELO {
		ref.Cause = explain.CauseSequence
	}
	return ref
}
