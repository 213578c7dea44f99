package probe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// faultServer is a raw TCP SMTP server on 127.0.0.1 that answers by
// strictRules and keeps, server side, what the scheduler must respect:
// how many sessions are open at once (the peak), and each session's
// lines and error replies. Faults are set per test: a cap on concurrent
// sessions (others hear 421 at the greeting), a delay before each error
// reply that grows with the session's errors (a tarpit), and hanging up
// in the middle of a pipelined group.
type faultServer struct {
	l    net.Listener
	ehlo []string
	// allow is how many sessions are served at once; one more is greeted
	// with "421 4.7.0 Too many connections" and closed. 0: any number.
	allow int
	// errDelay is the wait before an error reply, given the error replies
	// the session drew before it; nil: none.
	errDelay func(before int) time.Duration
	// hangup says whether the n-th session to pipeline hangs up after a
	// positive reply to a line that arrived with more lines behind it in
	// the same write (a pipelined group), leaving the rest unanswered.
	// After a positive reply, so the hang-up is no error limit the run
	// could learn.
	hangup func(n int) bool
	// dropBadHello answers an EHLO whose name starts with "-" with 501
	// and hangs up.
	dropBadHello bool
	// linger keeps a session open this long after its 221, as a server
	// that closes a while after its reply does; it counts until then.
	linger time.Duration
	// refuseSecondHello answers a session's second EHLO with 503.
	refuseSecondHello bool
	// holdEarlyMail holds the reply to a MAIL sent before any EHLO.
	holdEarlyMail time.Duration
	// greetAfter holds the greeting; a client that speaks before it is
	// an error.
	greetAfter time.Duration
	// refuseFrom answers MAIL FROM with exactly this path with 550.
	refuseFrom string

	errs    chan error
	mu      sync.Mutex
	active  int // sessions open now: greeted and not yet ended by QUIT or a close
	peak    int
	refused int // sessions greeted with 421
	// hold makes the first allow sessions wait to be greeted until
	// holdRefusals sessions (at least one) were greeted with 421 (or a
	// few seconds): a client that opens more than allow at once then
	// meets every refusal however slowly its dials arrive, rather than
	// finding a held session already ended when a late dial comes.
	hold         bool
	holdRefusals int
	firstRefusal chan struct{} // closed at the holdRefusals-th 421
	pipelined    int           // sessions that sent a pipelined group
	sessions     []*faultSession
}

// faultSession is one accepted connection as the server saw it.
type faultSession struct {
	n       int // 1-based, in accept order
	grouped int // 1-based, in the order sessions first pipelined; 0: never
	lines   []string
	behind  []bool // per line: more of the same write waited behind it
	errors  int    // 4yz and 5yz replies sent, the 421 of a refusal excepted
	hungUp  bool   // it hung up mid-group
	refused bool   // greeted with 421
}

func startFaultServer(t *testing.T, s *faultServer) *faultServer {
	t.Helper()
	if s.ehlo == nil {
		s.ehlo = []string{"PIPELINING", "SIZE 1000000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"}
	}
	s.errs, s.firstRefusal = make(chan error, 16), make(chan struct{})
	s.l = probetest.Serve(t, func(c net.Conn, _ int) { s.serve(c) })
	return s
}

func (s *faultServer) addr() string { return s.l.Addr().String() }

func (s *faultServer) check(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.errs:
		t.Error(err)
	default:
	}
}

