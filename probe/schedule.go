package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/pool"
	"github.com/smtpprobe/smtpprobe/probe/software"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// DefaultErrorBudget is how many error replies the runner draws on one
// connection before it opens a new one (pool.DefaultBudget).
const DefaultErrorBudget = pool.DefaultBudget

// DefaultConnections is how many connections to one address a probe opens
// at once: the plan's error-drawing steps and its VRFY/EXPN spread over
// them, so the run takes the round trips of one third of the plan.
const DefaultConnections = 3

// MaxVerifyPerConnection is how many VRFY and EXPN commands one connection
// carries at most: Sendmail slows every one after the fifth on a
// connection by one to four seconds (its MaxNOOPCommands-style throttle).
const MaxVerifyPerConnection = 5

// maxGroupLines bounds the lines of one pipelined group, so one write
// stays well inside any server's input buffer.
const maxGroupLines = 64

// giveUpAfter is how many steps in a row may end without a reply, each
// after a reconnect, before the runner stops probing the host: a server
// that stalls would otherwise cost two reply timeouts per step.
const giveUpAfter = 2

// maxSpared bounds the losses a step may take without spending a try,
// each on a connection the server ended on an earlier line's reply: a
// server that in truth hangs up on the step itself still costs a bounded
// number of connections.
const maxSpared = 2

// tarpitFloor is the least delay of an error reply that can be a tarpit's.
const tarpitFloor = 200 * time.Millisecond

// Scheduling modes (Schedule.Mode).
const (
	ModeLockStep          = "lock-step"          // one command per round trip, one connection at a time
	ModePipelined         = "pipelined"          // RFC 2920 groups, one connection at a time
	ModeParallel          = "parallel"           // one command per round trip, connections at once
	ModePipelinedParallel = "pipelined-parallel" // RFC 2920 groups on connections at once
)

// Schedule says how a host's plan was run: the mode, and what it cost.
type Schedule struct {
	Mode        string  `json:"mode"`        // lock-step, pipelined, parallel or pipelined-parallel
	Pipelining  bool    `json:"pipelining"`  // commands went in RFC 2920 groups (the server advertised PIPELINING)
	Connections int     `json:"connections"` // the cap on connections open at once, after any lowering
	Peak        int     `json:"peak"`        // the most connections that were open at once
	Groups      int     `json:"groups"`      // writes that waited for their replies, over all connections
	RoundTrips  int     `json:"round_trips"` // round trips on the longest path: connect, greeting, EHLO, TLS, groups, QUIT
	Resent      int     `json:"resent"`      // steps sent again on a new connection after the server hung up before answering them
	Lowered     int     `json:"lowered"`     // times a 421 at the greeting lowered the connection cap
	Tarpit      bool    `json:"tarpit"`      // error replies grew slower within a session: each error then went on its own connection
	WallMS      float64 `json:"wall_ms"`     // the plan's wall time, first connect to last QUIT
}

// connCaps are the facts of a connection's EHLO reply the plan depends on.
type connCaps struct {
	SMTPUTF8   bool
	Size       int64 // advertised SIZE limit; 0 when none or unlimited
	Pipelining bool
}

func capsOf(s pool.Session) connCaps {
	ext := s.Extensions()
	size, _ := ext.Size()
	return connCaps{SMTPUTF8: ext.Has("SMTPUTF8"), Size: size, Pipelining: ext.Has("PIPELINING")}
}

// runner turns a plan into connections and groups: RSET between
// transactions, QUIT at the end, never DATA or BDAT. With pipelining it
// sends RSET, MAIL and RCPT lines in one write, each group closed by at
// most one VRFY or EXPN (RFC 2920 §3.1); with several connections each
// takes its share of the plan's errors and VRFY/EXPN.
type runner struct {
	dial     pool.DialFunc
	budget   int    // error replies allowed per connection
	from     string // reverse-path for the MAIL FROM that opens a transaction
	maxConns int    // bound on connections, so a server that drops every time cannot loop us
	parallel int    // connections at once
	lockStep bool   // one line per round trip, one connection, plan order
	mem      *memBudget
	// early runs the steps sent before any EHLO on a session of their
	// own, numbered n by the pool; nil when the plan has none. The first
	// worker runs it before its share of the plan, and when goOn says
	// steps are left for it, the session says EHLO and takes its share.
	early    func(ctx context.Context, n int, goOn func([]StepResult) bool) (earlyRun, error)
	earlyRan bool
	earlyN   int // the connection number of the session without EHLO
	earlyRTT int // its round trips up to its EHLO, or to its QUIT
	// earlyCost is the round trips the session without EHLO spends
	// before it can take a group: its steps and its EHLO.
	earlyCost int
	// refuses holds the commands (VRFY, EXPN) the server refused where
	// the plan expected an answer: it refuses them all, so every one
	// left is expected to draw an error.
	refuses map[explain.Command]bool
	lanes   int // workers at once

	pool *pool.Pool

	mu            sync.Mutex
	queue         []*pending
	out           [][]StepResult // per plan index: setup and step results
	sender        int            // the set-up MAIL FROM: 0 not yet tried, 1 accepted, -1 refused
	mailRefused   int            // code of a refused set-up MAIL FROM: transactions cannot open
	tarpitChecked bool           // errors on some session came fast: no tarpit
	tarpit        bool
	quiet         silence       // steps that drew no complete reply, even on a new connection
	gaveUp        string        // why the host was given up on
	gaveUpStatus  SessionStatus // the host status that says so
	stop          error         // why the rest of the plan is not sent
	active        int           // lanes holding a connection
	connected     bool
	firstErr      error
	firstCaps     connCaps
	sched         Schedule
	maxVE         int
	longest       int

	// tarpitSeen are the two error replies that showed the tarpit.
	tarpitSeen *Throttling
}

