package probetest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// Each stock profile greets with its banner, answers by its rules first,
// then by its own defaults, then by a plain server's, and hangs up after
// QUIT.
func TestMTAProfiles(t *testing.T) {
	for _, tc := range []struct {
		mta  MTA
		talk [][2]string // line sent, start of the reply expected
	}{
		{Sendmail, [][2]string{{"EHLO client.test", "250-mx.sendmail.test Hello"}, {"VRFY alice", "250 2.1.5 Alice"},
			{"VRFY smtpprobe-x", "550 5.1.1 smtpprobe-x... User unknown"}, {"VRFY <postmaster@rules.test>", "250 2.1.5 <postmaster@rules.test>"},
			{"MAIL FROM:<probe>", "553 5.5.4 <probe>... Domain name required"}, {"EXPN staff", "502 5.7.0"}, {"MAIL FROM:<probe@client.test>", "250 2.1.0 <probe@client.test>... Sender ok"},
			{"RSET", "250 2.0.0 Reset state"}, {"XYZZY", "500 5.5.1"}, {"QUIT", "221 2.0.0"}}},
		{Exim, [][2]string{{"EHLO client.test", "250-mx.exim.test Hello"}, {"RCPT TO:<postmaster@[127.0.0.1]>", "501 <postmaster@[127.0.0.1]>: domain literals"},
			{"RCPT TO:<prüfung@rules.test>", "550 Unrouteable address"}, {"VRFY bob@rules.test", "550 <bob@rules.test> Unrouteable address"}, {"RCPT TO:<alice@rules.test>", "250 Accepted"}, {"NOOP", "250 OK"}, {"QUIT", "221 mx.exim.test"}}},
		{OpenSMTPD, [][2]string{{"EHLO client.test", "250-mx.opensmtpd.test"}, {"VRFY alice", "502 5.5.1"},
			{`MAIL FROM:<"a b"@client.test>`, "553 5.1.0"}, {"MAIL FROM:<probe@client.test>", "250 2.0.0 Ok"}, {"RCPT TO:<smtpprobe-1@rules.test>", "550 Invalid recipient"}, {"QUIT", "221"}}},
	} {
		s := StartMTA(t, tc.mta)
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		read := func() string {
			var lines []string
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("%s: %v after %q", tc.mta.Name, err, lines)
				}
				lines = append(lines, strings.TrimRight(l, "\r\n"))
				if len(l) < 4 || l[3] != '-' {
					return strings.Join(lines, "\n")
				}
			}
		}
		if got := read(); got != tc.mta.Banner {
			t.Errorf("%s: banner %q", tc.mta.Name, got)
		}
		for _, x := range tc.talk {
			c.Write([]byte(x[0] + "\r\n"))
			got := read()
			if !strings.HasPrefix(got, x[1]) {
				t.Errorf("%s: %q drew %q; want %q…", tc.mta.Name, x[0], got, x[1])
			}
			if strings.HasPrefix(x[0], "EHLO") && strings.Contains(got, "PIPELINING") != (tc.mta.Name != "opensmtpd") {
				t.Errorf("%s: EHLO reply %q; only OpenSMTPD lacks PIPELINING", tc.mta.Name, got)
			}
		}
		if _, err := br.ReadByte(); err == nil {
			t.Errorf("%s: still open after QUIT", tc.mta.Name)
		}
		c.Close()
	}
}

// A slowdown starts at From and doubles up to Max, or stays at Delay
// without one.
func TestSlowdownDelays(t *testing.T) {
	sendmail := Sendmail.Slow
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, sendmail.delay(n))
	}
	want := []time.Duration{0, 0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Sendmail's delay before the reply to VRFY/EXPN %d = %s; want %s", i+1, got[i], want[i])
		}
	}
	flat := Slowdown{From: 3, Delay: time.Second}
	if flat.delay(2) != 0 || flat.delay(3) != time.Second || flat.delay(7) != time.Second {
		t.Errorf("flat slowdown: %s %s %s", flat.delay(2), flat.delay(3), flat.delay(7))
	}
	if (Slowdown{}).delay(100) != 0 || Sendmail.Steady().Slow.delay(100) != 0 {
		t.Error("a steady server delays")
	}
}