func (s *faultServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	s.mu.Lock()
	fs := &faultSession{n: len(s.sessions) + 1}
	s.sessions = append(s.sessions, fs)
	s.active++
	s.peak = max(s.peak, s.active)
	full := s.allow > 0 && s.active > s.allow
	if full {
		fs.refused = true
		s.refused++
		if s.refused == max(1, s.holdRefusals) {
			close(s.firstRefusal)
		}
	}
	s.mu.Unlock()
	ended := false
	end := func() { // counted off once, at QUIT or the close
		s.mu.Lock()
		if !ended {
			s.active--
			ended = true
		}
		s.mu.Unlock()
	}
	defer end()
	if full {
		end() // before the 421: the client may dial again as soon as it reads it
		fmt.Fprint(c, "421 4.7.0 fault.test Too many connections\r\n")
		return
	}
	if s.hold && fs.n <= s.allow {
		select {
		case <-s.firstRefusal:
		case <-time.After(3 * time.Second):
		}
	}
	if s.greetAfter > 0 {
		c.SetReadDeadline(time.Now().Add(s.greetAfter))
		var b [64]byte
		if n, _ := c.Read(b[:]); n > 0 {
			s.errs <- fmt.Errorf("session %d: the client spoke before the greeting: %q", fs.n, b[:n])
			return
		}
		c.SetDeadline(time.Now().Add(time.Minute))
	}
	fmt.Fprint(c, "220 fault.test ESMTP\r\n")
	br := bufio.NewReader(c)
	tx, hellos := false, 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if !strings.HasSuffix(line, "\r\n") {
			s.errs <- fmt.Errorf("session %d: line without CRLF: %q", fs.n, line)
			return
		}
		line = strings.TrimSuffix(line, "\r\n")
		grouped := br.Buffered() > 0 // more of the same write waits behind this line
		s.mu.Lock()
		fs.lines = append(fs.lines, line)
		fs.behind = append(fs.behind, grouped)
		s.mu.Unlock()
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		var reply string
		switch {
		case verb == "EHLO" && s.dropBadHello && strings.HasPrefix(strings.TrimSpace(line[4:]), "-"):
			fmt.Fprint(c, "501 5.5.2 invalid hello name\r\n")
			return
		case verb == "MAIL" && s.refuseFrom != "" && line == "MAIL FROM:<"+s.refuseFrom+">":
			reply = "550 5.7.1 <" + s.refuseFrom + ">: Sender address rejected: Access denied"
		case verb == "EHLO" && s.refuseSecondHello && hellos > 0:
			reply = "503 5.5.1 Duplicate EHLO"
		case verb == "MAIL" && hellos == 0 && s.holdEarlyMail > 0:
			time.Sleep(s.holdEarlyMail)
			reply = "250 2.1.0 ok"
		case verb == "EHLO":
			reply = "250-fault.test"
			for _, k := range s.ehlo {
				reply += "\r\n250-" + k
			}
			reply = reply[:strings.LastIndex(reply, "250-")] + "250 " + s.ehlo[len(s.ehlo)-1]
		case verb == "QUIT" && s.linger > 0:
			fmt.Fprint(c, "221 2.0.0 bye\r\n")
			time.Sleep(s.linger)
			return
		case verb == "QUIT":
			end()
			fmt.Fprint(c, "221 2.0.0 bye\r\n")
			return
		case verb == "DATA" || verb == "BDAT":
			s.errs <- fmt.Errorf("session %d: client sent %s", fs.n, verb)
			return
		case verb == "RSET":
			tx, reply = false, "250 2.0.0 ok"
		case verb == "RCPT" && !tx, verb == "MAIL" && tx:
			reply = "503 5.5.1 bad sequence of commands"
		default:
			reply = strictRules(line, tx)
		}
		if verb == "MAIL" && reply[0] == '2' {
			tx = true
		}
		if verb == "EHLO" {
			hellos++
		}
		if reply[0] == '4' || reply[0] == '5' {
			s.mu.Lock()
			before := fs.errors
			fs.errors++
			s.mu.Unlock()
			if s.errDelay != nil {
				time.Sleep(s.errDelay(before))
			}
		}
		if _, err := fmt.Fprint(c, reply+"\r\n"); err != nil {
			return
		}
		if grouped && fs.grouped == 0 {
			s.mu.Lock()
			s.pipelined++
			fs.grouped = s.pipelined
			s.mu.Unlock()
		}
		if grouped && reply[0] == '2' && s.hangup != nil && s.hangup(fs.grouped) {
			// Hang up with the rest of the group unanswered: FIN, then
			// read what the client still sends until it closes, so the
			// kernel never answers with a reset that could eat the reply
			// just written.
			s.mu.Lock()
			fs.hungUp = true
			s.mu.Unlock()
			end()
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, c)
			return
		}
	}
}

// stats are the server's counts, read once the run is over.
func (s *faultServer) stats() (peak int, sessions []faultSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fs := range s.sessions {
		sessions = append(sessions, *fs)
	}
	return s.peak, sessions
}

