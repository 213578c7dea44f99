package probe

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe/pool"
)

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
