package probetest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// LineReply is what a LineServer writes in answer to one client line.
type LineReply struct {
	Out   string      // raw bytes to write, terminators included
	Close bool        // close the connection after writing Out
	TLS   *tls.Config // after Out, run the server side of a TLS handshake (STARTTLS)
	Drip  string      // after Out, write Drip again and again, a byte a second, until the client leaves
	// Again, when set, is written Later after Out, before the next line
	// is read: a reply repeated late, or lines sent when nothing was asked.
	Again string
	Later time.Duration
}

// LineConn is the state of one connection of a LineServer.
type LineConn struct {
	N      int // 1-based connection number
	Errors int // 4yz and 5yz replies sent on this connection so far
}

// AnswerFunc answers one line from the client, CRLF stripped.
type AnswerFunc func(c *LineConn, line string) LineReply

// LineServer is a raw SMTP server on loopback that writes a banner and
// answers each line by a function: a server with whatever rule, text or
// misbehaviour a test needs, in a few lines of Go.
type LineServer struct {
	l        net.Listener
	accepted atomic.Int32
	mu       sync.Mutex
	received bytes.Buffer
}

// StartLineServer listens on 127.0.0.1:0, writes banner (terminators
// included) on each connection and answers each line with answer. It
// stops, dropping its connections, in t.Cleanup.
func StartLineServer(t testing.TB, banner string, answer AnswerFunc) *LineServer {
	t.Helper()
	s := &LineServer{}
	s.l = Serve(t, func(c net.Conn, n int) {
		s.accepted.Add(1)
		s.serve(c, &LineConn{N: n}, banner, answer)
	})
	return s
}

// Addr is the server's host:port.
func (s *LineServer) Addr() string { return s.l.Addr().String() }

// Accepted is the number of connections accepted so far.
func (s *LineServer) Accepted() int { return int(s.accepted.Load()) }

// Received is every byte clients sent, in plain text or not.
func (s *LineServer) Received() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.received.Bytes()...)
}

func (s *LineServer) serve(c net.Conn, lc *LineConn, banner string, answer AnswerFunc) {
	defer func() { c.Close() }()
	c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := c.Write([]byte(banner)); err != nil {
		return
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		s.mu.Lock()
		s.received.WriteString(line)
		s.mu.Unlock()
		if err != nil {
			return
		}
		r := answer(lc, strings.TrimRight(line, "\r\n"))
		if strings.HasPrefix(r.Out, "4") || strings.HasPrefix(r.Out, "5") {
			lc.Errors++
		}
		if _, err := c.Write([]byte(r.Out)); err != nil || r.Close {
			return
		}
		if r.Again != "" {
			time.Sleep(r.Later)
			if _, err := c.Write([]byte(r.Again)); err != nil {
				return
			}
		}
		for i := 0; r.Drip != ""; i++ {
			if _, err := c.Write([]byte{r.Drip[i%len(r.Drip)]}); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
		if r.TLS != nil {
			tc := tls.Server(c, r.TLS)
			if tc.Handshake() != nil {
				return
			}
			c, br = tc, bufio.NewReader(tc)
		}
	}
}
