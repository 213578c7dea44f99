package wire

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// Every case runs over a real loopback socket; the tests assert the
// outcome, never the time taken. Cases that end in a timeout use a short
// reply deadline; the others a roomy one, so a loaded machine cannot
// turn them into timeouts.
const (
	testReplyTimeout  = 300 * time.Millisecond
	roomyReplyTimeout = 5 * time.Second
)

type (
	step = probetest.Step
)

var (
	send        = probetest.Send
	expect      = probetest.Expect
	stall       = probetest.Stall
	ehloOK      = []step{expect("EHLO client.test"), send("250-mx.test greets client.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n")}
	banner      = send("220 mx.test ESMTP ready\r\n")
	quitOK      = []step{expect("QUIT"), send("221 2.0.0 bye\r\n")}
	longStall   = stall(time.Minute)
	ehloStartTL = []step{expect("EHLO client.test"), send("250-mx.test\r\n250 STARTTLS\r\n"), expect("STARTTLS")}
)

func script(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch v := p.(type) {
		case step:
			out = append(out, v)
		case []step:
			out = append(out, v...)
		}
	}
	return out
}

func config(addr string) Config {
	return Config{Addr: addr, HELO: "client.test", TLS: TLSNone, ReplyTimeout: roomyReplyTimeout, ConnectTimeout: time.Second}
}

// shortConfig is config with the short reply deadline, for servers that
// go silent.
func shortConfig(addr string) Config {
	c := config(addr)
	c.ReplyTimeout = testReplyTimeout
	return c
}

func dial(t *testing.T, cfg Config) (*Session, error) {
	t.Helper()
	start := time.Now()
	s, err := Dial(context.Background(), cfg)
	// Logged for the record (go test -v), never asserted.
	t.Logf("Dial: status %s after %v (reply timeout %v)", Status(err), time.Since(start).Round(time.Millisecond), cfg.ReplyTimeout)
	if s != nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func wantStatus(t *testing.T, err error, want SessionStatus) {
	t.Helper()
	if got := Status(err); got != want {
		t.Fatalf("status %q (err %v), want %q", got, err, want)
	}
}

func transcriptText(s *Session, dir string) string {
	var b strings.Builder
	for _, e := range s.Transcript().Entries() {
		if e.Dir == dir {
			b.Write(e.Data)
		}
	}
	return b.String()
}

func TestDialEHLOAndQuit(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, expect("NOOP"), send("250 2.0.0 ok\r\n"), quitOK, probetest.Close())...)
	s, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusOK)
	if s.Greeting().Code != 220 || s.EHLOReply().Code != 250 || s.HELOReply() != nil {
		t.Fatalf("greeting %+v ehlo %+v", s.Greeting(), s.EHLOReply())
	}
	if n, ok := s.Extensions().Size(); !ok || n != 1000 || !s.Extensions().Has("PIPELINING") {
		t.Errorf("extensions %q", s.Extensions().Keywords())
	}
	rep, err := s.Cmd(context.Background(), "NOOP")
	if err != nil || rep.Code != 250 || rep.Enhanced != "2.0.0" {
		t.Fatalf("NOOP: %+v %v", rep, err)
	}
	if rep, err := s.Quit(context.Background()); err != nil || rep.Code != 221 {
		t.Fatalf("QUIT: %+v %v", rep, err)
	}
	if !s.Closed() || s.TLS() != nil {
		t.Error("after QUIT the session is closed, and it never used TLS")
	}
	if err := srv.Err(); err != nil {
		t.Fatal(err)
	}
	if c := transcriptText(s, DirClient); c != "EHLO client.test\r\nNOOP\r\nQUIT\r\n" {
		t.Errorf("sent %q", c)
	}
	if sv := transcriptText(s, DirServer); !strings.HasPrefix(sv, "220 mx.test") || !strings.HasSuffix(sv, "221 2.0.0 bye\r\n") {
		t.Errorf("received %q", sv)
	}
}

func TestHELOFallback(t *testing.T) {
	for _, code := range []string{"500", "502", "504"} {
		t.Run(code, func(t *testing.T) {
			srv := probetest.NewScripted(t, banner, expect("EHLO client.test"), send(code+" 5.5.1 what?\r\n"),
				expect("HELO client.test"), send("250 mx.test\r\n"), longStall)
			s, err := dial(t, config(srv.Addr()))
			wantStatus(t, err, StatusOK)
			if s.HELOReply() == nil || s.HELOReply().Code != 250 || s.EHLOReply().Code/100 != 5 {
				t.Fatalf("HELO reply %+v", s.HELOReply())
			}
			if len(s.Extensions().Keywords()) != 0 {
				t.Error("HELO gives no extensions")
			}
		})
	}
}
