package batch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxLineBytes bounds one line of a targets file: an address is at most
// 256 octets of path (RFC 5321 §4.5.3.1.3), and a host:port far less, so a
// longer line is not a target.
const MaxLineBytes = 4096

// Line is one target of a targets file and where it stood.
type Line struct {
	N    int    // 1-based line number
	Text string // the target, white space around it removed
}

// ReadTargets reads a targets file: one target a line, blank lines and
// lines whose first non-blank character is # skipped. A target that
// appears twice is kept once, at its first line; dups counts the others.
// A line that is not valid UTF-8, has a control character or is longer
// than MaxLineBytes is an error naming its line number: a file that
// holds binary or a CSV export should be refused whole, not half run.
func ReadTargets(r io.Reader) (lines []Line, dups int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), MaxLineBytes+2)
	seen := map[string]bool{}
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF") // a byte-order mark from an editor
		}
		if text == "" || text[0] == '#' {
			continue
		}
		if !utf8.ValidString(text) {
			return nil, 0, fmt.Errorf("line %d is not valid UTF-8", n)
		}
		for i, c := range text {
			if c < ' ' && c != '\t' || c == 0x7f || c >= 0x80 && c < 0xa0 {
				return nil, 0, fmt.Errorf("line %d has a control character (U+%04X) at byte %d", n, c, i+1)
			}
		}
		if seen[text] {
			dups++
			continue
		}
		seen[text] = true
		lines = append(lines, Line{N: n, Text: text})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, 0, fmt.Errorf("line %d is longer than %d bytes", n+1, MaxLineBytes)
		}
		return nil, 0, err
	}
	return lines, dups, nil
}
