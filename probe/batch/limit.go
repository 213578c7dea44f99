package batch

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// The politeness defaults. A batch run opens connections to other
// people's servers; these keep it below the limits servers commonly set,
// so a run is not mistaken for an attack and blocked.
const (
	// DefaultPerIP is how many connections one IP address may have open
	// from this run at once. Postfix's smtpd_client_connection_count_limit
	// defaults to 50 but is often set far lower for unknown clients, and
	// large providers answer 421 to more than a few concurrent sessions
	// from one client; two lets one connection wait on a slow reply while
	// the other works.
	DefaultPerIP = 2
	// DefaultPerMinute is how many new connections one IP address may get
	// in any 60 seconds. Postfix's anvil counts connections per client
	// per minute (anvil_rate_time_unit 60s), and published settings of
	// smtpd_client_connection_rate_limit are typically 30 to 60.
	DefaultPerMinute = 30
	// DefaultGlobal is how many connections the run may have open in all:
	// a bound on file descriptors and on this machine's bandwidth.
	DefaultGlobal = 64
	// DefaultBackoff is the first pause for an IP that answered 421 or a
	// 4yz rate-limit reply, or timed out: one anvil time unit, so the
	// server's count has started over. Each further strike doubles it.
	DefaultBackoff = 60 * time.Second
	// DefaultMaxBackoff caps the doubling.
	DefaultMaxBackoff = 15 * time.Minute
)

// Unlimited turns off the per-minute limit (Politeness.PerMinute).
const Unlimited = -1

// Politeness is how hard a run may press each mail server. A zero field
// takes its default.
type Politeness struct {
	PerIP      int           // connections open at once to one IP
	PerMinute  int           // new connections to one IP in any 60 s; Unlimited for none
	Global     int           // connections open at once in all
	Backoff    time.Duration // first pause after a strike
	MaxBackoff time.Duration // cap on the pause
}

// WithDefaults fills the zero fields.
func (p Politeness) WithDefaults() Politeness {
	if p.PerIP <= 0 {
		p.PerIP = DefaultPerIP
	}
	if p.PerMinute == 0 {
		p.PerMinute = DefaultPerMinute
	}
	if p.Global <= 0 {
		p.Global = DefaultGlobal
	}
	if p.Backoff <= 0 {
		p.Backoff = DefaultBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.Backoff {
		p.MaxBackoff = p.Backoff
	}
	return p
}

// Strike is why an IP is paused.
type Strike string

// Strikes.
const (
	StrikeRateLimited Strike = "rate-limited" // 421, or a 4yz that names a rate or connection limit
	StrikeTimeout     Strike = "timeout"      // a connection or reply timed out
)

// Limiter enforces a Politeness over every connection of a run: Acquire
// before opening one, the release func after closing it. It is safe for
// concurrent use.
type Limiter struct {
	p      Politeness
	global chan struct{}
	now    func() time.Time
	jitter func() float64 // in [0, 1)

	mu    sync.Mutex
	ips   map[string]*ipState
	stats Stats
}

type ipState struct {
	open      int
	opens     []time.Time // the last PerMinute opening times, oldest first
	notBefore time.Time   // paused until then
	strikes   int         // in a row, since the last clean connection
	changed   chan struct{}
	peak      int
}

// Stats are what the limiter did in a run.
type Stats struct {
	Opened     int            // connections let through
	Waited     int            // times an Acquire had to wait
	Strikes    map[Strike]int // pauses imposed, by why
	PeakGlobal int            // most connections open at once
	PeakPerIP  int            // most connections open at once to one IP
}

// NewLimiter returns a limiter for p (defaults filled).
func NewLimiter(p Politeness) *Limiter {
	p = p.WithDefaults()
	return &Limiter{p: p, global: make(chan struct{}, p.Global), now: time.Now,
		jitter: rand.Float64, ips: map[string]*ipState{}, stats: Stats{Strikes: map[Strike]int{}}}
}

// Politeness is the limits in force.
func (l *Limiter) Politeness() Politeness { return l.p }

func (l *Limiter) state(ip string) *ipState {
	st := l.ips[ip]
	if st == nil {
		st = &ipState{changed: make(chan struct{})}
		l.ips[ip] = st
	}
	return st
}

// notify wakes the goroutines waiting on st. l.mu is held.
func (st *ipState) notify() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// Acquire waits until a connection to ip may be opened under every limit,
// or ctx ends. The release func must be called once the connection is
// closed (or failed to open).
func (l *Limiter) Acquire(ctx context.Context, ip string) (release func(), err error) {
	waited := false
	for {
		l.mu.Lock()
		st := l.state(ip)
		now := l.now()
		var until time.Time // wait until then; zero: until a release
		ready := false
		switch {
		case now.Before(st.notBefore):
			until = st.notBefore
		case st.open >= l.p.PerIP:
		case l.p.PerMinute > 0 && len(st.opens) >= l.p.PerMinute && now.Before(st.opens[0].Add(time.Minute)):
			until = st.opens[0].Add(time.Minute)
		default:
			ready = true
			st.open++
			st.peak = max(st.peak, st.open)
			l.stats.PeakPerIP = max(l.stats.PeakPerIP, st.open)
			if l.p.PerMinute > 0 {
				if len(st.opens) >= l.p.PerMinute {
					st.opens = st.opens[1:]
				}
				st.opens = append(st.opens, now)
			}
		}
		changed := st.changed
		if !ready && !waited {
			waited = true
			l.stats.Waited++
		}
		l.mu.Unlock()
		if ready {
			break
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !until.IsZero() {
			timer = time.NewTimer(until.Sub(now))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-changed:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return nil, err
		}
	}
	select {
	case l.global <- struct{}{}:
	case <-ctx.Done():
		l.releaseIP(ip)
		return nil, ctx.Err()
	}
	l.mu.Lock()
	l.stats.Opened++
	l.stats.PeakGlobal = max(l.stats.PeakGlobal, len(l.global))
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			<-l.global
			l.releaseIP(ip)
		})
	}, nil
}

