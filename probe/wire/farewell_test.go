package wire

import (
	"context"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// TestFarewellAfterRepeatIsNoDesync: a reply identical to the one before,
// followed by a last word and a hang-up (go-smtp's "500 5.5.1 Too many
// errors"), is the reply to its own command, not a late repeat: it stands,
// and the session ends as closed by the server. The same bytes with the
// connection left open are a shift, and the session ends desynchronised.
func TestFarewellAfterRepeatIsNoDesync(t *testing.T) {
	refusal := "502 5.5.2 Error: command not recognized\r\n"
	for _, tc := range []struct {
		name   string
		after  step
		desync bool
	}{
		{"hang-up", probetest.Close(), false},
		{"left open", longStall, true},
	} {
		srv := probetest.NewScripted(t, script(banner, ehloOK, expect("VRFY a"), send(refusal), expect("VRFY b"),
			send(refusal+"500 5.5.1 Too many errors. Quiting now\r\n"), tc.after)...)
		s, err := dial(t, config(srv.Addr()))
		wantStatus(t, err, StatusOK)
		if _, err := s.Cmd(context.Background(), "VRFY a"); err != nil {
			t.Fatalf("%s: VRFY a: %v", tc.name, err)
		}
		rep, err := s.Cmd(context.Background(), "VRFY b")
		if rep.Code != 502 || rep.Has(DevDesync) != tc.desync || (Status(err) == StatusDesync) != tc.desync {
			t.Errorf("%s: VRFY b drew %d, deviations %+v, err %v; desync want %v", tc.name, rep.Code, rep.Deviations, err, tc.desync)
		}
		if !tc.desync {
			if _, err := s.Cmd(context.Background(), "NOOP"); Status(err) != StatusClosedByServer {
				t.Errorf("%s: after the farewell: %v; want closed by the server", tc.name, err)
			}
		}
	}
}

// TestSameLengthReplyIsNoRepeat: a reply as long as the one before but
// not the same is new, so bytes right behind it are extra lines the next
// command finds, not a shift: the reply stands and the session goes on.
func TestSameLengthReplyIsNoRepeat(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK, expect("VRFY a"), send("252 2.1.5 a ok\r\n"), expect("VRFY b"),
		send("252 2.1.5 b ok\r\n250 extra\r\n"), expect("NOOP"), send("250 2.0.0 ok\r\n"), longStall)...)
	s, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusOK)
	if _, err := s.Cmd(context.Background(), "VRFY a"); err != nil {
		t.Fatalf("VRFY a: %v", err)
	}
	rep, err := s.Cmd(context.Background(), "VRFY b")
	if err != nil || rep.Code != 252 || rep.Has(DevDesync) {
		t.Fatalf("VRFY b drew %d, deviations %+v, err %v; want its 252 to stand", rep.Code, rep.Deviations, err)
	}
	if rep, err := s.Cmd(context.Background(), "NOOP"); err != nil || rep.Code != 250 || !rep.Has(DevUnsolicited) {
		t.Errorf("NOOP drew %d, deviations %+v, err %v; want 250 with the extra line found before it", rep.Code, rep.Deviations, err)
	}
}