// sameFindings fails unless h's verdicts and step outcomes (outcome, reply
// code, annotation) equal those of the lock-step run lock.
func sameFindings(t *testing.T, what string, h, lock probe.HostReport) {
	t.Helper()
	v, s := findings(t, h)
	lv, ls := findings(t, lock)
	if v != lv {
		t.Errorf("%s: verdicts\n%s\nlock-step:\n%s", what, v, lv)
	}
	for name, want := range ls {
		if s[name] != want {
			t.Errorf("%s: %s = %q; lock-step %q", what, name, s[name], want)
		}
	}
	if len(s) != len(ls) {
		t.Errorf("%s: %d steps; lock-step %d", what, len(s), len(ls))
	}
}

// answeredAll fails unless every probe step of h drew a reply that is not
// a 421: the plan completed.
func answeredAll(t *testing.T, what string, h probe.HostReport) {
	t.Helper()
	if h.Incomplete || h.Status != probe.StatusOK {
		t.Errorf("%s: status %s (%s), incomplete %v", what, h.Status, h.Error, h.Incomplete)
	}
	for _, s := range h.Steps {
		if s.Setup || s.Outcome == probe.Skipped && strings.Contains(s.Verdict, "does not advertise") {
			continue
		}
		if s.Reply == nil || s.Reply.Code == 421 || s.Outcome == probe.NoReply || s.Outcome == probe.Skipped {
			t.Errorf("%s: step %s on connection %d: %s %q", what, s.Name, s.Connection, s.Outcome, s.Verdict)
		}
	}
}

// tarpitDelay doubles the wait before each error reply of a session,
// from 200 ms (the least delay the runner takes for a tarpit's) up to
// 800 ms: 200, 400, 800, 800 ... Either mode sees two slow errors that
// grow on one session, and the throttling verdict must be there in both.
func tarpitDelay(before int) time.Duration {
	return min(200*time.Millisecond<<before, 800*time.Millisecond)
}

// TestTarpitDetectedEndToEnd: against a server whose error replies grow
// slower with each error in a session, the run reports the tarpit, moves
// the rest of the error-drawing steps to fresh connections without ever
// holding more connections at once than asked (counted by the server),
// and finds what a lock-step run finds.
func TestTarpitDetectedEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a tarpit takes seconds")
	}
	const conns = 2
	lockSrv := startFaultServer(t, &faultServer{errDelay: tarpitDelay})
	lock := runAt(t, lockSrv.addr(), probe.Options{LockStep: true}).Hosts[0]
	lockSrv.check(t)

	srv := startFaultServer(t, &faultServer{errDelay: tarpitDelay})
	h := runAt(t, srv.addr(), probe.Options{Connections: conns}).Hosts[0]
	srv.check(t)
	sc := h.Schedule
	if sc == nil || !sc.Tarpit || !sc.Pipelining || sc.Mode != probe.ModePipelinedParallel {
		t.Fatalf("schedule %+v; want a tarpit found in pipelined-parallel mode", sc)
	}
	peak, sessions := srv.stats()
	if peak > conns || sc.Peak > conns {
		t.Errorf("%d sessions open at once (the run says %d); the cap is %d", peak, sc.Peak, conns)
	}
	if peak < 2 {
		t.Errorf("peak %d: the run never used parallel sessions", peak)
	}
	// Until the delay of the errors is known, a session risks two steps;
	// once the tarpit showed, one a group, and none after an error: no
	// session draws more than two errors, however many the plan expects
	// to draw none.
	many, withErrors := 0, 0
	for _, fs := range sessions {
		if fs.errors > 0 {
			withErrors++
		}
		if fs.errors > 2 {
			many++
		}
	}
	if many > 0 {
		t.Errorf("%d sessions drew more than two errors", many)
	}
	if withErrors <= conns || len(sessions) != h.Connections {
		t.Errorf("%d sessions drew errors, %d in all (the run says %d): the errors did not move to fresh connections", withErrors, len(sessions), h.Connections)
	}
	if h.Verdicts.Throttling == nil || lock.Verdicts.Throttling == nil {
		t.Errorf("throttling %+v, lock-step %+v: a tarpit throttles in either mode", h.Verdicts.Throttling, lock.Verdicts.Throttling)
	}
	answeredAll(t, "tarpit", h)
	sameFindings(t, "tarpit", h, lock)
	t.Logf("sessions %d, peak %d, schedule %+v; lock-step %+v", len(sessions), peak, *sc, *lock.Schedule)
}

