package software

import (
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// postfixEHLO is Postfix's EHLO reply as smtpd.c sends it.
var postfixEHLO = []string{"mx.lab.test", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS",
	"ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}

func TestIdentifyNoGreeting(t *testing.T) {
	ehlo := &wire.Reply{Code: 250, Lines: postfixEHLO}
	if sw := Identify(nil, ehlo, nil); sw != nil {
		t.Fatalf("Identify without a greeting = %+v, want nil", sw)
	}
}

// TestIdentifyEHLOOnlyWhenAccepted: the EHLO reply's lines are clues only
// when the server accepted EHLO; a refusal's text says nothing of the
// keyword order.
func TestIdentifyEHLOOnlyWhenAccepted(t *testing.T) {
	banner := &wire.Reply{Code: 220, Lines: []string{"mx.lab.test ESMTP"}}
	for _, c := range []struct {
		code  int
		order bool
	}{{250, true}, {502, false}} {
		sw := Identify(banner, &wire.Reply{Code: c.code, Lines: postfixEHLO}, nil)
		if sw == nil {
			t.Fatalf("EHLO %d: no software read", c.code)
		}
		got := strings.Contains(strings.Join(sw.Evidence, "\n"), "in Postfix's order")
		if got != c.order {
			t.Errorf("EHLO %d: keyword-order clue = %v, want %v (evidence %q)", c.code, got, c.order, sw.Evidence)
		}
	}
}

// TestIdentifyReplies: replies with no code (none came, or unreadable)
// are skipped, and the others are read by their text.
func TestIdentifyReplies(t *testing.T) {
	banner := &wire.Reply{Code: 220, Lines: []string{"mx.lab.test ESMTP"}}
	rcpt := &wire.Reply{Code: 550, Enhanced: "5.1.1",
		Lines: []string{"5.1.1 <nobody@lab.test>: Recipient address rejected: User unknown in local recipient table"}}
	sw := Identify(banner, nil, []CommandReply{
		{Command: explain.MAIL, Reply: nil},
		{Command: explain.MAIL, Reply: &wire.Reply{}},
		{Command: explain.RCPT, Reply: rcpt},
	})
	if sw == nil || sw.Name != "Postfix" {
		t.Fatalf("Identify = %+v, want Postfix from the RCPT reply's wording", sw)
	}
}

func TestTextAfterEnhanced(t *testing.T) {
	for _, c := range []struct {
		r    wire.Reply
		want string
	}{
		{wire.Reply{Enhanced: "5.1.1", Lines: []string{"5.1.1 User unknown", "see the FAQ"}}, "User unknown see the FAQ"},
		{wire.Reply{Lines: []string{"5.1.1 User unknown"}}, "5.1.1 User unknown"},
		{wire.Reply{Enhanced: "2.0.0", Lines: []string{"2.0.0"}}, ""},
	} {
		if got := textAfterEnhanced(c.r); got != c.want {
			t.Errorf("textAfterEnhanced(%q) = %q, want %q", c.r.Lines, got, c.want)
		}
	}
}
