package probe_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// answerAll is a LineServer rule for a lenient server with the given EHLO
// keyword lines: 250 to everything, 221 to QUIT.
func answerAll(ehlo ...string) probetest.AnswerFunc {
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			out := "250-lenient.test\r\n"
			for i, l := range ehlo {
				sep := "-"
				if i == len(ehlo)-1 {
					sep = " "
				}
				out += "250" + sep + l + "\r\n"
			}
			if len(ehlo) == 0 {
				out = "250 lenient.test\r\n"
			}
			return probetest.LineReply{Out: out}
		case "QUIT":
			return probetest.LineReply{Out: "221 bye\r\n", Close: true}
		}
		return probetest.LineReply{Out: "250 ok\r\n"}
	}
}

func runAt(t *testing.T, addr string, o probe.Options) *probe.Report {
	t.Helper()
	target, err := probe.ParseTarget(addr)
	if err != nil {
		t.Fatal(err)
	}
	o.Target = target
	if o.Domain == "" {
		o.Domain = "rule.test"
	}
	o.HELO, o.From, o.TLS, o.Random = "client.test", "probe@client.test", "none", "smtpprobe-r4nd0m"
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := probe.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRunSizeMaxInt64: SIZE 9223372036854775807 is the largest limit an
// int64 holds; one octet over it is sent as 9223372036854775808, never as
// a wrapped negative number.
func TestRunSizeMaxInt64(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 lenient.test ESMTP\r\n", answerAll("SIZE 9223372036854775807"))
	rep := runAt(t, srv.Addr(), probe.Options{Suites: []string{"syntax"}})
	s := stepsByName(rep.Hosts[0])["mail-size-over-limit"]
	if !strings.HasSuffix(s.Sent, " SIZE=9223372036854775808") {
		t.Errorf("sent %q; want SIZE=9223372036854775808", s.Sent)
	}
	if got := string(srv.Received()); strings.Contains(got, "SIZE=-") || !strings.Contains(got, "SIZE=9223372036854775808\r\n") {
		t.Errorf("the server received %q", got)
	}
}

// everyOther answers EHLO and QUIT, and every other command after them,
// counted across connections; the rest it leaves hanging with a reply
// that never ends. In a row, no two steps are silent.
func everyOther() probetest.AnswerFunc {
	var mu sync.Mutex
	n := 0
	lenient := answerAll()
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "QUIT", "RSET":
			return lenient(c, line)
		}
		mu.Lock()
		n++
		odd := n%2 == 1
		mu.Unlock()
		if odd {
			return lenient(c, line)
		}
		return probetest.LineReply{Out: "250-", Drip: "250-still thinking "}
	}
}

// TestRunTarpitEveryOther: a server that answers every other command
// cannot dodge "two silent steps in a row": it is given up as
// unresponsive after at most three steps without a reply.
func TestRunTarpitEveryOther(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 tarpit.test ESMTP\r\n", everyOther())
	// One connection: with several at once, each may have one silent step
	// in flight when the run gives up.
	rep := runAt(t, srv.Addr(), probe.Options{Timeout: 300 * time.Millisecond, Connections: 1})
	h := rep.Hosts[0]
	noReply := 0
	for _, s := range h.Steps {
		if s.Outcome == probe.NoReply {
			noReply++
		}
	}
	if h.Status != probe.StatusUnresponsive || noReply > 3 || noReply < 2 {
		t.Fatalf("status %s (%s), %d steps without a reply; want unresponsive after 2 or 3", h.Status, h.Error, noReply)
	}
	if last := h.Steps[len(h.Steps)-1]; last.Outcome != probe.Skipped || !strings.Contains(last.Verdict, "unresponsive") {
		t.Errorf("the steps left: %s %q", last.Outcome, last.Verdict)
	}
	t.Logf("%d connections, %d steps without a reply", h.Connections, noReply)
}

