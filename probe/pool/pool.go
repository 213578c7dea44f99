// Package pool manages the SMTP connections to one host: it opens them
// (never more at once than a cap, never more in all than a bound), counts
// the error replies each one draws against a budget the server's own
// limits teach it, leaves each one clean with RSET before a new
// transaction, and ends each one with QUIT. The probe runner and the why
// search both take their connections from a Pool.
package pool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// DefaultBudget is how many error replies one connection may draw before
// the pool wants a new one: below Postfix's soft limit (10, after which it
// sleeps a second per error) and its hard limit (20, 421). A server that
// drops earlier teaches the pool its limit (Exim drops after 3 syntax
// errors by default, smtp_max_synprot_errors).
const DefaultBudget = 8

// Session is what the pool needs of an SMTP session; *wire.Session
// provides it.
type Session interface {
	Cmd(ctx context.Context, line string) (wire.Reply, error)
	Pipeline(ctx context.Context, lines []string) ([]wire.Reply, error)
	Quit(ctx context.Context) (wire.Reply, error)
	Close() error
	Closed() bool
	Extensions() wire.Extensions
	ReplyTimes() []time.Duration
}

// DialFunc opens one more session to the host, the n-th (1-based) the
// pool dials. It may return a session with an error (the transcript of a
// failed greeting); the pool closes it.
type DialFunc func(ctx context.Context, n int) (Session, error)

// Config says how a Pool reaches its host and how much it may ask of it.
type Config struct {
	Dial     DialFunc
	Budget   int // error replies per connection; DefaultBudget when 0
	MaxConns int // connections opened in all; unbounded when 0
	Parallel int // connections open at once; 1 when 0
}

// ErrExhausted is returned by Open once MaxConns connections were opened.
var ErrExhausted = errors.New("connection bound reached")

// Pool hands out connections to one host. Its methods are safe for
// concurrent use; each Conn belongs to one goroutine at a time.
type Pool struct {
	cfg Config

	mu         sync.Mutex
	wake       chan struct{} // closed and replaced whenever a slot frees
	active     int           // connections open now
	parallel   int           // the cap on active, lowered by LowerParallel
	opened     int           // dial attempts so far: the next Conn's number - 1
	budget     int
	errorLimit int // errors before the server dropped a connection; 0: never seen
	// counts picks the error replies the server counts toward its
	// limit; nil: every one.
	counts  func(code int, text string) bool
	peak    int // most connections open at once
	lowered int // times the cap was lowered
}

// New makes a pool; nothing is dialled until Open.
func New(cfg Config) *Pool {
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultBudget
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 1
	}
	return &Pool{cfg: cfg, wake: make(chan struct{}), parallel: cfg.Parallel, budget: cfg.Budget}
}

// Conn is one connection from the pool: its session, its number and what
// it has drawn so far.
type Conn struct {
	p    *Pool
	S    Session
	N    int // 1-based number, in the order the pool dialled
	Errs int // error replies drawn (4yz and 5yz but 421)
	// counted are the error replies the server counts toward its limit,
	// when it counts only some (Pool.CountOnly); else Errs.
	counted int
	dirty   bool
	// lastErr: the last reply was an error or a 421, so a hang-up after it
	// can be the server's error limit.
	lastErr bool
	done    bool

	// Opened is when the session became ready (after EHLO and TLS).
	Opened time.Time
}

// Open waits for a free slot, then dials. On error the slot is free again
// and the Conn is nil; the number the attempt took is returned either way.
func (p *Pool) Open(ctx context.Context) (*Conn, int, error) {
	return p.OpenWith(ctx, p.cfg.Dial)
}

// OpenWith is Open with dial in place of the pool's own: for a session
// that does more than the pool's dial before it is handed over (one that
// sends commands before EHLO, say), numbered and capped like the rest.
func (p *Pool) OpenWith(ctx context.Context, dial DialFunc) (*Conn, int, error) {
	for {
		p.mu.Lock()
		if p.cfg.MaxConns > 0 && p.opened >= p.cfg.MaxConns {
			n := p.opened
			p.mu.Unlock()
			return nil, n, fmt.Errorf("%w: gave up after %d connections", ErrExhausted, n)
		}
		if p.active < p.parallel {
			p.active++
			p.peak = max(p.peak, p.active)
			p.opened++
			n := p.opened
			p.mu.Unlock()
			s, err := dial(ctx, n)
			if err != nil || s == nil {
				if s != nil {
					s.Close()
				}
				if TooMany(err) {
					// Lowered before the slot is freed, so no waiting
					// dial goes out under the old cap.
					p.LowerParallel()
				}
				p.free()
				if err == nil {
					err = errors.New("no connection")
				}
				return nil, n, err
			}
			return &Conn{p: p, S: s, N: n, Opened: time.Now()}, n, nil
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-wake:
		}
	}
}

func (p *Pool) free() {
	p.mu.Lock()
	p.active--
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
}

// Budget is the error replies a connection may draw now.
func (p *Pool) Budget() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.budget
}

// SetBudget lowers (never raises above the configured one) the error
// budget of every connection opened from now on, and of those open.
func (p *Pool) SetBudget(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.budget = max(1, min(n, p.cfg.Budget))
}

// CountOnly says which error replies the server counts toward the limit
// after which it drops a session, when it counts only some (Exim: its
// syntax and protocol errors, not its ACL refusals): a hang-up then
// teaches the number of those, so the limit learned is the same however
// the other errors fell across sessions. It applies to replies counted
// from now on.
func (p *Pool) CountOnly(counts func(code int, text string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = counts
}

// ErrorLimit is the fewest errors after which the server dropped a
// connection, and whether it ever did.
func (p *Pool) ErrorLimit() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errorLimit, p.errorLimit > 0
}

