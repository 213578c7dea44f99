// Package probetest provides SMTP servers on loopback for tests: a scripted
// raw TCP server that can misbehave in every way a real one does.
package probetest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Step is one action of a scripted server.
type Step struct {
	kind     string
	data     []byte
	d        time.Duration
	tlsCfg   *tls.Config
	describe string
}

// Send writes b to the client in one write.
func Send(b string) Step {
	return Step{kind: "send", data: []byte(b), describe: fmt.Sprintf("send %q", b)}
}

// SendBytes writes b to the client in one write.
func SendBytes(b []byte) Step {
	return Step{kind: "send", data: b, describe: fmt.Sprintf("send %d bytes", len(b))}
}

// Expect reads one line from the client (through LF, CRLF stripped) and
// fails the script unless it equals line.
func Expect(line string) Step {
	return Step{kind: "expect", data: []byte(line), describe: fmt.Sprintf("expect %q", line)}
}

// ExpectPrefix reads one line and fails unless it starts with prefix.
func ExpectPrefix(prefix string) Step {
	return Step{kind: "prefix", data: []byte(prefix), describe: fmt.Sprintf("expect prefix %q", prefix)}
}

// Stall stays silent for d, or until the client closes or the server
// shuts down. What the client sends meanwhile is kept for the next Expect.
func Stall(d time.Duration) Step {
	return Step{kind: "stall", d: d, describe: fmt.Sprintf("stall %v", d)}
}

// AwaitBytes waits until the client has sent at least one byte more than
// the steps before consumed (a TLS ClientHello, say), keeping it.
func AwaitBytes() Step { return Step{kind: "await", describe: "await client bytes"} }

// Drip writes b one byte at a time, every interval, stopping quietly once
// the client has gone.
func Drip(b string, interval time.Duration) Step {
	return Step{kind: "drip", data: []byte(b), d: interval, describe: fmt.Sprintf("drip %d bytes every %v", len(b), interval)}
}

// DripForever writes b again and again, one byte every interval, until
// the client goes away or the server shuts down.
func DripForever(b string, interval time.Duration) Step {
	return Step{kind: "dripforever", data: []byte(b), d: interval, describe: fmt.Sprintf("drip %q forever", b)}
}

// Flood writes b repeatedly until n bytes are written or the client goes.
func Flood(b string, n int) Step {
	return Step{kind: "flood", data: []byte(b), d: time.Duration(n), describe: fmt.Sprintf("flood %d bytes", n)}
}

// Close closes the connection normally (FIN).
func Close() Step { return Step{kind: "close", describe: "close"} }

// Reset aborts the connection with a TCP RST (SO_LINGER 0).
func Reset() Step { return Step{kind: "reset", describe: "reset"} }

// StartTLS runs the server side of a TLS handshake with cfg; later steps
// go through TLS.
func StartTLS(cfg *tls.Config) Step { return Step{kind: "starttls", tlsCfg: cfg, describe: "starttls"} }

// Scripted is a raw TCP server on 127.0.0.1 that plays a script per
// accepted connection.
type Scripted struct {
	l       net.Listener
	scripts [][]Step
	repeat  bool
	done    chan struct{}
	wg      sync.WaitGroup // the accept loop
	errs    chan error

	mu    sync.Mutex
	conns []net.Conn
	ended []chan struct{} // closed when each connection's script ends
	n     int
}

// NewScripted starts a server that plays script on every connection it
// accepts. It shuts down in t.Cleanup.
func NewScripted(t testing.TB, script ...Step) *Scripted {
	return start(t, [][]Step{script}, true)
}

// NewScriptedSequence starts a server that plays scripts[i] on the i-th
// connection, for reconnect tests; a connection beyond the last script is
// closed at once and reported by Err.
func NewScriptedSequence(t testing.TB, scripts ...[]Step) *Scripted {
	return start(t, scripts, false)
}

func start(t testing.TB, scripts [][]Step, repeat bool) *Scripted {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("probetest: listen: %v", err)
	}
	s := &Scripted{l: l, scripts: scripts, repeat: repeat, done: make(chan struct{}), errs: make(chan error, 64)}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Addr is the server's "127.0.0.1:port".
func (s *Scripted) Addr() string { return s.l.Addr().String() }

