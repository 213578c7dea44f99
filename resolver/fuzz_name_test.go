package resolver_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver"
)

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
