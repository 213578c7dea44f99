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