func (l *Limiter) releaseIP(ip string) {
	l.mu.Lock()
	st := l.state(ip)
	st.open--
	st.notify()
	l.mu.Unlock()
}

// Strike pauses ip: no new connection to it until the back-off ends. The
// pause doubles with each strike in a row, from Backoff up to MaxBackoff,
// and is drawn at random from its upper half, so the runs that a shared
// limit paused together do not all come back at the same instant. It
// returns the pause.
func (l *Limiter) Strike(ip string, why Strike) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state(ip)
	st.strikes++
	d := l.p.Backoff
	for i := 1; i < st.strikes && d < l.p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, l.p.MaxBackoff)
	d = d/2 + time.Duration(l.jitter()*float64(d/2))
	if until := l.now().Add(d); until.After(st.notBefore) {
		st.notBefore = until
	}
	l.stats.Strikes[why]++
	st.notify()
	return d
}

// Clean records a connection to ip that went well: the next strike starts
// the back-off over.
func (l *Limiter) Clean(ip string) {
	l.mu.Lock()
	l.state(ip).strikes = 0
	l.mu.Unlock()
}

// PausedUntil is when ip's back-off ends; zero when it has none.
func (l *Limiter) PausedUntil(ip string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.ips[ip]; st != nil && l.now().Before(st.notBefore) {
		return st.notBefore
	}
	return time.Time{}
}

// Stats is a copy of what the limiter did so far.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Strikes = map[Strike]int{}
	for k, v := range l.stats.Strikes {
		s.Strikes[k] = v
	}
	return s
}

// reservation is a slot Reserve took, for the first connection to its IP
// made under the context that carries it.
type reservation struct {
	ip      string
	release func()
	taken   atomic.Bool
}

type reservationKey struct{}

// Reserve waits, as Acquire does, until a connection to ip may be opened,
// and takes the slot for the first connection to ip a run under the
// returned context makes, so that a run's own time budget, started after
// Reserve returns, is not spent waiting on the politeness limits. done
// gives the slot back if that run never used it; call it when the run
// ends.
func (l *Limiter) Reserve(ctx context.Context, ip string) (_ context.Context, done func(), err error) {
	release, err := l.Acquire(ctx, ip)
	if err != nil {
		return ctx, func() {}, err
	}
	r := &reservation{ip: ip, release: release}
	return context.WithValue(ctx, reservationKey{}, r), func() {
		if r.taken.CompareAndSwap(false, true) {
			release()
		}
	}, nil
}

