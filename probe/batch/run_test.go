package batch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// sinkServer is a plain SMTP server on loopback that takes every mailbox
// but "nobody", answers VRFY of real mailboxes 252 and of unknown ones
// 550, and counts its connections: all of them, and the most open at once.
type sinkServer struct {
	ln     net.Listener
	open   atomic.Int32
	peak   atomic.Int32
	total  atomic.Int32
	delay  time.Duration
	linger time.Duration // how long the server keeps a session open after its 221
	banner string
	// bannerFn, when set, chooses each connection's greeting.
	bannerFn func() string

	mu    sync.Mutex
	lines []string // every command received, upper-cased
}

// count is how many commands received begin with prefix and contain sub
// (both upper-case).
func (s *sinkServer) count(prefix, sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.lines {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

func startSink(t *testing.T, delay time.Duration) *sinkServer {
	t.Helper()
	return startSinkWith(t, delay, nil)
}

func startSinkWith(t *testing.T, delay time.Duration, bannerFn func() string) *sinkServer {
	t.Helper()
	return startSinkAt(t, "127.0.0.1:0", delay, bannerFn)
}

func startSinkAt(t *testing.T, addr string, delay time.Duration, bannerFn func() string) *sinkServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &sinkServer{ln: ln, delay: delay, banner: "220 sink.test ESMTP", bannerFn: bannerFn}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *sinkServer) port() int {
	_, p, _ := net.SplitHostPort(s.ln.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

func (s *sinkServer) serve(c net.Conn) {
	defer c.Close()
	n := s.open.Add(1)
	defer s.open.Add(-1)
	s.total.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(s.delay)
	w := bufio.NewWriter(c)
	say := func(l string) { w.WriteString(l + "\r\n"); w.Flush() }
	banner := s.banner
	if s.bannerFn != nil {
		banner = s.bannerFn()
	}
	say(banner)
	if strings.HasPrefix(banner, "421") {
		return
	}
	rd := bufio.NewReader(c)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		up := strings.ToUpper(strings.TrimSpace(line))
		s.mu.Lock()
		s.lines = append(s.lines, up)
		s.mu.Unlock()
		switch {
		case strings.HasPrefix(up, "EHLO"):
			say("250-sink.test")
			say("250 PIPELINING")
		case strings.HasPrefix(up, "VRFY") && (strings.Contains(up, "NOBODY") || strings.Contains(up, "SMTPPROBE-")):
			say("550 5.1.1 unknown")
		case strings.HasPrefix(up, "VRFY <"), strings.HasPrefix(up, "VRFY "):
			say("252 2.0.0 maybe")
		case up == "VRFY":
			say("501 5.5.4 syntax")
		case strings.HasPrefix(up, "EXPN"):
			say("502 5.5.1 no")
		case strings.HasPrefix(up, "MAIL FROM:<") && strings.HasSuffix(up, ">") && !strings.Contains(up[10:], " "):
			say("250 2.1.0 ok")
		case strings.HasPrefix(up, "MAIL"):
			say("501 5.5.4 syntax")
		case strings.HasPrefix(up, "RCPT TO:<NOBODY@"):
			say("550 5.1.1 unknown")
		case strings.HasPrefix(up, "RCPT TO:<SMTPPROBE-") && strings.Contains(up, "@STRICT."):
			say("550 5.1.1 unknown") // strict.b.test has no catch-all; every other domain has
		case strings.HasPrefix(up, "RCPT TO:<POSTMASTER@NOPM."):
			say("550 5.1.1 unknown") // nopm.b.test lacks postmaster
		case strings.HasPrefix(up, "RCPT TO:<"):
			say("250 2.1.5 ok")
		case strings.HasPrefix(up, "RCPT"):
			say("501 5.5.4 syntax")
		case up == "RSET", up == "NOOP":
			say("250 ok")
		case up == "QUIT":
			say("221 bye")
			time.Sleep(s.linger)
			return
		default:
			say("502 5.5.2 unknown command")
		}
	}
}

// The per-IP cap holds as the server counts its connections, over every
// connection a batch with a full probe opens (the probe's sessions, its
// session without EHLO, the mailbox runs): a server that closes its end
// a while after its 221 still has the session open, and the run's next
// connection must wait for it.
func TestRunPerIPCapAtTheServer(t *testing.T) {
	sink := startSink(t, 0)
	sink.linger = 100 * time.Millisecond
	dns := resolvertest.Start(t, batchZone())
	var lines []Line
	for d := range 4 {
		for u := range 6 {
			lines = append(lines, Line{len(lines) + 1, fmt.Sprintf("user%d@d%d.b.test", u, d)})
		}
	}
	cfg := newRun(t, ModeProbe, sink, dns.Addr(), Politeness{PerIP: 2, PerMinute: Unlimited})
	cfg.PerJob = 2
	var got collected
	sum, err := Run(context.Background(), cfg, lines, got.emit)
	if err != nil || sum.Done != len(lines) {
		t.Fatal(err, sum.Done)
	}
	if sum.FactsRuns != 1 {
		t.Fatalf("%d full probes, want 1", sum.FactsRuns)
	}
	if p := sink.peak.Load(); p > 2 {
		t.Errorf("the server had %d connections open at once; the cap is 2 (%d in all)", p, sink.total.Load())
	}
	if p := sink.peak.Load(); p < 2 {
		t.Errorf("the server never had 2 connections at once: the run was not concurrent, so the cap proves nothing")
	}
}

// batchZone has 20 domains on one MX host, two NXDOMAIN names' zone and
// a null MX, and three more domains on the host: catchall (takes every
// mailbox), strict (refuses unknown ones) and nopm (refuses postmaster).
func batchZone() string {
	var b strings.Builder
	b.WriteString("$ORIGIN b.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\nmx A 127.0.0.1\nnull MX 0 .\n")
	b.WriteString("catchall MX 10 mx\nstrict MX 10 mx\nnopm MX 10 mx\n")
	for i := range 20 {
		fmt.Fprintf(&b, "d%d MX 10 mx\n", i)
	}
	return b.String()
}

type collected struct {
	mu  sync.Mutex
	res []Result
}

func (c *collected) emit(r Result) error {
	c.mu.Lock()
	c.res = append(c.res, r)
	c.mu.Unlock()
	return nil
}

func newRun(t *testing.T, mode Mode, sink *sinkServer, dns string, pol Politeness) Config {
	rc := resolver.New([]string{dns})
	rc.Cache = resolver.NewCache()
	l := NewLimiter(pol)
	return Config{Mode: mode, Resolver: rc, Limiter: l, PerJob: 7,
		Options: probe.Options{Port: sink.port(), HELO: "client.test", TLS: "none", Timeout: 5 * time.Second, Dialer: l.Dialer(nil)}}
}

// A batch of mailboxes over 20 domains on one host: every target gets
// exactly one result, the server facts are probed once, each mailbox gets
// its own VRFY and RCPT answers, bad lines and dead domains their own
// kinds, and the server never sees more than the per-IP cap at once.
func TestRunProbeBatch(t *testing.T) {
	sink := startSink(t, 5*time.Millisecond)
	dns := resolvertest.Start(t, batchZone())
	var lines []Line
	n := 0
	add := func(s string) { n++; lines = append(lines, Line{N: n, Text: s}) }
	for d := range 20 {
		for u := range 5 {
			add(fmt.Sprintf("user%d@d%d.b.test", u, d))
		}
	}
	add("nobody@d3.b.test")
	add("d4.b.test")
	add("x@missing.b.test")
	add("x@null.b.test")
	add("bad target")
	add("a@@b.test")
	cfg := newRun(t, ModeProbe, sink, dns.Addr(), Politeness{PerIP: 3, PerMinute: Unlimited})
	var got collected
	sum, err := Run(context.Background(), cfg, lines, got.emit)
	if err != nil {
		t.Fatal(err)
	}
	byTarget := map[string]Result{}
	for _, r := range got.res {
		if _, dup := byTarget[r.Line.Text]; dup {
			t.Errorf("%s has two results", r.Line.Text)
		}
		byTarget[r.Line.Text] = r
	}
	if len(byTarget) != len(lines) || sum.Done != len(lines) {
		t.Fatalf("%d results (%d done) for %d targets", len(byTarget), sum.Done, len(lines))
	}
	if sum.FactsRuns != 1 {
		t.Errorf("%d facts runs for one mail host", sum.FactsRuns)
	}
	if p := sink.peak.Load(); p > 3 {
		t.Errorf("the server saw %d connections at once; the cap is 3", p)
	}
	if tot := sink.total.Load(); tot > 40 {
		t.Errorf("%d connections for 102 mailboxes at one host", tot)
	}
	for text, want := range map[string]string{"bad target": "invalid-input", "a@@b.test": "invalid-input",
		"x@missing.b.test": "no-mail-host", "x@null.b.test": "no-mail-host", "d4.b.test": "ok", "user1@d7.b.test": "ok"} {
		if k := byTarget[text].Kind(); k != want {
			t.Errorf("%s: kind %s, want %s", text, k, want)
		}
	}
	// Each mailbox has its own answers, and the shared VRFY comparison.
	for text, want := range map[string]int{"user2@d9.b.test": 250, "nobody@d3.b.test": 550} {
		r := byTarget[text]
		if r.FactsFrom == "" && r.Report.Hosts[0].Steps[0].Name != "vrfy-user" {
			t.Errorf("%s neither drew the facts nor names who did", text)
		}
		rcpt := 0
		policy := 0
		for _, s := range r.Report.Hosts[0].Steps {
			if s.Step().Role == probe.RoleRcptAddress && s.Address == text && s.Reply != nil {
				rcpt = s.Reply.Code
			}
			if s.Step().Role == probe.RoleVRFYRandom {
				policy++
			}
		}
		if rcpt != want || policy == 0 {
			t.Errorf("%s: RCPT %d (want %d), %d VRFY comparison steps", text, rcpt, want, policy)
		}
		if r.Report.Verdicts == nil || r.Report.Verdicts.VRFYPolicy == nil {
			t.Errorf("%s: no server verdicts", text)
		}
	}
	if sum.DNS.Hits == 0 {
		t.Errorf("the DNS cache answered nothing: %+v", sum.DNS)
	}
}

// In vrfy mode a domain target is refused, and each address gets its VRFY.
func TestRunVRFYBatch(t *testing.T) {
	sink := startSink(t, 0)
	dns := resolvertest.Start(t, batchZone())
	lines := []Line{{1, "a@d1.b.test"}, {2, "nobody@d1.b.test"}, {3, "d2.b.test"}, {4, "b@d2.b.test"}}
	cfg := newRun(t, ModeVRFY, sink, dns.Addr(), Politeness{PerMinute: Unlimited})
	var got collected
	sum, err := Run(context.Background(), cfg, lines, got.emit)
	if err != nil || sum.Done != 4 {
		t.Fatal(err, sum.Done)
	}
	for _, r := range got.res {
		if r.Line.Text == "d2.b.test" {
			if r.Kind() != "invalid-input" {
				t.Errorf("a domain in vrfy mode: %s", r.Kind())
			}
			continue
		}
		found := false
		for _, s := range r.Report.Hosts[0].Steps {
			if s.Step().Role == probe.RoleVRFYAddress && s.Address == r.Line.Text {
				found = true
			}
			if s.Step().Role == probe.RoleRcptAddress {
				t.Errorf("%s: vrfy mode sent RCPT", r.Line.Text)
			}
		}
		if !found {
			t.Errorf("%s: no VRFY of it", r.Line.Text)
		}
	}
}

// Cancelling the run stops it; what was cut off is not emitted, and what
// was emitted is whole.
func TestRunInterrupted(t *testing.T) {
	sink := startSink(t, 300*time.Millisecond)
	dns := resolvertest.Start(t, batchZone())
	var lines []Line
	for d := range 20 {
		lines = append(lines, Line{d + 1, fmt.Sprintf("u@d%d.b.test", d)})
	}
	cfg := newRun(t, ModeProbe, sink, dns.Addr(), Politeness{PerIP: 1, PerMinute: Unlimited})
	// Shorter than one connection's 300 ms wait for its greeting: the run
	// is cut off however few round trips a probe takes.
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	var got collected
	sum, _ := Run(ctx, cfg, lines, got.emit)
	if sum.Done == len(lines) {
		t.Fatalf("the run finished; the test needs it cut off: %+v %v", sum, got.res[0].Report.Hosts)
	}
	// The run has no budget of its own: any result cut short was cut by
	// the run's end, and must not be written (a resume would skip it).
	for _, r := range got.res {
		if r.Report != nil && r.Report.Incomplete {
			t.Errorf("%s emitted though cut off (%s)", r.Line.Text, r.Report.IncompleteReason)
		}
	}
	if sum.Interrupted == 0 {
		t.Errorf("nothing counted as interrupted: %+v", sum)
	}
}

// lateTimer is a context whose deadline passes while its timer has not
// fired: Err stays nil and Done never closes, as in the instant after the
// deadline when a socket deadline set from it has fired first.
type lateTimer struct {
	context.Context
	at time.Time
}

func (c lateTimer) Deadline() (time.Time, bool) { return c.at, true }

// A run whose deadline passed is cut off even when every socket deadline
// fired before the context said it was over: nothing is written as done
// (the probe alone would call such a report budget-spent), and every
// target it began is counted as interrupted.
func TestRunCutOffBeforeContextTimer(t *testing.T) {
	sink := startSink(t, 300*time.Millisecond)
	dns := resolvertest.Start(t, batchZone())
	var lines []Line
	for d := range 5 {
		lines = append(lines, Line{d + 1, fmt.Sprintf("u@d%d.b.test", d)})
	}
	cfg := newRun(t, ModeProbe, sink, dns.Addr(), Politeness{PerIP: 1, PerMinute: Unlimited})
	ctx := lateTimer{context.Background(), time.Now().Add(250 * time.Millisecond)}
	var got collected
	sum, _ := Run(ctx, cfg, lines, got.emit)
	for _, r := range got.res {
		reason := ""
		if r.Report != nil {
			reason = r.Report.IncompleteReason
		}
		t.Errorf("%s written though the run was cut off (err %v, incomplete reason %q)", r.Line.Text, r.Err, reason)
	}
	if sum.Done != 0 || sum.Interrupted == 0 {
		t.Errorf("done %d, interrupted %d: want 0 done and the cut-off counted", sum.Done, sum.Interrupted)
	}
}

// A server that answers 421 is struck and not dialled again before its
// back-off ends; the rest of its targets still get one result each.
func TestRunBacksOffAfter421(t *testing.T) {
	var mu sync.Mutex
	var opened []time.Time
	base := "220 sink.test ESMTP"
	sink := startSinkWith(t, 0, func() string {
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, time.Now())
		if len(opened) == 1 {
			return "421 4.7.0 sink.test Error: too many connections from 127.0.0.1"
		}
		return base
	})
	dns := resolvertest.Start(t, batchZone())
	lines := []Line{{1, "a@d1.b.test"}, {2, "b@d2.b.test"}, {3, "c@d1.b.test"}}
	cfg := newRun(t, ModeProbe, sink, dns.Addr(), Politeness{PerMinute: Unlimited, Backoff: 400 * time.Millisecond})
	var got collected
	sum, err := Run(context.Background(), cfg, lines, got.emit)
	if err != nil || sum.Done != 3 {
		t.Fatal(err, sum.Done)
	}
	if sum.Limiter.Strikes[StrikeRateLimited] == 0 {
		t.Fatalf("the 421 struck nothing: %+v", sum.Limiter)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(opened) < 2 {
		t.Fatalf("%d connections", len(opened))
	}
	// The pause is drawn from [Backoff/2, Backoff). A connection the run
	// had already begun when the 421 was on its way is no reopening; one
	// dialled after the client read it must wait out the pause.
	for _, at := range opened[1:] {
		if gap := at.Sub(opened[0]); gap > 20*time.Millisecond && gap < 200*time.Millisecond {
			t.Errorf("the server was dialled again %s after its 421; the back-off is at least 200ms", gap)
		}
	}
	if last := opened[len(opened)-1].Sub(opened[0]); last < 200*time.Millisecond {
		t.Errorf("every connection came within %s of the 421: the run never waited", last)
	}
}

// Domains that share one mail host differ in what is theirs: one takes
// every mailbox (a catch-all), one refuses unknown ones, one refuses
// postmaster. Whichever domain's target draws the full probe, each
// target's catch_all, postmaster_accepted and mailbox baseline are
// judged on its own domain's answers (and its own RCPT), asked once per
// domain on the mailbox connections, not copied from the first domain.
func TestRunDomainFactsPerDomain(t *testing.T) {
	yes, no := true, false
	type want struct {
		catchAll, postmaster *bool
		mailbox              string // the mailbox baseline's status
	}
	wants := map[string]want{
		"u1@catchall.b.test":   {&yes, &yes, probe.BaselineOK},
		"u2@catchall.b.test":   {&yes, &yes, probe.BaselineOK},
		"catchall.b.test":      {&yes, &yes, probe.BaselineOK},
		"u1@strict.b.test":     {&no, &yes, probe.BaselineOK},
		"u2@strict.b.test":     {&no, &yes, probe.BaselineOK},
		"strict.b.test":        {&no, &yes, probe.BaselineOK},
		"nobody@strict.b.test": {nil, &yes, probe.BaselineFailed}, // no such mailbox: catch_all withheld
		"u1@nopm.b.test":       {&yes, &no, probe.BaselineOK},
	}
	for _, order := range [][]string{
		{"u1@catchall.b.test", "u2@catchall.b.test", "catchall.b.test", "u1@strict.b.test", "strict.b.test", "u2@strict.b.test", "nobody@strict.b.test", "u1@nopm.b.test"},
		{"u1@strict.b.test", "u1@nopm.b.test", "catchall.b.test", "u2@strict.b.test", "strict.b.test", "u1@catchall.b.test", "nobody@strict.b.test", "u2@catchall.b.test"},
	} {
		t.Run(order[0], func(t *testing.T) {
			sink := startSink(t, 0)
			dns := resolvertest.Start(t, batchZone())
			var lines []Line
			for i, l := range order {
				lines = append(lines, Line{N: i + 1, Text: l})
			}
			cfg := newRun(t, ModeProbe, sink, dns.Addr(), Politeness{PerIP: 2, PerMinute: Unlimited})
			cfg.PerJob = 3 // the mailboxes of one domain over more than one run
			var got collected
			sum, err := Run(context.Background(), cfg, lines, got.emit)
			if err != nil || sum.Done != len(lines) {
				t.Fatal(err, sum.Done)
			}
			if sum.FactsRuns != 1 {
				t.Errorf("%d full probes for one mail host", sum.FactsRuns)
			}
			for _, r := range got.res {
				w := wants[r.Line.Text]
				v := r.Report.Verdicts
				if v == nil || len(r.Report.Hosts) != 1 || r.Report.Hosts[0].Verdicts != v {
					t.Errorf("%s: no verdicts, or the host's differ from the report's", r.Line.Text)
					continue
				}
				if !sameBool(v.CatchAll, w.catchAll) {
					t.Errorf("%s: catch_all %s, want %s", r.Line.Text, showBool(v.CatchAll), showBool(w.catchAll))
				}
				if !sameBool(v.PostmasterAccepted, w.postmaster) {
					t.Errorf("%s: postmaster_accepted %s, want %s", r.Line.Text, showBool(v.PostmasterAccepted), showBool(w.postmaster))
				}
				var mb probe.Baseline
				for _, b := range v.Baselines {
					if b.Name == probe.BaselineMailbox {
						mb = b
					}
				}
				mailbox := r.Line.Text
				if !strings.Contains(mailbox, "@") {
					mailbox = "postmaster@" + mailbox
				}
				if mb.Status != w.mailbox || !strings.EqualFold(mb.Sent, "RCPT TO:<"+mailbox+">") {
					t.Errorf("%s: mailbox baseline %s on %q, want %s on its own RCPT", r.Line.Text, mb.Status, mb.Sent, w.mailbox)
				}
				// The evidence is in the target's own report.
				d := r.Line.Text[strings.LastIndexByte(r.Line.Text, '@')+1:]
				random := false
				for _, s := range r.Report.Hosts[0].Steps {
					random = random || s.Step().Role == probe.RoleRcptRandom && strings.HasSuffix(strings.TrimSuffix(s.Sent, ">"), "@"+d)
				}
				if !random {
					t.Errorf("%s: no RCPT TO a random mailbox at %s among its steps", r.Line.Text, d)
				}
			}
			// Each domain's catch-all check went once per run carrying its
			// mailboxes, not once per target: strict.b.test's four targets
			// span two runs of three mailboxes when catchall.b.test's
			// target drew the full probe, one otherwise.
			for _, d := range []string{"CATCHALL", "STRICT", "NOPM"} {
				want := 1
				if d == "STRICT" && order[0] == "u1@catchall.b.test" {
					want = 2
				}
				if n := sink.count("RCPT TO:<SMTPPROBE-", "@"+d+"."); n != want {
					t.Errorf("%d RCPT TO a random mailbox at %s; want %d", n, d, want)
				}
			}
		})
	}
}

func sameBool(a, b *bool) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func showBool(b *bool) string {
	if b == nil {
		return "null"
	}
	return strconv.FormatBool(*b)
}

// Domains whose two MX hosts have equal preference are spread over both,
// by a draw from each domain's name: the same in every run, each domain's
// targets all at the host its full probe dialled, one full probe per
// host, and another seed draws another spread.
func TestRunEqualPreferenceSpread(t *testing.T) {
	a := startSink(t, 0)
	b := startSinkAt(t, fmt.Sprintf("127.0.0.2:%d", a.port()), 0, nil)
	var zone strings.Builder
	zone.WriteString("$ORIGIN e.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\nmxa A 127.0.0.1\nmxb A 127.0.0.2\n")
	var lines []Line
	for d := range 16 {
		fmt.Fprintf(&zone, "d%d MX 10 mxa\nd%d MX 10 mxb\n", d, d)
		for u := range 2 {
			lines = append(lines, Line{N: len(lines) + 1, Text: fmt.Sprintf("u%d@d%d.e.test", u, d)})
		}
	}
	dns := resolvertest.Start(t, zone.String())
	spread := func(seed uint64) map[string]string {
		cfg := newRun(t, ModeProbe, a, dns.Addr(), Politeness{PerIP: 2, PerMinute: Unlimited})
		cfg.MXSeed = seed
		var got collected
		sum, err := Run(context.Background(), cfg, lines, got.emit)
		if err != nil || sum.Done != len(lines) {
			t.Fatal(err, sum.Done)
		}
		hostOf := map[string]string{} // domain → the host its targets went to
		for _, r := range got.res {
			h := probedHost(r.Report)
			if h == nil {
				t.Fatalf("%s: no host probed", r.Line.Text)
			}
			d := r.Target.Domain
			if prev, ok := hostOf[d]; ok && prev != h.Address {
				t.Errorf("%s: the targets of %s went to %s and %s", r.Line.Text, d, prev, h.Address)
			}
			hostOf[d] = h.Address
		}
		used := map[string]bool{}
		for _, h := range hostOf {
			used[h] = true
		}
		if len(used) != 2 || sum.MailHosts != 2 || sum.FactsRuns != 2 {
			t.Errorf("seed %d: %d hosts used, %d mail hosts grouped, %d full probes; want 2 of each", seed, len(used), sum.MailHosts, sum.FactsRuns)
		}
		return hostOf
	}
	first, again := spread(0), spread(0)
	for d, h := range first {
		if again[d] != h {
			t.Errorf("%s went to %s, then to %s: the grouping is not repeatable", d, h, again[d])
		}
	}
	other, differs := spread(7), false
	for d, h := range first {
		differs = differs || other[d] != h
	}
	if !differs {
		t.Errorf("another seed drew the same spread of 16 domains")
	}
	if a.total.Load() == 0 || b.total.Load() == 0 {
		t.Errorf("connections: %d to one host, %d to the other", a.total.Load(), b.total.Load())
	}
}

// startStall is a server that greets and then answers nothing: a run
// there lasts until its time budget ends. It counts the connections it
// accepted.
func startStall(t *testing.T, accepted *atomic.Int32) int {
	t.Helper()
	ln := probetest.Serve(t, func(c net.Conn, _ int) {
		accepted.Add(1)
		c.Write([]byte("220 stall.test ESMTP\r\n"))
		io.Copy(io.Discard, c)
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// Budget bounds each run at a server, not the batch, and not the time a
// run waits for the politeness limits: three servers on one IP that
// greet and then stall, one connection at a time to that IP, each get
// their own budget — each is connected to (counted where it listens)
// and cut off by its budget, though the three budgets together are
// longer than one.
func TestRunBudgetIsPerServerRun(t *testing.T) {
	var lines []Line
	accepted := make([]atomic.Int32, 3)
	for i := range 3 {
		lines = append(lines, Line{N: i + 1, Text: fmt.Sprintf("127.0.0.1:%d", startStall(t, &accepted[i]))})
	}
	rc := resolver.New([]string{"127.0.0.1:1"})
	l := NewLimiter(Politeness{PerIP: 1, PerMinute: Unlimited})
	cfg := Config{Mode: ModeProbe, Resolver: rc, Limiter: l, Workers: 3, Budget: 400 * time.Millisecond,
		Options: probe.Options{HELO: "client.test", TLS: "none", Timeout: 30 * time.Second, Dialer: l.Dialer(nil), NoTransport: true}}
	var got collected
	sum, err := Run(context.Background(), cfg, lines, got.emit)
	if err != nil || sum.Done != 3 {
		t.Fatal(err, sum.Done)
	}
	if st := l.Stats(); st.PeakPerIP != 1 || st.Strikes[StrikeTimeout] != 0 {
		t.Errorf("%d connections at once to the IP (the cap is 1), %d timeout strikes (a run cut by its own budget is no server timeout)", st.PeakPerIP, st.Strikes[StrikeTimeout])
	}
	for _, r := range got.res {
		rep := r.Report
		if rep == nil || len(rep.Hosts) != 1 {
			t.Fatalf("%s: %+v", r.Line.Text, rep)
		}
		if !rep.Incomplete || rep.IncompleteReason != probe.IncompleteBudget {
			t.Errorf("%s: incomplete %v (%s), want the budget spent", r.Line.Text, rep.Incomplete, rep.IncompleteReason)
		}
	}
	for i := range accepted {
		if accepted[i].Load() == 0 {
			t.Errorf("%s was never connected to: its budget ran while it waited for the IP", lines[i].Text)
		}
	}
}

// What a domain's DNS says is its own too: a domain that shares its mail
// host with another's full probe gets its own TLS-RPT record (and the
// rest of the transport check, made once for it from the host's
// sessions) and the warnings about its own MX records, not the other
// domain's.
func TestRunDomainDNSFactsPerDomain(t *testing.T) {
	sink := startSink(t, 0)
	dns := resolvertest.Start(t, "$ORIGIN example.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\nmx A 127.0.0.1\n"+
		"a MX 10 mx\nb MX 10 mx\n_smtp._tls.a TXT \"v=TLSRPTv1; rua=mailto:reports@a.example\"\n")
	lines := []Line{{1, "u@a.example"}, {2, "v@a.example"}, {3, "u@b.example"}, {4, "b.example"}, {5, "w@b.example"}}
	cfg := newRun(t, ModeProbe, sink, dns.Addr(), Politeness{PerMinute: Unlimited})
	var got collected
	sum, err := Run(context.Background(), cfg, lines, got.emit)
	if err != nil || sum.Done != len(lines) || sum.FactsRuns != 1 {
		t.Fatal(err, sum.Done, sum.FactsRuns)
	}
	for _, r := range got.res {
		own := "a.example"
		if strings.HasSuffix(r.Line.Text, "b.example") {
			own = "b.example"
		}
		rpt := r.Report.TLSRPT
		switch {
		case rpt == nil:
			t.Errorf("%s: no TLS-RPT check", r.Line.Text)
		case own == "a.example" && !strings.Contains(rpt.Record, "reports@a.example"):
			t.Errorf("%s: TLS-RPT record %q, want a.example's", r.Line.Text, rpt.Record)
		case own == "b.example" && rpt.Record != "":
			t.Errorf("%s: TLS-RPT record %q, but b.example publishes none", r.Line.Text, rpt.Record)
		}
		mine := false
		for _, w := range r.Report.Warnings {
			mine = mine || strings.Contains(w, "of "+own+" has the loopback address")
			if other := strings.NewReplacer("a.example", "b.example", "b.example", "a.example").Replace(own); strings.Contains(w, other) {
				t.Errorf("%s: a warning about the other domain: %s", r.Line.Text, w)
			}
		}
		if !mine {
			t.Errorf("%s: no warning that %s's MX host is this machine: %q", r.Line.Text, own, r.Report.Warnings)
		}
	}
}
