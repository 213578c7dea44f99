package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
)

// stepConn is what the runner needs of an SMTP session; *Session
// provides it. Keeping it this small leaves room for a pipelining runner.
type stepConn interface {
	Cmd(ctx context.Context, line string) (Reply, error)
	Quit(ctx context.Context) (Reply, error)
	Close() error
	Closed() bool
}

// connCaps are the facts of a connection's EHLO reply the plan depends on.
type connCaps struct {
	SMTPUTF8 bool
	Size     int64 // advertised SIZE limit; 0 when none or unlimited
}

// dialFunc opens one more connection to the host being probed.
type dialFunc func(ctx context.Context) (stepConn, connCaps, error)

// DefaultErrorBudget is how many error replies the runner draws on one
// connection before it opens a new one: below Postfix's soft limit (10,
// after which it sleeps a second per error) and its hard limit (20, 421).
// A server that drops earlier teaches the runner its limit (Exim drops
// after 3 syntax errors by default, smtp_max_synprot_errors).
const DefaultErrorBudget = 8

// giveUpAfter is how many steps in a row may end without a reply, each
// after a reconnect, before the runner stops probing the host: a server
// that stalls would otherwise cost two reply timeouts per step.
const giveUpAfter = 2

// giveUpInAll is how many steps in all may end without a reply before the
// runner gives up on the host, however they are spread: a tarpit that
// answers every other command cannot keep the "in a row" count low. A
// server that works never lets three replies time out.
const giveUpInAll = 3

// StatusUnresponsive is the host status of a server the runner gave up
// on: it answered the greeting and EHLO, then let too many replies time
// out (giveUpAfter in a row, more than a quarter of the steps sent, or
// giveUpInAll in all).
const StatusUnresponsive = "unresponsive"

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

// runner executes a plan over one host's connections, lock-step: RSET
// between transactions, QUIT at the end, never DATA or BDAT.
type runner struct {
	dial     dialFunc
	budget   int    // error replies allowed per connection
	from     string // reverse-path for the MAIL FROM that opens a transaction
	maxConns int    // bound on connections, so a server that drops every time cannot loop us
	mem      *memBudget

	conn        stepConn
	caps        connCaps
	conns       int  // connections opened so far
	errs        int  // error replies on the current connection
	inTx        bool // a MAIL FROM was accepted and no RSET since
	dirty       bool // MAIL or RCPT sent since the last RSET, accepted or not
	errorLimit  *int // errors before the server dropped us, when it did
	mailRefused int  // code of a refused set-up MAIL FROM: transactions cannot open
}

// runResult is what a run over one host yields.
type runResult struct {
	Steps       []StepResult
	Connections int
	ErrorLimit  *int
	FirstCaps   connCaps
	DialErr     error  // the first connection failed: nothing was run
	GaveUp      string // why the runner gave up on the host; "" when it did not
	// GaveUpStatus is the host status that says so: unresponsive, or
	// desynchronised when replies fell out of step with the commands.
	GaveUpStatus string
}

// run executes steps in order. A reply is a finding; only a connection the
// runner cannot (re)open stops it, and then the rest are marked.
func (r *runner) run(ctx context.Context, steps []Step) runResult {
	if r.budget <= 0 {
		r.budget = DefaultErrorBudget
	}
	if r.maxConns <= 0 {
		r.maxConns = len(steps) + 4
	}
	var res runResult
	if err := r.connect(ctx); err != nil {
		res.DialErr = err
		return res
	}
	res.FirstCaps = r.caps
	var quiet silence // steps that drew no complete reply, even on a new connection
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		if ended(ctx) {
			res.Steps = append(res.Steps, cutShort(ctx, s, r.conns))
			continue
		}
		if why := r.unmet(s); why != "" {
			res.Steps = append(res.Steps, skipped(s, r.conns, why))
			continue
		}
		results, err := r.runStep(ctx, s)
		res.Steps = append(res.Steps, results...)
		if n := len(results); n > 0 && results[n-1].Outcome != Skipped {
			last := results[n-1]
			quiet.observe(last.Outcome == NoReply, last.timedOut, last.desync)
		}
		if why := quiet.giveUp(); err == nil && why != "" {
			err = errors.New(why)
			switch {
			case quiet.desyncs > 0:
				res.GaveUp, res.GaveUpStatus = why, StatusDesync
			case quiet.timeouts > 0:
				res.GaveUp, res.GaveUpStatus = why, StatusUnresponsive // replies that timed out
			}
		}
		if err != nil {
			// Could not reconnect: mark the rest and stop.
			for _, rest := range steps[i+1:] {
				if ended(ctx) {
					res.Steps = append(res.Steps, cutShort(ctx, rest, r.conns))
				} else {
					res.Steps = append(res.Steps, skipped(rest, r.conns, "not sent: "+err.Error()))
				}
			}
			break
		}
	}
	if r.conn != nil && !r.conn.Closed() {
		// QUIT even when the run's budget is spent: the session's own
		// short QUIT deadline bounds it (RFC 5321 §4.1.1.10).
		r.conn.Quit(context.WithoutCancel(ctx))
	}
	if r.conn != nil {
		r.conn.Close()
	}
	res.Connections = r.conns
	res.ErrorLimit = r.errorLimit
	return res
}

