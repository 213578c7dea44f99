package render

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// ColorMode is the user's --color choice: auto, always or never.
type ColorMode string

// The --color values.
const (
	ColorAuto   ColorMode = "auto"
	ColorAlways ColorMode = "always"
	ColorNever  ColorMode = "never"
)

// ParseColorMode validates a --color value.
func ParseColorMode(s string) (ColorMode, error) {
	switch m := ColorMode(s); m {
	case ColorAuto, ColorAlways, ColorNever:
		return m, nil
	}
	return "", fmt.Errorf("--color must be auto, always or never, not %q", s)
}

// UseColor decides whether to colour output written to w: always with
// --color always; never with --color never. With auto, never when
// NO_COLOR is set and not empty (no-color.org), when TERM is unset or
// "dumb", or when w is not a terminal.
func UseColor(mode ColorMode, w io.Writer, getenv func(string) string) bool {
	switch mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	if t := getenv("TERM"); t == "" || t == "dumb" {
		return false
	}
	_, ok := terminalFd(w)
	return ok
}

// TerminalWidth is the number of columns to fit output written to w to:
// COLUMNS when it is set to a positive number, else the width of w when
// it is a terminal, else 0 (unknown: lines are not folded).
func TerminalWidth(w io.Writer, getenv func(string) string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	fd, ok := terminalFd(w)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(fd)
	if err != nil {
		return 0
	}
	return width
}

// fdWriter is a writer over a file descriptor, such as *os.File or a
// wrapper that checks its writes and tells the file it writes to.
type fdWriter interface{ Fd() uintptr }

// terminalFd is w's file descriptor when w is a terminal.
func terminalFd(w io.Writer) (int, bool) {
	f, ok := w.(fdWriter)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// IsTerminal tells whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	_, ok := terminalFd(w)
	return ok
}

var _ fdWriter = (*os.File)(nil)

// Paint wraps s in the ANSI colour for an SMTP reply code's class: 2yz
// green, 3yz cyan, 4yz yellow, 5yz red. With on=false it returns s as is.
func Paint(on bool, code int, s string) string {
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

func paint(on bool, code int, s string) string { return Paint(on, code, s) }