// TestTooManyConnectionsLowersParallel: a server that serves one session
// at a time and greets any other with 421 lowers the run's connection cap;
// the plan still completes, every step answered, with the findings of a
// lock-step run.
func TestTooManyConnectionsLowersParallel(t *testing.T) {
	for _, allow := range []int{1, 2} {
		t.Run(fmt.Sprint(allow), func(t *testing.T) {
			lockSrv := startFaultServer(t, &faultServer{allow: allow})
			lock := runAt(t, lockSrv.addr(), probe.Options{LockStep: true}).Hosts[0]

			// The run opens three at once: 3-allow of them are refused.
			srv := startFaultServer(t, &faultServer{allow: allow, hold: true, holdRefusals: 3 - allow})
			h := runAt(t, srv.addr(), probe.Options{Connections: 3}).Hosts[0]
			srv.check(t)
			sc := h.Schedule
			if sc == nil || sc.Lowered < 1 || sc.Connections > allow || sc.Connections < 1 {
				t.Fatalf("schedule %+v; want the cap lowered to at most %d", sc, allow)
			}
			peak, sessions := srv.stats()
			refused := 0
			for _, fs := range sessions {
				if fs.refused {
					refused++
				}
			}
			if refused == 0 || peak > 3 {
				t.Errorf("%d sessions refused, peak %d: want some refused, never more than 3 at once", refused, peak)
			}
			answeredAll(t, "421", h)
			sameFindings(t, "421", h, lock)
			t.Logf("allow %d: %d sessions, %d refused, peak %d, schedule %+v", allow, len(sessions), refused, peak, *sc)
		})
	}
}

// TestConnectionsCapAtTheServer: a server that closes each session 100 ms
// after its 221 has it open until then, and the run's next connection
// must wait for that: the server never counts more sessions open at once
// than the run's connections.
func TestConnectionsCapAtTheServer(t *testing.T) {
	const conns = 3
	srv := startFaultServer(t, &faultServer{linger: 100 * time.Millisecond})
	h := runAt(t, srv.addr(), probe.Options{Connections: conns}).Hosts[0]
	srv.check(t)
	peak, sessions := srv.stats()
	if peak > conns {
		t.Errorf("the server had %d sessions open at once (the run says %d); the cap is %d", peak, h.Schedule.Peak, conns)
	}
	if peak < 2 || len(sessions) <= conns {
		t.Errorf("peak %d, %d sessions: the run must reopen connections in parallel for the cap to be tested", peak, len(sessions))
	}
	answeredAll(t, "lingering close", h)
	t.Logf("sessions %d, peak %d", len(sessions), peak)
}

// hungUp tells whether the k-th session to pipeline hung up mid-group.
func hungUp(sessions []faultSession, k int) bool {
	for _, fs := range sessions {
		if fs.grouped == k {
			return fs.hungUp
		}
	}
	return false
}

// hangupRun probes a server whose sessions for which hang(n) holds hang
// up in the middle of a pipelined group, and the same server lock-step
// (which sends no groups, so it never hangs up).
func hangupRun(t *testing.T, hang func(n int) bool) (h, lock probe.HostReport, srv *faultServer) {
	t.Helper()
	lockSrv := startFaultServer(t, &faultServer{hangup: hang})
	lock = runAt(t, lockSrv.addr(), probe.Options{LockStep: true}).Hosts[0]
	if _, ss := lockSrv.stats(); len(ss) == 0 || ss[0].hungUp {
		t.Fatalf("the lock-step run met a hang-up: %+v", ss)
	}
	srv = startFaultServer(t, &faultServer{hangup: hang})
	h = runAt(t, srv.addr(), probe.Options{}).Hosts[0]
	srv.check(t)
	if h.Schedule == nil || h.Schedule.Mode != probe.ModePipelinedParallel {
		t.Fatalf("schedule %+v", h.Schedule)
	}
	return h, lock, srv
}

