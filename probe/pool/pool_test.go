package pool_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/pool"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

func dialer(addr string) pool.DialFunc {
	cfg := wire.Config{Addr: addr, HELO: "client.test", TLS: wire.TLSNone, ReplyTimeout: 5 * time.Second}
	return func(ctx context.Context, _ int) (pool.Session, error) {
		s, err := wire.Dial(ctx, cfg)
		if s == nil {
			return nil, err
		}
		return s, err
	}
}

// No more connections are open at once than the cap, and lowering the
// cap holds back the next Open.
func TestPoolCapsConnectionsAtOnce(t *testing.T) {
	var open, peak atomic.Int32
	srv := probetest.StartLineServer(t, "220 p.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		switch line {
		case "EHLO client.test":
			n := open.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			return probetest.LineReply{Out: "250 p.test\r\n"}
		case "QUIT":
			open.Add(-1)
			return probetest.LineReply{Out: "221 bye\r\n", Close: true}
		}
		return probetest.LineReply{Out: "250 ok\r\n"}
	})
	p := pool.New(pool.Config{Dial: dialer(srv.Addr()), Parallel: 2})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := p.Open(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(20 * time.Millisecond)
			c.Release(context.Background())
		}()
	}
	wg.Wait()
	if got := peak.Load(); got > 2 {
		t.Errorf("the server saw %d connections at once; the cap is 2", got)
	}
	if _, pk, _ := p.Parallel(); pk != 2 || p.Opened() != 6 {
		t.Errorf("peak %d, opened %d; want 2 and 6", pk, p.Opened())
	}
	p.LowerParallel()
	if c, _, _ := p.Parallel(); c != 1 {
		t.Errorf("cap %d after lowering 2", c)
	}
}

// A server that hangs up after three errors teaches the pool that limit,
// and the budget drops below it.
func TestPoolLearnsTheErrorLimit(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 p.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		if line == "EHLO client.test" {
			return probetest.LineReply{Out: "250 p.test\r\n"}
		}
		if c.Errors >= 3 {
			return probetest.LineReply{Out: "421 4.7.0 too many errors\r\n", Close: true}
		}
		return probetest.LineReply{Out: "501 5.5.4 no\r\n"}
	})
	p := pool.New(pool.Config{Dial: dialer(srv.Addr())})
	c, _, err := p.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for !c.S.Closed() {
		if _, err := c.Cmd(context.Background(), "VRFY x"); err != nil {
			break
		}
	}
	c.Dropped()
	if n, ok := p.ErrorLimit(); !ok || n != 3 || p.Budget() != 2 {
		t.Errorf("limit %d (%v), budget %d; want 3 and 2", n, ok, p.Budget())
	}
}

// A server that hangs up after a positive reply, errors drawn before it
// or not, shows no error limit: the pool learns none and keeps its budget.
func TestPoolHangupAfterPositiveReplyTeachesNoLimit(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 p.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		switch line {
		case "EHLO client.test":
			return probetest.LineReply{Out: "250 p.test\r\n"}
		case "NOOP":
			return probetest.LineReply{Out: "250 2.0.0 ok\r\n", Close: true}
		}
		return probetest.LineReply{Out: "501 5.5.4 no\r\n"}
	})
	p := pool.New(pool.Config{Dial: dialer(srv.Addr())})
	c, _, err := p.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"VRFY x", "VRFY y", "NOOP", "VRFY z"} {
		if _, err := c.Cmd(context.Background(), line); err != nil {
			break
		}
	}
	if !c.S.Closed() || c.Errs != 2 {
		t.Fatalf("closed %v after %d errors; want a hang-up after 2", c.S.Closed(), c.Errs)
	}
	c.Dropped()
	if n, ok := p.ErrorLimit(); ok || p.Budget() != pool.DefaultBudget {
		t.Errorf("limit %d (%v), budget %d; want none and %d", n, ok, p.Budget(), pool.DefaultBudget)
	}
}

// A 421 at the greeting lowers the cap by itself, before the failed
// dial's slot is freed; another refusal at the greeting does not.
func TestPoolLowersItsCapOnA421Greeting(t *testing.T) {
	var sessions atomic.Int32
	l := probetest.Serve(t, func(c net.Conn, _ int) {
		if sessions.Add(1) > 1 {
			c.Write([]byte("421 4.7.0 busy.test Too many connections\r\n"))
			return
		}
		c.Write([]byte("220 busy.test ESMTP\r\n"))
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "QUIT") {
				c.Write([]byte("221 bye\r\n"))
				return
			}
			c.Write([]byte("250 busy.test\r\n"))
		}
	})
	busy := l.Addr().String()
	p := pool.New(pool.Config{Dial: dialer(busy), Parallel: 3})
	first, _, err := p.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release(context.Background())
	if _, _, err := p.Open(context.Background()); !pool.TooMany(err) {
		t.Fatalf("second Open: %v, want the server's 421", err)
	}
	if cap, _, lowered := p.Parallel(); cap != 2 || lowered != 1 {
		t.Errorf("after one 421: cap %d, lowered %d; want 2 and 1", cap, lowered)
	}
	if pool.TooMany(&wire.Error{Status: wire.StatusNoService, Reply: &wire.Reply{Code: 554}}) {
		t.Error("a 554 greeting counts as too many connections")
	}
}

// OpenWith dials through the caller's function, numbered and capped like
// Open: a session the caller opened without EHLO and greeted itself is
// handed over, and holds a slot until it is released.
func TestPoolOpenWithNumbersAndCaps(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 p.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		if line == "QUIT" {
			return probetest.LineReply{Out: "221 bye\r\n", Close: true}
		}
		return probetest.LineReply{Out: "250 ok\r\n"}
	})
	p := pool.New(pool.Config{Dial: dialer(srv.Addr()), Parallel: 1})
	var got []int
	own := func(ctx context.Context, n int) (pool.Session, error) {
		got = append(got, n)
		s, err := wire.Dial(ctx, wire.Config{Addr: srv.Addr(), HELO: "client.test", TLS: wire.TLSNone, ReplyTimeout: 5 * time.Second, NoHello: true})
		if err != nil {
			return nil, err
		}
		if _, err := s.Cmd(ctx, "NOOP"); err != nil {
			return nil, err
		}
		return s, s.Hello(ctx)
	}
	c, n, err := p.OpenWith(context.Background(), own)
	if err != nil || n != 1 || len(got) != 1 || got[0] != 1 {
		t.Fatalf("OpenWith: conn %d, %v; the dial saw %v", n, err, got)
	}
	// The cap is one: a second Open waits until c is released.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if _, _, err := p.Open(ctx); err == nil {
		t.Error("a second connection opened while the first held the only slot")
	}
	cancel()
	c.Release(context.Background())
	c2, n2, err := p.Open(context.Background())
	if err != nil || n2 != 2 {
		t.Fatalf("Open after release: conn %d, %v; want number 2 (a wait that ended takes no number)", n2, err)
	}
	c2.Release(context.Background())
}
