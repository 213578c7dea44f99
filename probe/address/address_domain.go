package address

import (
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// analyzeDomain checks the part after the @: a host name (RFC 5321 §4.1.2
// Domain, U-labels allowed per RFC 6531 §3.3) or an address literal
// (§4.1.3). It sets DomainForm and ALabel and returns the domain without
// surrounding comments.
func analyzeDomain(r *AddressReport, d string) string {
	if d == "" {
		r.add("domain-empty")
		return d
	}
	before := len(r.Findings)
	if strings.HasPrefix(d, "[") {
		if form := analyzeLiteral(r, d); form != "" && !hasErrorSince(r, before) {
			r.DomainForm = form
			r.ALabel = d
		}
		return d
	}
	d = stripComments(r, d)
	if d == "" {
		r.add("domain-empty")
		return d
	}
	analyzeHostname(r, d)
	if !hasErrorSince(r, before) && !hasControl(d) {
		r.DomainForm = "hostname"
	}
	return d
}

// analyzeHostname checks a domain name label by label and works out its
// A-label form.
func analyzeHostname(r *AddressReport, d string) {
	before := len(r.Findings)
	name := d
	if strings.HasSuffix(name, ".") {
		r.add("domain-trailing-dot")
		name = strings.TrimSuffix(name, ".")
	}
	if strings.HasPrefix(name, ".") {
		r.add("domain-leading-dot")
	}
	if strings.Contains(name, "..") {
		r.add("domain-consecutive-dots")
	}
	var labels []string
	for _, l := range strings.Split(name, ".") {
		if l != "" {
			labels = append(labels, l)
		}
	}
	for _, l := range labels {
		checkLabel(r, l)
	}
	if hasErrorSince(r, before) || hasControl(d) {
		return
	}

	ascii := name
	if !isASCII(name) {
		a, err := idna.Lookup.ToASCII(name)
		if err != nil {
			r.add("idn-invalid", err.Error())
			return
		}
		ascii = a
		if r.NeedsSMTPUTF8 {
			r.add("idn-domain-utf8", a)
		} else {
			r.add("idn-domain", a)
		}
	}
	for _, l := range strings.Split(ascii, ".") {
		if n := len(l); n > 63 {
			r.add("domain-label-too-long", shorten(l), n)
		}
	}
	if n := len(ascii); n > 255 {
		r.add("domain-too-long", n)
	}
	if hasErrorSince(r, before) {
		return
	}
	r.ALabel = ascii

	// Count labels on the ASCII form: IDNA maps ideographic full stops to dots.
	asciiLabels := strings.Split(strings.TrimSuffix(ascii, "."), ".")
	last := asciiLabels[len(asciiLabels)-1]
	switch ip, err := netip.ParseAddr(name); {
	case err == nil && ip.Is4():
		r.add("domain-looks-like-ip", name, name)
	case len(asciiLabels) == 1:
		r.add("domain-not-fqdn", name)
	case allDigits(last):
		r.add("domain-numeric-tld", last)
	}
}

// checkLabel checks one label's characters: letters, digits and hyphens,
// not at either end (RFC 5321 §4.1.2 sub-domain); non-ASCII labels are left
// to the IDNA conversion, xn-- labels must decode.
func checkLabel(r *AddressReport, l string) {
	if !isASCII(l) {
		return
	}
	underscore := false
	var bad []string
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case isLetDig(c) || c == '-':
		case c == '_':
			underscore = true
		case c < 0x20 || c == 0x7f:
			// reported by checkBytes
		default:
			q := `"` + string(c) + `"`
			if c == '"' {
				q = `'"'`
			}
			if c == ' ' {
				q = "a space"
			}
			if !contains(bad, q) {
				bad = append(bad, q)
			}
		}
	}
	if len(bad) > 0 {
		r.add("domain-invalid-character", shorten(l), joinWords(bad))
		return
	}
	if underscore {
		r.add("domain-underscore", shorten(l))
	}
	if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
		r.add("domain-label-hyphen", shorten(l))
	}
	if len(l) >= 4 && strings.EqualFold(l[:4], "xn--") && !underscore {
		if _, err := idna.Lookup.ToUnicode(l); err != nil {
			r.add("invalid-a-label", shorten(l), err.Error())
		}
	}
}

