package probe

import (
	"errors"
	"strings"
	"testing"
)

// A RCPTRaw text becomes one step, sent after "RCPT TO:" as written:
// template braces stay braces, nothing is bracketed or converted.
func TestPlanRCPTRaw(t *testing.T) {
	texts := []string{"<{rcpt}@example.org>", "jörg@exämple.org", " <a@b> NOTIFY=NEVER"}
	steps := Plan(PlanInput{Domain: "example.org", From: "p@client.test", RCPTRaw: texts})
	var got []Step
	for _, s := range steps {
		if s.Role == RoleRcptRaw {
			got = append(got, s)
		}
	}
	if len(got) != len(texts) {
		t.Fatalf("%d raw steps, want %d", len(got), len(texts))
	}
	for i, s := range got {
		if s.Line != "RCPT TO:"+texts[i] || s.Address != texts[i] || s.Name != "rcpt-raw-"+string(rune('1'+i)) {
			t.Errorf("step %d: %s %q (address %q)", i, s.Name, s.Line, s.Address)
		}
		if s.Suite != "syntax" || s.State != InMail || s.Expect != ExpectInfo || s.Depends != RoleMailBaseline {
			t.Errorf("%s: suite %s, state %v, expect %s, depends %q", s.Name, s.Suite, s.State, s.Expect, s.Depends)
		}
		_, conf, verdict := JudgeStep(s, 501, "5.1.3")
		if conf != Informative || !strings.HasPrefix(verdict, "not judged: a RCPT TO line as written drew 501 (rejected)") {
			t.Errorf("%s: %s %q", s.Name, conf, verdict)
		}
	}
	for _, s := range Plan(PlanInput{Domain: "example.org", Suites: []string{"vrfy"}, RCPTRaw: texts}) {
		if s.Role == RoleRcptRaw {
			t.Errorf("the vrfy suite alone sends %s", s.Name)
		}
	}
}

// Check leaves a RCPTRaw text as written and refuses only what breaks the
// line, as an *OptionError naming RCPTRaw and its position.
func TestCheckRCPTRaw(t *testing.T) {
	ok := Options{RCPTRaw: []string{"jörg@exämple.org", "<a..b@example.org>"}}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	if ok.RCPTRaw[0] != "jörg@exämple.org" || ok.RCPTRaw[1] != "<a..b@example.org>" {
		t.Errorf("Check changed the texts: %q", ok.RCPTRaw)
	}
	for _, tc := range []struct {
		o     Options
		index int
		want  string
	}{
		{Options{RCPTRaw: []string{"a", "<b@c>\r\nDATA"}}, 2, "carriage return (CR) at position 6"},
		{Options{RCPTRaw: []string{"<b@c>\nDATA"}}, 1, "line feed (LF) at position 6"},
		{Options{RCPTRaw: []string{"a\x00"}}, 1, "NUL byte at position 2"},
		{Options{RCPTRaw: []string{""}}, 1, "is empty"},
		{Options{RCPTRaw: []string{strings.Repeat("x", MaxCommandOctets-len("RCPT TO:\r\n")+1)}}, 1, "513-octet command line"},
		{Options{RCPTRaw: []string{"<a@b>"}, Suites: []string{"vrfy"}}, 0, "syntax suite"},
	} {
		err := tc.o.Check()
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != "RCPTRaw" || oe.Index != tc.index || !strings.Contains(oe.Problem, tc.want) {
			t.Errorf("%q: %v, want RCPTRaw #%d %q", tc.o.RCPTRaw, err, tc.index, tc.want)
		}
	}
	fits := Options{RCPTRaw: []string{strings.Repeat("x", MaxCommandOctets-len("RCPT TO:\r\n"))}}
	if err := fits.Check(); err != nil {
		t.Errorf("a 512-octet line: %v", err)
	}
}
