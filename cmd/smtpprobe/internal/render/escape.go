package render

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes text that came from a server (or any other untrusted
// source) safe to write to a terminal: every control byte (C0, DEL, C1),
// and every byte that is not valid UTF-8, is written as a visible escape,
// so an ESC, CR or NUL from the wire can never act on the user's terminal.
// Backslashes are doubled, so an escape shown can be told from the text.
func Escape(s string) string { return escapeUntrusted(s) }

func escapeUntrusted(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) || isInvisible(r):
			// line separators, bidi controls (U+061C, U+200E, U+200F,
			// U+202A-U+202E, U+2066-U+2069) and invisible characters can
			// disguise what is shown
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isInvisible tells whether r is a format character that takes no room:
// zero width space, word joiner and friends, and the byte order mark,
// which would hide a difference between two replies that look the same.
// ZWNJ and ZWJ (U+200C, U+200D) are left alone: scripts and emoji need them.
func isInvisible(r rune) bool {
	return r == '\u200b' || (r >= '\u2060' && r <= '\u2064') || r == '\ufeff'
}

// EscapeExact is Escape that leaves backslashes alone, for a line or
// address the user is to copy: every printable character is shown as it
// is, so `"a\"b"@x.com` stays exactly that. Control bytes, invalid UTF-8
// and characters that disguise text are still escaped; changed says
// whether anything was, so the caller can say so.
func EscapeExact(s string) (shown string, changed bool) {
	parts := strings.Split(s, `\`)
	for i, p := range parts {
		parts[i] = escapeUntrusted(p)
	}
	shown = strings.Join(parts, `\`)
	return shown, shown != s
}

// ExactNote marks a copyable line that EscapeExact had to change.
const ExactNote = `  (control or invalid bytes shown as \xNN or \uNNNN: this is not the literal text)`

// ShowExact is EscapeExact with ExactNote added when it escaped anything.
func ShowExact(s string) string {
	shown, changed := EscapeExact(s)
	if changed {
		shown += ExactNote
	}
	return shown
}

// PlainExact is EscapeExact without the flag, for text around the lines.
func PlainExact(s string) string {
	shown, _ := EscapeExact(s)
	return shown
}

// the short names the renderers of this package use
var (
	showExact  = ShowExact
	plainExact = PlainExact
)
