package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// The end-to-end tests run the real binary (this test binary, re-executed
// as `smtpprobe`) against servers started in the test process:
//
//	policyserver NAME [notls]   a go-smtp policy server; sets $NAME_ADDR, $NAME_PORT
//	nodata NAME                 fails if any client sent DATA or BDAT to NAME
//	smtplog NAME                writes the command lines NAME received to stdout
//	rawserver NAME FILE         a scripted raw TCP server; sets $NAME_ADDR, $NAME_PORT
//	rawcheck NAME               fails if the raw server NAME met a script failure
//	dnsserver NAME FILE [refused|servfail|silent]
//	                            an authoritative DNS server for the zone in FILE
//	                            (UDP and TCP); sets $NAME_ADDR, $NAME_PORT
//	status N CMD [ARGS...]      exec CMD and require exit status N (0 to 255);
//	                            stdout and stderr are kept for the next checks
//
// A rawserver FILE has one step a line, run afresh for every connection:
//
//	send TEXT        TEXT and CRLF; a Go-quoted "TEXT" is sent exactly as unquoted
//	recv [PREFIX]    read one line; with PREFIX it must start with it
//	close            hang up
//	reply VERB TEXT  a rule for serve: answer a command whose verb is VERB
//	                 (case-insensitive; * for any) with TEXT, quoted as for send
//	serve            answer every further line by the first matching reply
//	                 rule, until the client hangs up; a command no rule
//	                 matches gets "500 5.5.2 no reply scripted", QUIT gets
//	                 "221 2.0.0 bye" and a hang-up unless a rule says otherwise
//
// Blank lines and lines starting with # are ignored.

var updateScripts = flag.Bool("update-scripts", false, "rewrite cmp golden sections of testdata/script/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"smtpprobe": main})
}

func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *updateScripts,
		Setup: func(e *testscript.Env) error {
			servers := &scriptServers{policy: map[string]*probetest.PolicyServer{}, raw: map[string]*rawServer{}}
			e.Values[scriptServersKey{}] = servers
			e.Defer(servers.close)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"policyserver": cmdPolicyServer,
			"nodata":       cmdNoData,
			"smtplog":      cmdSMTPLog,
			"rawserver":    cmdRawServer,
			"rawcheck":     cmdRawCheck,
			"dnsserver":    cmdDNSServer,
			"status":       cmdStatus,
		},
	})
}

type scriptServersKey struct{}

// scriptServers are the servers one script started, closed when it ends.
type scriptServers struct {
	policy map[string]*probetest.PolicyServer
	raw    map[string]*rawServer
	dns    []*resolvertest.Server
}

func (s *scriptServers) close() {
	for _, d := range s.dns {
		d.Close()
	}
	for _, p := range s.policy {
		p.Close()
	}
	for _, r := range s.raw {
		r.Close()
	}
}

func serversOf(ts *testscript.TestScript) *scriptServers {
	return ts.Value(scriptServersKey{}).(*scriptServers)
}

// scriptPolicy is the policy server of the scripts: the demo's mailboxes at
// example.test.
var scriptPolicy = probetest.Policy{
	Domain:          "example.test",
	Hostname:        "mx.example.test",
	Mailboxes:       []string{"alice", "bob"},
	Greylisted:      []string{"greylisted"},
	OverQuota:       []string{"full"},
	MaxMessageBytes: 10 << 20,
}

func cmdPolicyServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 || (len(args) == 2 && args[1] != "notls") {
		ts.Fatalf("usage: policyserver NAME [notls]")
	}
	p := scriptPolicy
	p.NoSTARTTLS = len(args) == 2
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	s, err := probetest.NewPolicyServer(l, p)
	if err != nil {
		l.Close()
		ts.Fatalf("policyserver: %v", err)
	}
	serversOf(ts).policy[args[0]] = s
	publishAddr(ts, args[0], s.Addr())
}

