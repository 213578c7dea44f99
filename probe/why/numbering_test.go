package why_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// tooMany is the greeting of a server with no room for another client.
const tooMany = probetest.TooManyConnections

// startRefusingProfile serves p on loopback, except for the connections
// refuse picks, which are greeted with tooMany.
func startRefusingProfile(t *testing.T, p probetest.Profile, refuse func(n int) bool) *probetest.ProfileServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := probetest.NewProfileServer(probetest.Refusing(l, tooMany, refuse), p)
	t.Cleanup(func() { s.Close() })
	return s
}

// sentLine is a MAIL or RCPT line the transcript shows sent, with the
// code of the reply that followed it (0 when none did).
type sentLine struct {
	line string
	code int
}

func (s sentLine) String() string { return fmt.Sprintf("%q→%d", s.line, s.code) }

// transcriptByConnection cuts a report's transcript into its
// connections: the MAIL and RCPT lines each carried, with their replies,
// and everything the server sent.
func transcriptByConnection(rep *probe.WhyReport) (sent map[int][]sentLine, server map[int][]string) {
	sent, server = map[int][]sentLine{}, map[int][]string{}
	var waiting *sentLine
	conn := 0
	for _, tl := range rep.Transcript {
		if tl.Connection != conn {
			conn, waiting = tl.Connection, nil
		}
		for _, line := range strings.Split(strings.TrimSuffix(tl.Data, "\r\n"), "\r\n") {
			switch tl.Dir {
			case probe.DirClient:
				verb := strings.ToUpper(line[:min(4, len(line))])
				if verb == "MAIL" || verb == "RCPT" {
					sent[conn] = append(sent[conn], sentLine{line: line})
					waiting = &sent[conn][len(sent[conn])-1]
				}
			case probe.DirServer:
				server[conn] = append(server[conn], line)
				if waiting != nil && (len(line) == 3 || len(line) > 3 && line[3] == ' ') {
					waiting.code, _ = strconv.Atoi(line[:3])
					waiting = nil
				}
			}
		}
	}
	return sent, server
}

// checkAttemptsMatchTranscript asserts that every attempt names the
// connection that carried it: the MAIL and RCPT lines the transcript
// shows on each connection, with their replies, are exactly the lines of
// the attempts that name that connection, in order.
func checkAttemptsMatchTranscript(t *testing.T, rep *probe.WhyReport) {
	t.Helper()
	sent, _ := transcriptByConnection(rep)
	want := map[int][]sentLine{}
	for _, a := range rep.Attempts {
		if a.ResentFrom != 0 {
			t.Fatalf("attempt %d was sent twice; this check is for runs without resends", a.N)
		}
		if a.Prelude != "" && a.PreludeReply != nil {
			want[a.Connection] = append(want[a.Connection], sentLine{a.Prelude, a.PreludeReply.Code})
		}
		if a.Reply != nil {
			want[a.Connection] = append(want[a.Connection], sentLine{a.Line, a.Reply.Code})
		}
	}
	for n := 1; n <= rep.Connections; n++ {
		if !slices.Equal(sent[n], want[n]) {
			t.Errorf("connection %d: the transcript shows %v sent, the attempts name %v", n, sent[n], want[n])
		}
	}
	for n := range sent {
		if n < 1 || n > rep.Connections {
			t.Errorf("the transcript has connection %d, the report %d connections", n, rep.Connections)
		}
	}
	for _, a := range rep.Attempts {
		if a.Connection < 1 || a.Connection > rep.Connections {
			t.Errorf("attempt %d names connection %d of %d", a.N, a.Connection, rep.Connections)
		}
	}
}

// checkRefused asserts that connection n of the transcript is a session
// greeted with tooMany that carried no line.
func checkRefused(t *testing.T, rep *probe.WhyReport, n int) {
	t.Helper()
	sent, server := transcriptByConnection(rep)
	if len(sent[n]) != 0 || !slices.Equal(server[n], []string{tooMany}) {
		t.Errorf("connection %d: server said %q, client sent %v; want the refusal alone", n, server[n], sent[n])
	}
}

