package resolver_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// FuzzParseDomain: any input gives an error or a domain that is plain
// ASCII, within DNS limits, and parses again to itself.
func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"example.com", "Example.COM.", "bücher.example", "[192.0.2.1]", "[IPv6:2001:db8::1]",
		"a..b", "", "192.0.2.1", "xn--bcher-kva.example", "a\r\nb", "[IPv6:::ffff:1.2.3.4]", "ｅｘａｍｐｌｅ．ｃｏｍ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := resolver.ParseDomain(s)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Errorf("error message is not UTF-8: %q", err)
			}
			return
		}
		if d.Literal.IsValid() {
			return
		}
		if d.Name == "" || len(d.Name) > 253 || strings.HasSuffix(d.Name, ".") || d.Name != strings.ToLower(d.Name) {
			t.Fatalf("ParseDomain(%q) = %q", s, d.Name)
		}
		for i := 0; i < len(d.Name); i++ {
			if c := d.Name[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("ParseDomain(%q) = %q: byte %#x", s, d.Name, c)
			}
		}
		again, err := resolver.ParseDomain(d.Name)
		if err != nil || again.Name != d.Name {
			t.Fatalf("ParseDomain(%q) = %q, which parses to %q, %v", s, d.Name, again.Name, err)
		}
	})
}