// Opened is the number of connections dialled so far.
func (p *Pool) Opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opened
}

// Parallel is the cap on connections open at once, as lowered so far;
// Peak is the most that were open at once; Lowered counts the lowerings.
func (p *Pool) Parallel() (cap, peak, lowered int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parallel, p.peak, p.lowered
}

// TooMany reports whether err is a server's 421 at the greeting: it has
// too many connections (RFC 5321 §3.8), so the pool lowers its cap.
func TooMany(err error) bool {
	var we *wire.Error
	return errors.As(err, &we) && we.Reply != nil && we.Reply.Code == 421
}

// LowerParallel lowers the cap on connections open at once by one, never
// below one: the server said it has too many (421 at the greeting).
func (p *Pool) LowerParallel() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.parallel > 1 {
		p.parallel--
		p.lowered++
	}
}

// Spent reports whether the connection has drawn its share of errors or
// is closed: the next command belongs on a new connection.
func (c *Conn) Spent() bool { return c.S.Closed() || c.Errs >= c.p.Budget() }

// Room is how many more error replies the connection may draw.
func (c *Conn) Room() int { return max(0, c.p.Budget()-c.Errs) }

// Cmd sends one line and counts its reply.
func (c *Conn) Cmd(ctx context.Context, line string) (wire.Reply, error) {
	c.touch(line)
	rep, err := c.S.Cmd(ctx, line)
	c.count(rep)
	return rep, err
}

// Pipeline sends lines as one group (RFC 2920) and counts the replies.
func (c *Conn) Pipeline(ctx context.Context, lines []string) ([]wire.Reply, error) {
	for _, l := range lines {
		c.touch(l)
	}
	reps, err := c.S.Pipeline(ctx, lines)
	for _, r := range reps {
		c.count(r)
	}
	return reps, err
}

// Dirty reports whether a MAIL or RCPT went out since the session began
// or the last accepted RSET.
func (c *Conn) Dirty() bool { return c.dirty }

// MarkClean records that an RSET was accepted: no transaction is open.
func (c *Conn) MarkClean() { c.dirty = false }

// Clean sends RSET when a MAIL or RCPT went out since the last one (RFC
// 5321 §4.1.1.5), so the next transaction starts as the first did.
// Postfix keeps a refused MAIL's SIZE= and refuses the next MAIL FROM
// with the same 552 until RSET, so even refused commands count. It
// reports false when the RSET was not taken cleanly.
func (c *Conn) Clean(ctx context.Context) bool {
	if !c.dirty {
		return true
	}
	rep, err := c.Cmd(ctx, "RSET")
	if err != nil || rep.Code/100 != 2 {
		return false
	}
	c.dirty = false
	return true
}

func (c *Conn) touch(line string) {
	verb := strings.ToUpper(strings.TrimSpace(line))
	if strings.HasPrefix(verb, "MAIL") || strings.HasPrefix(verb, "RCPT") {
		c.dirty = true
	}
}

// Count counts a reply the session drew before the pool had it (a step
// sent before EHLO, say) against the connection's budget, as Cmd would.
func (c *Conn) Count(r wire.Reply) { c.count(r) }

func (c *Conn) count(r wire.Reply) {
	if r.Code >= 400 && r.Code != 421 {
		c.Errs++
		c.p.mu.Lock()
		counts := c.p.counts
		c.p.mu.Unlock()
		if counts == nil || counts(r.Code, r.Text()) {
			c.counted++
		}
	}
	if r.Code != 0 {
		c.lastErr = r.Code >= 400
	}
}

// LastErr reports whether the last reply the connection drew was an
// error or a 421: a hang-up right after it is the server ending the
// session on that reply, not on a line it had not answered yet.
func (c *Conn) LastErr() bool { return c.lastErr }

// Dropped records that the server ended the connection without being
// asked. When its last reply was an error (or a 421), the hang-up is the
// server's error limit: c.Errs becomes the learned limit, and the budget
// drops below it. A hang-up after a positive reply (a server that drops
// in the middle of a pipelined group, say) teaches no limit. The
// connection is closed and its slot freed.
func (c *Conn) Dropped() {
	if c.Errs > 0 && c.lastErr {
		p := c.p
		p.mu.Lock()
		n := c.Errs
		if p.counts != nil && c.counted > 0 {
			n = c.counted // the errors the server counts toward its limit
		}
		if p.errorLimit == 0 || n < p.errorLimit {
			p.errorLimit = n
		}
		if b := max(1, n-1); b < p.budget {
			p.budget = b
		}
		p.mu.Unlock()
	}
	c.end(false, context.Background())
}

// Release ends the connection politely, QUIT first when it is still
// open (RFC 5321 §4.1.1.10), under the session's own short QUIT deadline
// even when ctx is done, and frees its slot. A session that quits waits,
// briefly, for the server to close its end (wire.ServerCloseWait), so
// the slot is free only once the server no longer counts the
// connection. It is safe to call twice.
func (c *Conn) Release(ctx context.Context) { c.end(true, ctx) }

func (c *Conn) end(quit bool, ctx context.Context) {
	if c == nil || c.done {
		return
	}
	c.done = true
	if quit && !c.S.Closed() {
		qctx, cancel := wire.QuitContext(ctx)
		c.S.Quit(qctx)
		cancel()
	}
	c.S.Close()
	c.p.free()
}

// Ended tells whether ctx is over: canceled, or past its deadline even if
// its timer has not fired yet. A socket deadline set from ctx's deadline
// can fire first, and that failure is the budget's, not the server's.
func Ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}
