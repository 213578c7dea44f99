package probe

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/pool"
)

// cannedServer answers the runner's lines with canned replies, keeping the
// state a real server would (a transaction, its error count), so the
// runner's bookkeeping can be tested without the wire. The wire itself is
// tested against real sockets elsewhere.
type cannedServer struct {
	answer    func(line string, inTx bool) int // reply code for a line
	hardLimit int                              // after this many errors: 421 and close (0: never)
	sessions  [][]string                       // lines received, per connection
	dials     int
	failDial  bool
	mailInTx  []string // MAIL lines received inside a transaction
	ext       []string // EHLO keywords; default SMTPUTF8 and SIZE 1000
	mu        sync.Mutex
}

type cannedConn struct {
	srv    *cannedServer
	ext    Extensions
	n      int
	inTx   bool
	errs   int
	closed bool
}

func (s *cannedServer) dial(ctx context.Context, _ int) (pool.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dials++
	if s.failDial {
		return nil, errors.New("connection refused")
	}
	s.sessions = append(s.sessions, nil)
	ext := s.ext
	if ext == nil {
		ext = []string{"SMTPUTF8", "SIZE 1000"}
	}
	return &cannedConn{srv: s, n: len(s.sessions) - 1, ext: ParseExtensions(ext)}, nil
}

func (c *cannedConn) Extensions() Extensions      { return c.ext }
func (c *cannedConn) ReplyTimes() []time.Duration { return nil }
func (c *cannedConn) Pipeline(ctx context.Context, lines []string) ([]Reply, error) {
	var out []Reply
	for _, l := range lines {
		r, err := c.Cmd(ctx, l)
		out = append(out, r)
		if err != nil || c.closed {
			return out, err
		}
	}
	return out, nil
}

func (c *cannedConn) Cmd(ctx context.Context, line string) (Reply, error) {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	if c.closed {
		return Reply{}, errors.New("closed by server")
	}
	c.srv.sessions[c.n] = append(c.srv.sessions[c.n], line)
	if c.srv.hardLimit > 0 && c.errs >= c.srv.hardLimit {
		c.closed = true
		return Reply{Code: 421, Lines: []string{"too many errors"}}, nil
	}
	var code int
	switch {
	case line == "RSET":
		c.inTx, code = false, 250
	case strings.HasPrefix(line, "MAIL") && c.inTx:
		c.srv.mailInTx = append(c.srv.mailInTx, line)
		code = 503
	case strings.HasPrefix(strings.ToUpper(line), "RCPT") && !c.inTx:
		code = 503
	default:
		code = c.srv.answer(line, c.inTx)
	}
	if strings.HasPrefix(strings.ToUpper(line), "MAIL") && code/100 == 2 {
		c.inTx = true
	}
	if code >= 400 {
		c.errs++
	}
	return Reply{Code: code, Lines: []string{"canned"}}, nil
}

func (c *cannedConn) Quit(ctx context.Context) (Reply, error) {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	c.srv.sessions[c.n] = append(c.srv.sessions[c.n], "QUIT")
	c.closed = true
	return Reply{Code: 221}, nil
}
func (c *cannedConn) Close() error { c.closed = true; return nil }
func (c *cannedConn) Closed() bool { return c.closed }

// strictAnswer is a server that checks the envelope by the RFC's letter.
func strictAnswer(line string, inTx bool) int {
	switch {
	case strings.HasPrefix(line, "VRFY"):
		if line == "VRFY" {
			return 501
		}
		if strings.Contains(line, "smtpprobe-") {
			return 550
		}
		return 252
	case strings.HasPrefix(line, "EXPN"):
		return 502
	case strings.Contains(line, "XSMTPPROBE"):
		return 555
	case strings.Contains(line, "SIZE="):
		return 552
	case strings.HasPrefix(line, "MAIL FROM:<") && !strings.Contains(line, "@") && !strings.HasPrefix(line, "MAIL FROM:<>"):
		return 553 // no domain (RFC 5321 §4.1.2)
	case strings.Contains(line, " >"):
		return 501
	case strings.Contains(line, ":<") && strings.HasSuffix(line, ">") && !strings.Contains(line, "@@") && !strings.Contains(line, "ü") || strings.HasSuffix(line, "SMTPUTF8"):
		if strings.Contains(line, "smtpprobe-") {
			return 550
		}
		return 250
	}
	return 501
}

