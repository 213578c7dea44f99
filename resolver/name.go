package resolver

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// Domain is a mail domain as it goes to DNS.
type Domain struct {
	Input string // as given
	// Name is the ASCII (A-label) form, lower case, without the trailing
	// dot (RFC 5890 §2.3.2.1); empty for an address literal.
	Name string
	// Literal is the address of "[192.0.2.1]" or "[IPv6:2001:db8::1]"
	// (RFC 5321 §4.1.3), which bypasses DNS.
	Literal netip.Addr
}

// ParseDomain checks a mail domain and converts it to the form asked of
// DNS: IDN U-labels become A-labels, one trailing dot is dropped, and an
// address literal is recognised. The error says what is wrong in one line.
func ParseDomain(s string) (Domain, error) {
	d := Domain{Input: s}
	if s == "" {
		return d, fmt.Errorf("empty domain")
	}
	if !utf8.ValidString(s) {
		return d, fmt.Errorf("domain is not valid UTF-8")
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return d, fmt.Errorf("domain contains %q at byte %d", r, i)
		}
	}
	if strings.HasPrefix(s, "[") {
		ip, err := parseLiteral(s)
		if err != nil {
			return d, err
		}
		d.Literal = ip
		return d, nil
	}
	name := strings.TrimSuffix(s, ".")
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return d, fmt.Errorf("%q has an empty label", s)
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		lit := "[" + name + "]"
		if ip.Is6() {
			lit = "[IPv6:" + name + "]"
		}
		return d, fmt.Errorf("%q is an IP address, not a domain; write it as the address literal %s", s, lit)
	}
	ascii, err := idna.Lookup.ToASCII(name)
	if err != nil {
		return d, fmt.Errorf("%q is not a valid domain name: %v", s, err)
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 {
		return d, fmt.Errorf("%q is longer than 253 octets", s)
	}
	for _, label := range strings.Split(ascii, ".") {
		if len(label) > 63 {
			return d, fmt.Errorf("%q has a label longer than 63 octets", s)
		}
	}
	if _, ok := dns.IsDomainName(ascii); !ok {
		return d, fmt.Errorf("%q is not a valid domain name", s)
	}
	d.Name = ascii
	return d, nil
}

// parseLiteral reads "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321
// §4.1.3).
func parseLiteral(s string) (netip.Addr, error) {
	if !strings.HasSuffix(s, "]") {
		return netip.Addr{}, fmt.Errorf("address literal %q has no closing ]", s)
	}
	inner := s[1 : len(s)-1]
	if v6, ok := strings.CutPrefix(inner, "IPv6:"); ok || strings.HasPrefix(strings.ToLower(inner), "ipv6:") {
		if !ok {
			v6 = inner[5:]
		}
		ip, err := netip.ParseAddr(v6)
		if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("%q is not a valid IPv6 address literal", s)
		}
		return ip, nil
	}
	ip, err := netip.ParseAddr(inner)
	if err != nil || !ip.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not a valid address literal (IPv4, or IPv6: with the prefix)", s)
	}
	return ip, nil
}

// ipAsName reports whether a host name is really an IP address written as
// a name, e.g. an MX target "192.0.2.1." (RFC 5321 §5.1 wants a host name;
// senders look it up as a name and fail).
func ipAsName(name string) bool {
	_, err := netip.ParseAddr(strings.TrimSuffix(name, "."))
	return err == nil
}

// isHostName reports whether name is made of LDH labels (RFC 1123 §2.1,
// RFC 5321 §2.3.5): what an MX target must be.
func isHostName(name string) bool {
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