// TestRunDripsPastDeadlineNoVerdict: a server that drips "250-" past the
// deadline to every command leaves no verdict built from those partial
// replies: the VRFY policy is unknown, not accepts-all.
func TestRunDripsPastDeadlineNoVerdict(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 drip.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "QUIT":
			return answerAll()(c, line)
		}
		return probetest.LineReply{Out: "250-", Drip: "250-ok "}
	})
	rep := runAt(t, srv.Addr(), probe.Options{Timeout: 300 * time.Millisecond, Suites: []string{"vrfy"}})
	v := rep.Hosts[0].Verdicts
	if v == nil || v.VRFYPolicy == nil || v.VRFYPolicy.Policy != probe.PolicyUnknown {
		t.Fatalf("vrfy_policy %+v; want unknown: no reply completed", v.VRFYPolicy)
	}
	if v.CatchAll != nil || v.PostmasterAccepted != nil {
		t.Errorf("catch_all %v, postmaster_accepted %v from replies that never completed", v.CatchAll, v.PostmasterAccepted)
	}
}

// TestRunMixed421IsNoAcceptance: "250-ok" then "421 closing" is a 421
// (the last line decides, RFC 5321 §4.2.1), never an acceptance: no
// accepts-all, no lenient syntax verdict from it.
func TestRunMixed421IsNoAcceptance(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 mixed.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "QUIT":
			return answerAll()(c, line)
		}
		return probetest.LineReply{Out: "250-ok\r\n421 4.3.2 closing\r\n", Close: true}
	})
	rep := runAt(t, srv.Addr(), probe.Options{Timeout: 2 * time.Second})
	h := rep.Hosts[0]
	for _, s := range h.Steps {
		if s.Reply != nil && s.Reply.Code != 421 {
			t.Errorf("%s judged %d from a reply that ends in 421", s.Name, s.Reply.Code)
		}
		if s.Outcome == probe.Accepted {
			t.Errorf("%s accepted", s.Name)
		}
	}
	v := h.Verdicts
	if v.VRFYPolicy != nil && v.VRFYPolicy.Policy == probe.PolicyAcceptsAll || v.EnvelopeSyntax != nil && v.EnvelopeSyntax.Verdict == probe.SyntaxLenient {
		t.Errorf("verdicts from 421s: %+v %+v", v.VRFYPolicy, v.EnvelopeSyntax)
	}
}

// startEcho is a raw server on loopback that answers each line with
// answer(line) and, when dup(line) holds, sends the same reply again 30 ms
// later, before it reads the next line: every later reply arrives one
// command late.
func startEcho(t *testing.T, banner string, answer func(string) string, dup func(string) bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				c.Write([]byte(banner))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					out := answer(line)
					c.Write([]byte(out))
					if strings.EqualFold(line, "QUIT") {
						return
					}
					if dup(line) {
						time.Sleep(30 * time.Millisecond)
						c.Write([]byte(out))
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// vrfyAnswers is a server that hides mailboxes: 252 to every VRFY, which
// is no leak.
func vrfyAnswers(line string) string {
	switch up := strings.ToUpper(line); {
	case strings.HasPrefix(up, "EHLO"):
		return "250 echo.test\r\n"
	case strings.HasPrefix(up, "VRFY smtpprobe-r4nd0m"), strings.HasPrefix(up, "VRFY <smtpprobe-r4nd0m"):
		return "252 2.0.0 cannot verify random\r\n"
	case strings.HasPrefix(up, "VRFY"), strings.HasPrefix(up, "EXPN"):
		return "252 2.0.0 cannot verify\r\n"
	case strings.HasPrefix(up, "QUIT"):
		return "221 bye\r\n"
	}
	return "250 ok\r\n"
}

// TestRunDuplicateRepliesDesync: a server that repeats each reply 30 ms
// late would shift every later reply by one. The session sees the bytes
// that arrive when no command is outstanding, ends with the status
// desynchronised, and no verdict is drawn from the shifted replies.
func TestRunDuplicateRepliesDesync(t *testing.T) {
	t.Run("every reply", func(t *testing.T) {
		addr := startEcho(t, "220 echo.test ESMTP\r\n", vrfyAnswers, func(string) bool { return true })
		rep := runAt(t, addr, probe.Options{Suites: []string{"vrfy"}})
		h := rep.Hosts[0]
		if h.Status != probe.StatusDesync {
			t.Fatalf("status %s (%s); want desynchronised", h.Status, h.Error)
		}
		if v := h.Verdicts; v != nil && v.VRFYPolicy != nil && v.VRFYPolicy.Policy != probe.PolicyUnknown && v.VRFYPolicy.Policy != probe.PolicyHides {
			t.Errorf("vrfy_policy %+v from shifted replies", v.VRFYPolicy)
		}
	})
	t.Run("VRFY replies", func(t *testing.T) {
		addr := startEcho(t, "220 echo.test ESMTP\r\n", vrfyAnswers, func(l string) bool { return strings.HasPrefix(strings.ToUpper(l), "VRFY") })
		rep := runAt(t, addr, probe.Options{Suites: []string{"vrfy"}})
		h := rep.Hosts[0]
		if p := h.Verdicts.VRFYPolicy; p == nil || p.Policy == probe.PolicyLeaks || p.Policy == probe.PolicyReveals {
			t.Errorf("vrfy_policy %+v from shifted replies", p)
		}
		found := false
		for _, s := range h.Steps {
			if s.Reply != nil && s.Reply.Has(probe.DevDesync) {
				found = true
			}
		}
		if !found || h.Status != probe.StatusDesync {
			t.Errorf("status %s (%s); desync deviation seen: %v", h.Status, h.Error, found)
		}
	})
}

// nearCapReply is a reply just under wire's per-reply caps: 60 lines of
// 4000 bytes, 240 KB.
var nearCapReply = func() string {
	var b strings.Builder
	for i := 0; i < 60; i++ {
		sep := "-"
		if i == 59 {
			sep = " "
		}
		b.WriteString("250" + sep + strings.Repeat("x", 4000) + "\r\n")
	}
	return b.String()
}()

// startNearCap answers every command with nearCapReply and hangs up, so
// each step costs a new session: dozens of sessions, each within its caps.
func startNearCap(t testing.TB) string {
	return probetest.StartLineServer(t, "220 big.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO", "QUIT":
			return answerAll()(c, line)
		}
		return probetest.LineReply{Out: nearCapReply, Close: true}
	}).Addr()
}