func TestRunnerSpreadsErrorsAcrossConnections(t *testing.T) {
	srv := &cannedServer{answer: strictAnswer, hardLimit: 3}
	steps := Plan(PlanInput{Domain: "lab.test", User: "alice", From: "p@client.test", Random: "smtpprobe-r"})
	r := &runner{dial: srv.dial, from: "p@client.test"}
	res := r.run(context.Background(), steps)
	if res.DialErr != nil {
		t.Fatal(res.DialErr)
	}
	if res.ErrorLimit == nil || *res.ErrorLimit != 3 {
		t.Errorf("error_limit = %v; want 3", res.ErrorLimit)
	}
	sent := 0
	for _, s := range res.Steps {
		if s.Setup {
			continue
		}
		sent++
		if s.Outcome == NoReply || s.Reply == nil && s.Outcome != Skipped {
			t.Errorf("%s: %s (%s)", s.Name, s.Outcome, s.Verdict)
		}
		if s.Reply != nil && s.Reply.Code == 421 {
			t.Errorf("%s: the 421 of a dropped session was kept as its reply", s.Name)
		}
	}
	if sent != len(steps) {
		t.Errorf("%d step results for %d steps", sent, len(steps))
	}
	// Only the session that taught the limit was dropped: every later one
	// ends with QUIT, because the runner reconnects before the limit.
	for i, sess := range srv.sessions[1:] {
		if sess[len(sess)-1] != "QUIT" {
			t.Errorf("session %d was dropped (ends %q)", i+2, sess[len(sess)-1])
		}
	}
	if res.Connections < 5 {
		t.Errorf("the suite ran on %d connections; a server dropping after 3 errors needs more", res.Connections)
	}
	last := srv.sessions[len(srv.sessions)-1]
	if last[len(last)-1] != "QUIT" {
		t.Errorf("last session ends with %q, not QUIT", last[len(last)-1])
	}
	for _, sess := range srv.sessions {
		for _, l := range sess {
			if l == "DATA" || strings.HasPrefix(l, "BDAT") {
				t.Fatalf("runner sent %s", l)
			}
		}
	}
	v := Summarize(res.Steps)
	if v.EnvelopeSyntax == nil || v.EnvelopeSyntax.Verdict != SyntaxStrict {
		t.Errorf("envelope_syntax = %+v; want strict", v.EnvelopeSyntax)
	}
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != PolicyLeaks {
		t.Errorf("vrfy_policy = %+v; want leaks", v.VRFYPolicy)
	}
	if v.CatchAll == nil || *v.CatchAll {
		t.Errorf("catch_all = %v; want false", v.CatchAll)
	}
}

func TestRunnerTransactions(t *testing.T) {
	srv := &cannedServer{answer: strictAnswer}
	steps := Plan(PlanInput{Domain: "lab.test", User: "alice", From: "p@client.test", Random: "smtpprobe-r", Suites: []string{"syntax"}})
	r := &runner{dial: srv.dial, from: "p@client.test", budget: 100}
	res := r.run(context.Background(), steps)
	byName := map[string]StepResult{}
	for _, s := range res.Steps {
		byName[s.Name] = s
	}
	for name, code := range map[string]int{"rcpt-before-mail": 503, "mail-twice": 503, "mail-well-formed": 250, "rcpt-well-formed": 250,
		"mail-size-over-limit": 552, "mail-utf8-with-smtputf8": 250, "rcpt-no-brackets": 501} {
		if got := byName[name]; got.Reply == nil || got.Reply.Code != code {
			t.Errorf("%s: reply %+v; want %d", name, got.Reply, code)
		}
	}
	if got := byName["mail-size-over-limit"].Sent; got != "MAIL FROM:<p@client.test> SIZE=1001" {
		t.Errorf("SIZE step sent %q", got)
	}
	if len(srv.sessions) != 1 {
		t.Fatalf("%d sessions; want 1 with a large budget", len(srv.sessions))
	}
	// Only mail-twice may send MAIL inside a transaction; every other MAIL
	// follows an RSET or the session start.
	if len(srv.mailInTx) != 1 || srv.mailInTx[0] != "MAIL FROM:<p@client.test>" {
		t.Errorf("MAIL lines sent inside a transaction: %q", srv.mailInTx)
	}
}

