package address

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// analyzeLocalPart checks the part before the @ (RFC 5321 §4.1.2 Local-part,
// RFC 6531 §3.3 for UTF-8) and returns it without surrounding comments.
func analyzeLocalPart(r *AddressReport, lp string) string {
	before := len(r.Findings)
	lp = stripComments(r, lp)
	if lp == "" {
		r.add("local-part-empty")
		return lp
	}
	if n := len(lp); n > 64 {
		r.add("local-part-too-long", n)
	}
	form := "dot-string"
	var value string // the local part with quoting removed
	switch {
	case strings.HasPrefix(lp, `"`):
		form = "quoted-string"
		value = analyzeQuoted(r, lp)
	case strings.Contains(lp, `"`) && isObsoleteLocalPart(lp):
		r.add("obsolete-local-part", lp)
		value = lp
	default:
		analyzeDotString(r, lp)
		value = lp
	}
	if !isASCII(lp) && utf8.ValidString(lp) {
		r.NeedsSMTPUTF8 = true
		r.add("smtputf8-required")
		for _, c := range lp {
			if c >= 0xa0 && (unicode.In(c, unicode.Zs, unicode.Cf) || c == '\u3164' || c == '\u115f') {
				r.add("invisible-character", fmt.Sprintf("U+%04X", c))
				break
			}
		}
	}
	if strings.EqualFold(value, "postmaster") {
		r.add("postmaster")
	}
	if !hasErrorSince(r, before) && !hasControl(lp) {
		r.LocalPartForm = form
	}
	return lp
}

// analyzeDotString checks an unquoted local part: atoms of atext separated
// by single dots (RFC 5321 §4.1.2 Dot-string, RFC 5322 §3.2.3 atext).
func analyzeDotString(r *AddressReport, lp string) {
	if strings.HasPrefix(lp, ".") {
		r.add("local-part-leading-dot")
	}
	if strings.HasSuffix(lp, ".") && lp != "." {
		r.add("local-part-trailing-dot")
	}
	if strings.Contains(lp, "..") {
		r.add("local-part-consecutive-dots")
	}
	space := false
	var specials []string
	for _, c := range lp {
		switch {
		case c == '.' || c >= 0x80 || (c < 0x80 && isAtext(byte(c))):
		case c == ' ':
			space = true
		case c < 0x20 || c == 0x7f:
			// reported by checkBytes
		default:
			q := `"` + string(c) + `"`
			if c == '"' {
				q = `'"'`
			}
			if !contains(specials, q) {
				specials = append(specials, q)
			}
		}
	}
	if space {
		r.add("unquoted-space")
	}
	if len(specials) > 0 {
		r.add("unquoted-special", joinWords(specials))
	}
}

// analyzeQuoted checks a quoted local part (RFC 5321 §4.1.2 Quoted-string)
// and returns its value with the quoting removed.
func analyzeQuoted(r *AddressReport, lp string) string {
	var value strings.Builder
	end := -1
	for i := 1; i < len(lp); i++ {
		c := lp[i]
		if c == '\\' && i+1 < len(lp) {
			if q := lp[i+1]; q >= utf8.RuneSelf {
				rn, size := utf8.DecodeRuneInString(lp[i+1:])
				r.add("quoted-pair-invalid", describeQuotedRune(rn, q))
				value.WriteString(lp[i+1 : i+1+size])
				i += size
				continue
			}
			i++
			value.WriteByte(lp[i])
			continue
		}
		if c == '"' {
			end = i
			break
		}
		value.WriteByte(c)
	}
	if end < 0 {
		r.add("unterminated-quote")
		return value.String()
	}
	if tail := lp[end+1:]; tail != "" {
		if strings.HasPrefix(tail, ".") && isObsoleteLocalPart(lp) {
			r.add("obsolete-local-part", lp)
		} else {
			r.add("text-after-quote", tail)
		}
		return value.String()
	}
	v := value.String()
	switch {
	case v == "":
		r.add("empty-quoted-local-part")
	case isDotString(v):
		r.add("quoted-local-part")
		r.add("quoting-unnecessary", v)
	default:
		r.add("quoted-local-part")
	}
	return v
}

// isObsoleteLocalPart reports whether lp is RFC 5322 §4.4 obs-local-part:
// words (atoms or quoted strings) separated by dots, at least one quoted.
func isObsoleteLocalPart(lp string) bool {
	quoted := false
	for _, w := range splitUnquoted(lp, '.') {
		switch {
		case len(w) >= 2 && w[0] == '"' && w[len(w)-1] == '"':
			quoted = true
		case w != "" && isDotString(w):
		default:
			return false
		}
	}
	return quoted
}

// splitUnquoted splits s at every sep that is outside double quotes.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// isDotString reports whether s is a valid unquoted local part, UTF-8
// (RFC 6531 §3.3) included.
func isDotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c != '.' && c < 0x80 && !isAtext(byte(c)) {
			return false
		}
		if c >= 0x80 && c < 0xa0 {
			return false
		}
	}
	return true
}

// isAtext reports whether c is RFC 5322 §3.2.3 atext.
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// stripComments removes RFC 5322 §3.2.2 comments at the start and end of
// s, recording each; parentheses elsewhere are left for the syntax checks.
func stripComments(r *AddressReport, s string) string {
	for strings.HasPrefix(s, "(") {
		end := commentEnd(s)
		if end < 0 {
			break
		}
		r.add("comment", s[:end+1])
		s = s[end+1:]
	}
	for strings.HasSuffix(s, ")") {
		start := lastCommentStart(s)
		if start < 0 {
			break
		}
		r.add("comment", s[start:])
		s = s[:start]
	}
	return s
}

// commentEnd returns the offset of the ) that closes the comment opening
// s, or -1.
func commentEnd(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// lastCommentStart returns the offset of the ( that opens the comment
// ending s, or -1.
func lastCommentStart(s string) int {
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		if i > 0 && s[i-1] == '\\' {
			continue
		}
		switch s[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func hasErrorSince(r *AddressReport, n int) bool {
	for _, f := range r.Findings[n:] {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// hasControl reports a control character (C0, DEL or C1) in s.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) }) >= 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// joinWords joins ["a","b","c"] as "a, b and c".
func joinWords(w []string) string {
	if len(w) == 1 {
		return w[0]
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}

// describeQuotedRune names the character after a backslash for a finding:
// the rune and its code point when it is valid UTF-8, else the byte.
func describeQuotedRune(r rune, b byte) string {
	switch {
	case r == utf8.RuneError:
		return fmt.Sprintf("byte 0x%02x", b)
	case unicode.IsPrint(r):
		return fmt.Sprintf("%q (U+%04X)", string(r), r)
	default:
		return fmt.Sprintf("U+%04X", r)
	}
}