func publishAddr(ts *testscript.TestScript, name, addr string) {
	_, port, err := net.SplitHostPort(addr)
	ts.Check(err)
	ts.Setenv(name+"_ADDR", addr)
	ts.Setenv(name+"_PORT", port)
}

func policyServer(ts *testscript.TestScript, name string) *probetest.PolicyServer {
	s := serversOf(ts).policy[name]
	if s == nil {
		ts.Fatalf("no policy server %q", name)
	}
	return s
}

func cmdNoData(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: nodata NAME")
	}
	seen := policyServer(ts, args[0]).DataSeen()
	if seen && !neg {
		ts.Fatalf("%s received DATA or BDAT", args[0])
	}
	if !seen && neg {
		ts.Fatalf("%s never received DATA or BDAT", args[0])
	}
}

func cmdSMTPLog(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: smtplog NAME")
	}
	for _, c := range policyServer(ts, args[0]).Commands() {
		fmt.Fprintln(ts.Stdout(), c)
	}
}

func cmdRawServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: rawserver NAME FILE")
	}
	steps, err := parseRawScript(ts.ReadFile(args[1]))
	if err != nil {
		ts.Fatalf("rawserver %s: %v", args[1], err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	s := startRawServer(l, steps)
	serversOf(ts).raw[args[0]] = s
	publishAddr(ts, args[0], s.Addr())
}

func cmdRawCheck(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: rawcheck NAME")
	}
	s := serversOf(ts).raw[args[0]]
	if s == nil {
		ts.Fatalf("no raw server %q", args[0])
	}
	if err := s.Err(); err != nil {
		ts.Fatalf("raw server %s: %v", args[0], err)
	}
}

func cmdDNSServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: dnsserver NAME FILE [refused|servfail|silent]")
	}
	var b resolvertest.Behavior
	if len(args) == 3 {
		switch args[2] {
		case "refused":
			b.Rcode = dns.RcodeRefused
		case "servfail":
			b.Rcode = dns.RcodeServerFailure
		case "silent":
			b.Silent = true
		default:
			ts.Fatalf("dnsserver: unknown behaviour %q", args[2])
		}
	}
	s, err := resolvertest.NewServerBehavior(ts.ReadFile(args[1]), b)
	if err != nil {
		ts.Fatalf("dnsserver: %v", err)
	}
	servers := serversOf(ts)
	servers.dns = append(servers.dns, s)
	publishAddr(ts, args[0], s.Addr())
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N CMD [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 || want > 255 {
		ts.Fatalf("status: bad exit status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("status: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// rawStep is one line of a raw server script.
type rawStep struct {
	op   string // "send", "recv", "close", "reply", "serve"
	arg  string
	verb string // for reply
}

func parseRawScript(text string) ([]rawStep, error) {
	var steps []rawStep
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		op, arg, _ := strings.Cut(line, " ")
		step := rawStep{op: op, arg: arg}
		var err error
		switch op {
		case "send":
			step.arg, err = rawText(arg)
		case "reply":
			verb, text, _ := strings.Cut(arg, " ")
			step.verb = strings.ToUpper(verb)
			step.arg, err = rawText(text)
		case "recv", "close", "serve":
		default:
			err = fmt.Errorf("unknown step %q", op)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n+1, err)
		}
		steps = append(steps, step)
	}
	return steps, nil
}

// rawText is a step's text: Go-quoted text exactly, else the text and CRLF.
func rawText(arg string) (string, error) {
	if strings.HasPrefix(arg, `"`) {
		return strconv.Unquote(arg)
	}
	return arg + "\r\n", nil
}

// rawServer plays a script to every connection, for server behaviour that
// go-smtp cannot show. Failures are collected, never fatal in a goroutine.
type rawServer struct {
	l     net.Listener
	steps []rawStep
	wg    sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	errs   []error
}

func startRawServer(l net.Listener, steps []rawStep) *rawServer {
	s := &rawServer{l: l, steps: steps, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				c.Close()
				return
			}
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if err := s.play(c); err != nil {
					s.mu.Lock()
					s.errs = append(s.errs, err)
					s.mu.Unlock()
				}
			}()
		}
	}()
	return s
}

