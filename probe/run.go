package probe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe/pool"
)

// giveUpInAll is how many steps in all may end without a reply before the
// runner gives up on the host, however they are spread: a tarpit that
// answers every other command cannot keep the "in a row" count low. A
// server that works never lets three replies time out.
const giveUpInAll = 3

// StatusUnresponsive is the host status of a server the runner gave up
// on: it answered the greeting and EHLO, then let too many replies time
// out (giveUpAfter in a row, more than a quarter of the steps sent, or
// giveUpInAll in all).
const StatusUnresponsive SessionStatus = "unresponsive"

// silence is the runner's tally of steps that drew no complete reply.
type silence struct {
	inRow, inAll, sent int
	timeouts           int // of inAll, the replies cut off by the deadline
	desyncs            int // of inAll, the replies out of step with the commands
}

// observe counts one step sent and whether it drew no reply, and if so
// whether the reply timed out (rather than came without a usable code).
func (t *silence) observe(noReply, timedOut, desync bool) {
	t.sent++
	if noReply {
		t.inRow++
		t.inAll++
	} else {
		t.inRow = 0
	}
	if timedOut {
		t.timeouts++
	}
	if desync {
		t.desyncs++
	}
}

// giveUp says why the host should be given up on, or "". Besides two
// silent steps in a row, a host whose replies timed out on more than a
// quarter of the steps so far (two at least), or on giveUpInAll steps in
// all, is given up: the cost of a tarpit is bounded by giveUpInAll reply
// deadlines, however it spaces its silences.
func (t *silence) giveUp() string {
	what := "the server stopped answering"
	if t.desyncs > 0 {
		what = "the server's replies fell out of step with the commands"
	}
	switch {
	case t.inRow >= giveUpAfter:
		return fmt.Sprintf("%s (%d steps in a row without a complete reply to trust, each tried on a new connection)", what, t.inRow)
	case t.inAll >= giveUpInAll || t.inAll >= 2 && 4*t.inAll > t.sent:
		if t.desyncs == 0 {
			what = "the server is unresponsive"
		}
		return fmt.Sprintf("%s (%d of %d steps sent drew no complete reply to trust)", what, t.inAll, t.sent)
	}
	return ""
}

func skipped(s Step, conn int, why string) StepResult {
	line := strings.ReplaceAll(s.Line, "{size_over}", "(advertised SIZE + 1)")
	return StepResult{Name: s.Name, Suite: s.Suite, Case: s.Case, Command: s.Command, Sent: line,
		Expect: s.Expect, Ref: s.Ref, Connection: conn, Outcome: Skipped, Conformance: NotJudged, Verdict: why, Setup: s.Setup, Address: s.Address, step: s}
}

// The reasons a run is incomplete (Report.IncompleteReason).
const (
	IncompleteBudget      = "budget-spent" // the run's time budget (--max-time) ran out
	IncompleteInterrupted = "interrupted"  // the caller canceled the run (Ctrl-C)
)

// incompleteReason says why ctx ended: its deadline passed (the budget),
// or it was canceled (an interrupt). "" while ctx is live.
func incompleteReason(ctx context.Context) string {
	switch {
	case !ended(ctx):
		return ""
	case ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return IncompleteBudget
	}
	return IncompleteInterrupted
}

// ended tells whether ctx is over: canceled, or past its deadline even if
// its timer has not fired yet. A socket deadline set from ctx's deadline
// can fire first, and that failure is the budget's, not the server's.
func ended(ctx context.Context) bool { return pool.Ended(ctx) }

// cutShort marks a step the run ended before: not a finding about the
// server, and the verdicts that need it are left unknown.
func cutShort(ctx context.Context, s Step, conn int) StepResult {
	why := "not sent: the run's time budget ran out"
	if incompleteReason(ctx) == IncompleteInterrupted {
		why = "not sent: the run was interrupted"
	}
	res := skipped(s, conn, why)
	res.cut = true
	return res
}

// sizeOver is the decimal of n+1 for a SIZE limit n from the wire: one
// octet over the limit, computed without overflow even when a server
// advertises the largest int64 (RFC 1870 §4 allows up to 20 digits).
func sizeOver(n int64) string {
	if n < 0 {
		n = 0
	}
	return strconv.FormatUint(uint64(n)+1, 10)
}
