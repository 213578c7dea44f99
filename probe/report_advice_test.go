package probe

import (
	"strings"
	"testing"
)

func adviceFor(t *testing.T, policy PolicyVerdict, codes map[string]int) []string {
	t.Helper()
	rs := results(t, codes)
	for i := range rs {
		rs[i].Sent = rs[i].step.Line
	}
	h := &HostReport{Steps: rs, Verdicts: &Verdicts{VRFYPolicy: &policy, STARTTLS: true}}
	return Advise(h)
}

func TestAdviceVRFY(t *testing.T) {
	rcptLeaks := map[string]int{"rcpt-well-formed": 250, "rcpt-random-mailbox": 550}
	tests := []struct {
		name    string
		policy  PolicyVerdict
		codes   map[string]int
		want    []string
		notWant []string
	}{
		{"leaks, RCPT leaks too", PolicyVerdict{Policy: PolicyLeaks, RealCode: 252, RandomCode: 550}, rcptLeaks,
			[]string{"252 vs 550", "answer 252 to every VRFY", "Sendmail: PrivacyOptions=novrfy", "Exim: leave acl_smtp_vrfy unset", "RCPT TO tells mailboxes apart too (250 for postmaster@example.com, 550 for a random one)"},
			[]string{"Tools that"}},
		{"leaks, catch-all RCPT", PolicyVerdict{Policy: PolicyLeaks, RealCode: 252, RandomCode: 550}, map[string]int{"rcpt-well-formed": 250, "rcpt-random-mailbox": 250},
			[]string{"252 vs 550"}, []string{"RCPT TO tells"}},
		{"disabled", PolicyVerdict{Policy: PolicyDisabled}, rcptLeaks,
			[]string{"switched off", "252", "Postfix: disable_vrfy_command", "Sendmail: PrivacyOptions=novrfy answers 252", "RCPT TO tells mailboxes apart too"},
			[]string{"broken server", "Tools that", "user exists"}},
		{"accepts-all", PolicyVerdict{Policy: PolicyAcceptsAll, RealCode: 250, RandomCode: 250}, nil,
			[]string{"250 even for a random mailbox", "answer 252 instead"}, []string{"list your users"}},
		{"hides", PolicyVerdict{Policy: PolicyHides, RealCode: 252, RandomCode: 252}, nil,
			nil, []string{"VRFY"}},
	}
	for _, tt := range tests {
		codes := tt.codes
		if codes == nil {
			codes = map[string]int{}
		}
		all := strings.Join(adviceFor(t, tt.policy, codes), "\n")
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: advice lacks %q:\n%s", tt.name, w, all)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(all, w) {
				t.Errorf("%s: advice has %q:\n%s", tt.name, w, all)
			}
		}
	}
}
