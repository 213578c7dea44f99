package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/term"
)

// escapeUntrusted makes text that came from a server (or any other untrusted
// source) safe to write to a terminal: every control byte (C0, DEL, C1), and
// every byte that is not valid UTF-8, is written as a visible escape, so an
// ESC, CR or NUL from the wire can never act on the user's terminal.
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

// colorMode is the user's --color choice.
type colorMode string

const (
	colorAuto   colorMode = "auto"
	colorAlways colorMode = "always"
	colorNever  colorMode = "never"
)

// colorValue is the --color flag's value: it refuses anything but auto,
// always or never as the flag is parsed.
type colorValue colorMode

func (c *colorValue) String() string { return string(*c) }
func (c *colorValue) Type() string   { return "WHEN" }

func (c *colorValue) Set(s string) error {
	m, err := parseColorMode(s)
	if err != nil {
		return errors.New("want auto, always or never")
	}
	*c = colorValue(m)
	return nil
}

// addColorFlag registers --color WHEN, the same on every subcommand: it
// takes a value (auto, always or never; default auto), so that a flag
// never swallows the argument after it by accident. what names what gets
// coloured.
func addColorFlag(fs *flagSet, what string) *colorMode {
	m := colorAuto
	fs.Var((*colorValue)(&m), "color", "colour "+what+": auto, always or never (NO_COLOR is honoured)")
	return &m
}

// parseColorMode validates a --color value.
func parseColorMode(s string) (colorMode, error) {
	switch m := colorMode(s); m {
	case colorAuto, colorAlways, colorNever:
		return m, nil
	}
	return "", fmt.Errorf("--color must be auto, always or never, not %q", s)
}

// useColor decides whether to colour output written to w: always with
// --color always; never with --color never or a non-empty NO_COLOR; with
// auto, only when w is a terminal.
func useColor(mode colorMode, w io.Writer, getenv func(string) string) bool {
	switch mode {
	case colorAlways:
		return true
	case colorNever:
		return false
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is the width of w when it is a terminal, else 0 (unknown).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// paint wraps s in the ANSI colour for an SMTP reply code's class: 2yz
// green, 3yz cyan, 4yz yellow, 5yz red. With on=false it returns s as is.
func paint(on bool, code int, s string) string {
	if !on {
		return s
	}
	var c string
	switch code / 100 {
	case 2:
		c = "32"
	case 3:
		c = "36"
	case 4:
		c = "33"
	case 5:
		c = "31"
	default:
		return s
	}
	return "\x1b[" + c + "m" + s + "\x1b[0m"
}

// jsonSafe escapes what encoding/json leaves raw but a terminal may act
// on or a reader may not see: DEL, the C1 controls U+0080-U+009F (U+009B
// is an 8-bit CSI) and every character isHidden names (above U+FFFF as a
// UTF-16 surrogate pair, RFC 8259 §7). They only occur inside strings,
// where \u escapes mean the same.
type jsonSafe struct{ w io.Writer }

func (j jsonSafe) Write(b []byte) (int, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == 0x7f || r >= 0x80 && r < 0xa0 || isHidden(r) && r <= 0xffff:
			out = fmt.Appendf(out, `\u%04x`, r)
		case isHidden(r):
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	if _, err := j.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// writeJSON writes v as indented JSON with DEL and C1 controls escaped
// (see jsonSafe), so a document of server text is safe on a terminal.
func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(jsonSafe{w})
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
