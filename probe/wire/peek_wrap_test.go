package wire_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/batch"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/probe/socks"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// socksRelay is a SOCKS5 proxy on loopback without authentication that
// connects where it is asked (IPv4 addresses only) and relays both ways.
func socksRelay(t testing.TB) string {
	l := probetest.Serve(t, func(c net.Conn, _ int) {
		b := make([]byte, 10)
		if _, err := io.ReadFull(c, b[:3]); err != nil { // version, one method, no authentication
			return
		}
		c.Write([]byte{5, 0})
		if _, err := io.ReadFull(c, b[:10]); err != nil || b[3] != 1 {
			return
		}
		dest := net.JoinHostPort(net.IP(b[4:8]).String(), strconv.Itoa(int(b[8])<<8|int(b[9])))
		up, err := net.Dial("tcp", dest)
		if err != nil {
			c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
			return
		}
		defer up.Close()
		c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0})
		go func() {
			io.Copy(up, c)
			up.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(c, up)
	})
	return l.Addr().String()
}

// peekDialers are the ways the engine opens its connections: straight,
// under a batch's politeness limiter, through a SOCKS5 proxy, and both.
func peekDialers(t testing.TB) map[string]wire.Dialer {
	proxy := &socks.Dialer{Addr: socksRelay(t)}
	limited := func(next wire.Dialer) wire.Dialer {
		return batch.NewLimiter(batch.Politeness{PerMinute: batch.Unlimited}).Dialer(next)
	}
	return map[string]wire.Dialer{
		"direct":        &net.Dialer{},
		"limited":       limited(nil),
		"socks":         proxy,
		"limited-socks": limited(proxy),
	}
}

// peekUntil peeks at c until it reports what want says, for at most a
// few seconds (the peer's bytes or close take a moment to arrive).
func peekUntil(t *testing.T, c net.Conn, what string, want func(avail, eof bool) bool) {
	t.Helper()
	stop := time.Now().Add(5 * time.Second)
	for {
		avail, eof := wire.PeekSocket(c)
		if want(avail, eof) {
			return
		}
		if time.Now().After(stop) {
			t.Fatalf("%T: never saw %s (last peek: avail %v, eof %v)", c, what, avail, eof)
		}
		time.Sleep(time.Millisecond)
	}
}

// The check for unsolicited bytes reaches the socket through every
// wrapper the engine puts around it: it sees nothing when nothing came,
// bytes when the peer wrote some, and the peer's close, rather than the
// "maybe" of a connection it cannot look into, which costs a read with a
// wait before every command.
func TestPeekThroughWrappers(t *testing.T) {
	for name, d := range peekDialers(t) {
		t.Run(name, func(t *testing.T) {
			peer := make(chan net.Conn, 1)
			done := make(chan struct{})
			l := probetest.Serve(t, func(c net.Conn, _ int) {
				peer <- c
				<-done
			})
			closePeer := sync.OnceFunc(func() { close(done) })
			t.Cleanup(closePeer) // before Serve's, which waits for the handler
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := d.DialContext(ctx, "tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			srv := <-peer
			if avail, eof := wire.PeekSocket(c); avail || eof {
				t.Fatalf("%T: nothing sent, yet the peek says avail %v, eof %v", c, avail, eof)
			}
			srv.Write([]byte("x"))
			peekUntil(t, c, "the byte written", func(avail, eof bool) bool { return avail && !eof })
			var b [1]byte
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := c.Read(b[:]); n != 1 || b[0] != 'x' {
				t.Fatalf("after the peek, Read = %d %q, %v; want the byte still there", n, b[:n], err)
			}
			if avail, eof := wire.PeekSocket(c); avail || eof {
				t.Fatalf("%T: all read, yet the peek says avail %v, eof %v", c, avail, eof)
			}
			closePeer() // the server closes its end
			peekUntil(t, c, "the close", func(avail, eof bool) bool { return eof })
		})
	}
}

// BenchmarkCmdPeek times one command and its reply on a loopback session
// opened by each of the engine's dialers: the look for unsolicited bytes
// before the command is part of it. Each reply differs from the one
// before, so no reply waits out the check for a repeat.
func BenchmarkCmdPeek(b *testing.B) {
	var n atomic.Int64
	srv := probetest.StartLineServer(b, "220 bench.test ESMTP\r\n", func(_ *probetest.LineConn, line string) probetest.LineReply {
		if len(line) >= 4 && line[:4] == "EHLO" {
			return probetest.LineReply{Out: "250-bench.test\r\n250 PIPELINING\r\n"}
		}
		return probetest.LineReply{Out: "250 2.0.0 ok " + strconv.FormatInt(n.Add(1), 10) + "\r\n"}
	})
	for _, name := range []string{"direct", "limited", "socks", "limited-socks"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, err := wire.Dial(ctx, wire.Config{Addr: srv.Addr(), HELO: "client.test", TLS: wire.TLSNone,
				ConnectTimeout: 5 * time.Second, ReplyTimeout: 5 * time.Second, Dialer: peekDialers(b)[name]})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for b.Loop() {
				if _, err := s.Cmd(ctx, "NOOP"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
