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

// ruleServer is a raw TCP SMTP server on 127.0.0.1 that answers each line
// by a rule, keeps a transaction state and an error count per connection,
// and drops a connection after its error limit: the behaviour of real
// servers that go-smtp cannot show (strict envelopes, 503, error limits).
type ruleServer struct {
	l        net.Listener
	ehlo     []string // EHLO keywords after the greeting line
	answer   func(line string, tx bool) string
	limit    int    // drop after this many error replies (0: never)
	silent   bool   // drop without a 421
	sequence string // reply to commands out of order; "503 5.5.1 ..." when empty
	// hello: EHLO must come first and name a host (503 to MAIL or RCPT
	// before it, 501 to a name that is not one), as with Postfix's
	// smtpd_helo_required and reject_invalid_helo_hostname.
	hello    bool
	errs     chan error
	mu       sync.Mutex
	sessions [][]string
}

func startRuleServer(t *testing.T, s *ruleServer) *ruleServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.l, s.errs = l, make(chan error, 16)
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
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *ruleServer) addr() string { return s.l.Addr().String() }

func (s *ruleServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	s.mu.Lock()
	n := len(s.sessions)
	s.sessions = append(s.sessions, nil)
	s.mu.Unlock()
	br := bufio.NewReader(c)
	fmt.Fprint(c, "220 rule.test ESMTP\r\n")
	tx, errs, greeted := false, 0, false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if !strings.HasSuffix(line, "\r\n") {
			s.errs <- fmt.Errorf("line without CRLF: %q", line)
			return
		}
		line = strings.TrimSuffix(line, "\r\n")
		s.mu.Lock()
		s.sessions[n] = append(s.sessions[n], line)
		s.mu.Unlock()
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		var reply string
		switch {
		case verb == "EHLO" && s.hello && !validHelloName(strings.TrimSpace(line[4:])):
			reply = "501 5.5.2 <" + strings.TrimSpace(line[4:]) + ">: Helo command rejected: Invalid name"
		case (verb == "MAIL" || verb == "RCPT") && s.hello && !greeted:
			reply = "503 5.5.1 Error: send HELO/EHLO first"
		case verb == "EHLO":
			greeted = true
			reply = "250-rule.test\r\n"
			for i, k := range s.ehlo {
				sep := "-"
				if i == len(s.ehlo)-1 {
					sep = " "
				}
				reply += "250" + sep + k + "\r\n"
			}
			if len(s.ehlo) == 0 {
				reply = "250 rule.test\r\n"
			}
			fmt.Fprint(c, reply)
			continue
		case verb == "QUIT":
			fmt.Fprint(c, "221 2.0.0 bye\r\n")
			return
		case verb == "DATA" || verb == "BDAT":
			s.errs <- fmt.Errorf("client sent %s", verb)
			return
		case verb == "RSET":
			tx, reply = false, "250 2.0.0 ok"
		case strings.HasPrefix(verb, "RCPT") && !tx, strings.HasPrefix(verb, "MAIL") && tx:
			reply = s.sequence
			if reply == "" {
				reply = "503 5.5.1 bad sequence of commands"
			}
		default:
			reply = s.answer(line, tx)
		}
		if strings.HasPrefix(verb, "MAIL") && reply[0] == '2' {
			tx = true
		}
		fmt.Fprint(c, reply+"\r\n")
		if reply[0] == '4' || reply[0] == '5' {
			errs++
		}
		if s.limit > 0 && errs >= s.limit {
			if !s.silent {
				fmt.Fprint(c, "421 4.7.0 rule.test too many errors\r\n")
			}
			return
		}
	}
}

// validHelloName: letters, digits and hyphens in dot-separated labels, no
// label empty or starting or ending with a hyphen (RFC 5321 §2.3.5).
func validHelloName(name string) bool {
	for _, l := range strings.Split(name, ".") {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}

func (s *ruleServer) check(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.errs:
		t.Error(err)
	default:
	}
}