// reserved is the slot ctx carries for ip, if it was not taken yet.
func (l *Limiter) reserved(ctx context.Context, ip string) (func(), bool) {
	r, ok := ctx.Value(reservationKey{}).(*reservation)
	if !ok || r.ip != ip || !r.taken.CompareAndSwap(false, true) {
		return nil, false
	}
	return r.release, true
}

// Dialer wraps next (nil: a net.Dialer) so every connection it opens is
// under the limiter: it waits for a slot at the address's IP, and gives
// the slot back when the connection is closed. A dial that times out
// strikes the IP.
func (l *Limiter) Dialer(next probe.Dialer) probe.Dialer {
	if next == nil {
		next = &net.Dialer{}
	}
	return probe.DialFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
		ip := addr
		if h, _, err := net.SplitHostPort(addr); err == nil {
			ip = h
		}
		release, ok := l.reserved(ctx, ip)
		if !ok {
			var err error
			if release, err = l.Acquire(ctx, ip); err != nil {
				return nil, err
			}
		}
		c, err := next.DialContext(ctx, network, addr)
		if err != nil {
			var ne net.Error
			if !spent(ctx) && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
				l.Strike(ip, StrikeTimeout)
			}
			release()
			return nil, err
		}
		return &limitedConn{Conn: c, release: release, strike: func() { l.Strike(ip, StrikeRateLimited) }}, nil
	})
}

// limitedConn gives its slot back when closed, and strikes its IP the
// first time the server sends a 421 reply (RFC 5321 §3.8: it is closing
// the session, most often for too many connections or too much mail),
// whatever the session makes of it.
type limitedConn struct {
	net.Conn
	release func()
	strike  func()
	read    int  // bytes read so far
	struck  bool // a 421 was seen
	last    byte // the last byte read, for a reply line split over reads
	closed  atomic.Bool
}

func (c *limitedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.struck {
		b := p[:n]
		at421 := func(i int) bool { return i+3 <= len(b) && b[i] == '4' && b[i+1] == '2' && b[i+2] == '1' }
		hit := c.read == 0 && at421(0) || c.last == '\n' && at421(0)
		for i := 0; !hit && i < len(b)-1; i++ {
			hit = b[i] == '\n' && at421(i+1)
		}
		if hit {
			c.struck = true
			c.strike()
		}
		c.read += n
		c.last = b[n-1]
	}
	return n, err
}

// SyscallConn is the socket's underneath. A limitedConn keeps no bytes
// of its own, so a session's look into the socket for bytes no command
// asked for (wire's, without waiting) sees all its Read would return.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}

// ServerCloseWait is how long a closed connection keeps its slot while
// the server closes its end: the server counts the connection until it
// has (Postfix's anvil, a kernel's connection count), so a slot given
// back as soon as this side closed would let the next connection find
// one more open than the limit. A server that has not closed by then is
// not waited for longer. A session that quit has waited as long already
// (wire.ServerCloseWait).
const ServerCloseWait = wire.ServerCloseWait

// CloseWrite ends this side's sending, when the connection underneath
// can: a session that has quit does so while it waits for the server to
// close.
func (c *limitedConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errors.ErrUnsupported
	}
	return cw.CloseWrite()
}

// Close closes this side's end at once (no more reads or writes), and
// gives the slot back once the server has closed its end too, or after
// ServerCloseWait.
func (c *limitedConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return c.shut()
	}
	// A read blocked on the connection ends by the same deadline.
	c.Conn.SetReadDeadline(time.Now().Add(ServerCloseWait))
	if err := cw.CloseWrite(); err != nil {
		return c.shut()
	}
	go func() {
		io.Copy(io.Discard, c.Conn) // until the server's FIN, a reset or the deadline
		c.shut()
	}()
	return nil
}

// shut closes the connection and gives its slot back.
func (c *limitedConn) shut() error {
	err := c.Conn.Close()
	c.release()
	return err
}