func (s *rawServer) play(c net.Conn) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	var rules []rawStep
	for _, st := range s.steps {
		switch st.op {
		case "reply":
			rules = append(rules, st)
		case "serve":
			return serveRules(c, r, rules)
		case "send":
			if _, err := io.WriteString(c, st.arg); err != nil {
				return fmt.Errorf("send %q: %w", st.arg, err)
			}
		case "recv":
			line, err := r.ReadString('\n')
			if err != nil {
				return fmt.Errorf("recv %q: %w", st.arg, err)
			}
			if !strings.HasPrefix(line, st.arg) {
				return fmt.Errorf("recv: got %q, want prefix %q", line, st.arg)
			}
		case "close":
			return nil
		}
	}
	return nil
}

// serveRules answers each line by the first rule for its verb until the
// client hangs up or quits.
func serveRules(c net.Conn, r *bufio.Reader, rules []rawStep) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil // the client hung up
		}
		verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		verb = strings.ToUpper(verb)
		reply := "500 5.5.2 no reply scripted\r\n"
		if verb == "QUIT" {
			reply = "221 2.0.0 bye\r\n"
		}
		for _, rule := range rules {
			if rule.verb == verb || rule.verb == "*" {
				reply = rule.arg
				break
			}
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return fmt.Errorf("reply to %q: %w", line, err)
		}
		if verb == "QUIT" {
			return nil
		}
	}
}

func (s *rawServer) Addr() string { return s.l.Addr().String() }

// Err joins every failure of the script so far.
func (s *rawServer) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Close stops the server, drops its connections and waits for them.
func (s *rawServer) Close() error {
	err := s.l.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// The raw server is test infrastructure the scripts rely on; check it plays
// a script over a real socket and reports a client that strays from it.
func TestRawServerPlaysScript(t *testing.T) {
	steps, err := parseRawScript("# greeting\nsend 220 raw.test ESMTP\nrecv EHLO\nsend \"250-raw.test\\r\\n250 \\x1b[2J\\r\\n\"\nrecv QUIT\nclose\n")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := startRawServer(l, steps)
	t.Cleanup(func() { s.Close() })

	talk := func(hello string) string {
		c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "%s\r\nQUIT\r\n", hello)
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if got, want := talk("EHLO me"), "220 raw.test ESMTP\r\n250-raw.test\r\n250 \x1b[2J\r\n"; got != want {
		t.Errorf("session = %q, want %q", got, want)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err after a faithful client: %v", err)
	}
	talk("HELO me")
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), `want prefix "EHLO"`) {
		t.Errorf("Err after a client sent HELO = %v, want a prefix mismatch", err)
	}

	if _, err := parseRawScript("reply VRFY \"unterminated"); err == nil {
		t.Error("parseRawScript accepted a bad quoted reply")
	}
	if _, err := parseRawScript("shout hello"); err == nil {
		t.Error("parseRawScript accepted an unknown step")
	}
	if _, err := parseRawScript(`send "unterminated`); err == nil {
		t.Error("parseRawScript accepted a bad quoted string")
	}
}

func TestRawServerServesRules(t *testing.T) {
	steps, err := parseRawScript("send 220 raw.test\nreply EHLO \"250-raw.test\\r\\n250 SIZE 10\\r\\n\"\nreply vrfy 252 maybe\nreply * 550 no\nserve\n")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := startRawServer(l, steps)
	t.Cleanup(func() { s.Close() })
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(c, "ehlo me\r\nVRFY x\r\nMAIL FROM:<>\r\nQUIT\r\n")
	b, _ := io.ReadAll(c)
	if got, want := string(b), "220 raw.test\r\n250-raw.test\r\n250 SIZE 10\r\n252 maybe\r\n550 no\r\n550 no\r\n"; got != want {
		t.Errorf("session = %q, want %q", got, want)
	}
	if err := s.Err(); err != nil {
		t.Error(err)
	}
}
