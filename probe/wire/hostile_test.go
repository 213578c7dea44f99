package wire

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// The servers that misbehave: each must end with a clear status, keep the
// transcript up to the fault and keep memory bounded.

func TestGreetingEndsSession(t *testing.T) {
	t.Run("554", func(t *testing.T) {
		srv := probetest.NewScripted(t, script(send("554 5.7.1 no SMTP service here\r\n"), quitOK)...)
		s, err := dial(t, config(srv.Addr()))
		wantStatus(t, err, StatusNoService)
		var pe *Error
		if !errors.As(err, &pe) || pe.Reply == nil || pe.Reply.Code != 554 || !s.Closed() {
			t.Fatalf("err %v", err)
		}
		if err := srv.Err(); err != nil {
			t.Fatal(err) // QUIT was sent, as RFC 5321 §3.1 asks
		}
	})
	t.Run("421", func(t *testing.T) {
		srv := probetest.NewScripted(t, send("421 4.3.2 too busy\r\n"), probetest.Close())
		s, err := dial(t, config(srv.Addr()))
		wantStatus(t, err, StatusClosedByServer)
		if !s.Closed() || s.Greeting().Code != 421 {
			t.Fatalf("closed %v greeting %+v", s.Closed(), s.Greeting())
		}
	})
	t.Run("521", func(t *testing.T) {
		srv := probetest.NewScripted(t, script(send("521 5.3.2 does not accept mail\r\n"), quitOK)...)
		_, err := dial(t, config(srv.Addr()))
		wantStatus(t, err, StatusNoService)
	})
	for _, g := range []string{"000 zero\r\n", "999 nine\r\n", "abc hello\r\n", "2500 hello\r\n", "250 not a greeting\r\n"} {
		t.Run(strings.Fields(g)[0], func(t *testing.T) {
			srv := probetest.NewScripted(t, send(g), longStall)
			_, err := dial(t, config(srv.Addr()))
			wantStatus(t, err, StatusProtocolError)
		})
	}
}

func TestSilentServers(t *testing.T) {
	cases := []struct {
		name   string
		steps  []step
		status SessionStatus
		kept   string // received bytes the transcript must hold
	}{
		{"says nothing", []step{longStall}, StatusIOTimeout, ""},
		{"banner then nothing", []step{banner, longStall}, StatusIOTimeout, "220 mx.test ESMTP ready\r\n"},
		{"drips a byte at a time", []step{probetest.DripForever("220-slow\r\n", 5*time.Millisecond)}, StatusIOTimeout, "220-"},
		{"closes after the banner", []step{banner, probetest.Close()}, StatusClosedByServer, "220 mx.test"},
		{"resets mid-reply", []step{banner, expect("EHLO client.test"), send("250-mx.test\r\n250-PIPE"), probetest.Reset()},
			StatusClosedByServer, "250-PIPE"},
		{"endless multi-line reply", []step{banner, expect("EHLO client.test"), probetest.Flood("250-more\r\n", 10<<20)},
			StatusProtocolError, "250-more\r\n"},
		{"10 MB line without CRLF", []step{send("220 "), probetest.Flood("a", 10<<20)}, StatusProtocolError, "220 aaaa"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := probetest.NewScripted(t, tc.steps...)
			s, err := dial(t, shortConfig(srv.Addr()))
			wantStatus(t, err, tc.status)
			if s == nil {
				t.Fatal("no session: the transcript is lost")
			}
			if got := transcriptText(s, DirServer); !strings.Contains(got, tc.kept) {
				t.Errorf("transcript kept %.60q, want it to hold %q", got, tc.kept)
			}
			if !s.Closed() && tc.status != StatusIOTimeout {
				t.Error("session not marked closed")
			}
		})
	}
}

// TestDripKeepsPartialReply checks that an absolute deadline cuts a drip
// and that what arrived is kept in the reply.
func TestDripKeepsPartialReply(t *testing.T) {
	srv := probetest.NewScripted(t, probetest.Drip("220 this banner arrives one byte at a time and never ends", 20*time.Millisecond), longStall)
	s, err := dial(t, shortConfig(srv.Addr()))
	wantStatus(t, err, StatusIOTimeout)
	g := s.Greeting()
	if g.Code != 220 || len(g.Lines) != 1 || !strings.HasPrefix("this banner arrives one byte at a time and never ends", g.Lines[0]) || !g.Has(DevTruncated) {
		t.Fatalf("partial greeting %+v", g)
	}
}