// TestHangupMidGroupResent: a server that hangs up on the first session
// after answering the first line of a pipelined group: the lines it left
// unanswered go again on a new connection, the schedule counts them and
// each such step names the connection it was first sent on, in the JSON
// too; what the run finds equals a lock-step run.
func TestHangupMidGroupResent(t *testing.T) {
	h, lock, srv := hangupRun(t, func(n int) bool { return n == 1 })
	_, sessions := srv.stats()
	if !hungUp(sessions, 1) {
		t.Fatalf("the first session to pipeline did not hang up: %+v", sessions)
	}
	resent := 0
	for _, s := range h.Steps {
		if s.ResentFrom == 0 {
			continue
		}
		resent++
		if s.ResentFrom == s.Connection || s.Reply == nil {
			t.Errorf("step %s resent from connection %d, answered on %d: %+v", s.Name, s.ResentFrom, s.Connection, s.Reply)
		}
	}
	if resent == 0 || h.Schedule.Resent < resent {
		t.Errorf("%d steps name a first connection; the schedule says %d resent", resent, h.Schedule.Resent)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), fmt.Sprintf(`"resent":%d`, h.Schedule.Resent)) || !strings.Contains(string(b), `"resent_from":`) {
		t.Errorf("the JSON does not say what was resent: %s", b)
	}
	answeredAll(t, "hang-up", h)
	sameFindings(t, "hang-up", h, lock)
	t.Logf("%d sessions, schedule %+v", len(sessions), *h.Schedule)
}

// honestEnd fails unless every step of the plan has a result, and every
// step without a reply says why: a server that keeps hanging up ends the
// run with what it answered and the rest marked, never a hang or a
// panic, and a host status other than ok when the run gave up on it.
func honestEnd(t *testing.T, what string, h, lock probe.HostReport) (noReply int) {
	t.Helper()
	_, steps := findings(t, h)
	_, want := findings(t, lock)
	if len(steps) != len(want) {
		t.Errorf("%s: %d steps; the plan has %d", what, len(steps), len(want))
	}
	gaveUp := false
	for _, s := range h.Steps {
		switch {
		case s.Outcome == probe.NoReply || s.Outcome == probe.Skipped:
			noReply++
			if s.Verdict == "" || s.Reply != nil && s.Reply.Code != 0 && s.Outcome == probe.Skipped {
				t.Errorf("%s: step %s: %s with verdict %q", what, s.Name, s.Outcome, s.Verdict)
			}
			gaveUp = gaveUp || strings.Contains(s.Verdict, "not sent: the server")
		case s.Reply == nil:
			t.Errorf("%s: step %s: %s without a reply", what, s.Name, s.Outcome)
		}
	}
	if gaveUp && (h.Status == probe.StatusOK || h.Error == "") {
		t.Errorf("%s: the run gave up on the host, yet its status is %q (%q)", what, h.Status, h.Error)
	}
	return noReply
}

// TestHangupTwiceMidGroup: the first two sessions hang up mid-group: the
// run still ends with every step accounted for.
func TestHangupTwiceMidGroup(t *testing.T) {
	h, lock, srv := hangupRun(t, func(n int) bool { return n <= 2 })
	_, sessions := srv.stats()
	if !hungUp(sessions, 1) || !hungUp(sessions, 2) {
		t.Fatalf("the first two sessions to pipeline did not both hang up")
	}
	if h.Schedule.Resent == 0 {
		t.Errorf("nothing resent: %+v", *h.Schedule)
	}
	n := honestEnd(t, "twice", h, lock)
	t.Logf("%d sessions, %d steps unanswered, status %s, schedule %+v", len(sessions), n, h.Status, *h.Schedule)
}

// TestHangupAlwaysMidGroup: every session hangs up mid-group. The run
// ends, within its connection bound, with the replies it got, the steps
// that drew none marked, and the host's status saying it was given up.
func TestHangupAlwaysMidGroup(t *testing.T) {
	h, lock, srv := hangupRun(t, func(int) bool { return true })
	_, sessions := srv.stats()
	n := honestEnd(t, "always", h, lock)
	if n == 0 {
		t.Errorf("every step answered by a server that always hangs up mid-group")
	}
	if h.Status == probe.StatusOK {
		t.Errorf("status ok (%q) for a server that hangs up on every group", h.Error)
	}
	if len(sessions) != h.Connections || len(sessions) > len(h.Steps)+4 {
		t.Errorf("%d sessions (the run says %d) for %d steps", len(sessions), h.Connections, len(h.Steps))
	}
	t.Logf("%d sessions, %d steps unanswered, status %s (%s), schedule %+v", len(sessions), n, h.Status, h.Error, *h.Schedule)
}

