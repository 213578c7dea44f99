package batch

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many goroutines at once never get more than PerIP slots at one IP nor
// more than Global in all.
func TestLimiterCaps(t *testing.T) {
	l := NewLimiter(Politeness{PerIP: 3, Global: 5, PerMinute: Unlimited})
	var mu sync.Mutex
	open := map[string]int{}
	peak, peakAll, all := map[string]int{}, 0, 0
	var wg sync.WaitGroup
	for i := range 60 {
		ip := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := l.Acquire(context.Background(), ip)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			open[ip]++
			all++
			peak[ip] = max(peak[ip], open[ip])
			peakAll = max(peakAll, all)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			open[ip]--
			all--
			mu.Unlock()
			release()
		}()
	}
	wg.Wait()
	for ip, p := range peak {
		if p > 3 {
			t.Errorf("%s had %d open at once", ip, p)
		}
	}
	if peakAll > 5 {
		t.Errorf("%d open at once in all", peakAll)
	}
	if s := l.Stats(); s.Opened != 60 || s.PeakPerIP > 3 || s.PeakGlobal > 5 || s.Waited == 0 {
		t.Errorf("stats %+v", s)
	}
}

// fakeClock is a time source tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// The per-minute limit counts openings in a sliding 60 s window.
func TestLimiterPerMinute(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	l := NewLimiter(Politeness{PerIP: 10, PerMinute: 2})
	l.now = clock.now
	for range 2 {
		r, err := l.Acquire(context.Background(), "ip")
		if err != nil {
			t.Fatal(err)
		}
		r()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx, "ip"); err == nil {
		t.Fatal("a third connection within the minute was let through")
	}
	if r, err := l.Acquire(context.Background(), "other"); err != nil {
		t.Fatal("another IP was held back:", err)
	} else {
		r()
	}
	clock.mu.Lock()
	clock.t = clock.t.Add(61 * time.Second)
	clock.mu.Unlock()
	r, err := l.Acquire(context.Background(), "ip")
	if err != nil {
		t.Fatal("the window moved on but the IP is still held:", err)
	}
	r()
}

// A strike pauses only that IP, for a jittered time in the upper half of a
// doubling back-off; a clean connection starts it over.
func TestLimiterStrikeBackoff(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	l := NewLimiter(Politeness{Backoff: 10 * time.Second, MaxBackoff: 30 * time.Second})
	l.now = clock.now
	var j atomic.Int64
	l.jitter = func() float64 { return float64(j.Load()) / 100 }
	j.Store(0)
	if d := l.Strike("ip", StrikeRateLimited); d != 5*time.Second {
		t.Errorf("first strike at jitter 0: %s, want 5s", d)
	}
	j.Store(99)
	if d := l.Strike("ip", StrikeTimeout); d < 19*time.Second || d >= 20*time.Second {
		t.Errorf("second strike at jitter 0.99: %s, want just under 20s", d)
	}
	if d := l.Strike("ip", StrikeTimeout); d >= 30*time.Second || d < 29*time.Second {
		t.Errorf("third strike: %s, want capped just under 30s", d)
	}
	if u := l.PausedUntil("ip"); !u.After(clock.now().Add(25 * time.Second)) {
		t.Errorf("paused until %s", u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx, "ip"); err == nil {
		t.Fatal("a paused IP was reopened before its back-off ended")
	}
	if r, err := l.Acquire(context.Background(), "other"); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
	l.Clean("ip")
	j.Store(0)
	if d := l.Strike("ip", StrikeRateLimited); d != 5*time.Second {
		t.Errorf("after a clean connection: %s, want 5s", d)
	}
	if s := l.Stats(); s.Strikes[StrikeTimeout] != 2 || s.Strikes[StrikeRateLimited] != 2 {
		t.Errorf("strikes %v", s.Strikes)
	}
}

// The dialer holds a slot per open connection over real sockets and gives
// it back on Close.
func TestLimiterDialer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	l := NewLimiter(Politeness{PerIP: 1, PerMinute: Unlimited})
	dial := l.Dialer(nil).DialContext
	c1, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if c, err := dial(ctx, "tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("a second connection to one IP with PerIP 1")
	}
	c1.Close()
	c1.Close() // twice: the slot is given back once
	c2, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	if s := l.Stats(); s.PeakPerIP != 1 || s.Opened != 2 {
		t.Errorf("stats %+v", s)
	}
}