// analyzeLiteral checks an address literal "[...]" (RFC 5321 §4.1.3) and
// returns its form, or "" when it is invalid.
func analyzeLiteral(r *AddressReport, d string) string {
	end := strings.IndexByte(d, ']')
	if end < 0 {
		r.add("unterminated-address-literal")
		return ""
	}
	if end != len(d)-1 {
		r.add("text-after-address-literal", d[end+1:])
		return ""
	}
	inner := d[1:end]
	var form string
	switch tag, content, hasTag := strings.Cut(inner, ":"); {
	case hasTag && strings.EqualFold(tag, "IPv6"):
		if why := checkIPv6Literal(content); why != "" {
			r.add("invalid-ipv6-literal", inner, why)
			return ""
		}
		form = "ipv6-literal"
	case hasTag:
		if ip, err := netip.ParseAddr(inner); err == nil && ip.Is6() {
			r.add("invalid-ipv6-literal", inner, `the "IPv6:" tag is missing: write [IPv6:`+inner+"]")
			return ""
		}
		if why := checkGeneralLiteral(tag, content); why != "" {
			r.add("invalid-general-literal", inner, why)
			return ""
		}
		r.add("unregistered-literal-tag", tag)
		return "general-literal"
	default:
		if !isIPv4Literal(inner) {
			r.add("invalid-ipv4-literal", inner)
			return ""
		}
		form = "ipv4-literal"
	}
	r.add("address-literal")
	return form
}

// isIPv4Literal reports whether s is Snum 3("." Snum), each 0-255.
func isIPv4Literal(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if len(p) < 1 || len(p) > 3 || !allDigits(p) {
			return false
		}
		if n, _ := strconv.Atoi(p); n > 255 {
			return false
		}
	}
	return true
}

// checkIPv6Literal checks s against RFC 5321 §4.1.3 IPv6-addr (which is
// stricter than RFC 4291: "::" must stand for at least two groups) and
// returns why it fails, or "".
func checkIPv6Literal(s string) string {
	if s == "" {
		return "the address is empty"
	}
	if strings.ContainsAny(s, "%") {
		return "a zone index (%...) is not allowed"
	}
	head, tail, compressed := strings.Cut(s, "::")
	if compressed && strings.Contains(tail, "::") {
		return `"::" may appear only once`
	}
	var groups []string
	if head != "" {
		groups = strings.Split(head, ":")
	}
	if compressed && tail != "" {
		groups = append(groups, strings.Split(tail, ":")...)
	}
	v4 := false
	if n := len(groups); n > 0 && strings.Contains(groups[n-1], ".") {
		if !isIPv4Literal(groups[n-1]) {
			return "the embedded IPv4 address " + strconv.Quote(groups[n-1]) + " is invalid"
		}
		v4 = true
		groups = groups[:n-1]
	}
	for _, g := range groups {
		if len(g) < 1 || len(g) > 4 || strings.Trim(g, "0123456789abcdefABCDEF") != "" {
			return "group " + strconv.Quote(g) + " is not 1 to 4 hex digits"
		}
	}
	full, most := 8, 6
	if v4 {
		full, most = 6, 4
	}
	switch {
	case !compressed && len(groups) != full:
		return "it needs " + strconv.Itoa(full) + " groups of hex digits" + map[bool]string{true: " before the IPv4 part", false: ""}[v4] + " or a \"::\""
	case compressed && len(groups) > most:
		return `"::" must stand for at least two zero groups (RFC 5321 allows at most ` + strconv.Itoa(most) + " other groups)"
	}
	return ""
}

// checkGeneralLiteral checks Standardized-tag ":" 1*dcontent and returns
// why it fails, or "".
func checkGeneralLiteral(tag, content string) string {
	if tag == "" || !isLetDig(tag[len(tag)-1]) || strings.Trim(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		return "the tag " + strconv.Quote(tag) + " is not letters, digits and hyphens"
	}
	if content == "" {
		return "nothing follows the tag"
	}
	for i := 0; i < len(content); i++ {
		if c := content[i]; c < 33 || c > 126 || c == '[' || c == '\\' || c == ']' {
			return "it contains a character that is not printable ASCII"
		}
	}
	return ""
}

// ToALabel returns domain with every internationalized label converted to
// its A-label (RFC 5890 §2.3.2.1, via IDNA2008 lookup rules); an ASCII
// domain is returned unchanged. Address literals are returned as given.
func ToALabel(domain string) (string, error) {
	if isASCII(domain) {
		return domain, nil
	}
	return idna.Lookup.ToASCII(domain)
}

func isLetDig(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isHostname reports whether d is an ASCII RFC 5321 Domain or a
// well-formed address literal, without recording findings.
func isHostname(d string) bool {
	if strings.HasPrefix(d, "[") {
		var scratch AddressReport
		return analyzeLiteral(&scratch, d) != ""
	}
	if d == "" || len(d) > 255 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 || !isLetDig(l[0]) || !isLetDig(l[len(l)-1]) ||
			strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}