// TestSessionWithoutEHLOGoesOn: the session that sends its steps before
// any EHLO then says a proper EHLO and carries its share of the plan, in
// parallel and in sequential runs, with the findings of a lock-step run
// (which sends those steps on a session of their own). The fault server
// keeps the transaction the MAIL before EHLO opened, across the EHLO, so
// the plan's first transaction on that session must start with RSET.
// When the server hangs up on the bad EHLO, the plan goes on elsewhere.
func TestSessionWithoutEHLOGoesOn(t *testing.T) {
	lockSrv := startFaultServer(t, &faultServer{})
	lock := runAt(t, lockSrv.addr(), probe.Options{LockStep: true}).Hosts[0]
	for _, conns := range []int{1, 3} {
		t.Run(fmt.Sprint(conns), func(t *testing.T) {
			srv := startFaultServer(t, &faultServer{})
			h := runAt(t, srv.addr(), probe.Options{Connections: conns}).Hosts[0]
			srv.check(t)
			_, sessions := srv.stats()
			var early *faultSession
			for i, fs := range sessions {
				if len(fs.lines) > 0 && strings.HasPrefix(fs.lines[0], "MAIL FROM:") {
					early = &sessions[i]
				}
			}
			if early == nil {
				t.Fatalf("no session began with MAIL FROM before EHLO")
			}
			l := early.lines
			if len(l) < 5 || !strings.HasPrefix(l[1], "EHLO -") || l[2] != "EHLO client.test" || l[len(l)-1] != "QUIT" {
				t.Fatalf("session %d sent %q; want MAIL, the bad EHLO, EHLO client.test, then plan lines", early.n, l)
			}
			if tx := slices.IndexFunc(l[3:], func(s string) bool { return strings.HasPrefix(s, "MAIL") || strings.HasPrefix(s, "RCPT") }); tx >= 0 && !slices.Contains(l[3:3+tx], "RSET") {
				t.Errorf("session %d sent %q: no RSET before its first transaction after EHLO", early.n, l)
			}
			// The steps before EHLO and the plan steps the session carried
			// share its number in the report.
			n := stepsByName(h)["mail-before-ehlo"].Connection
			shared := 0
			for _, st := range h.Steps {
				if st.Connection == n && !st.Setup && st.Name != "mail-before-ehlo" && st.Name != "ehlo-invalid-name" {
					shared++
				}
			}
			if shared == 0 || len(sessions) != h.Connections {
				t.Errorf("%d plan steps on connection %d; %d sessions (the report says %d)", shared, n, len(sessions), h.Connections)
			}
			answeredAll(t, "without EHLO", h)
			sameFindings(t, "without EHLO", h, lock)
		})
	}
	t.Run("hang-up", func(t *testing.T) {
		lockSrv := startFaultServer(t, &faultServer{dropBadHello: true})
		lock := runAt(t, lockSrv.addr(), probe.Options{LockStep: true}).Hosts[0]
		srv := startFaultServer(t, &faultServer{dropBadHello: true})
		h := runAt(t, srv.addr(), probe.Options{}).Hosts[0]
		srv.check(t)
		_, sessions := srv.stats()
		for _, fs := range sessions {
			if len(fs.lines) > 2 && strings.HasPrefix(fs.lines[1], "EHLO -") {
				t.Errorf("session %d went on after the server hung up on its EHLO: %q", fs.n, fs.lines)
			}
		}
		if len(sessions) != h.Connections {
			t.Errorf("%d sessions; the report says %d", len(sessions), h.Connections)
		}
		st := stepsByName(h)["ehlo-invalid-name"]
		if st.Reply == nil || st.Reply.Code != 501 {
			t.Errorf("ehlo-invalid-name: %+v (%s); want the 501", st.Reply, st.Verdict)
		}
		for _, s := range h.Steps {
			if s.Name == "ehlo-invalid-name" {
				continue
			}
			if s.Setup || s.Outcome == probe.Skipped && strings.Contains(s.Verdict, "does not advertise") {
				continue
			}
			if s.Reply == nil || s.Outcome == probe.NoReply || s.Outcome == probe.Skipped {
				t.Errorf("step %s on connection %d: %s %q", s.Name, s.Connection, s.Outcome, s.Verdict)
			}
		}
		sameFindings(t, "hang-up after the bad EHLO", h, lock)
	})
}

