package resolver_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// FuzzParseDomain checks that a domain accepted for DNS is ASCII, lower
// case, within 253 octets and a fixed point: parsing it again gives it back.
func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"example.com", "Example.COM.", "bücher.example", "xn--bcher-kva.x", "[192.0.2.1]", "[IPv6:2001:db8::1]",
		"", ".", "a..b", "127.0.0.1", "::1", "x\n.test", "x.te\x00st", "a b", "[256.1.1.1]", "-a.test", "xn--.test", strings.Repeat("a.", 130)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := resolver.ParseDomain(s)
		if err != nil {
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("ParseDomain(%q): error %q holds a control character", s, err)
			}
			return
		}
		if d.Literal.IsValid() {
			if d.Name != "" {
				t.Fatalf("ParseDomain(%q): a literal with a name %q", s, d.Name)
			}
			return
		}
		n := d.Name
		if n == "" || len(n) > 253 || strings.HasSuffix(n, ".") || n != strings.ToLower(n) {
			t.Fatalf("ParseDomain(%q).Name = %q", s, n)
		}
		for i := 0; i < len(n); i++ {
			if n[i] >= 0x80 || n[i] <= ' ' || n[i] == 0x7f {
				t.Fatalf("ParseDomain(%q).Name = %q: not printable ASCII", s, n)
			}
		}
		again, err := resolver.ParseDomain(n)
		if err != nil || again.Name != n {
			t.Fatalf("ParseDomain(%q) = %q, but ParseDomain(%q) = %q, %v", s, n, n, again.Name, err)
		}
	})
}

// FuzzServerAddr checks that an accepted DNS server is a host:port with a
// port from 1 to 65535.
func FuzzServerAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353", "[::1]", "", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:x", ":53", "a b", "host:053"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, err := resolver.ServerAddr(s)
		if err != nil {
			return
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			t.Fatalf("ServerAddr(%q) = %q: not host:port (%v)", s, addr, err)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			t.Fatalf("ServerAddr(%q) = %q: port out of range", s, addr)
		}
		if strings.ContainsFunc(addr, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Fatalf("ServerAddr(%q) = %q holds a space or control character", s, addr)
		}
	})
}
