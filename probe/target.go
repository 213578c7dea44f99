package probe

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The kinds of target.
const (
	TargetDomain  = "domain"  // MX resolution, then the hosts found
	TargetAddress = "address" // user@domain: the domain's MX hosts, and that user
	TargetHost    = "host"    // host[:port], dialled directly
	TargetIP      = "ip"      // [ip]:port or a bare IP, dialled directly
)

// Target is what the user asked to probe, checked before anything is sent.
type Target struct {
	Input  string `json:"input"`
	Kind   string `json:"kind"`
	User   string `json:"user,omitempty"`   // local part, for an address
	Domain string `json:"domain,omitempty"` // mail domain, for a domain or address
	Host   string `json:"host,omitempty"`   // host name or IP to dial, for host and ip
	Port   int    `json:"port,omitempty"`   // 0 when not given
}

// Direct tells whether the target is dialled without MX resolution.
func (t Target) Direct() bool { return t.Host != "" }

// CheckLine refuses user input that would break out of an SMTP command
// line: CR, LF or NUL anywhere (RFC 5321 §2.3.8). what names the input in
// the error, which gives the 1-based byte position.
func CheckLine(what, s string) error {
	for i := 0; i < len(s); i++ {
		var name string
		switch s[i] {
		case '\r':
			name = "a carriage return (CR)"
		case '\n':
			name = "a line feed (LF)"
		case 0:
			name = "a NUL byte"
		default:
			continue
		}
		return fmt.Errorf("%s has %s at position %d; refusing to send it", what, name, i+1)
	}
	return nil
}

// ParseTarget parses TARGET: domain, user@domain, host:port, [ip]:port,
// [IPv6:addr]:port or a bare IP address. It only reads the text: nothing is
// resolved or dialled.
func ParseTarget(s string) (Target, error) {
	t := Target{Input: s}
	if err := CheckLine("target", s); err != nil {
		return t, err
	}
	if strings.TrimSpace(s) == "" {
		return t, fmt.Errorf("empty target: give a domain, user@domain, host:port or [ip]:port")
	}
	if strings.ContainsAny(s, " \t") {
		return t, fmt.Errorf("target %q has white space in it", s)
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		local, domain := s[:i], s[i+1:]
		if local == "" {
			return t, fmt.Errorf("target %q has nothing before the @", s)
		}
		if domain == "" {
			return t, fmt.Errorf("target %q has nothing after the @", s)
		}
		if len(UnquotedAts(local)) > 0 {
			return t, fmt.Errorf("target %q has more than one @ (RFC 5321 §4.1.2: an @ in the local part must be inside quotes)", s)
		}
		t.Kind, t.User = TargetAddress, local
		if strings.HasPrefix(domain, "[") {
			ip, err := parseLiteral(domain)
			if err != nil {
				return t, fmt.Errorf("target %q: %v", s, err)
			}
			t.Domain, t.Host = domain, ip.String()
			return t, nil
		}
		if err := checkHostname(domain); err != nil {
			return t, fmt.Errorf("target %q: %v", s, err)
		}
		t.Domain = strings.TrimSuffix(domain, ".")
		return t, nil
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return t, fmt.Errorf("target %q has [ without a closing ]", s)
		}
		ip, err := parseLiteral(s[:end+1])
		if err != nil {
			return t, fmt.Errorf("target %q: %v", s, err)
		}
		t.Kind, t.Host = TargetIP, ip.String()
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return t, fmt.Errorf("target %q: expected :PORT after ]", s)
			}
			p, err := ParsePort(rest[1:])
			if err != nil {
				return t, fmt.Errorf("target %q: %v", s, err)
			}
			t.Port = p
		}
		return t, nil
	}
	if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
		t.Kind, t.Host = TargetIP, ip.String()
		return t, nil
	}
	switch strings.Count(s, ":") {
	case 0:
		if err := checkHostname(s); err != nil {
			return t, fmt.Errorf("target %q: %v", s, err)
		}
		t.Kind, t.Domain = TargetDomain, strings.TrimSuffix(s, ".")
		return t, nil
	case 1:
		host, port, _ := strings.Cut(s, ":")
		p, err := ParsePort(port)
		if err != nil {
			return t, fmt.Errorf("target %q: %v", s, err)
		}
		t.Port = p
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
			t.Kind, t.Host = TargetIP, ip.String()
			return t, nil
		}
		if err := checkHostname(host); err != nil {
			return t, fmt.Errorf("target %q: %v", s, err)
		}
		t.Kind, t.Host = TargetHost, strings.TrimSuffix(host, ".")
		return t, nil
	}
	return t, fmt.Errorf("target %q: put an IPv6 address in brackets, e.g. [2001:db8::25]:25", s)
}

// ParsePort parses a TCP port, 1 to 65535.
func ParsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return p, nil
}

// parseLiteral parses an address literal, "[192.0.2.1]", "[IPv6:2001:db8::1]"
// or "[2001:db8::1]" (RFC 5321 §4.1.3, the last as people write it).
func parseLiteral(s string) (netip.Addr, error) {
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return netip.Addr{}, fmt.Errorf("address literal %q needs [ and ]", s)
	}
	inner := s[1 : len(s)-1]
	v6 := false
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		inner, v6 = inner[5:], true
	}
	ip, err := netip.ParseAddr(inner)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", inner)
	}
	if v6 && !ip.Is6() {
		return netip.Addr{}, fmt.Errorf("%q after IPv6: is not an IPv6 address", inner)
	}
	return ip, nil
}

// checkHostname accepts a DNS name: dot-separated labels of at most 63
// octets, 253 in all, made of letters, digits, hyphens (and underscores,
// seen in the wild); non-ASCII letters are let through for IDNs.
func checkHostname(s string) error {
	name := strings.TrimSuffix(s, ".")
	if name == "" {
		return fmt.Errorf("empty host name")
	}
	if len(name) > 253 {
		return fmt.Errorf("host name is %d octets long; DNS allows 253", len(name))
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return fmt.Errorf("host name %q has an empty label", s)
		}
		if len(label) > 63 {
			return fmt.Errorf("label %.20q... is %d octets long; DNS allows 63", label, len(label))
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || (r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))) ||
				(r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)))
			if !ok {
				return fmt.Errorf("host name %q has %q, which a host name cannot contain", s, r)
			}
		}
	}
	return nil
}
