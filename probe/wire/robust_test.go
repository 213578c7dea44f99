package wire

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// manyAUTH is an EHLO reply advertising n distinct AUTH mechanisms over
// lines of perLine each, with every mechanism also repeated in lower case
// on the last line: within the caps of Limits, so only the parser's own
// cost stands between the server and the client's CPU.
func manyAUTH(n, perLine int) (lines []string, mechs []string) {
	// Three symbols each, from an alphabet with no two letters that fold
	// together: 60,000 of them fit the 256 KiB reply cap.
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+-./:;?@^_|~"
	a := len(alphabet)
	for i := 0; i < n; i++ {
		mechs = append(mechs, string([]byte{alphabet[i/(a*a)%a], alphabet[i/a%a], alphabet[i%a]}))
	}
	for i := 0; i < n; i += perLine {
		lines = append(lines, "AUTH "+strings.Join(mechs[i:min(i+perLine, n)], " "))
	}
	return lines, mechs
}

func TestParseExtensionsMergesLinearly(t *testing.T) {
	lines, mechs := manyAUTH(60000, 750)
	lines = append(lines, "auth "+strings.ToLower(strings.Join(mechs[:100], " ")), "AUTH=000 EXTRA", "SIZE 10", "size 20")
	e := ParseExtensions(lines)
	got := e.Params("AUTH")
	if len(got) != len(mechs)+1 || !slices.Equal(got[:len(mechs)], mechs) || got[len(mechs)] != "EXTRA" {
		t.Fatalf("AUTH kept %d mechanisms (first %q, last %q); want the %d distinct ones in order, then EXTRA",
			len(got), got[:3], got[len(got)-1], len(mechs)+1)
	}
	if !slices.Equal(e.Keywords(), []string{"AUTH", "SIZE"}) || !slices.Equal(e.Params("size"), []string{"10", "20"}) {
		t.Errorf("keywords %q, SIZE %q", e.Keywords(), e.Params("size"))
	}
	// A mechanism repeated on its own line is one mechanism.
	if got := ParseExtensions([]string{"AUTH LOGIN login PLAIN LOGIN"}).Params("AUTH"); !slices.Equal(got, []string{"LOGIN", "PLAIN"}) {
		t.Errorf("AUTH LOGIN login PLAIN LOGIN = %q; want [LOGIN PLAIN]", got)
	}
}

// TestEHLOSixtyThousandMechanisms takes the hostile EHLO through a real
// session: the reply fits the caps, and the extensions come out whole.
func TestEHLOSixtyThousandMechanisms(t *testing.T) {
	lines, mechs := manyAUTH(60000, 750)
	srv := probetest.NewScripted(t, script(banner, expect("EHLO client.test"), send(ehloReply(lines)), quitOK)...)
	s, err := dial(t, config(srv.Addr()))
	wantStatus(t, err, StatusOK)
	if got := s.Extensions().Params("AUTH"); len(got) != len(mechs) {
		t.Fatalf("AUTH has %d mechanisms; want %d", len(got), len(mechs))
	}
}

// ehloReply frames keyword lines as a 250 EHLO reply.
func ehloReply(lines []string) string {
	var b strings.Builder
	b.WriteString("250-mx.test greets client.test\r\n")
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		fmt.Fprintf(&b, "250%s%s\r\n", sep, l)
	}
	return b.String()
}

// TestMixedCodesLastLineAnd421: a reply whose lines disagree is judged by
// its last line (RFC 5321 §4.2.1), keeps every line's code, and a 421 on
// any line ends the session.
func TestMixedCodesLastLineAnd421(t *testing.T) {
	for _, tc := range []struct {
		reply  string
		code   int
		codes  []int
		closed bool
	}{
		{"250-ok\r\n421 4.3.2 closing\r\n", 421, []int{250, 421}, true},
		{"421-4.3.2 closing\r\n250 ok\r\n", 250, []int{421, 250}, true},
		{"250-first\r\n550-5.1.1 second\r\n252 third\r\n", 252, []int{250, 550, 252}, false},
	} {
		srv := probetest.NewScripted(t, script(banner, ehloOK, expect("VRFY alice"), send(tc.reply), longStall)...)
		s, _ := dial(t, config(srv.Addr()))
		rep, _ := s.Cmd(context.Background(), "VRFY alice")
		if rep.Code != tc.code || !slices.Equal(rep.LineCodes, tc.codes) || !rep.Has(DevMixedCodes) || s.Closed() != tc.closed {
			t.Errorf("%q: code %d, line codes %v, closed %v; want %d, %v, %v", tc.reply, rep.Code, rep.LineCodes, s.Closed(), tc.code, tc.codes, tc.closed)
		}
	}
}

// TestReplyNamingOtherArgument: a reply to VRFY bob that names alice, the
// argument of the command before, and not bob is flagged; one that names
// neither is not.
func TestReplyNamingOtherArgument(t *testing.T) {
	srv := probetest.NewScripted(t, script(banner, ehloOK,
		expect("VRFY alice@x.test"), send("250 2.1.5 <alice@x.test>\r\n"),
		expect("VRFY bob@x.test"), send("250 2.1.5 <alice@x.test>\r\n"),
		expect("VRFY carol@x.test"), send("252 2.0.0 cannot verify\r\n"), longStall)...)
	s, _ := dial(t, config(srv.Addr()))
	for _, tc := range []struct {
		line    string
		flagged bool
	}{{"VRFY alice@x.test", false}, {"VRFY bob@x.test", true}, {"VRFY carol@x.test", false}} {
		rep, err := s.Cmd(context.Background(), tc.line)
		if err != nil || rep.Has(DevDesyncSuspect) != tc.flagged {
			t.Errorf("%s: %+v %v; flagged want %v", tc.line, rep.Deviations, err, tc.flagged)
		}
	}
}