// TestAcceptingServerGroupsGrow: a server that accepts every line draws
// no error whose delay could tell a tarpit from a fast server, so the
// groups the run risks grow with what the session accepted rather than
// staying at two steps: one connection at a time, the plan takes little
// more than its VRFY/EXPN groups, each of which must close one.
func TestAcceptingServerGroupsGrow(t *testing.T) {
	all := probetest.MTA{Name: "accept-all", Banner: "220 all.test ESMTP",
		EHLO:     []string{"250-all.test", "250-PIPELINING", "250-SIZE 1000000", "250 8BITMIME"},
		Defaults: map[string]string{"VRFY": "252 2.0.0 Cannot VRFY user", "EXPN": "252 2.0.0 Cannot EXPN"}}
	srv := probetest.StartMTA(t, all)
	h := runAt(t, srv.Addr(), probe.Options{Connections: 1}).Hosts[0]
	ve := 0
	for _, s := range h.Steps {
		if (s.Command == explain.VRFY || s.Command == explain.EXPN) && s.Outcome != probe.Skipped {
			ve++
		}
	}
	if sc := h.Schedule; sc == nil || sc.Groups > ve+3 {
		t.Errorf("schedule %+v: more than %d VRFY/EXPN groups and three", sc, ve)
	}
	answeredAll(t, "accept-all", h)
}

// TestNothingBeforeTheGreeting: in every mode, no connection sends a
// byte before the server's greeting (RFC 2920 §3.1 lets no command go
// ahead of it), the session without EHLO included.
func TestNothingBeforeTheGreeting(t *testing.T) {
	for name, o := range map[string]probe.Options{"default": {}, "one at a time": {Connections: 1}, "lock-step": {LockStep: true}} {
		t.Run(name, func(t *testing.T) {
			srv := startFaultServer(t, &faultServer{greetAfter: 50 * time.Millisecond})
			h := runAt(t, srv.addr(), o).Hosts[0]
			srv.check(t)
			answeredAll(t, name, h)
		})
	}
}

// TestNoPipeliningUnadvertised: a server that does not advertise
// PIPELINING (OpenSMTPD) never meets a group, in the default mode
// either: every line waits for the reply to the one before it.
func TestNoPipeliningUnadvertised(t *testing.T) {
	ehlo := []string{"SIZE 1000000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"}
	lockSrv := startFaultServer(t, &faultServer{ehlo: ehlo})
	lock := runAt(t, lockSrv.addr(), probe.Options{LockStep: true}).Hosts[0]
	srv := startFaultServer(t, &faultServer{ehlo: ehlo})
	h := runAt(t, srv.addr(), probe.Options{}).Hosts[0]
	srv.check(t)
	_, sessions := srv.stats()
	for _, fs := range sessions {
		if fs.grouped != 0 {
			t.Errorf("session %d sent lines in one write to a server without PIPELINING: %q", fs.n, fs.lines)
		}
	}
	if sc := h.Schedule; sc == nil || sc.Pipelining || sc.Mode == probe.ModePipelined || sc.Mode == probe.ModePipelinedParallel {
		t.Errorf("schedule %+v; want no pipelining", sc)
	}
	answeredAll(t, "no PIPELINING", h)
	sameFindings(t, "no PIPELINING", h, lock)
}

// TestSecondHelloRefused: a server that answers a session's second EHLO
// with 503 leaves the session without EHLO unusable for the plan: it
// quits rather than carry steps on a session with no accepted hello, and
// the findings are those of a lock-step run (which never sends a second
// EHLO).
func TestSecondHelloRefused(t *testing.T) {
	lockSrv := startFaultServer(t, &faultServer{refuseSecondHello: true})
	lock := runAt(t, lockSrv.addr(), probe.Options{LockStep: true}).Hosts[0]
	for _, conns := range []int{1, 3} {
		t.Run(fmt.Sprint(conns), func(t *testing.T) {
			srv := startFaultServer(t, &faultServer{refuseSecondHello: true})
			h := runAt(t, srv.addr(), probe.Options{Connections: conns}).Hosts[0]
			srv.check(t)
			_, sessions := srv.stats()
			for _, fs := range sessions {
				if i := slices.Index(fs.lines, "EHLO client.test"); i > 0 && len(fs.lines) > i+1 && fs.lines[i+1] != "QUIT" {
					t.Errorf("session %d went on after its second EHLO was refused: %q", fs.n, fs.lines)
				}
			}
			answeredAll(t, "second EHLO refused", h)
			sameFindings(t, "second EHLO refused", h, lock)
		})
	}
}

