package address

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzAnalyzeAddress: the analyser never panics, gives the same answer
// twice, and whatever it calls valid really satisfies the limits and
// round-trips through its own Path.
func FuzzAnalyzeAddress(f *testing.F) {
	for _, tc := range addressCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := AnalyzeAddress(s)
		if again := AnalyzeAddress(s); !reflect.DeepEqual(r, again) {
			t.Fatalf("AnalyzeAddress(%q) is not deterministic", s)
		}
		for _, f := range r.Findings {
			if _, ok := addressRules[f.ID]; !ok {
				t.Fatalf("finding %q has no rule", f.ID)
			}
		}
		if !r.ValidMailbox {
			return
		}
		for _, f := range r.Findings {
			if f.Severity == SeverityError {
				t.Fatalf("AnalyzeAddress(%q) is valid with error %q", s, f.ID)
			}
		}
		if !r.ValidAddrSpec {
			t.Fatalf("AnalyzeAddress(%q): a valid mailbox is not a valid addr-spec", s)
		}
		if r.LocalPartForm == "invalid" || r.DomainForm == "invalid" {
			t.Fatalf("AnalyzeAddress(%q) is valid with forms %q/%q", s, r.LocalPartForm, r.DomainForm)
		}
		if len(r.LocalPart) > 64 || len(r.Path) > 256 || len(r.ALabel) > 255 {
			t.Fatalf("AnalyzeAddress(%q) is valid beyond a length limit: local %d, path %d, domain %d", s, len(r.LocalPart), len(r.Path), len(r.ALabel))
		}
		if strings.ContainsAny(r.Path, "\r\n\x00 \t") && r.LocalPartForm != "quoted-string" {
			t.Fatalf("AnalyzeAddress(%q) is valid with white space or control bytes in %q", s, r.Path)
		}
		if !isASCII(r.ALabel) || (!r.NeedsSMTPUTF8 && !isASCII(r.Path)) {
			t.Fatalf("AnalyzeAddress(%q): a-label %q / path %q not ASCII", s, r.ALabel, r.Path)
		}
		if p := AnalyzeAddress(r.Path); !p.ValidMailbox || p.Path != r.Path {
			t.Fatalf("AnalyzeAddress(%q): its path %q does not round-trip: %s", s, r.Path, findingIDs(p))
		}
	})
}