// TestOverallBudget checks that the context's deadline holds even when
// the per-reply deadline is long.
func TestOverallBudget(t *testing.T) {
	srv := probetest.NewScripted(t, probetest.DripForever("220-", 10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	cfg := config(srv.Addr())
	cfg.ReplyTimeout = time.Hour
	s, err := Dial(ctx, cfg)
	wantStatus(t, err, StatusIOTimeout)
	s.Close()
}

// TestCancelInterruptsRead is Ctrl-C: cancelling the context ends a read
// that no deadline would end for an hour.
func TestCancelInterruptsRead(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, expect("NOOP"), longStall)...)
	cfg := config(srv.Addr())
	cfg.ReplyTimeout = time.Hour
	s, err := dial(t, cfg)
	wantStatus(t, err, StatusOK)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	_, err = s.Cmd(ctx, "NOOP")
	wantStatus(t, err, StatusCanceled)
	if _, err := s.Cmd(context.Background(), "NOOP"); !errors.Is(err, ErrClosed) {
		t.Errorf("after a cancelled read: %v, want ErrClosed", err)
	}
}

func TestConnectFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s, err := Dial(context.Background(), config(addr))
	wantStatus(t, err, StatusConnectionRefused)
	if s != nil {
		t.Error("a session without a connection")
	}

	cfg := config("127.0.0.1:25")
	cfg.ConnectTimeout = 50 * time.Millisecond
	cfg.Dialer = DialFunc(func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done() // a host that never answers the SYN
		return nil, ctx.Err()
	})
	_, err = Dial(context.Background(), cfg)
	wantStatus(t, err, StatusConnectionTimeout)
}

func TestBadCodesInReplies(t *testing.T) {
	for _, r := range []string{"000 zero\r\n", "999 nine\r\n", "abc letters\r\n", "2500 four\r\n"} {
		t.Run(strings.Fields(r)[0], func(t *testing.T) {
			srv := probetest.NewScripted(t, script(banner, ehloOK, expect("VRFY alice"), send(r), expect("NOOP"), send("250 ok\r\n"), longStall)...)
			s, err := dial(t, config(srv.Addr()))
			wantStatus(t, err, StatusOK)
			rep, err := s.Cmd(context.Background(), "VRFY alice")
			wantStatus(t, err, StatusProtocolError)
			if !rep.Has(DevInvalidCode) || s.Closed() {
				t.Fatalf("reply %+v closed %v", rep, s.Closed())
			}
			if rep, err := s.Cmd(context.Background(), "NOOP"); err != nil || rep.Code != 250 {
				t.Fatalf("the session should go on: %+v %v", rep, err)
			}
		})
	}
}

func TestMixedCodesReply(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, expect("RCPT TO:<a@b>"), send("250-first\r\n550 5.1.1 second\r\n"), longStall)...)
	s, _ := dial(t, config(srv.Addr()))
	rep, err := s.Cmd(context.Background(), "RCPT TO:<a@b>")
	if err != nil || rep.Code != 550 || rep.Enhanced != "5.1.1" || !rep.Has(DevMixedCodes) || len(rep.Lines) != 2 || !slices.Equal(rep.LineCodes, []int{250, 550}) {
		t.Fatalf("judged %d %q, want the last line's 550 5.1.1: %+v %v", rep.Code, rep.Enhanced, rep, err)
	}
	if s.Closed() {
		t.Error("a reply without 421 closed the session")
	}
}

func TestUnsolicitedData(t *testing.T) {
	srv := probetest.NewScripted(t, banner, expect("EHLO client.test"),
		send("250 mx.test\r\n250 a reply to nothing\r\n"), expect("NOOP"), send("250 2.0.0 noop\r\n"),
		expect("QUIT"), send("221 bye\r\n451 and more\r\n"), longStall)
	s, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusOK)
	rep, err := s.Cmd(context.Background(), "NOOP")
	if err != nil || rep.Code != 250 || rep.Lines[0] != "2.0.0 noop" || !rep.Has(DevUnsolicited) {
		t.Fatalf("NOOP: %+v %v", rep, err)
	}
	if _, err := s.Quit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := transcriptText(s, DirServer); !strings.Contains(got, "a reply to nothing") {
		t.Errorf("transcript lost the unsolicited reply: %q", got)
	}
	if len(s.Deviations()) < 1 {
		t.Error("no session deviation")
	}
}

func TestRepliesBeforeCommand(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, send("550 early\r\n"), expect("NOOP"), send("250 ok\r\n"), longStall)...)
	s, _ := dial(t, config(srv.Addr()))
	time.Sleep(200 * time.Millisecond) // let the early reply arrive before the command
	rep, err := s.Cmd(context.Background(), "NOOP")
	if err != nil || rep.Code != 250 || !rep.Has(DevUnsolicited) {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestServer421AndDrop(t *testing.T) {
	// The first connection answers 421 after two errors and closes; the
	// second works: a caller sees Closed and dials again.
	srv := probetest.NewScriptedSequence(t,
		script(banner, ehloOK, expect("BAD1"), send("500 5.5.2 what\r\n"), expect("BAD2"), send("500 5.5.2 what\r\n"),
			expect("BAD3"), send("421 4.7.0 too many errors\r\n"), probetest.Close()),
		script(banner, ehloOK, expect("NOOP"), send("250 ok\r\n"), quitOK),
	)
	s, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusOK)
	for i, line := range []string{"BAD1", "BAD2", "BAD3"} {
		rep, err := s.Cmd(context.Background(), line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if i < 2 && (rep.Code != 500 || s.Closed()) || i == 2 && (rep.Code != 421 || !s.Closed()) {
			t.Fatalf("%s: %d closed %v", line, rep.Code, s.Closed())
		}
	}
	_, err = s.Cmd(context.Background(), "NOOP")
	wantStatus(t, err, StatusClosedByServer)
	s2, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusOK)
	if rep, err := s2.Cmd(context.Background(), "NOOP"); err != nil || rep.Code != 250 {
		t.Fatal(rep, err)
	}
	s2.Quit(context.Background())
	if err := srv.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestAnswers421ToEverything(t *testing.T) {
	srv := probetest.NewScripted(t, send("220 hi\r\n"), expect("EHLO client.test"), send("421 4.3.2 go away\r\n"), longStall)
	s, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusClosedByServer)
	if !s.Closed() || s.EHLOReply().Code != 421 {
		t.Fatalf("closed %v ehlo %+v", s.Closed(), s.EHLOReply())
	}
}