// TestEndDuringSessionWithoutEHLO: a run whose time runs out while the
// session without EHLO waits for a reply, before any other connection
// was made, reports the host as not tried in full, with the run's end as
// its status and the session in the count and the transcript, not a host
// with no status.
func TestEndDuringSessionWithoutEHLO(t *testing.T) {
	srv := startFaultServer(t, &faultServer{holdEarlyMail: time.Second})
	target, err := probe.ParseTarget(srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rep, err := probe.Run(ctx, probe.Options{Target: target, Domain: "rule.test", HELO: "client.test", From: "probe@client.test",
		TLS: "none", Random: "smtpprobe-r4nd0m", Timeout: 5 * time.Second, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := rep.Hosts[0]
	if h.Status == "" || h.Status == probe.StatusOK || !h.Incomplete || h.Connections != 1 || !strings.Contains(h.Error, "ended") {
		t.Errorf("status %q (%s), incomplete %v, %d connections; want the run's end as the status, incomplete, and the session counted", h.Status, h.Error, h.Incomplete, h.Connections)
	}
	if len(h.Transcript) == 0 || h.Transcript[0].Connection != 1 {
		t.Errorf("transcript %+v; want the session's lines, as connection 1", h.Transcript)
	}
}

// TestLockStepScheduleCountsSessionWithoutEHLO: run after the plan (lock
// step), the session without EHLO is in the schedule's wall time and
// groups as in its round trips: a server that holds its reply to the MAIL
// before EHLO for 300 ms makes a wall of at least that.
func TestLockStepScheduleCountsSessionWithoutEHLO(t *testing.T) {
	srv := startFaultServer(t, &faultServer{holdEarlyMail: 300 * time.Millisecond})
	h := runAt(t, srv.addr(), probe.Options{LockStep: true}).Hosts[0]
	_, sessions := srv.stats()
	sent := 0 // lines that waited for their replies, the hello and QUIT of each session aside
	for _, fs := range sessions {
		for _, l := range fs.lines {
			if l != "EHLO client.test" && l != "QUIT" {
				sent++
			}
		}
	}
	if sc := h.Schedule; sc == nil || sc.WallMS < 300 || sc.Groups != sent {
		t.Errorf("schedule %+v; want a wall of at least 300 ms and a group for each of the %d lines sent", sc, sent)
	}
}

// TestRefusedSenderFirstTransactionAwaited: the first transaction on a
// pipelining server is sent small (its MAIL FROM and one step) and
// awaited, so a refused MAIL FROM has at most one line pipelined behind
// it on each connection that opened one before the refusal was known,
// not the dozen RCPTs that would each draw a 503; every later step that
// needed the transaction is reported as not sent, saying why.
func TestRefusedSenderFirstTransactionAwaited(t *testing.T) {
	for name, tc := range map[string]struct {
		o      probe.Options
		atMost int
	}{"default": {probe.Options{}, probe.DefaultConnections}, "one at a time": {probe.Options{Connections: 1}, 1}} {
		t.Run(name, func(t *testing.T) {
			srv := startFaultServer(t, &faultServer{refuseFrom: "probe@client.test"})
			h := runAt(t, srv.addr(), tc.o).Hosts[0]
			srv.check(t)
			_, sessions := srv.stats()
			behind := 0 // steps sent in the transaction a refused MAIL FROM was to open
			for _, fs := range sessions {
				open := false
				for _, l := range fs.lines {
					switch {
					case l == "MAIL FROM:<probe@client.test>":
						open = true
					case l == "RSET" || strings.HasPrefix(l, "EHLO") || strings.HasPrefix(l, "VRFY") || strings.HasPrefix(l, "EXPN") || l == "QUIT":
						open = false
					case open:
						behind++
					}
				}
			}
			if behind > tc.atMost {
				t.Errorf("%d lines went behind a refused MAIL FROM; at most %d (one a connection's first transaction)", behind, tc.atMost)
			}
			st := stepsByName(h)["rcpt-well-formed"]
			if st.Outcome != probe.Skipped || !strings.Contains(st.Verdict, "refused MAIL FROM:<probe@client.test>") {
				t.Errorf("rcpt-well-formed: %s %q; want not sent, because the sender was refused", st.Outcome, st.Verdict)
			}
		})
	}
}
