package render

import (
	"regexp"
	"strings"

	"github.com/rivo/uniseg"
)

// Width is the number of terminal columns s takes: East Asian wide
// characters and emoji count two, combining marks none, and the colour
// escapes Paint adds take no room.
func Width(s string) int {
	if strings.IndexByte(s, '\x1b') >= 0 {
		s = ansiEscape.ReplaceAllString(s, "")
	}
	return uniseg.StringWidth(s)
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// visibleWidth is Width under the name the renderers use.
func visibleWidth(s string) int { return Width(s) }

// Pad is s followed by spaces up to width columns (s itself when it is
// as wide already).
func Pad(s string, width int) string {
	if n := Width(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// Truncate shortens s to at most n columns, marking the cut with "…".
// It cuts between grapheme clusters, never inside one.
func Truncate(s string, n int) string {
	if n <= 1 || Width(s) <= n {
		return s
	}
	var b strings.Builder
	w := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		cw := g.Width()
		if w+cw > n-1 {
			break
		}
		b.WriteString(g.Str())
		w += cw
	}
	return b.String() + "…"
}

func truncate(s string, n int) string { return Truncate(s, n) }

// Wrap breaks text into lines of at most width columns, at spaces. A word
// wider than width is split between grapheme clusters, so no line is
// ever wider than width; a width below 1 means no limit.
func Wrap(text string, width int) []string {
	words := strings.Fields(text)
	if width < 1 {
		if len(words) == 0 {
			return nil
		}
		return []string{strings.Join(words, " ")}
	}
	var lines []string
	var cur strings.Builder
	n := 0
	for _, word := range splitWide(words, width) {
		wl := Width(word)
		if n > 0 && n+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(word)
		n += wl
	}
	if n > 0 || cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// splitWide splits every word wider than n columns into pieces of at most
// n, so a long token a server sent is folded, not cut or left overlong.
// A piece never ends inside a colour escape: the escape and the text it
// colours stay together.
func splitWide(words []string, n int) []string {
	var out []string
	for _, w := range words {
		if Width(w) <= n {
			out = append(out, w)
			continue
		}
		var cur strings.Builder
		cw := 0
		for len(w) > 0 {
			if w[0] == '\x1b' {
				if loc := ansiEscape.FindStringIndex(w[:min(len(w), 16)]); loc != nil && loc[0] == 0 {
					cur.WriteString(w[:loc[1]])
					w = w[loc[1]:]
					continue
				}
			}
			g, rest, width, _ := uniseg.FirstGraphemeClusterInString(w, -1)
			if cw+width > n && cw > 0 {
				out = append(out, cur.String())
				cur.Reset()
				cw = 0
			}
			cur.WriteString(g)
			cw += width
			w = rest
		}
		if cur.Len() > 0 {
			out = append(out, cur.String())
		}
	}
	return out
}