// Accepted is the number of connections accepted so far.
func (s *Scripted) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Err waits for the script of every connection accepted so far to finish
// (at most 10 s) and returns the server-side failures: an Expect that did not match, a
// connection beyond the script sequence, a failed TLS handshake.
func (s *Scripted) Err() error {
	var errs []error
	limit := time.After(10 * time.Second)
	for _, ch := range s.running() {
		select {
		case <-ch:
		case <-limit:
			errs = append(errs, errors.New("probetest: a script was still running after 10s"))
		}
	}
	for {
		select {
		case err := <-s.errs:
			errs = append(errs, err)
		default:
			return errors.Join(errs...)
		}
	}
}

// Close stops the server and every connection and waits for them.
func (s *Scripted) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.l.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	for _, ch := range s.running() {
		<-ch
	}
}

// running returns the done channels of every connection accepted so far.
func (s *Scripted) running() []chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]chan struct{}(nil), s.ended...)
}

func (s *Scripted) fail(format string, args ...any) {
	select {
	case s.errs <- fmt.Errorf(format, args...):
	default:
	}
}

func (s *Scripted) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		i := s.n
		s.n++
		s.conns = append(s.conns, c)
		end := make(chan struct{})
		s.ended = append(s.ended, end)
		s.mu.Unlock()
		var script []Step
		switch {
		case s.repeat:
			script = s.scripts[0]
		case i < len(s.scripts):
			script = s.scripts[i]
		default:
			s.fail("probetest: connection %d beyond the %d scripts", i+1, len(s.scripts))
			c.Close()
			close(end)
			continue
		}
		go func() {
			defer close(end)
			defer c.Close()
			s.play(i+1, c, script)
		}()
	}
}

// play runs one script on one connection.
func (s *Scripted) play(n int, c net.Conn, script []Step) {
	conn := c
	br := bufio.NewReader(conn)
	for i, st := range script {
		where := fmt.Sprintf("probetest: connection %d step %d (%s)", n, i+1, st.describe)
		switch st.kind {
		case "send":
			if _, err := conn.Write(st.data); err != nil {
				return // the client has gone
			}
		case "expect", "prefix":
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			line, err := br.ReadString('\n')
			conn.SetReadDeadline(time.Time{})
			if err != nil {
				s.fail("%s: got %q then %v", where, line, err)
				return
			}
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if st.kind == "expect" && line != string(st.data) || st.kind == "prefix" && !strings.HasPrefix(line, string(st.data)) {
				s.fail("%s: got %q", where, line)
				return
			}
		case "await":
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err := br.Peek(br.Buffered() + 1)
			conn.SetReadDeadline(time.Time{})
			if err != nil {
				s.fail("%s: %v", where, err)
				return
			}
		case "stall":
			if !s.stall(conn, br, st.d) {
				return
			}
		case "drip", "dripforever":
			for k := 0; ; k++ {
				if st.kind == "drip" && k == len(st.data) {
					break
				}
				if _, err := conn.Write(st.data[k%len(st.data) : k%len(st.data)+1]); err != nil {
					return
				}
				select {
				case <-s.done:
					return
				case <-time.After(st.d):
				}
			}
		case "flood":
			total := int(st.d)
			chunk := bytes.Repeat(st.data, max(1, 64<<10/len(st.data)))
			for w := 0; w < total; {
				b := chunk[:min(len(chunk), total-w)]
				k, err := conn.Write(b)
				w += k
				if err != nil {
					return
				}
			}
		case "close":
			return
		case "reset":
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			return
		case "starttls":
			if br.Buffered() > 0 {
				s.fail("%s: client sent %d bytes before the handshake", where, br.Buffered())
				return
			}
			tc := tls.Server(c, st.tlsCfg)
			tc.SetDeadline(time.Now().Add(30 * time.Second))
			if err := tc.Handshake(); err != nil {
				s.fail("%s: %v", where, err)
				return
			}
			tc.SetDeadline(time.Time{})
			conn, br = tc, bufio.NewReader(tc)
		}
	}
}

// stall waits d, reading and keeping what the client sends; false means
// the client closed or the server is shutting down.
func (s *Scripted) stall(conn net.Conn, br *bufio.Reader, d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		select {
		case <-s.done:
			return false
		default:
		}
		conn.SetReadDeadline(time.Now().Add(min(50*time.Millisecond, time.Until(end))))
		_, err := br.Peek(br.Buffered() + 1)
		if errors.Is(err, bufio.ErrBufferFull) {
			time.Sleep(time.Until(end))
			break
		}
		if err != nil && !isTimeout(err) {
			return false // the client closed, or the server is shutting down
		}
	}
	conn.SetReadDeadline(time.Time{})
	return true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