// earlyRun is what the session without EHLO did.
type earlyRun struct {
	S    pool.Session // open after its EHLO, for the plan to go on with; nil when it ended
	Sent int          // steps sent before EHLO
	// Replies are what the steps drew, in order, counted against the
	// connection's budget when it goes on.
	Replies []wire.Reply
	TLS     bool // STARTTLS ran after its EHLO
	// Dirty says a MAIL or RCPT went before EHLO: a server that keeps a
	// transaction across EHLO (RFC 5321 §4.1.4 says it must not) still
	// meets the plan's first transaction with RSET before it.
	Dirty bool
}

// pending is a step waiting to be sent.
type pending struct {
	i     int // plan index
	s     Step
	tries int // connections it was sent on without an answer
	// spared counts the connections that lost it after the server had
	// already said its last word (an error at its limit, or a 421) on an
	// earlier line: the session was over before the server came to it,
	// so those losses spend no try, up to maxSpared of them.
	spared int
	resent int // the connection it was first sent on, when sent again
	lane   int // the worker a VRFY/EXPN is dealt to, so they spread evenly; 0: any
}

// runResult is what a run over one host yields.
type runResult struct {
	Steps       []StepResult
	Connections int
	ErrorLimit  *int
	FirstCaps   connCaps
	DialErr     error  // no connection could be made: nothing was run
	GaveUp      string // why the runner gave up on the host; "" when it did not
	// GaveUpStatus is the host status that says so: unresponsive, or
	// desynchronised when replies fell out of step with the commands.
	GaveUpStatus SessionStatus
	Schedule     Schedule
	// Tarpit is what showed the tarpit (Schedule.Tarpit): two slow error
	// replies that grew, on one connection; nil when none.
	Tarpit *Throttling
}

func isVerify(s Step) bool { return s.Command == explain.VRFY || s.Command == explain.EXPN }

// run executes steps. A reply is a finding; only a connection the runner
// cannot (re)open stops it, and then the rest are marked.
func (r *runner) run(ctx context.Context, steps []Step) runResult {
	start := time.Now()
	if r.budget <= 0 {
		r.budget = DefaultErrorBudget
	}
	if r.maxConns <= 0 {
		r.maxConns = len(steps) + 4
	}
	if r.parallel <= 0 || r.lockStep {
		r.parallel = 1
	}
	r.pool = pool.New(pool.Config{Dial: r.dial, Budget: r.budget, MaxConns: r.maxConns, Parallel: r.parallel})
	r.out = make([][]StepResult, len(steps))
	ve, draws := 0, 0
	for i, s := range steps {
		r.queue = append(r.queue, &pending{i: i, s: s})
		if isVerify(s) {
			ve++
		}
		if s.Draws {
			draws++
		}
	}
	// The connections the plan needs: no more than its errors and its
	// VRFY/EXPN ask for, so none is opened for steps that draw no error.
	need := max(1, ceilDiv(ve, MaxVerifyPerConnection), ceilDiv(draws, r.budget))
	early := r.early != nil && !r.lockStep
	if early {
		need++ // the session without EHLO goes first, and its steps first on it
	}
	lanes := min(r.parallel, need)
	r.lanes = lanes
	r.maxVE = MaxVerifyPerConnection
	if r.lockStep {
		r.maxVE = len(steps) + 1
	} else if ve > 0 && !early {
		r.maxVE = min(MaxVerifyPerConnection, ceilDiv(ve, lanes))
	}

	// VRFY and EXPN are dealt to the workers: each group closes with
	// one, so a worker's share sets its group count. Each goes to the
	// worker that would be done soonest with it; the first starts later
	// when it runs the session without EHLO first (its steps and an
	// EHLO more). Error-drawing steps go to whichever connection has room
	// for them when it forms a group.
	load, dealt := make([]int, lanes), make([]int, lanes)
	if early {
		load[0] = r.earlyCost
	}
	for _, p := range r.queue {
		if r.lockStep || !isVerify(p.s) {
			continue
		}
		w := -1
		for i := range lanes {
			if dealt[i] < r.maxVE && (w < 0 || load[i] < load[w]) {
				w = i
			}
		}
		if w < 0 {
			break // more than the lanes may carry: the rest go to any
		}
		p.lane = w + 1
		load[w]++
		dealt[w]++
	}
	var wg sync.WaitGroup
	for w := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var first *lane
			if w == 0 && early {
				first = r.runEarly(ctx, w+1)
			}
			r.worker(ctx, w+1, first)
		}()
	}
	wg.Wait()

	var res runResult
	if !r.connected {
		// No connection took the plan: the attempts (the session
		// without EHLO among them) are counted, and the error is the
		// first dial's, or why the run ended before one.
		res.DialErr, res.Connections = r.firstErr, r.pool.Opened()
		if res.DialErr == nil {
			res.DialErr = ctx.Err()
		}
		if res.DialErr == nil {
			res.DialErr = errors.New("no connection could take the plan")
		}
		return res
	}
	for _, p := range r.queue {
		switch {
		case ended(ctx):
			r.out[p.i] = append(r.out[p.i], cutShort(ctx, p.s, r.pool.Opened()))
		case r.stop != nil:
			r.out[p.i] = append(r.out[p.i], skipped(p.s, r.pool.Opened(), "not sent: "+r.stop.Error()))
		default:
			r.out[p.i] = append(r.out[p.i], skipped(p.s, r.pool.Opened(), "not sent: no connection could take it"))
		}
	}
	for _, o := range r.out {
		res.Steps = append(res.Steps, o...)
	}
	res.Connections = r.pool.Opened()
	if n, ok := r.pool.ErrorLimit(); ok {
		res.ErrorLimit = &n
	}
	res.FirstCaps = r.firstCaps
	res.GaveUp, res.GaveUpStatus = r.gaveUp, r.gaveUpStatus
	cap, peak, lowered := r.pool.Parallel()
	r.sched.Connections, r.sched.Peak, r.sched.Lowered = cap, peak, lowered
	r.sched.RoundTrips = r.longest
	r.sched.Tarpit = r.tarpit
	res.Tarpit = r.tarpitSeen
	r.sched.WallMS = math.Round(float64(time.Since(start).Microseconds())/10) / 100
	// The mode is what ran: connections at once when two were open at
	// the same time, whatever the cap allowed.
	switch {
	case r.lockStep || !r.sched.Pipelining && peak <= 1:
		r.sched.Mode = ModeLockStep
	case r.sched.Pipelining && peak > 1:
		r.sched.Mode = ModePipelinedParallel
	case r.sched.Pipelining:
		r.sched.Mode = ModePipelined
	default:
		r.sched.Mode = ModeParallel
	}
	res.Schedule = r.sched
	return res
}

