// Package resolvertest runs authoritative DNS servers on loopback for tests
// and demos: a zone served from RFC 1035 master-file text, and servers that
// misbehave on purpose (never answer, answer late, answer garbage, refuse,
// truncate with no TCP service).
package resolvertest

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Behavior is how a server misbehaves. The zero value is a well-behaved
// authoritative server.
type Behavior struct {
	// Rcode, when non-zero, is the response code of every answer
	// (dns.RcodeServerFailure, dns.RcodeRefused, ...), with no records.
	Rcode int
	// Delay holds every answer back this long before it is sent.
	Delay time.Duration
	// Silent servers read queries and never answer, on UDP or TCP.
	Silent bool
	// Malformed answers are bytes that do not parse as a DNS message.
	Malformed bool
	// Truncate answers every UDP query with the TC bit and no records.
	Truncate bool
	// NoTCP serves UDP only: TCP connections to the port are refused.
	NoTCP bool
	// SilentTCP accepts TCP connections and reads queries on them but
	// never answers; UDP is served as the other fields say. With
	// Truncate, it is the server whose TCP fallback hangs.
	SilentTCP bool
	// AD sets the authenticated-data bit on answers, as a validating
	// resolver does for DNSSEC-signed data (RFC 4035 §3.2.3).
	AD bool
	// Insecure names (and the names below them) are answered without the
	// AD bit even when AD is set: data from unsigned zones.
	Insecure []string
	// Bogus names (and the names below them) are answered SERVFAIL, as a
	// validating resolver answers data that fails validation.
	Bogus []string
	// Types, when set, limits Rcode, Delay, Malformed and Truncate to
	// queries of these types; others are answered from the zone.
	Types []uint16
}

// applies reports whether the misbehaviour applies to a query of qtype.
func (b Behavior) applies(qtype uint16) bool {
	return len(b.Types) == 0 || slices.Contains(b.Types, qtype)
}

// Server is an authoritative DNS server on 127.0.0.1, UDP and TCP on the
// same port.
type Server struct {
	addr     string
	zone     *Zone
	behavior Behavior
	udp      *dns.Server
	tcp      *dns.Server
	stop     chan struct{}

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// NewServer starts a well-behaved authoritative server for the records in
// zone, RFC 1035 master-file text (use $ORIGIN; several zones may follow
// one another).
func NewServer(zone string) (*Server, error) {
	return NewServerBehavior(zone, Behavior{})
}

// NewServerBehavior starts a server for zone that misbehaves as b says.
func NewServerBehavior(zone string, b Behavior) (*Server, error) {
	z, err := ParseZone(zone)
	if err != nil {
		return nil, err
	}
	pc, l, err := listenPair(!b.NoTCP)
	if err != nil {
		return nil, err
	}
	s := &Server{addr: pc.LocalAddr().String(), zone: z, behavior: b, stop: make(chan struct{})}
	if b.Silent {
		s.serveSilent(pc, l)
		return s, nil
	}
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: notify}
	s.startServer(s.udp)
	want := 1
	if l != nil && b.SilentTCP {
		closeTCP := s.silentTCP(l)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			<-s.stop
			closeTCP()
		}()
	} else if l != nil {
		s.tcp = &dns.Server{Listener: l, Handler: s, NotifyStartedFunc: notify}
		s.startServer(s.tcp)
		want = 2
	}
	for range want {
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			s.Close()
			return nil, errors.New("resolvertest: server did not start")
		}
	}
	return s, nil
}

// listenPair binds UDP on a port the kernel picks and, when withTCP, TCP
// on the same port. The port can be taken for TCP by someone else, so it
// tries again with a new one a few times.
func listenPair(withTCP bool) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		if !withTCP {
			return pc, nil, nil
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("resolvertest: no port free for both UDP and TCP: %w", lastErr)
}

func (s *Server) startServer(srv *dns.Server) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		srv.ActivateAndServe() // returns when shut down
	}()
}

// serveSilent reads and discards every query: a server that never answers.
func (s *Server) serveSilent(pc net.PacketConn, l net.Listener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 65535)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	closers := []func() error{pc.Close}
	if l != nil {
		closers = append(closers, s.silentTCP(l))
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.stop
		for _, c := range closers {
			c()
		}
	}()
}

// silentTCP accepts connections on l and never answers them. The returned
// func closes l and every connection.
func (s *Server) silentTCP(l net.Listener) func() error {
	var mu sync.Mutex
	var conns []net.Conn
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return func() error {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		return nil
	}
}

// Start is NewServer for tests: it fails t on error and closes the server
// in t.Cleanup.
func Start(t testing.TB, zone string) *Server {
	t.Helper()
	return StartBehavior(t, zone, Behavior{})
}

// StartBehavior is NewServerBehavior for tests.
func StartBehavior(t testing.TB, zone string, b Behavior) *Server {
	t.Helper()
	s, err := NewServerBehavior(zone, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Addr is the server's "127.0.0.1:PORT", the same port for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		var errs []error
		if s.udp != nil {
			errs = append(errs, s.udp.Shutdown())
		}
		if s.tcp != nil {
			errs = append(errs, s.tcp.Shutdown())
		}
		s.wg.Wait()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// ServeDNS answers one query according to the server's behaviour.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	b := s.behavior
	if len(req.Question) == 1 && !b.applies(req.Question[0].Qtype) {
		b = Behavior{}
	}
	if b.Delay > 0 {
		select {
		case <-time.After(b.Delay):
		case <-s.stop:
			return
		}
	}
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	var qname string
	if len(req.Question) == 1 {
		qname = lower(req.Question[0].Name)
	}
	if within(qname, s.behavior.Bogus) {
		b.Rcode = dns.RcodeServerFailure
	}
	switch {
	case b.Malformed:
		// a header claiming one answer that is not there
		garbage := []byte{0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff}
		garbage[0], garbage[1] = byte(req.Id>>8), byte(req.Id)
		w.Write(garbage)
		return
	case b.Rcode != 0:
		m := new(dns.Msg)
		m.SetRcode(req, b.Rcode)
		w.WriteMsg(m)
		return
	case b.Truncate && udp:
		m := new(dns.Msg)
		m.SetReply(req)
		m.Truncated = true
		w.WriteMsg(m)
		return
	}
	m := s.zone.Answer(req)
	m.AuthenticatedData = s.behavior.AD && !within(qname, s.behavior.Insecure)
	if udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

// within reports whether name is one of names or below one.
func within(name string, names []string) bool {
	for _, n := range names {
		n = lower(n)
		if name == n || strings.HasSuffix(name, "."+n) {
			return true
		}
	}
	return false
}

// lower is a name in canonical lower case, fully qualified.
func lower(name string) string { return strings.ToLower(dns.Fqdn(name)) }
