package probe_test

import (
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/explain"
)

// postfixHidden is the lab endpoint whose banner does not name Postfix
// (smtpd_banner = $myhostname ESMTP); otherwise it is the strict one.
const postfixHidden = "127.0.0.1:2527"

// checkPostfixSoftware asserts that sw names Postfix with high
// confidence, and that with a hidden banner the name comes from other
// clues than the banner.
func checkPostfixSoftware(t *testing.T, sw *explain.Software, hidden bool) {
	t.Helper()
	if sw == nil {
		t.Fatal("no software reported")
	}
	ev := strings.Join(sw.Evidence, "\n")
	t.Logf("software %s (%s):\n%s", sw.Name, sw.Confidence, ev)
	if sw.Name != "Postfix" || sw.Confidence != "high" {
		t.Fatalf("software = %q (%s), want Postfix (high)", sw.Name, sw.Confidence)
	}
	if !strings.Contains(ev, "in Postfix's order") {
		t.Errorf("evidence lacks the EHLO keyword order")
	}
	if !strings.Contains(ev, "Postfix's stock wording") && !strings.Contains(ev, "Postfix's template") {
		t.Errorf("evidence lacks any reply text of Postfix's")
	}
	if strings.Contains(ev, "banner names") == hidden {
		t.Errorf("banner named = %v with a hidden banner = %v", !hidden, hidden)
	}
}

// TestPostfixSoftwareHiddenBanner probes the real Postfix whose banner is
// only "$myhostname ESMTP": the EHLO keyword order and the reply texts
// must still name it.
func TestPostfixSoftwareHiddenBanner(t *testing.T) {
	h := probePostfix(t, postfixHidden, nil)
	if h.Banner == nil || strings.Contains(strings.ToLower(h.Banner.Text()), "postfix") {
		t.Fatalf("banner = %+v; the hidden endpoint must not name Postfix", h.Banner)
	}
	checkPostfixSoftware(t, h.Software, true)
}

func TestPostfixSoftwareNamed(t *testing.T) {
	h := probePostfix(t, postfixStrict, nil)
	checkPostfixSoftware(t, h.Software, false)
}