// TestWhyNumbersConnectionsAsDialled: when the first MX host greets with
// 421, the second host's connections are connections 2 and on, in the
// attempts as in the transcript, and the refused one is a host error and
// connection 1 of the transcript.
func TestWhyNumbersConnectionsAsDialled(t *testing.T) {
	busy := startRefusingProfile(t, whyProfile(t, "postfix-strict"), func(int) bool { return true })
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	o := whyOpts(s.Addr(), "MAIL FROM:a@b")
	o.Hosts = []probe.WhyHost{{Addr: busy.Addr()}, {Addr: s.Addr()}}
	o.PerConnection = 1 // the repaired line goes on a connection of its own
	rep, err := probe.Why(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conclusion.Kind != probe.WhyRepaired || len(rep.Attempts) != 2 {
		t.Fatalf("%s after %d attempts: %s", rep.Conclusion.Kind, len(rep.Attempts), rep.Conclusion.Summary)
	}
	if rep.Host == nil || rep.Host.Addr != s.Addr() || len(rep.HostErrors) != 1 || rep.HostErrors[0].Host != busy.Addr() ||
		rep.HostErrors[0].Status != probe.StatusClosedByServer || !strings.Contains(rep.HostErrors[0].Error, "421") {
		t.Errorf("host %+v, host errors %+v", rep.Host, rep.HostErrors)
	}
	if rep.Connections != 3 || rep.Attempts[0].Connection != 2 || rep.Attempts[1].Connection != 3 {
		t.Errorf("%d connections; attempts on %d and %d, want 3; 2 and 3", rep.Connections, rep.Attempts[0].Connection, rep.Attempts[1].Connection)
	}
	checkRefused(t, rep, 1)
	checkAttemptsMatchTranscript(t, rep)
	if busy.Connections() != 0 || s.Connections() != 2 {
		t.Errorf("the busy host served %d sessions, the other %d", busy.Connections(), s.Connections())
	}
	checkWhySessionRules(t, s)
}

// TestWhyNumbersARefusedReconnect: a reconnect greeted with 421 keeps its
// number; the line goes on the next connection, which the attempt names.
func TestWhyNumbersARefusedReconnect(t *testing.T) {
	s := startRefusingProfile(t, whyProfile(t, "postfix-strict"), func(n int) bool { return n == 2 })
	o := whyOpts(s.Addr(), "MAIL FROM:a@b")
	o.PerConnection = 1
	rep, err := probe.Why(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conclusion.Kind != probe.WhyRepaired || len(rep.Attempts) != 2 {
		t.Fatalf("%s after %d attempts: %s", rep.Conclusion.Kind, len(rep.Attempts), rep.Conclusion.Summary)
	}
	if rep.Connections != 3 || rep.Attempts[0].Connection != 1 || rep.Attempts[1].Connection != 3 {
		t.Errorf("%d connections; attempts on %d and %d, want 3; 1 and 3", rep.Connections, rep.Attempts[0].Connection, rep.Attempts[1].Connection)
	}
	checkRefused(t, rep, 2)
	checkAttemptsMatchTranscript(t, rep)
	checkWhySessionRules(t, s)
}

// TestWhyNumbersAHostThatRefusesTCP: a host that refuses the TCP
// connection takes a number too, and the transcript says what became of
// it, so the numbers are the same whatever way a host fails.
func TestWhyNumbersAHostThatRefusesTCP(t *testing.T) {
	deadAddr := refusingAddr(t)
	s := probetest.StartProfile(t, whyProfile(t, "postfix-strict"))
	o := whyOpts(s.Addr(), "MAIL FROM:a@b")
	o.Hosts = []probe.WhyHost{{Addr: deadAddr}, {Addr: s.Addr()}}
	rep, err := probe.Why(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connections != 2 || len(rep.Attempts) != 2 || rep.Attempts[0].Connection != 2 || rep.Attempts[1].Connection != 2 {
		t.Errorf("%d connections, attempts %+v", rep.Connections, rep.Attempts)
	}
	var first []string
	for _, tl := range rep.Transcript {
		if tl.Connection == 1 {
			first = append(first, tl.Dir+" "+tl.Data)
		}
	}
	if len(first) != 1 || !strings.HasPrefix(first[0], probe.DirEvent+" ") || !strings.Contains(first[0], deadAddr) {
		t.Errorf("connection 1 in the transcript: %q; want one event naming %s", first, deadAddr)
	}
	checkAttemptsMatchTranscript(t, rep)
}

// TestWhyOnlyHostRefuses: a single host that greets with 421 is a host
// error and connection 1 of the transcript; nothing is sent.
func TestWhyOnlyHostRefuses(t *testing.T) {
	s := startRefusingProfile(t, whyProfile(t, "postfix-strict"), func(int) bool { return true })
	rep, err := probe.Why(context.Background(), whyOpts(s.Addr(), "MAIL FROM:a@b"))
	if err == nil || rep.Conclusion.Kind != probe.WhyNoConnection || len(rep.Attempts) != 0 {
		t.Fatalf("%v, %s after %d attempts", err, rep.Conclusion.Kind, len(rep.Attempts))
	}
	if rep.Connections != 1 || len(rep.HostErrors) != 1 || rep.HostErrors[0].Status != probe.StatusClosedByServer {
		t.Errorf("%d connections, host errors %+v", rep.Connections, rep.HostErrors)
	}
	checkRefused(t, rep, 1)
}
