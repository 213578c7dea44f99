package render

import (
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// TestFindingRemediesNameFlags: the resolver states a remedy as a fact;
// the text output words it as the flag that applies it, and a finding
// without remedies gets no such line.
func TestFindingRemediesNameFlags(t *testing.T) {
	for code, want := range map[string][]string{
		"timeout":          {"Try: a longer --timeout", "--dns HOST[:PORT] to ask another DNS server"},
		"refused":          {"Try: --dns HOST[:PORT] to ask another DNS server"},
		"config":           {"Try: --dns HOST[:PORT]"},
		"hosts-unanswered": {"Try: --dns HOST[:PORT]"},
		"nxdomain":         nil,
	} {
		var b strings.Builder
		writeFinding(&b, resolver.Explain(code))
		out := b.String()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in\n%s", code, w, out)
			}
		}
		if want == nil && strings.Contains(out, "Try:") {
			t.Errorf("%s: a remedy line for a finding without remedies:\n%s", code, out)
		}
	}
}
