package render

import (
	"bytes"
	"io"
	"strings"

	"github.com/rivo/uniseg"
)

// foldWriter folds every line written through it that is wider than the
// terminal: at the last space that fits, continuing under the start of
// the line's value (the column after a label and two spaces, else four
// columns in). Lines that fit pass unchanged, spacing and all. It is the
// guarantee under every text renderer that no line is wider than the
// terminal and no word is broken where a space would do.
type foldWriter struct {
	w      io.Writer
	width  int
	buf    []byte
	indent int // the hanging indent of the line being folded; -1 before it is known
}

// foldHold is the most of one line a foldWriter holds: past it, the
// pieces folded so far are written, so an endless line costs no memory.
const foldHold = 64 << 10

func newFoldWriter(w io.Writer, width int) *foldWriter {
	return &foldWriter{w: w, width: width, indent: -1}
}

func (f *foldWriter) Write(b []byte) (int, error) {
	f.buf = append(f.buf, b...)
	for {
		i := bytes.IndexByte(f.buf, '\n')
		if i < 0 {
			break
		}
		pieces := f.fold(string(f.buf[:i]))
		f.buf = f.buf[i+1:]
		f.indent = -1
		if err := f.emit(pieces); err != nil {
			return 0, err
		}
	}
	if len(f.buf) > foldHold {
		pieces := f.fold(string(f.buf))
		last := pieces[len(pieces)-1]
		f.buf = append(f.buf[:0], last...)
		if err := f.emit(pieces[:len(pieces)-1]); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

func (f *foldWriter) fold(line string) []string {
	if f.indent < 0 {
		f.indent = hangingIndent(line, f.width)
	}
	return foldPieces(line, f.width, f.indent)
}

func (f *foldWriter) emit(pieces []string) error {
	for _, p := range pieces {
		if _, err := io.WriteString(f.w, p+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes what is left of an unfinished line.
func (f *foldWriter) Flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	pieces := f.fold(string(f.buf))
	f.buf, f.indent = nil, -1
	if err := f.emit(pieces[:len(pieces)-1]); err != nil {
		return err
	}
	_, err := io.WriteString(f.w, pieces[len(pieces)-1])
	return err
}

// foldLine is line folded to width, each piece ended by a line break.
func foldLine(line string, width int) string {
	return strings.Join(foldPieces(line, width, hangingIndent(line, width)), "\n") + "\n"
}

// foldPieces folds line to width, continuation pieces indented by
// indent. It takes time linear in the line's length.
func foldPieces(line string, width, indent int) []string {
	if width <= 0 || Width(line) <= width {
		return []string{line}
	}
	indent = min(indent, width/2)
	pad := strings.Repeat(" ", indent)
	var out []string
	start, lead := 0, 0 // lead: the columns before line[start:] on this piece
	for start < len(line) {
		end, whole := cutFrom(line, start, width, lead)
		piece := strings.TrimRight(line[start:end], " ")
		if lead > 0 {
			piece = pad + piece
		}
		out = append(out, piece)
		if whole {
			break
		}
		start = end
		for start < len(line) && line[start] == ' ' {
			start++
		}
		lead = indent
	}
	return out
}

// cutFrom is where the piece of line starting at byte start ends, so that
// it fits width columns after lead columns of indent: the whole rest when
// it fits (whole is true), else after the last space that fits, else (a
// word wider than the room) after the last grapheme cluster that fits,
// and at least one cluster. Colour escapes take no room.
func cutFrom(line string, start, width, lead int) (end int, whole bool) {
	w, lastSpace, fit := lead, -1, start
	for i := start; i < len(line); {
		if line[i] == '\x1b' {
			loc := ansiEscape.FindStringIndex(line[i:min(len(line), i+16)])
			if loc == nil || loc[0] != 0 {
				loc = []int{0, 1} // a lone ESC: Escape never lets one through
			}
			i += loc[1]
			fit = i
			continue
		}
		g, _, gw, _ := uniseg.FirstGraphemeClusterInString(line[i:], -1)
		if w+gw > width {
			switch {
			case lastSpace > start:
				return lastSpace + 1, false
			case fit > start:
				return fit, false
			}
			return i + len(g), false
		}
		if g == " " {
			lastSpace = i
		}
		w += gw
		i += len(g)
		fit = i
	}
	return len(line), true
}

// hangingIndent is the column continuation lines of line start at: after
// a label followed by two or more spaces ("Line:      MAIL FROM…"), when
// that leaves room; else four columns past the line's own indent.
func hangingIndent(line string, width int) int {
	lead := len(line) - len(strings.TrimLeft(line, " "))
	rest := line[lead:]
	if i := strings.Index(rest, "  "); i > 0 {
		j := i + len(rest[i:]) - len(strings.TrimLeft(rest[i:], " "))
		if col := lead + Width(rest[:j]); j < len(rest) && col <= width/2 {
			return col
		}
	}
	return min(lead+4, width/2)
}