// strictRules follows RFC 5321 to the letter: brackets, no space, a
// domain, ASCII; VRFY says 252 for real mailboxes and 550 for unknown.
func strictRules(line string, tx bool) string {
	upper := strings.ToUpper(line)
	switch {
	case strings.HasPrefix(upper, "VRFY"):
		switch {
		case line == "VRFY":
			return "501 5.5.4 Syntax: VRFY address"
		case strings.Contains(line, "smtpprobe-"):
			return "550 5.1.1 user unknown"
		}
		return "252 2.0.0 " + strings.TrimPrefix(line, "VRFY ")
	case strings.HasPrefix(upper, "EXPN"):
		return "502 5.5.1 EXPN not available"
	}
	from, ok := strings.CutPrefix(upper, "MAIL FROM:")
	if !ok {
		from, ok = strings.CutPrefix(upper, "RCPT TO:")
	}
	if !ok {
		return "500 5.5.2 unknown command"
	}
	path, params, _ := strings.Cut(from, " ")
	switch {
	case !strings.HasPrefix(path, "<") || !strings.HasSuffix(path, ">"):
		return "501 5.1.7 Bad address syntax"
	case strings.HasPrefix(upper, "MAIL") && path != "<>" && !strings.Contains(path, "@"):
		return "504 5.5.2 " + path + ": Sender address rejected: need fully-qualified address"
	case strings.Contains(path, "@@") || strings.IndexFunc(path, func(r rune) bool { return r > 126 }) >= 0 && params != "SMTPUTF8":
		return "553 5.1.3 Bad address"
	case strings.HasPrefix(params, "SIZE="):
		return "552 5.3.4 Message size exceeds fixed limit"
	case params != "" && params != "SMTPUTF8":
		return "555 5.5.4 Unsupported option: " + params
	case strings.Contains(path, "SMTPPROBE-"):
		return "550 5.1.1 User unknown"
	}
	return "250 2.1.0 Ok"
}

