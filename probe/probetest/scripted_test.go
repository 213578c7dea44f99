package probetest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func dialT(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func TestScriptPlays(t *testing.T) {
	s := NewScripted(t, Send("220 hi\r\n"), Expect("EHLO x"), ExpectPrefix("MAIL FROM:"), Drip("250 ok\r\n", time.Millisecond), Close())
	c, br := dialT(t, s.Addr())
	if l, _ := br.ReadString('\n'); l != "220 hi\r\n" {
		t.Fatalf("greeting %q", l)
	}
	io.WriteString(c, "EHLO x\r\nMAIL FROM:<a@b>\r\n")
	if l, _ := br.ReadString('\n'); l != "250 ok\r\n" {
		t.Fatalf("dripped %q", l)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after Close: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestScriptReportsMismatch(t *testing.T) {
	s := NewScripted(t, Expect("EHLO x"))
	c, br := dialT(t, s.Addr())
	io.WriteString(c, "HELO y\r\n")
	br.ReadByte() // EOF once the failed script has closed the connection
	err := s.Err()
	if err == nil || !strings.Contains(err.Error(), `got "HELO y"`) {
		t.Fatalf("Err = %v", err)
	}
}

func TestScriptSequence(t *testing.T) {
	s := NewScriptedSequence(t, []Step{Send("first\r\n")}, []Step{Send("second\r\n")})
	for _, want := range []string{"first\r\n", "second\r\n"} {
		_, br := dialT(t, s.Addr())
		if l, _ := br.ReadString('\n'); l != want {
			t.Fatalf("got %q, want %q", l, want)
		}
	}
	_, br := dialT(t, s.Addr())
	br.ReadByte()
	if err := s.Err(); err == nil || s.Accepted() != 3 {
		t.Fatalf("a third connection must be reported: %v", err)
	}
}

func TestScriptReset(t *testing.T) {
	s := NewScripted(t, Expect("go"), Send("250-partial\r\n"), Reset())
	c, br := dialT(t, s.Addr())
	io.WriteString(c, "go\r\n")
	br.ReadString('\n')
	_, err := br.ReadByte()
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after Reset: %v, want a connection reset", err)
	}
}

func TestScriptFloodStopsWhenClientLeaves(t *testing.T) {
	s := NewScripted(t, Flood("x", 1<<30))
	c, br := dialT(t, s.Addr())
	br.ReadByte()
	c.Close()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}