// unmet names why a step cannot be sent on this server, or "".
func (r *runner) unmet(s Step) string {
	if s.Needs&NeedSMTPUTF8 != 0 && !r.caps.SMTPUTF8 {
		return "not sent: the server does not advertise SMTPUTF8"
	}
	if s.Needs&NeedSIZE != 0 && r.caps.Size <= 0 {
		return "not sent: the server advertises no SIZE limit"
	}
	if s.State == InMail && r.mailRefused != 0 { // a SMTPUTF8 transaction is tried afresh
		return fmt.Sprintf("not sent: the server refused MAIL FROM:<%s> with %d, so no transaction could open", r.from, r.mailRefused)
	}
	return ""
}

// runStep sends one step (with the RSET or MAIL FROM it needs first) and
// retries it once on a new connection if the server dropped the old one.
func (r *runner) runStep(ctx context.Context, s Step) ([]StepResult, error) {
	var out []StepResult
	for attempt := 0; ; attempt++ {
		if r.conn == nil || r.conn.Closed() || r.errs >= r.budget {
			if err := r.reconnect(ctx); err != nil {
				if ended(ctx) {
					// The budget ran out or the user interrupted: not a
					// server that cannot be reached.
					return append(out, cutShort(ctx, s, r.conns)), cmp.Or(ctx.Err(), context.DeadlineExceeded)
				}
				return append(out, skipped(s, r.conns, "not sent: "+err.Error())), err
			}
		}
		dropped := false
		// RSET after any MAIL or RCPT, even a refused one, before a new
		// transaction: Postfix keeps a refused MAIL's SIZE= and refuses
		// the next MAIL FROM with the same 552 until RSET.
		if (s.State == Idle || s.State == InMailSMTPUTF8 || s.State == InMail && !r.inTx) && r.dirty {
			reply, err := r.conn.Cmd(ctx, "RSET")
			r.count(reply)
			if err != nil || reply.Code == 421 {
				dropped = true
			} else {
				r.inTx, r.dirty = false, false
			}
		}
		switch {
		case dropped:
		case s.State == InMail && !r.inTx, s.State == InMailSMTPUTF8:
			setup := Step{Name: "open-transaction", Suite: s.Suite, Case: "a MAIL FROM to open a transaction", Command: explain.MAIL,
				Line: "MAIL FROM:<" + r.from + ">", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.1.2", Setup: true}
			if s.State == InMailSMTPUTF8 {
				setup.Line += " SMTPUTF8"
				setup.Ref = "RFC 6531 §3.4"
			}
			res, err := r.send(ctx, setup)
			r.dirty = true
			if err != nil || res.code() == 421 {
				dropped = true
				break
			}
			out = append(out, res)
			switch res.Outcome {
			case Accepted:
				r.inTx = true
			default:
				r.mailRefused = res.code()
				out = append(out, skipped(s, r.conns, r.unmet(s)))
				return out, nil
			}
		}
		if !dropped {
			res, err := r.send(ctx, s)
			if s.Command == explain.MAIL || s.Command == explain.RCPT {
				r.dirty = true
			}
			if err == nil && res.code() != 421 {
				if s.Command == explain.MAIL && res.Outcome == Accepted {
					r.inTx = true
				}
				return append(out, res), nil
			}
			if ended(ctx) {
				return append(out, cutShort(ctx, s, r.conns)), nil
			}
			if st := Status(err); attempt > 0 || st == StatusIOTimeout || st == StatusDesync {
				// A timeout is no drop: a retry would only wait again.
				// Replies out of step are no drop either: the next
				// step starts afresh on a new connection.
				return append(out, res), nil
			}
		}
		if ended(ctx) {
			// The connection failed because the run was cut short, not
			// because the server dropped it: nothing to learn.
			return append(out, cutShort(ctx, s, r.conns)), nil
		}
		r.learnDrop()
		if attempt > 0 {
			res := skipped(s, r.conns, "no reply: the server dropped the connection twice before this step could be sent")
			res.Outcome = NoReply
			return append(out, res), nil
		}
	}
}

// send writes one step's line and judges the reply.
func (r *runner) send(ctx context.Context, s Step) (StepResult, error) {
	line := s.Line
	if s.Needs&NeedSIZE != 0 {
		line = strings.ReplaceAll(line, "{size_over}", sizeOver(r.caps.Size))
	}
	res := StepResult{Name: s.Name, Suite: s.Suite, Case: s.Case, Command: s.Command, Sent: line,
		Expect: s.Expect, Ref: s.Ref, Connection: r.conns, Setup: s.Setup, Address: s.Address, step: s}
	start := time.Now()
	reply, err := r.conn.Cmd(ctx, line)
	res.RTTMS = math.Round(float64(time.Since(start).Microseconds())/10) / 100
	r.count(reply)
	if reply.Code != 0 || len(reply.Lines) > 0 {
		rep := reply
		r.mem.keepReply(&rep)
		res.Reply = &rep
		res.Annotation = explain.Explain(reply.Code, reply.Enhanced, reply.Text(), s.Command).Brief()
	}
	if err != nil {
		res.Error = err.Error()
	}
	ref := explain.ClassifyRefusal(reply.Code, reply.Enhanced, reply.Text(), s.Command)
	res.Cause, res.Blocklist, res.RetryAfterS = ref.Cause, ref.List, int(ref.RetryAfter.Seconds())
	res.Outcome, res.Conformance, res.Verdict = judgeReply(s, reply.Code, reply.Enhanced, ref)
	if Status(err) == StatusIOTimeout {
		// A reply cut off by the deadline is no answer: a server that
		// drips "250-" forever is silent, and counts toward giving up.
		// What it sent is kept in the reply and transcript, unjudged.
		res.Outcome, res.Conformance, res.Verdict = NoReply, NotJudged, "no reply: the reply did not complete within the deadline"
		res.Cause, res.Blocklist, res.RetryAfterS = "", "", 0
		res.Annotation, res.timedOut = "", true
	}
	if Status(err) == StatusDesync {
		// The reply read may belong to an earlier command: not evidence.
		res.Outcome, res.Conformance, res.Verdict = NoReply, NotJudged, "no reply to trust: the server's replies fell out of step with the commands (bytes arrived when no command was outstanding)"
		res.Annotation, res.desync = "", true
	}
	return res, err
}

// count keeps the tally of error replies on this connection. A 421 is the
// server closing the session (RFC 5321 §3.8), not an error it counted.
func (r *runner) count(reply Reply) {
	if reply.Code >= 400 && reply.Code != 421 {
		r.errs++
	}
}

// learnDrop records that the server dropped the connection after r.errs
// error replies, and lowers the budget below that limit.
func (r *runner) learnDrop() {
	if r.errs > 0 {
		limit := r.errs
		if r.errorLimit == nil || limit < *r.errorLimit {
			r.errorLimit = &limit
		}
		if b := max(1, limit-1); b < r.budget {
			r.budget = b
		}
	}
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
}

// reconnect ends the current connection politely and opens a new one.
func (r *runner) reconnect(ctx context.Context) error {
	if r.conn != nil {
		if !r.conn.Closed() {
			r.conn.Quit(context.WithoutCancel(ctx))
		}
		r.conn.Close()
		r.conn = nil
	}
	if r.conns >= r.maxConns {
		return fmt.Errorf("gave up after %d connections", r.conns)
	}
	return r.connect(ctx)
}

func (r *runner) connect(ctx context.Context) error {
	c, caps, err := r.dial(ctx)
	r.conns++
	if err != nil {
		if c != nil {
			c.Close()
		}
		return err
	}
	if c == nil {
		return errors.New("no connection")
	}
	r.conn, r.caps, r.errs, r.inTx, r.dirty = c, caps, 0, false, false
	return nil
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
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

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