func TestRunnerSkipsUnadvertised(t *testing.T) {
	srv := &cannedServer{answer: strictAnswer}
	srv.ext = []string{}
	r := &runner{dial: srv.dial, from: "p@client.test"}
	res := r.run(context.Background(), Plan(PlanInput{Domain: "lab.test", From: "p@client.test", Suites: []string{"syntax"}}))
	for _, s := range res.Steps {
		if s.Name == "mail-size-over-limit" || s.Name == "mail-utf8-with-smtputf8" {
			if s.Outcome != Skipped {
				t.Errorf("%s sent to a server that does not advertise what it needs", s.Name)
			}
		}
	}
}

func TestRunnerRefusedMailSkipsTransactions(t *testing.T) {
	srv := &cannedServer{answer: func(line string, inTx bool) int {
		if strings.HasPrefix(line, "MAIL") {
			return 550
		}
		return 250
	}}
	r := &runner{dial: srv.dial, from: "p@client.test"}
	res := r.run(context.Background(), Plan(PlanInput{Domain: "lab.test", From: "p@client.test", Suites: []string{"syntax"}}))
	for _, s := range res.Steps {
		if s.step.State == InMail && s.Name != "mail-twice" && s.Outcome != Skipped && !s.Setup {
			t.Errorf("%s: %s although no transaction could open", s.Name, s.Outcome)
		}
	}
}

func TestRunnerDialFailure(t *testing.T) {
	srv := &cannedServer{failDial: true}
	r := &runner{dial: srv.dial, from: "p@client.test"}
	res := r.run(context.Background(), Plan(PlanInput{Domain: "lab.test", From: "p@client.test"}))
	if res.DialErr == nil || len(res.Steps) != 0 {
		t.Errorf("dial failure: err %v, %d steps", res.DialErr, len(res.Steps))
	}
}

func TestRunnerCanceled(t *testing.T) {
	srv := &cannedServer{answer: strictAnswer}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	r := &runner{dial: srv.dial, from: "p@client.test"}
	r.dial = func(c context.Context, k int) (pool.Session, error) {
		n++
		cancel()
		return srv.dial(c, k)
	}
	res := r.run(ctx, Plan(PlanInput{Domain: "lab.test", From: "p@client.test"}))
	for _, s := range res.Steps {
		if s.Outcome != Skipped {
			t.Errorf("%s ran after the deadline", s.Name)
		}
	}
	if n != 1 {
		t.Errorf("%d dials after cancel", n)
	}
}

func TestRunnerServerDroppingAfterEveryError(t *testing.T) {
	srv := &cannedServer{answer: strictAnswer, hardLimit: 1}
	r := &runner{dial: srv.dial, from: "p@client.test"}
	steps := Plan(PlanInput{Domain: "lab.test", From: "p@client.test", Suites: []string{"vrfy"}})
	res := r.run(context.Background(), steps)
	if res.ErrorLimit == nil || *res.ErrorLimit != 1 {
		t.Errorf("error_limit = %v; want 1", res.ErrorLimit)
	}
	for _, s := range res.Steps {
		if s.Reply == nil || s.Reply.Code == 421 {
			t.Errorf("%s: %+v (%s)", s.Name, s.Reply, s.Verdict)
		}
	}
	if r.pool.Budget() != 1 {
		t.Errorf("budget %d after a limit of 1", r.pool.Budget())
	}
}

func TestRunnerGivesUpOnAStepAfterTwoDrops(t *testing.T) {
	// A server that closes at the first command: each step gets one retry,
	// then a no-reply result; the run ends within the connection bound.
	srv := &cannedServer{answer: strictAnswer}
	dial := func(ctx context.Context, n int) (pool.Session, error) {
		c, err := srv.dial(ctx, n)
		c.(*cannedConn).closed = true
		return c, err
	}
	r := &runner{dial: dial, from: "p@client.test"}
	steps := Plan(PlanInput{Domain: "lab.test", From: "p@client.test", Suites: []string{"vrfy"}})
	res := r.run(context.Background(), steps)
	if len(res.Steps) != len(steps) {
		t.Fatalf("%d results for %d steps", len(res.Steps), len(steps))
	}
	for _, s := range res.Steps {
		if s.Outcome != NoReply && s.Outcome != Skipped {
			t.Errorf("%s: %s", s.Name, s.Outcome)
		}
	}
	if res.Connections > len(steps)+4 {
		t.Errorf("%d connections; the bound is %d", res.Connections, len(steps)+4)
	}
}
