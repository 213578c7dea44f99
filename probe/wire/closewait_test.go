package wire

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// quitServer answers EHLO, NOOP and QUIT, and after its 221 does what
// after says; gone is closed once it is about to close its end.
func quitServer(t *testing.T, after func(c net.Conn)) (addr string, gone chan struct{}) {
	gone = make(chan struct{}, 1)
	l := probetest.Serve(t, func(c net.Conn, _ int) {
		c.SetDeadline(time.Now().Add(time.Minute))
		c.Write([]byte("220 mx.test ESMTP\r\n"))
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
			case "EHLO":
				c.Write([]byte("250-mx.test\r\n250 PIPELINING\r\n"))
			case "QUIT":
				c.Write([]byte("221 2.0.0 bye\r\n"))
				after(c)
				close(gone)
				return
			default:
				c.Write([]byte("250 2.0.0 ok\r\n"))
			}
		}
	})
	return l.Addr().String(), gone
}

// quitWays end a session by Quit, and by QUIT closing a pipelined group.
var quitWays = map[string]func(ctx context.Context, s *Session) error{
	"quit": func(ctx context.Context, s *Session) error {
		_, err := s.Quit(ctx)
		return err
	},
	"pipelined": func(ctx context.Context, s *Session) error {
		_, err := s.Pipeline(ctx, []string{"NOOP", "QUIT"})
		return err
	},
}

// Once QUIT is answered the session waits for the server to close its
// end, so the server no longer counts it when the next connection comes:
// one that closes a while after its 221, and one that waits for the
// client to stop sending first, have both closed when the session ends.
func TestQuitAwaitsServerClose(t *testing.T) {
	servers := map[string]func(c net.Conn){
		"closes later":         func(net.Conn) { time.Sleep(100 * time.Millisecond) },
		"waits for the client": func(c net.Conn) { io.Copy(io.Discard, c) },
	}
	for sname, after := range servers {
		for qname, quit := range quitWays {
			t.Run(sname+"/"+qname, func(t *testing.T) {
				addr, gone := quitServer(t, after)
				s, err := dial(t, config(addr))
				wantStatus(t, err, StatusOK)
				if err := quit(context.Background(), s); err != nil {
					t.Fatal(err)
				}
				select {
				case <-gone:
				default:
					t.Errorf("the session ended with the server's end still open")
				}
				if !s.Closed() {
					t.Errorf("the session is not closed after its QUIT was answered")
				}
			})
		}
	}
}

// A server that never closes after its 221 holds the session up only for
// a bounded while: Quit and a pipelined QUIT return, the server's end
// still open.
func TestQuitServerNeverCloses(t *testing.T) {
	for qname, quit := range quitWays {
		t.Run(qname, func(t *testing.T) {
			release := make(chan struct{})
			addr, gone := quitServer(t, func(net.Conn) { <-release })
			t.Cleanup(func() { close(release) }) // before Serve's, which waits for the handler
			s, err := dial(t, config(addr))
			wantStatus(t, err, StatusOK)
			done := make(chan error, 1)
			go func() { done <- quit(context.Background(), s) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(4 * QuitTimeout): // a guard against a hang, not a measure
				t.Fatalf("the session never returned from QUIT")
			}
			select {
			case <-gone:
				t.Errorf("the server closed, yet it never does")
			default:
			}
		})
	}
}