func runRule(t *testing.T, srv *ruleServer, suites ...string) *probe.Report {
	t.Helper()
	target, err := probe.ParseTarget(srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := probe.Run(ctx, probe.Options{Target: target, Domain: "rule.test", User: "alice", HELO: "client.test",
		From: "probe@client.test", TLS: "none", Timeout: 5 * time.Second, Suites: suites, Random: "smtpprobe-r4nd0m", LockStep: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.check(t)
	if len(rep.Hosts) != 1 || rep.Hosts[0].Verdicts == nil {
		t.Fatalf("hosts: %+v", rep.Hosts)
	}
	return rep
}

func stepsByName(h probe.HostReport) map[string]probe.StepResult {
	m := map[string]probe.StepResult{}
	for _, s := range h.Steps {
		if !s.Setup {
			m[s.Name] = s
		}
	}
	return m
}

func TestRunStrictServerWithErrorLimit(t *testing.T) {
	srv := startRuleServer(t, &ruleServer{answer: strictRules, limit: 3, hello: true, ehlo: []string{"SIZE 1000", "SMTPUTF8", "ENHANCEDSTATUSCODES"}})
	rep := runRule(t, srv)
	h := rep.Hosts[0]
	v := h.Verdicts
	// The steps before EHLO went on a connection of their own, never
	// greeted, and lead the syntax suite.
	for i, want := range map[int]string{0: "mail-before-ehlo", 1: "ehlo-invalid-name"} {
		var syntax []probe.StepResult
		for _, s := range h.Steps {
			if s.Suite == "syntax" {
				syntax = append(syntax, s)
			}
		}
		if s := syntax[i]; s.Name != want || s.Outcome != probe.Rejected || s.Conformance != probe.Conforms {
			t.Errorf("syntax step %d: %s %s %s (%s); want %s refused as the RFC asks", i, s.Name, s.Outcome, s.Conformance, s.Verdict, want)
		}
	}
	if v.ErrorLimit == nil || *v.ErrorLimit != 3 {
		t.Errorf("error_limit = %v; want 3", v.ErrorLimit)
	}
	if v.EnvelopeSyntax == nil || v.EnvelopeSyntax.Verdict != probe.SyntaxStrict {
		t.Errorf("envelope_syntax = %+v; want strict", v.EnvelopeSyntax)
	}
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != probe.PolicyLeaks {
		t.Errorf("vrfy_policy = %+v; want leaks", v.VRFYPolicy)
	}
	if v.EXPNPolicy == nil || v.EXPNPolicy.Policy != probe.PolicyDisabled {
		t.Errorf("expn_policy = %+v; want disabled", v.EXPNPolicy)
	}
	if v.CatchAll == nil || *v.CatchAll {
		t.Errorf("catch_all = %v; want false", v.CatchAll)
	}
	if v.PostmasterAccepted == nil || !*v.PostmasterAccepted {
		t.Errorf("postmaster_accepted = %v; want true", v.PostmasterAccepted)
	}
	if !v.SMTPUTF8 || v.STARTTLS {
		t.Errorf("smtputf8 %v starttls %v; want true, false", v.SMTPUTF8, v.STARTTLS)
	}
	steps := stepsByName(h)
	want := map[string]int{
		"vrfy-user": 252, "vrfy-random-user": 550, "vrfy-no-argument": 501,
		"rcpt-before-mail": 503, "mail-twice": 503, "mail-no-brackets": 501, "mail-space-after-colon": 501,
		"mail-unknown-parameter": 555, "mail-size-over-limit": 552, "mail-null-reverse-path": 250,
		"mail-utf8-without-smtputf8": 553, "mail-utf8-with-smtputf8": 250, "rcpt-well-formed": 250,
		"rcpt-random-mailbox": 550, "rcpt-postmaster-bare": 250,
	}
	for name, code := range want {
		s, ok := steps[name]
		if !ok || s.Reply == nil || s.Reply.Code != code {
			t.Errorf("%s: %+v (%s); want %d", name, s.Reply, s.Verdict, code)
		}
	}
	for _, s := range h.Steps {
		if s.Outcome == probe.NoReply || s.Outcome == probe.Skipped {
			t.Errorf("%s did not complete: %s", s.Name, s.Verdict)
		}
		if s.Reply != nil && s.Reply.Code == 421 {
			t.Errorf("%s kept the 421 of a dropped session", s.Name)
		}
	}
	if got := steps["mail-size-over-limit"].Sent; got != "MAIL FROM:<probe@client.test> SIZE=1001" {
		t.Errorf("SIZE case sent %q", got)
	}
	t.Logf("%d steps over %d connections", len(h.Steps), h.Connections)
	// Only the first session taught the limit; every later one ends with QUIT.
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.sessions) != h.Connections {
		t.Errorf("server saw %d sessions, report says %d", len(srv.sessions), h.Connections)
	}
	for i, sess := range srv.sessions[1:] {
		if sess[len(sess)-1] != "QUIT" {
			t.Errorf("session %d ended with %q, not QUIT", i+2, sess[len(sess)-1])
		}
	}
	if len(h.Transcript) == 0 {
		t.Error("no transcript")
	}
}

func TestRunSilentDrop(t *testing.T) {
	// Errors then a disconnect with no 421: the runner must notice the
	// dead connection and carry on.
	srv := startRuleServer(t, &ruleServer{answer: strictRules, limit: 4, silent: true})
	rep := runRule(t, srv, "syntax")
	h := rep.Hosts[0]
	if h.Verdicts.ErrorLimit == nil || *h.Verdicts.ErrorLimit != 4 {
		t.Errorf("error_limit = %v; want 4", h.Verdicts.ErrorLimit)
	}
	for _, s := range h.Steps {
		if s.Outcome == probe.NoReply {
			t.Errorf("%s: no reply (%s)", s.Name, s.Error)
		}
	}
	if h.Verdicts.EnvelopeSyntax.Verdict != probe.SyntaxStrict {
		t.Errorf("envelope_syntax = %+v", h.Verdicts.EnvelopeSyntax)
	}
}

// lenientRules take anything that has an @ in it, like Postfix with
// strict_rfc821_envelopes = no, and answer every VRFY with 252.
func lenientRules(line string, tx bool) string {
	upper := strings.ToUpper(line)
	switch {
	case strings.HasPrefix(upper, "VRFY"):
		if line == "VRFY" {
			return "501 5.5.4 Syntax: VRFY address"
		}
		return "252 2.0.0 Cannot VRFY user, but will accept message"
	case strings.HasPrefix(upper, "EXPN"):
		return "252 2.0.0 Cannot EXPN"
	case strings.Contains(upper, "XSMTPPROBE"):
		return "555 5.5.4 Unsupported option"
	}
	return "250 2.1.0 Ok"
}

func TestRunLenientCatchAll(t *testing.T) {
	srv := startRuleServer(t, &ruleServer{answer: lenientRules})
	rep := runRule(t, srv)
	v := rep.Hosts[0].Verdicts
	if v.EnvelopeSyntax.Verdict != probe.SyntaxLenient {
		t.Errorf("envelope_syntax = %+v; want lenient", v.EnvelopeSyntax)
	}
	if v.VRFYPolicy.Policy != probe.PolicyHides || v.EXPNPolicy.Policy != probe.PolicyHides {
		t.Errorf("vrfy %s expn %s; want hides", v.VRFYPolicy.Policy, v.EXPNPolicy.Policy)
	}
	if v.CatchAll == nil || !*v.CatchAll {
		t.Errorf("catch_all = %v; want true", v.CatchAll)
	}
	if v.ErrorLimit != nil {
		t.Errorf("error_limit = %d; the server never dropped", *v.ErrorLimit)
	}
	if rep.Hosts[0].Connections != 2 {
		t.Errorf("%d connections; one for the plan and one for the steps before EHLO are enough for a server that draws few errors", rep.Hosts[0].Connections)
	}
	steps := stepsByName(rep.Hosts[0])
	if s := steps["mail-no-brackets"]; s.Conformance != probe.Lenient || !strings.Contains(s.Verdict, "lenient: accepted a path without angle brackets, which RFC 5321 §4.1.2 does not allow") {
		t.Errorf("mail-no-brackets verdict: %s %q", s.Conformance, s.Verdict)
	}
	if s := steps["mail-utf8-with-smtputf8"]; s.Outcome != probe.Skipped {
		t.Errorf("SMTPUTF8 case sent to a server that does not advertise it: %s", s.Outcome)
	}
}

// vrfyScript scripts a session that answers the VRFY suite's lines with
// replies, in plan order.
func vrfyScript(replies map[string]string) []probetest.Step {
	steps := probe.Plan(probe.PlanInput{Domain: "rule.test", User: "alice", Random: "smtpprobe-r4nd0m", Suites: []string{"vrfy"}})
	script := []probetest.Step{probetest.Send("220 scripted ESMTP\r\n"), probetest.Expect("EHLO client.test"), probetest.Send("250 scripted\r\n")}
	for _, s := range steps {
		r, ok := replies[s.Name]
		if !ok {
			r = "252 2.0.0 cannot verify\r\n"
		}
		script = append(script, probetest.Expect(s.Line), probetest.Send(r))
	}
	return append(script, probetest.Expect("QUIT"), probetest.Send("221 bye\r\n"))
}

func runScripted(t *testing.T, addr string) *probe.Report {
	t.Helper()
	target, _ := probe.ParseTarget(addr)
	rep, err := probe.Run(context.Background(), probe.Options{Target: target, Domain: "rule.test", User: "alice", HELO: "client.test",
		From: "probe@client.test", TLS: "none", Timeout: 5 * time.Second, Suites: []string{"vrfy"}, Random: "smtpprobe-r4nd0m", ErrorBudget: 50, LockStep: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRunVRFYPolicies(t *testing.T) {
	random := func(reply string) map[string]string {
		return map[string]string{"vrfy-random-user": reply, "vrfy-random-address": reply, "vrfy-random-brackets": reply}
	}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	real := func(reply string) map[string]string {
		return map[string]string{"vrfy-user": reply, "vrfy-address": reply, "vrfy-brackets": reply}
	}
	tests := []struct {
		name    string
		replies map[string]string
		want    string
	}{
		{"250 reveals", merge(real("250 2.1.5 Alice <alice@rule.test>\r\n"), random("550 5.1.1 unknown\r\n")), probe.PolicyReveals},
		{"251 reveals", merge(real("251 2.1.5 User not local; will forward to <a@elsewhere.test>\r\n"), random("550 5.1.1 unknown\r\n")), probe.PolicyReveals},
		{"250 to every VRFY accepts all", merge(real("250 2.1.5 ok\r\n"), random("250 2.1.5 ok\r\n")), probe.PolicyAcceptsAll},
		{"252 vs 550 leaks", merge(real("252 2.0.0 alice\r\n"), random("550 5.1.1 unknown\r\n")), probe.PolicyLeaks},
		{"252 for all hides", nil, probe.PolicyHides},
		{"502 disabled", merge(real("502 5.5.1 VRFY command is disabled\r\n"), random("502 5.5.1 VRFY command is disabled\r\n")), probe.PolicyDisabled},
		{"550 refuses", merge(real("550 5.7.1 no\r\n"), random("550 5.7.1 no\r\n")), probe.PolicyRefuses},
		{"exim: 501 without a domain", merge(map[string]string{"vrfy-user": "501 vrfy must contain a domain\r\n", "vrfy-random-user": "501 vrfy must contain a domain\r\n"},
			map[string]string{"vrfy-random-address": "550 unknown\r\n", "vrfy-random-brackets": "550 unknown\r\n"}), probe.PolicyLeaks},
		{"530 auth", merge(real("530 5.7.0 Authentication required\r\n"), random("530 5.7.0 Authentication required\r\n")), probe.PolicyAuthRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := probetest.NewScripted(t, vrfyScript(tt.replies)...)
			rep := runScripted(t, srv.Addr())
			if err := srv.Err(); err != nil {
				t.Fatal(err)
			}
			v := rep.Hosts[0].Verdicts
			if v == nil || v.VRFYPolicy == nil || v.VRFYPolicy.Policy != tt.want {
				t.Fatalf("vrfy_policy = %+v; want %s", v.VRFYPolicy, tt.want)
			}
		})
	}
}

func TestRun421MidSession(t *testing.T) {
	// The first session ends with a 421 at the second VRFY; the runner
	// reconnects and asks that VRFY again on the second.
	first := []probetest.Step{probetest.Send("220 s ESMTP\r\n"), probetest.Expect("EHLO client.test"), probetest.Send("250 s\r\n"),
		probetest.Expect("VRFY alice"), probetest.Send("252 2.0.0 alice\r\n"),
		probetest.Expect("VRFY smtpprobe-r4nd0m"), probetest.Send("421 4.3.2 shutting down\r\n"), probetest.Close()}
	second := vrfyScript(nil)
	// the second session starts at the VRFY that drew the 421
	second = append(second[:3], second[5:]...)
	srv := probetest.NewScriptedSequence(t, first, second)
	rep := runScripted(t, srv.Addr())
	if err := srv.Err(); err != nil {
		t.Fatal(err)
	}
	h := rep.Hosts[0]
	if h.Connections != 2 {
		t.Errorf("%d connections; want 2", h.Connections)
	}
	steps := stepsByName(h)
	if s := steps["vrfy-random-user"]; s.Reply == nil || s.Reply.Code != 252 || s.Connection != 2 {
		t.Errorf("vrfy-random-user after the 421: %+v on connection %d", s.Reply, s.Connection)
	}
	if h.Verdicts.ErrorLimit != nil {
		t.Errorf("error_limit %d from a 421 that drew no errors first", *h.Verdicts.ErrorLimit)
	}
}

func TestRunMixedCodeReply(t *testing.T) {
	script := vrfyScript(map[string]string{"vrfy-user": "250-alice is here\r\n550 or not\r\n"})
	srv := probetest.NewScripted(t, script...)
	rep := runScripted(t, srv.Addr())
	if err := srv.Err(); err != nil {
		t.Fatal(err)
	}
	s := stepsByName(rep.Hosts[0])["vrfy-user"]
	if s.Reply == nil || len(s.Reply.Deviations) == 0 {
		t.Fatalf("mixed-code reply recorded without deviations: %+v", s.Reply)
	}
	found := false
	for _, d := range s.Reply.Deviations {
		found = found || strings.Contains(string(d.Kind), "mixed")
	}
	if !found {
		t.Errorf("deviations %+v lack the mixed codes", s.Reply.Deviations)
	}
}

func TestRunConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	target, _ := probe.ParseTarget(addr)
	rep, err := probe.Run(context.Background(), probe.Options{Target: target, HELO: "client.test", TLS: "none", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Status != probe.StatusConnectionRefused || rep.Hosts[0].Verdicts != nil || rep.Verdicts != nil {
		t.Errorf("hosts: %+v", rep.Hosts)
	}
}

func TestRun502ForBadSequence(t *testing.T) {
	// RFC 5321 §3.3 requires 503 for RCPT before MAIL; 502 (not
	// implemented) is a refusal with the wrong code.
	srv := startRuleServer(t, &ruleServer{answer: strictRules, sequence: "502 5.5.1 command not implemented"})
	steps := stepsByName(runRule(t, srv, "syntax").Hosts[0])
	for _, name := range []string{"rcpt-before-mail", "mail-twice"} {
		s := steps[name]
		if s.Reply == nil || s.Reply.Code != 502 || s.Conformance != probe.WrongCode || !strings.Contains(s.Verdict, "asks for 503") {
			t.Errorf("%s: %+v %s %q", name, s.Reply, s.Conformance, s.Verdict)
		}
	}
	srv = startRuleServer(t, &ruleServer{answer: strictRules})
	if s := stepsByName(runRule(t, srv, "syntax").Hosts[0])["rcpt-before-mail"]; s.Conformance != probe.Conforms {
		t.Errorf("503: %s %q", s.Conformance, s.Verdict)
	}
}

func TestRunServerStopsAnswering(t *testing.T) {
	// Greets, answers EHLO, then stalls: every session the same. The run
	// must end after a couple of reply timeouts, not one pair per step.
	script := []probetest.Step{probetest.Send("220 s ESMTP\r\n"), probetest.Expect("EHLO client.test"), probetest.Send("250 s\r\n"),
		probetest.Stall(10 * time.Second)}
	srv := probetest.NewScripted(t, script...)
	target, _ := probe.ParseTarget(srv.Addr())
	start := time.Now()
	rep, err := probe.Run(context.Background(), probe.Options{Target: target, HELO: "client.test", TLS: "none", Timeout: 300 * time.Millisecond, LockStep: true})
	if err != nil {
		t.Fatal(err)
	}
	h := rep.Hosts[0]
	noReply, skipped := 0, 0
	for _, s := range h.Steps {
		switch s.Outcome {
		case probe.NoReply:
			noReply++
		case probe.Skipped:
			skipped++
		}
	}
	if noReply != 2 || skipped != len(h.Steps)-2 {
		t.Errorf("%d no-reply and %d skipped of %d steps; want 2 and the rest", noReply, skipped, len(h.Steps))
	}
	if h.Connections > 5 {
		t.Errorf("%d connections to a stalled server", h.Connections)
	}
	t.Logf("gave up after %v", time.Since(start).Round(time.Millisecond))
}
