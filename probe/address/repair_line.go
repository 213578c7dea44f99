package address

import (
	"fmt"
	"strings"
)

// envelopeLine is a MAIL FROM or RCPT TO line cut into its pieces, each kept
// byte for byte as typed, so that a repair changes only what it names and
// String gives the line back unchanged when nothing was repaired.
type envelopeLine struct {
	verb      string   // "MAIL" or "RCPT" in the case typed
	verbGap   string   // white space between the verb and the keyword
	keyword   string   // "FROM" or "TO" in the case typed
	preColon  string   // white space between the keyword and the colon (or the path when the colon is missing)
	colon     bool     // the colon is there
	postColon string   // white space after the colon; RFC 5321 §3.3 allows none
	path      string   // the reverse- or forward-path as typed, brackets and all
	params    []string // ESMTP parameters as typed
	paramGaps []string // the white space before each parameter
	trailing  string   // white space at the end of the line
	prelude   []string // parameters the MAIL FROM before a RCPT needs; not part of the line
}

// String renders the line exactly as it will be sent.
func (l envelopeLine) String() string {
	var b strings.Builder
	b.WriteString(l.verb + l.verbGap + l.keyword + l.preColon)
	if l.colon {
		b.WriteString(":")
	}
	b.WriteString(l.postColon + l.path)
	for i, p := range l.params {
		b.WriteString(l.paramGaps[i] + p)
	}
	b.WriteString(l.trailing)
	return b.String()
}

func (l envelopeLine) clone() envelopeLine {
	l.params = append([]string(nil), l.params...)
	l.paramGaps = append([]string(nil), l.paramGaps...)
	l.prelude = append([]string(nil), l.prelude...)
	return l
}

func (l envelopeLine) isMail() bool { return strings.EqualFold(l.verb, "MAIL") }

func (l envelopeLine) hasParam(keyword string) bool {
	for _, p := range l.params {
		k, _, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, keyword) {
			return true
		}
	}
	return false
}

// LineError says why a line given to why is not a MAIL FROM or RCPT TO
// line it can work with; Pos is the 1-based byte position, 0 for the whole
// line.
type LineError struct {
	Pos    int
	Reason string
}

func (e *LineError) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("byte %d: %s", e.Pos, e.Reason)
	}
	return e.Reason
}

// CheckWhyLine checks, before anything is sent, that line is a MAIL FROM
// or RCPT TO command why can work with: no CR, LF or NUL, which would end
// or corrupt it on the wire (RFC 5321 §2.3.8, §4.1.1), and a MAIL or RCPT
// verb followed by FROM or TO. The error is a *LineError naming the
// position.
func CheckWhyLine(line string) error {
	_, err := parseEnvelopeLine(line)
	return err
}

// checkLineBytes refuses CR, LF and NUL, naming the 1-based position.
func checkLineBytes(line string) error {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\r':
			return &LineError{i + 1, "the line contains a CR (carriage return); a command ends at CRLF and cannot contain one"}
		case '\n':
			return &LineError{i + 1, "the line contains an LF (line feed); a command ends at CRLF and cannot contain one"}
		case 0:
			return &LineError{i + 1, "the line contains a NUL byte"}
		}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// parseEnvelopeLine cuts a MAIL FROM or RCPT TO line into its pieces. It
// is lenient on purpose: the line is usually malformed, and the point is
// to find out how.
func parseEnvelopeLine(line string) (envelopeLine, error) {
	var l envelopeLine
	if err := checkLineBytes(line); err != nil {
		return l, err
	}
	rest := strings.TrimRight(line, " \t")
	l.trailing = line[len(rest):]
	i := 0
	take := func(pred func(byte) bool) string {
		j := i
		for i < len(rest) && pred(rest[i]) {
			i++
		}
		return rest[j:i]
	}
	isLetter := func(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
	l.verb = take(isLetter)
	var want string
	switch strings.ToUpper(l.verb) {
	case "MAIL":
		want = "FROM"
	case "RCPT":
		want = "TO"
	default:
		return l, &LineError{1, "the line is neither a MAIL FROM nor a RCPT TO command"}
	}
	l.verbGap = take(isSpace)
	pos := i
	l.keyword = take(isLetter)
	if !strings.EqualFold(l.keyword, want) {
		return l, &LineError{pos + 1, fmt.Sprintf("expected %s after %s", want, strings.ToUpper(l.verb))}
	}
	l.preColon = take(isSpace)
	if i < len(rest) && rest[i] == ':' {
		l.colon = true
		i++
		l.postColon = take(isSpace)
	}
	l.path = takePath(rest[i:])
	i += len(l.path)
	for i < len(rest) {
		gap := take(isSpace)
		p := take(func(c byte) bool { return !isSpace(c) })
		l.paramGaps = append(l.paramGaps, gap)
		l.params = append(l.params, p)
	}
	return l, nil
}

// takePath returns the leading path of s: up to the first white space that
// is neither inside double quotes nor inside angle brackets that are closed
// later on the line.
func takePath(s string) string {
	inQuote, depth := false, 0
	closes := strings.Count(s, ">")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s):
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '<':
			depth++
		case c == '>':
			depth--
			closes--
		case isSpace(c) && (depth <= 0 || closes <= 0):
			return s[:i]
		}
	}
	return s
}

// pathParts is a path split into what surrounds the mailbox and the
// mailbox's two halves, so a repair can change one half only.
type pathParts struct {
	ok     bool   // a local part and a domain were found
	before string // brackets and source route before the local part
	local  string // as typed, quotes included
	domain string
	after  string // what follows the domain: usually ">"
}

func (p pathParts) String() string { return p.before + p.local + "@" + p.domain + p.after }

// splitPath finds the mailbox inside a path: after the opening brackets
// and any source route (RFC 5321 §4.1.2 A-d-l), split at the last @ that
// is not inside quotes.
func splitPath(path string) pathParts {
	start := 0
	for start < len(path) && path[start] == '<' {
		start++
	}
	if start < len(path) && path[start] == '@' { // source route: <@a,@b:user@c>
		if j := strings.IndexByte(path[start:], ':'); j >= 0 {
			start += j + 1
		}
	}
	end := len(path)
	for end > start && path[end-1] == '>' {
		end--
	}
	box := path[start:end]
	at, inQuote := -1, false
	for i := 0; i < len(box); i++ {
		switch c := box[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '@':
			at = i
		}
	}
	if at <= 0 || at == len(box)-1 {
		return pathParts{}
	}
	return pathParts{ok: true, before: path[:start], local: box[:at], domain: box[at+1:], after: path[end:]}
}

func isQuoted(s string) bool { return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' }

// unquote removes the quotes and backslash escapes of a quoted string.
func unquote(s string) string {
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isControl reports a C0 control character or DEL: bytes no part of a
// mailbox may hold (RFC 5321 §4.1.2: atext, qtextSMTP and quoted-pairSMTP
// are all printable; RFC 6531 §3.3 adds only UTF-8 beyond ASCII).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// quotable reports whether s can be a local part once quoted: quoting
// mends spaces and specials, never a control character.
func quotable(s string) bool { return !strings.ContainsFunc(s, isControl) }

// quote makes s a Quoted-string, escaping only the two characters that
// must be escaped (RFC 5321 §4.1.2 qtextSMTP excludes `"` and `\`).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
