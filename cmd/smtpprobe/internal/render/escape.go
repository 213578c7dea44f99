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
		case isHidden(r):
			// format characters, tags and separators can disguise what
			// is shown
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isHidden tells whether r would change or hide what is shown without
// being seen itself: every Unicode format character (category Cf: soft
// hyphen U+00AD, U+180E, zero-width space, ZWNJ and ZWJ, the bidi
// controls, word joiner, byte order mark, interlinear annotation
// U+FFF9-U+FFFB, the tag characters of U+E0000-U+E007F), and the line
// and paragraph separators U+2028 and U+2029. Server text has no need of
// any of them, and each could make one reply look like another.
func isHidden(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r >= 0xe0000 && r <= 0xe007f
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
