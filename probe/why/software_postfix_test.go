package why_test

import (
	"strings"
	"testing"
)

// TestWhyPostfixSoftwareHiddenBanner: why names the software of the lab
// Postfix whose banner is only "$myhostname ESMTP" from its EHLO reply and
// the replies to the attempts.
func TestWhyPostfixSoftwareHiddenBanner(t *testing.T) {
	const hidden = "127.0.0.1:2527" // smtpd_banner = $myhostname ESMTP
	needWhyPostfix(t, hidden)
	rep := whyPostfix(t, hidden, "RCPT TO:<nobody@lab.test>")
	sw := rep.Software
	if sw == nil {
		t.Fatal("no software reported")
	}
	ev := strings.Join(sw.Evidence, "\n")
	t.Logf("software %s (%s):\n%s", sw.Name, sw.Confidence, ev)
	if sw.Name != "Postfix" || sw.Confidence != "high" {
		t.Fatalf("software = %q (%s), want Postfix (high)", sw.Name, sw.Confidence)
	}
	if strings.Contains(ev, "banner names") || !strings.Contains(ev, "in Postfix's order") {
		t.Errorf("evidence %q: want the EHLO order, not the banner", sw.Evidence)
	}
}