// runEarly runs the session without EHLO as a connection of the pool,
// numbered and capped like the rest. When steps are left for worker w, it
// goes on with EHLO and is returned as w's first lane; otherwise it
// quits, and nil is returned.
func (r *runner) runEarly(ctx context.Context, w int) *lane {
	var run earlyRun
	// The replies before EHLO are the first evidence of the delay of the
	// server's errors: they are weighed before the session says EHLO,
	// and go on with it.
	timing := &lane{worker: w}
	c, n, err := r.pool.OpenWith(ctx, func(ctx context.Context, n int) (pool.Session, error) {
		var err error
		run, err = r.early(ctx, n, func(results []StepResult) bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			timing.num = n
			for _, res := range results {
				if res.Outcome != Skipped {
					r.noteReply(timing, res.code(), time.Duration(res.RTTMS*float64(time.Millisecond)))
				}
			}
			if r.tarpit && len(timing.errDelays) > 0 {
				return false // under a tarpit, a session that drew an error takes nothing more
			}
			return len(r.queue) > 0 && r.wantsConnection(w)
		})
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.earlyRan, r.earlyN = true, n
		r.mu.Unlock()
		if run.S == nil {
			return nil, errEarlyQuit
		}
		return run.S, nil
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.earlyRan || r.earlyN != n {
		// Refused at the greeting (421 too many connections, say; the
		// pool lowered its cap), or no connection: it goes again after
		// the plan. Run one at a time, a failure other than a 421 is
		// the host's answer, as a first connection's would be.
		if r.firstErr == nil {
			r.firstErr = err
		}
		if r.lanes == 1 && err != nil && !pool.TooMany(err) {
			r.stop = err
		}
		return nil
	}
	r.sched.Groups += run.Sent    // one line a round trip, before EHLO
	r.earlyRTT = 2 + run.Sent + 1 // connect, greeting, its steps, then EHLO or QUIT
	if run.TLS {
		r.earlyRTT += 3 // STARTTLS, handshake, EHLO again
	}
	if err != nil {
		r.longest = max(r.longest, r.earlyRTT)
		return nil
	}
	// The server's way of counting errors is known from this session's
	// greeting and EHLO before its earlier replies are counted.
	r.noteConnected(c)
	for _, rep := range run.Replies {
		c.Count(rep)
	}
	l := r.newLane(c, w)
	l.dirty = run.Dirty
	l.errDelays, l.fastest, l.accepted = timing.errDelays, timing.fastest, timing.accepted
	return l
}

// errEarlyQuit is the dial error of a session without EHLO that ran its
// steps and quit: nothing was left for it to go on with.
var errEarlyQuit = errors.New("the session without EHLO quit")

func ceilDiv(a, b int) int {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}

// lane is one connection as the runner uses it.
type lane struct {
	c         *pool.Conn
	worker    int // the worker it belongs to
	caps      connCaps
	pipelined bool
	ve        int  // VRFY/EXPN sent on it
	dirty     bool // MAIL or RCPT sent since the session began or the last RSET
	inTx      bool // the set-up MAIL FROM opened a transaction that is still open
	errDelays []time.Duration
	fastest   time.Duration
	accepted  int // replies on it that were no error
	num       int // the connection's number
}

// worker runs lanes one after another until the plan is done or cannot
// go on: one connection at a time, each kept while it can take a group.
// first, when not nil, is the session without EHLO going on with the
// plan: the worker's first lane.
func (r *runner) worker(ctx context.Context, w int, first *lane) {
	rtts := 0
	if w == 1 {
		r.mu.Lock()
		rtts = r.earlyRTT // the session without EHLO, when it ran first
		r.mu.Unlock()
	}
	defer func() {
		r.mu.Lock()
		r.longest = max(r.longest, rtts)
		for _, p := range r.queue {
			if p.lane == w {
				p.lane = 0 // what was dealt to this worker goes to any other
			}
		}
		r.mu.Unlock()
	}()
	if first != nil {
		r.mu.Lock()
		r.active++
		r.mu.Unlock()
		rtts += r.drive(ctx, first)
	}
	for {
		r.mu.Lock()
		if len(r.queue) == 0 || r.stop != nil || ended(ctx) || !r.wantsConnection(w) {
			r.mu.Unlock()
			return
		}
		r.active++ // counted before the dial, so no other worker leaves the rest to nobody
		r.mu.Unlock()

		c, n, err := r.pool.Open(ctx)
		if err != nil {
			r.mu.Lock()
			r.active--
			if r.firstErr == nil || n == 1 {
				r.firstErr = err
			}
			lowered := pool.TooMany(err) // the pool lowered its cap
			if r.active > 0 || ended(ctx) {
				r.mu.Unlock()
				return // the others carry on with the plan
			}
			if r.connected && !lowered {
				r.stop = err
			} else if !r.connected {
				r.mu.Unlock()
				return
			}
			r.mu.Unlock()
			if lowered {
				continue // try again with fewer at once
			}
			return
		}
		rtts += 3 // connect, greeting, EHLO
		if t, ok := c.S.(interface{ TLS() *wire.TLSInfo }); ok && t.TLS() != nil {
			rtts += 3 // STARTTLS, handshake, EHLO again
		}
		rtts += r.drive(ctx, r.newLane(c, w))
	}
}

// noteConnected records the first connection that took the plan: its
// capabilities, and how the server counts its errors; under r.mu.
func (r *runner) noteConnected(c *pool.Conn) {
	if r.connected {
		return
	}
	r.connected, r.firstCaps = true, capsOf(c.S)
	r.learnCounting(c.S)
}

// learnCounting tells the pool which error replies the server counts
// toward the limit after which it drops a session, when its greeting and
// EHLO name an MTA known to count only some (Exim); under r.mu.
func (r *runner) learnCounting(s pool.Session) {
	ws, ok := s.(interface {
		Greeting() wire.Reply
		EHLOReply() wire.Reply
	})
	if !ok {
		return
	}
	g, e := ws.Greeting(), ws.EHLOReply()
	if sw := software.Identify(&g, &e, nil); sw != nil && explain.CountsSomeErrors(sw.Name) {
		name := sw.Name
		r.pool.CountOnly(func(code int, text string) bool { return explain.CountsTowardErrorLimit(name, code, text) })
	}
}

// newLane is connection c as worker w uses it.
func (r *runner) newLane(c *pool.Conn, w int) *lane {
	l := &lane{c: c, caps: capsOf(c.S), worker: w, num: c.N}
	l.pipelined = l.caps.Pipelining && !r.lockStep
	return l
}

// drive sends groups on l while it can take them, then releases it
// (QUIT, unless the server hung up). It counts the connection out of
// r.active and returns its round trips after EHLO.
func (r *runner) drive(ctx context.Context, l *lane) (rtts int) {
	c := l.c
	r.mu.Lock()
	r.noteConnected(c)
	if l.pipelined {
		r.sched.Pipelining = true
	}
	r.mu.Unlock()

	dropped := false
	for !ended(ctx) {
		r.mu.Lock()
		g := r.takeGroup(l)
		r.mu.Unlock()
		if g == nil {
			break
		}
		var trips int
		trips, dropped = r.sendGroup(ctx, l, g)
		rtts += trips
		if dropped {
			break
		}
	}
	if !dropped {
		if !c.S.Closed() {
			rtts++ // QUIT
		}
		c.Release(ctx)
	}
	r.mu.Lock()
	r.active--
	r.mu.Unlock()
	return rtts
}

func asWireError(err error, target **wire.Error) bool {
	e, ok := err.(*wire.Error)
	if ok {
		*target = e
	}
	return ok
}

// wantsConnection tells whether a worker should open a connection for
// what is left: steps that draw errors or VRFY/EXPN need one of their
// own; steps that draw none go on a connection already open, unless none
// is.
func (r *runner) wantsConnection(w int) bool {
	if r.active == 0 {
		return true
	}
	for _, p := range r.queue {
		if (isVerify(p.s) || r.draws(p.s)) && (p.lane == 0 || p.lane == w) {
			return true
		}
	}
	return false
}

// gline is one line of a group and what it stands for.
type gline struct {
	line  string
	kind  int // lineRSET, lineSetup, lineStep
	p     *pending
	setup Step
	after int // for a step: the index of the set-up MAIL it depends on, or -1
}

const (
	lineRSET = iota
	lineSetup
	lineStep
	lineQuit // QUIT closing the session's last group (RFC 2920 §3.1)
)

// unmet names why a step cannot be sent on this server, or "".
func (r *runner) unmet(s Step, caps connCaps) string {
	if s.Needs&NeedSMTPUTF8 != 0 && !caps.SMTPUTF8 {
		return "not sent: the server does not advertise SMTPUTF8"
	}
	if s.Needs&NeedSIZE != 0 && caps.Size <= 0 {
		return "not sent: the server advertises no SIZE limit"
	}
	if s.State == InMail && r.mailRefused != 0 { // a SMTPUTF8 transaction is tried afresh
		return fmt.Sprintf("not sent: the server refused MAIL FROM:<%s> with %d, so no transaction could open", r.from, r.mailRefused)
	}
	return ""
}

// takeGroup takes from the queue the next group for l, under r.mu: with
// pipelining, every RSET/MAIL/RCPT step the connection's error budget
// allows, closed by at most one VRFY or EXPN; without, one step. A group
// that must open the first transaction ends with its MAIL FROM, so the
// sender's fate is known before RCPTs are pipelined behind it. It returns
// nil when nothing is left that l may take.
func (r *runner) takeGroup(l *lane) []gline {
	room := l.c.Room()
	// A tarpit answers the errors of one session ever slower (8 s, 16 s,
	// 32 s ...), and a server we never met may refuse steps the plan
	// expects it to accept. Until the delay of its errors is known, a
	// group risks two steps, less the slow errors the session drew (a
	// quick one costs nothing), and more as the session's replies show a
	// server that accepts: as many as it accepted so far. Once a tarpit
	// is known, one step a group, and a session that drew an error takes
	// nothing more.
	risk := len(r.queue) + 1
	switch {
	case r.tarpit:
		risk = 1 - l.c.Errs
	case l.pipelined && !r.tarpitChecked:
		risk = max(2, l.accepted) - l.slowErrors()
	}
	if risk <= 0 {
		return nil
	}
	// A connection past its error budget may still take steps that draw
	// no error, unless the server taught a limit that a surprise error
	// would reach.
	_, learned := r.pool.ErrorLimit()
	overOK := !learned && !r.tarpit && r.pool.Budget() >= DefaultErrorBudget
	dirty, inTx := l.dirty, l.inTx
	// The errors this worker's own VRFY/EXPN are expected to draw are
	// kept out of reach of the other steps: those can go on any
	// connection, a VRFY/EXPN only on its own worker's.
	reserve := 0
	for _, p := range r.queue {
		if r.lanes > 1 && p.lane == l.worker && isVerify(p.s) && r.draws(p.s) {
			reserve++
		}
	}
	blocked := func(p *pending) bool {
		return r.draws(p.s) && (room <= 0 || !isVerify(p.s) && room <= reserve) || !r.draws(p.s) && l.c.Room() <= 0 && !overOK
	}
	// While the steps a group risks are few, they are ones expected to
	// draw an error, when l may take any: two error delays show soonest
	// whether a tarpit holds the errors back.
	sample := false
	if !r.tarpit && risk <= 2 {
		for _, p := range r.queue {
			if r.draws(p.s) && (p.lane == 0 || p.lane == l.worker) && r.unmet(p.s, l.caps) == "" && !blocked(p) && (!isVerify(p.s) || l.ve < r.maxVE) {
				sample = true
				break
			}
		}
	}
	var g []gline
	var closer *pending
	took := 0
	setupAt := -1
	take := func(idx int) { r.queue = append(r.queue[:idx], r.queue[idx+1:]...) }
	for idx := 0; idx < len(r.queue); idx++ {
		p := r.queue[idx]
		if why := r.unmet(p.s, l.caps); why != "" {
			r.out[p.i] = append(r.out[p.i], skipped(p.s, l.c.N, why))
			take(idx)
			idx--
			continue
		}
		if p.lane != 0 && p.lane != l.worker {
			continue // dealt to another worker
		}
		// The margin the budget leaves below a server's limit (Postfix
		// slows every reply once a session has drawn 10 errors) is kept
		// for errors no step was expected to draw.
		if blocked(p) {
			if r.lockStep {
				break // plan order: the rest waits for a new connection
			}
			continue
		}
		if risk <= 0 {
			break
		}
		if sample && !r.draws(p.s) {
			continue
		}
		if isVerify(p.s) {
			if l.ve >= r.maxVE || closer != nil || !l.pipelined && took > 0 {
				continue
			}
			closer = p
			risk--
			take(idx)
			idx--
			if r.draws(p.s) {
				room--
				if p.lane == l.worker {
					reserve--
				}
			}
			if !l.pipelined {
				break
			}
			continue
		}
		if !l.pipelined && (took > 0 || closer != nil) {
			break
		}
		if closer != nil && !l.pipelined {
			break
		}
		if len(g) >= maxGroupLines {
			break
		}
		needsTx := p.s.State == InMail && !inTx || p.s.State == InMailSMTPUTF8
		if p.s.State == Idle || needsTx {
			if dirty {
				g = append(g, gline{line: "RSET", kind: lineRSET})
				dirty, inTx = false, false
			}
		}
		after := -1
		if needsTx {
			setup := r.setupStep(p.s)
			g = append(g, gline{line: setup.Line, kind: lineSetup, setup: setup, p: p})
			after = len(g) - 1
			setupAt = after
			dirty, inTx = true, p.s.State == InMail
		} else if p.s.State == InMail && setupAt >= 0 {
			after = setupAt
		}
		g = append(g, gline{line: r.lineOf(p.s, l.caps), kind: lineStep, p: p, after: after})
		take(idx)
		idx--
		took++
		risk--
		if r.draws(p.s) {
			room--
		}
		if p.s.Command == explain.MAIL || p.s.Command == explain.RCPT {
			dirty = true
		}
		if p.s.State == Idle || p.s.State == InMailSMTPUTF8 {
			inTx = false
		}
		if !l.pipelined || needsTx && p.s.State == InMail && r.sender == 0 {
			// Without pipelining, one step per group. The first
			// transaction is sent small and awaited: were its MAIL FROM
			// refused, pipelined RCPTs behind it would only draw 503s.
			break
		}
	}
	if closer != nil {
		g = append(g, gline{line: r.lineOf(closer.s, l.caps), kind: lineStep, p: closer, after: -1})
		l.ve++
	}
	if len(g) == 0 {
		return nil
	}
	if l.pipelined && closer == nil && !r.leftFor(l, reserve) {
		// Nothing is left for this connection: QUIT closes its last
		// group rather than costing a round trip of its own. A group
		// closed by VRFY or EXPN can take nothing after it.
		g = append(g, gline{line: "QUIT", kind: lineQuit})
	}
	return g
}

// draws tells whether s is expected to draw an error reply: as the plan
// says, or because the server refused a VRFY/EXPN the plan expected it
// to answer (VRFY disabled answers every VRFY with 502).
func (r *runner) draws(s Step) bool {
	return s.Draws || isVerify(s) && r.refuses[s.Command]
}

// leftFor tells whether the queue holds a step l may still take in a
// later group: one dealt to its worker or to none, within the VRFY/EXPN
// share and within the most error budget l can have left (its room before
// this group, were every error it expects to draw an acceptance). reserve
// is what its own VRFY/EXPN still need of that budget.
func (r *runner) leftFor(l *lane, reserve int) bool {
	room := l.c.Room()
	for _, p := range r.queue {
		switch {
		case p.lane != 0 && p.lane != l.worker, r.unmet(p.s, l.caps) != "":
		case isVerify(p.s) && l.ve >= r.maxVE:
		case r.draws(p.s) && (room <= 0 || !isVerify(p.s) && room <= reserve):
		default:
			return true
		}
	}
	return false
}

// setupStep is the MAIL FROM that opens the transaction s needs.
func (r *runner) setupStep(s Step) Step {
	setup := Step{Name: "open-transaction", Suite: s.Suite, Case: "a MAIL FROM to open a transaction", Command: explain.MAIL,
		Line: "MAIL FROM:<" + r.from + ">", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.1.2", Setup: true}
	if s.State == InMailSMTPUTF8 {
		setup.Line += " SMTPUTF8"
		setup.Ref = "RFC 6531 §3.4"
	}
	return setup
}

// lineOf is the step's line as sent to this server.
func (r *runner) lineOf(s Step, caps connCaps) string {
	line := s.Line
	if s.Needs&NeedSIZE != 0 {
		line = strings.ReplaceAll(line, "{size_over}", sizeOver(caps.Size))
	}
	return line
}

// sendGroup writes a group, in one write when pipelining (RFC 2920) or a
// line per round trip, and records what each reply says. Lines left
// unanswered by a server that hung up go back to the queue for a new
// connection. It reports the round trips it took (one for a pipelined
// group, one a line otherwise) and whether the connection was lost.
func (r *runner) sendGroup(ctx context.Context, l *lane, g []gline) (trips int, dropped bool) {
	lines := make([]string, len(g))
	for i, gl := range g {
		lines[i] = gl.line
	}
	var reps []wire.Reply
	var times []time.Duration
	var err error
	if l.pipelined && len(lines) > 1 {
		reps, err = l.c.Pipeline(ctx, lines)
		times = l.c.S.ReplyTimes()
	} else {
		for _, line := range lines {
			var rep wire.Reply
			rep, err = l.c.Cmd(ctx, line)
			reps = append(reps, rep)
			times = append(times, l.c.S.ReplyTimes()...)
			if err != nil || rep.Code == 421 || l.c.S.Closed() {
				break
			}
		}
	}

	// The writes that waited for their replies: the group's one, or one
	// a line without pipelining.
	trips = max(1, len(reps))
	if l.pipelined && len(lines) > 1 {
		trips = 1
	}
	if n := len(g); n > 0 && g[n-1].kind == lineQuit {
		// The QUIT closing the group is no step: its reply (or the
		// hang-up that stands for one) only ends the session.
		g = g[:n-1]
		if len(reps) > len(g) {
			reps, err = reps[:len(g)], nil
			times = times[:min(len(times), len(g))]
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.sched.Groups += trips
	failedSetup := map[int]string{} // set-up index → why its steps are not judged
	lost := -1                      // first line whose answer was lost with the connection
	var lostRep wire.Reply          // what that line drew, a 421 perhaps
	var lostErr error
	var lostTook time.Duration
	for k, gl := range g {
		if lost >= 0 {
			break
		}
		var rep wire.Reply
		var rerr error
		var took time.Duration
		if k < len(reps) {
			rep = reps[k]
			if k < len(times) {
				took = times[k]
			}
			if k == len(reps)-1 {
				rerr = err
			}
		} else {
			lost = k
			break
		}
		// A timeout is no drop: a retry would only wait again. Replies
		// out of step are no drop either: the rest start afresh on a new
		// connection.
		timedOut := wire.Status(rerr) == wire.StatusIOTimeout || wire.Status(rerr) == wire.StatusDesync
		if rep.Code == 421 || rerr != nil && !timedOut {
			if gl.kind == lineStep && rep.Code != 421 && (rep.Code != 0 || len(rep.Lines) > 0) && !ended(ctx) {
				// A reply came but the stream broke after it (an
				// unusable code): it is the step's finding.
				r.record(l, gl.p, r.result(l, gl.p.s, gl.line, rep, rerr, took))
				continue
			}
			lost, lostRep, lostErr, lostTook = k, rep, rerr, took
			break
		}
		switch gl.kind {
		case lineRSET:
			continue
		case lineSetup:
			res := r.result(l, gl.setup, gl.line, rep, rerr, took)
			r.out[gl.p.i] = append(r.out[gl.p.i], res)
			if timedOut {
				lost = k
				break
			}
			if res.Outcome != Accepted {
				if gl.setup.Line == "MAIL FROM:<"+r.from+">" {
					r.sender, r.mailRefused = -1, res.code()
				}
				failedSetup[k] = r.unmet(gl.p.s, l.caps)
				if failedSetup[k] == "" {
					failedSetup[k] = fmt.Sprintf("not sent: the server refused %s with %d, so no transaction could open", gl.setup.Line, res.code())
				}
			} else if gl.setup.Line == "MAIL FROM:<"+r.from+">" {
				r.sender = 1
			}
		case lineStep:
			if why, ok := failedSetup[gl.after]; ok && gl.after >= 0 {
				r.out[gl.p.i] = append(r.out[gl.p.i], skipped(gl.p.s, l.c.N, why))
				continue
			}
			r.record(l, gl.p, r.result(l, gl.p.s, gl.line, rep, rerr, took))
		}
		r.noteReply(l, rep.Code, took)
	}
	l.dirty, l.inTx = groupState(g, l, failedSetup)
	if lost < 0 {
		if l.c.S.Closed() {
			// A reply cut off by the deadline ends the session: the
			// stream cannot be trusted, but the server did not hang up.
			l.c.Release(ctx)
			return trips, true
		}
		return trips, false
	}
	if ended(ctx) {
		for _, gl := range g[lost:] {
			if gl.kind == lineStep {
				r.out[gl.p.i] = append(r.out[gl.p.i], cutShort(ctx, gl.p.s, l.c.N))
			}
		}
		l.c.Release(ctx)
		return trips, true
	}
	// The server hung up (or said 421) before answering these lines: they
	// go again on a new connection, once. A line that never left (the
	// session was found closed before it was written) is no try.
	written := len(reps)
	if l.pipelined && len(lines) > 1 && len(reps) > 0 {
		written = len(lines)
	}
	if n := len(reps); n > 0 && n == written && errors.Is(err, wire.ErrClosed) && reps[n-1].Code == 0 {
		written--
	}
	// When the server's last reply before the hang-up was an error (its
	// error limit: Exim joins its farewell to the error that reaches
	// smtp_max_synprot_errors) or a 421, the session ended on that reply:
	// the lines behind it were written, but the server closed without
	// coming to them, so they spend no try. The line a 421 answered does.
	ended421 := lostRep.Code == 421
	overBefore := l.c.LastErr() && wire.Status(err) != wire.StatusIOTimeout
	var again []*pending
	for k := lost; k < len(g); k++ {
		gl := g[k]
		if gl.kind != lineStep || gl.p == nil {
			continue
		}
		p := gl.p
		if k >= written {
			again = append(again, p)
			continue
		}
		if overBefore && !(ended421 && k == lost) && p.spared < maxSpared {
			p.spared++
			if p.resent == 0 {
				p.resent = l.c.N
			}
			p.lane = 0
			r.sched.Resent++
			again = append(again, p)
			continue
		}
		p.tries++
		if p.tries >= 2 {
			if gl.p == g[lost].p && (lostRep.Code != 0 || len(lostRep.Lines) > 0) {
				// The second connection answered it too, with a 421:
				// that is its finding.
				r.record(l, p, r.result(l, p.s, gl.line, lostRep, lostErr, lostTook))
				continue
			}
			res := skipped(p.s, l.c.N, "no reply: the server dropped the connection twice before this step could be sent")
			res.Outcome, res.dropped = NoReply, true
			r.record(l, p, res)
			continue
		}
		if p.resent == 0 {
			p.resent = l.c.N
		}
		p.lane = 0
		r.sched.Resent++
		again = append(again, p)
	}
	r.queue = append(again, r.queue...)
	l.c.Dropped()
	return trips, true
}

// groupState is the connection's transaction state after a group.
func groupState(g []gline, l *lane, failed map[int]string) (dirty, inTx bool) {
	dirty, inTx = l.dirty, l.inTx
	for k, gl := range g {
		switch {
		case gl.kind == lineRSET:
			dirty, inTx = false, false
		case gl.kind == lineSetup:
			dirty = true
			_, bad := failed[k]
			inTx = !bad && gl.p.s.State == InMail
		case gl.p.s.Command == explain.MAIL || gl.p.s.Command == explain.RCPT:
			dirty = true
			if gl.p.s.State == Idle || gl.p.s.State == InMailSMTPUTF8 {
				inTx = false
			}
		}
	}
	return dirty, inTx
}

// record keeps a step's result and the run's tally of silent steps.
func (r *runner) record(l *lane, p *pending, res StepResult) {
	if p.resent != 0 && res.Outcome != Skipped {
		res.ResentFrom = p.resent
	}
	if isVerify(p.s) && !p.s.Draws && res.code() >= 400 && res.code() != 421 {
		if r.refuses == nil {
			r.refuses = map[explain.Command]bool{}
		}
		r.refuses[p.s.Command] = true
	}
	r.out[p.i] = append(r.out[p.i], res)
	if res.Outcome == Skipped {
		return
	}
	r.quiet.observe(res.Outcome == NoReply, res.timedOut, res.desync)
	if why := r.quiet.giveUp(); why != "" && r.stop == nil {
		r.stop = errors.New(why)
		switch {
		case r.quiet.desyncs > 0:
			r.gaveUp, r.gaveUpStatus = why, StatusDesync
		case r.quiet.timeouts > 0:
			r.gaveUp, r.gaveUpStatus = why, StatusUnresponsive // replies that timed out
		case res.dropped:
			// The server hung up before answering, connection after
			// connection: the host is given up on, and its status must
			// not stay ok.
			r.gaveUp, r.gaveUpStatus = why, StatusClosedByServer
		}
	}
}

// slowErrors counts the error replies on l slow enough to be a tarpit's.
func (l *lane) slowErrors() int {
	n := 0
	for _, d := range l.errDelays {
		if d >= l.tarpitFloor() {
			n++
		}
	}
	return n
}

// tarpitFloor is the least delay of an error reply on l that can be a
// tarpit's: well above the session's quickest reply.
func (l *lane) tarpitFloor() time.Duration { return max(tarpitFloor, 4*l.fastest) }

// noteReply keeps the timing of a reply on l: the delay of an error, or
// the quickest of the other replies, which the errors are measured
// against.
func (r *runner) noteReply(l *lane, code int, took time.Duration) {
	if code >= 400 && code != 421 {
		r.noteErrorDelay(l, took)
		return
	}
	if code >= 200 && code < 400 {
		l.accepted++
	}
	if took > 0 && (l.fastest == 0 || took < l.fastest) {
		l.fastest = took
	}
}

// noteErrorDelay watches the delay of error replies on one session: a
// tarpit makes each one slower than the last (Courier: 8, 16, 32 s). Two
// slow ones that grow mark the host a tarpit, and from then on every
// error goes on a fresh connection; two quick ones, or two slow ones that
// do not grow (a fixed delay), show there is none.
func (r *runner) noteErrorDelay(l *lane, d time.Duration) {
	l.errDelays = append(l.errDelays, d)
	n := len(l.errDelays)
	floor := l.tarpitFloor()
	if r.tarpit {
		return
	}
	if n < 2 {
		return
	}
	a, b := l.errDelays[n-2], l.errDelays[n-1]
	switch {
	case a < floor && b < floor:
		r.tarpitChecked = true
	case a >= floor && b > a+a/4:
		r.tarpit = true
		r.pool.SetBudget(1)
		ms := func(d time.Duration) float64 { return math.Round(float64((d-l.fastest).Microseconds())/10) / 100 }
		r.tarpitSeen = &Throttling{Connection: l.num, AfterErrors: n - 2, MinDelayMS: ms(a), MaxDelayMS: ms(b), SlowReplies: 2}
	case a >= floor && b >= floor:
		r.tarpitChecked = true
	}
}

// result judges one reply to a line.
func (r *runner) result(l *lane, s Step, line string, reply wire.Reply, err error, took time.Duration) StepResult {
	return judgeResult(s, line, reply, err, took, l.c.N, r.mem)
}

// judgeResult is the result of step s, sent as line on connection conn,
// from its reply; mem bounds what of the reply is kept.
func judgeResult(s Step, line string, reply wire.Reply, err error, took time.Duration, conn int, mem *memBudget) StepResult {
	res := StepResult{Name: s.Name, Suite: s.Suite, Case: s.Case, Command: s.Command, Sent: line,
		Expect: s.Expect, Ref: s.Ref, Connection: conn, Setup: s.Setup, Address: s.Address, step: s}
	res.RTTMS = math.Round(float64(took.Microseconds())/10) / 100
	if reply.Code != 0 || len(reply.Lines) > 0 {
		rep := reply
		res.Annotation = explain.Explain(reply.Code, reply.Enhanced, reply.Text(), s.Command).Brief()
		mem.keepReply(&rep)
		res.Reply = &rep
	}
	if err != nil {
		res.Error = err.Error()
	}
	ref := helloUnderTest(s, explain.ClassifyRefusal(reply.Code, reply.Enhanced, reply.Text(), s.Command))
	res.Cause, res.Blocklist, res.RetryAfterS = ref.Cause, ref.List, int(ref.RetryAfter.Seconds())
	res.Outcome, res.Conformance, res.Verdict = judgeReply(s, reply.Code, reply.Enhanced, ref)
	if wire.Status(err) == wire.StatusIOTimeout {
		// A reply cut off by the deadline is no answer: a server that
		// drips "250-" forever is silent, and counts toward giving up.
		// What it sent is kept in the reply and transcript, unjudged.
		res.Outcome, res.Conformance, res.Verdict = NoReply, NotJudged, "no reply: the reply did not complete within the deadline"
		res.Cause, res.Blocklist, res.RetryAfterS = "", "", 0
		res.Annotation, res.timedOut = "", true
	}
	if wire.Status(err) == wire.StatusDesync {
		// The reply read may belong to an earlier command: not evidence.
		res.Outcome, res.Conformance, res.Verdict = NoReply, NotJudged, "no reply to trust: the server's replies fell out of step with the commands (bytes arrived when no command was outstanding)"
		res.Annotation, res.desync = "", true
	}
	return res
}
