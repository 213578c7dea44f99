package resolver

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
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
// address literal is recognised. The error says what is wrong in one line,
// in plain words, and holds only printable characters: it can be shown as
// it is, with no escaping that would double a backslash.
func ParseDomain(s string) (Domain, error) {
	d := Domain{Input: s}
	if s == "" {
		return d, fmt.Errorf("empty domain")
	}
	if !utf8.ValidString(s) {
		return d, fmt.Errorf("domain is not valid UTF-8")
	}
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r == ' ':
			return d, fmt.Errorf("domain contains a space at position %d", pos)
		case r < 0x20 || r == 0x7f:
			return d, fmt.Errorf("domain contains a control character (U+%04X) at position %d", r, pos)
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
	q := quote(s)
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if _, err := ParseDomain(s[at+1:]); err == nil {
			return d, fmt.Errorf("%s is not a valid domain name: it is an address (with @); did you mean %s?", q, s[at+1:])
		}
		return d, fmt.Errorf("%s is not a valid domain name: it holds an @, as an address does", q)
	}
	name := strings.TrimSuffix(s, ".")
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return d, fmt.Errorf("%s has an empty label", q)
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		lit := "[" + name + "]"
		if ip.Is6() {
			lit = "[IPv6:" + name + "]"
		}
		return d, fmt.Errorf("%s is an IP address, not a domain; write it as the address literal %s", q, lit)
	}
	ascii, err := idna.Lookup.ToASCII(name)
	if err != nil {
		return d, fmt.Errorf("%s is not a valid domain name: %s", q, whyNotIDNA(name))
	}
	// IDNA maps the ideographic full stops (U+3002, U+FF0E, U+FF61) to
	// dots, so the labels are checked again after it.
	ascii = strings.TrimSuffix(strings.ToLower(ascii), ".")
	if ascii == "" || strings.HasPrefix(ascii, ".") || strings.HasSuffix(ascii, ".") || strings.Contains(ascii, "..") {
		return d, fmt.Errorf("%s has an empty label", q)
	}
	if len(ascii) > 253 {
		return d, fmt.Errorf("%s is longer than 253 octets", q)
	}
	for _, label := range strings.Split(ascii, ".") {
		if len(label) > 63 {
			return d, fmt.Errorf("%s has a label longer than 63 octets", q)
		}
	}
	if _, ok := dns.IsDomainName(ascii); !ok {
		return d, fmt.Errorf("%s is not a valid domain name", q)
	}
	d.Name = ascii
	return d, nil
}

// whyNotIDNA says in plain words why golang.org/x/net/idna refused name:
// the first character no domain name may hold, or the label at fault
// (RFC 5890 §2.3.1, RFC 5891 §5.4).
func whyNotIDNA(name string) string {
	pos := 0
	for _, r := range name {
		pos++
		if r == '.' || r == '-' {
			continue
		}
		if _, err := idna.Lookup.ToASCII(string(r)); err != nil && strings.Contains(err.Error(), "disallowed") {
			return fmt.Sprintf("the character %s at position %d cannot appear in a domain name; use letters, digits and hyphens", showRune(r), pos)
		}
	}
	for _, label := range strings.Split(name, ".") {
		if _, err := idna.Lookup.ToASCII(label); err == nil {
			continue
		}
		switch {
		case strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-"):
			return fmt.Sprintf("the label %s starts or ends with a hyphen", quote(label))
		case strings.HasPrefix(strings.ToLower(label), "xn--"):
			return fmt.Sprintf("the label %s is not valid punycode", quote(label))
		}
		return fmt.Sprintf("the label %s is not a valid internationalized label (for instance it starts with a combining mark or mixes writing directions)", quote(label))
	}
	return "it cannot be converted to ASCII (IDNA)"
}

// showRune names a character for an error message: '_' (U+005F), or only
// U+202E for one that does not print.
func showRune(r rune) string {
	if unicode.IsPrint(r) {
		return fmt.Sprintf("'%c' (U+%04X)", r, r)
	}
	return fmt.Sprintf("U+%04X", r)
}

// quote puts s in double quotes for an error message, writing any rune
// that does not print (a format or bidi control) as <U+XXXX>. It adds no
// backslashes, so a caller that escapes for a terminal escapes only once.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "<U+%04X>", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// parseLiteral reads "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321
// §4.1.3).
func parseLiteral(s string) (netip.Addr, error) {
	if !strings.HasSuffix(s, "]") {
		return netip.Addr{}, fmt.Errorf("address literal %s has no closing ]", quote(s))
	}
	inner := s[1 : len(s)-1]
	if v6, ok := strings.CutPrefix(inner, "IPv6:"); ok || strings.HasPrefix(strings.ToLower(inner), "ipv6:") {
		if !ok {
			v6 = inner[5:]
		}
		ip, err := netip.ParseAddr(v6)
		if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("%s is not a valid IPv6 address literal", quote(s))
		}
		return ip, nil
	}
	ip, err := netip.ParseAddr(inner)
	if err != nil || !ip.Is4() {
		return netip.Addr{}, fmt.Errorf("%s is not a valid address literal (IPv4, or IPv6: with the prefix)", quote(s))
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