func TestCmdRefusesLines(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, expect("NOOP"), send("250 ok\r\n"), longStall)...)
	s, _ := dial(t, config(srv.Addr()))
	for _, line := range []string{"DATA", "data", "BDAT 10 LAST", " Bdat 0", "STARTTLS", "NOOP\r\nDATA", "VRFY a\nb", "VRFY a\x00", "NOOP\r", "DATA\tx"} {
		_, err := s.Cmd(context.Background(), line)
		if !errors.Is(err, ErrRefusedLine) || Status(err) != StatusInvalidInput {
			t.Errorf("Cmd(%q) = %v, want a refusal", line, err)
		}
	}
	// Nothing was sent: the server's next expected line is still NOOP.
	if rep, err := s.Cmd(context.Background(), "NOOP"); err != nil || rep.Code != 250 {
		t.Fatalf("NOOP: %+v %v", rep, err)
	}
	if c := transcriptText(s, DirClient); c != "EHLO client.test\r\nNOOP\r\n" {
		t.Errorf("sent %q", c)
	}
	// DATALINE is not DATA.
	if err := checkLine("DATALINE x"); err != nil {
		t.Errorf("DATALINE refused: %v", err)
	}
}

func TestSessionByteCap(t *testing.T) {
	srv := probetest.NewScripted(t, send("220-"+strings.Repeat("x", 200)+"\r\n220 hi\r\n"), longStall)
	cfg := config(srv.Addr())
	cfg.Limits.SessionBytes = 100
	s, err := dial(t, cfg)
	wantStatus(t, err, StatusProtocolError)
	var le *LimitError
	if !errors.As(err, &le) || le.What != "session bytes" || !s.Closed() {
		t.Fatalf("err %v", err)
	}
}

func TestQuitWithoutReply(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, expect("QUIT"), longStall)...)
	s, _ := dial(t, shortConfig(srv.Addr()))
	_, err := s.Quit(context.Background())
	wantStatus(t, err, StatusIOTimeout)
	if !s.Closed() {
		t.Error("Quit must close the session whatever the server does")
	}
}

func TestPipeline(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, expect("MAIL FROM:<a@b>"), expect("RCPT TO:<c@d>"), expect("RSET"),
		send("250 2.1.0 ok\r\n550 5.1.1 unknown\r\n250 2.0.0 reset\r\n"),
		expect("MAIL FROM:<a@b>"), expect("RCPT TO:<c@d>"), expect("RSET"), send("999 what\r\n421 4.7.0 bye\r\n"), probetest.Close())...)
	s, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusOK)
	reps, err := s.Pipeline(context.Background(), []string{"MAIL FROM:<a@b>", "RCPT TO:<c@d>", "RSET"})
	if err != nil || len(reps) != 3 || reps[0].Code != 250 || reps[1].Code != 550 || reps[2].Code != 250 {
		t.Fatalf("%+v %v", reps, err)
	}
	if _, err := s.Pipeline(context.Background(), []string{"NOOP", "DATA"}); !errors.Is(err, ErrRefusedLine) {
		t.Fatalf("DATA in a pipeline: %v", err)
	}
	reps, err = s.Pipeline(context.Background(), []string{"MAIL FROM:<a@b>", "RCPT TO:<c@d>", "RSET"})
	wantStatus(t, err, StatusProtocolError)
	if len(reps) != 2 || reps[1].Code != 421 || !s.Closed() {
		t.Fatalf("%+v closed %v", reps, s.Closed())
	}
}

func TestDialRefusesBadHELO(t *testing.T) {
	srv := probetest.NewScripted(t, banner, longStall)
	for _, helo := range []string{"a\r\nDATA", "a\nb", "a\x00"} {
		cfg := config(srv.Addr())
		cfg.HELO = helo
		s, err := Dial(context.Background(), cfg)
		if s != nil || Status(err) != StatusInvalidInput {
			t.Errorf("HELO %q: %v", helo, err)
		}
	}
	if srv.Accepted() != 0 {
		t.Error("connected despite a bad HELO name")
	}
}