// nearCapOptions adds 20 VRFY addresses to the plan: some 50 steps, each
// on a session of its own.
func nearCapOptions() probe.Options {
	var o probe.Options
	for i := 0; i < 20; i++ {
		o.VRFY = append(o.VRFY, fmt.Sprintf("user%d@rule.test", i))
	}
	return o
}

// keptBytes is the server text a report holds: reply lines and
// transcript data.
func keptBytes(rep *probe.Report) int {
	n := 0
	for _, h := range rep.Hosts {
		for _, s := range h.Steps {
			if s.Reply != nil {
				for _, l := range s.Reply.Lines {
					n += len(l)
				}
			}
		}
		for _, l := range h.Transcript {
			n += len(l.Data)
		}
	}
	return n
}

// TestRunWideMemoryBound: dozens of sessions of replies just under the
// per-reply caps keep at most MaxKeptBytes of server text in the report;
// what is left out is marked on the replies, at the end of a transcript
// and in a warning.
func TestRunWideMemoryBound(t *testing.T) {
	rep := runAt(t, startNearCap(t), nearCapOptions())
	h := rep.Hosts[0]
	if n := keptBytes(rep); n > probe.MaxKeptBytes+64<<10 {
		t.Errorf("the report keeps %d bytes of server text; the cap is %d", n, probe.MaxKeptBytes)
	}
	notKept := 0
	for _, s := range h.Steps {
		if s.Reply != nil && s.Reply.Has(probe.DevNotKept) {
			notKept++
		}
	}
	marker := false
	for _, l := range h.Transcript {
		marker = marker || l.Dir == probe.DirEvent && strings.HasPrefix(l.Data, "transcript truncated")
	}
	warned := strings.Contains(strings.Join(rep.Warnings, "\n"), "cap of 8 MiB")
	if notKept == 0 || !marker || !warned || h.TranscriptDropped == 0 {
		t.Errorf("%d connections: %d replies marked not-kept, transcript marker %v, warning %v, %d transcript bytes dropped",
			h.Connections, notKept, marker, warned, h.TranscriptDropped)
	}
	t.Logf("%d connections, %d bytes kept", h.Connections, keptBytes(rep))
}
