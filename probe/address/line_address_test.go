package address

import (
	"strings"
	"testing"
)

// The address inside a line is checked before any repair, and the
// character at fault is named by its byte in the line.
func TestLineFindingsNameTheBadAddress(t *testing.T) {
	for _, tc := range []struct {
		line, want string
	}{
		{"RCPT TO:<a..b@a.lab.test>", "(at byte 12 of the line)"},
		{"MAIL FROM:<alice>", "(at byte 17 of the line)"},
		{"MAIL FROM:<.alice@x.test>", "(at byte 12 of the line)"},
		{"RCPT TO:<bob@x..test>", "(at byte 16 of the line)"},
	} {
		var got []string
		for _, f := range LineFindings(tc.line) {
			if f.Kind == "address-invalid" {
				got = append(got, f.Detail)
			}
		}
		if len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("%s: findings %q; want one address-invalid %s", tc.line, got, tc.want)
		}
	}
	for _, ok := range []string{"RCPT TO:<postmaster>", "MAIL FROM:<>", "MAIL FROM:<alice@x.test>", `RCPT TO:<"a..b"@x.test>`, "RCPT TO:<@r.test:bob@x.test>"} {
		for _, f := range LineFindings(ok) {
			if f.Kind == "address-invalid" {
				t.Errorf("%s: %s", ok, f.Detail)
			}
		}
	}
}
