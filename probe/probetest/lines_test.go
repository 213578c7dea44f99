package probetest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// The line server writes its banner, answers by the function, counts the
// error replies of the connection and keeps what the client sent.
func TestLineServer(t *testing.T) {
	s := StartLineServer(t, "220 lines.test\r\n", func(c *LineConn, line string) LineReply {
		switch {
		case line == "QUIT":
			return LineReply{Out: "221 bye\r\n", Close: true}
		case c.Errors >= 2:
			return LineReply{Out: "421 too many errors\r\n", Close: true}
		}
		return LineReply{Out: "500 no\r\n"}
	})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	var got []string
	for _, l := range []string{"", "A", "B", "C"} {
		if l != "" {
			c.Write([]byte(l + "\r\n"))
		}
		r, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", l, err)
		}
		got = append(got, strings.TrimSpace(r))
	}
	want := "220 lines.test|500 no|500 no|421 too many errors"
	if strings.Join(got, "|") != want {
		t.Errorf("replies %q, want %q", strings.Join(got, "|"), want)
	}
	if _, err := br.ReadString('\n'); err == nil {
		t.Error("the connection stayed open after a Close reply")
	}
	if s.Accepted() != 1 || string(s.Received()) != "A\r\nB\r\nC\r\n" {
		t.Errorf("accepted %d, received %q", s.Accepted(), s.Received())
	}
}
