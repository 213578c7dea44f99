package render

import (
	"fmt"
	"io"
	"strings"
)

// Printer writes the lines of a text report: sections with a blank line
// between them, and prose folded to the terminal's width with
// continuation lines indented under the text.
type Printer struct {
	w     io.Writer
	o     Options
	first bool
	count int // lines written so far
}

// printer is the name the renderers of this package use.
type printer = Printer

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, o Options) *Printer { return &Printer{w: w, o: o} }

// section starts a titled section, after a blank line unless it is the
// first.
func (p *printer) section(title string) {
	if p.first {
		fmt.Fprintln(p.w)
	}
	p.first = true
	fmt.Fprintln(p.w, title)
}

// line writes s as it is.
func (p *printer) line(s string) {
	p.count++
	fmt.Fprintln(p.w, s)
}

// linef writes a formatted line.
func (p *printer) linef(format string, args ...any) { p.line(fmt.Sprintf(format, args...)) }

// wrap prints prefix+text, folding text at spaces to the terminal width,
// continuation lines indented under the text. When the prefix leaves too
// little room it goes on a line of its own and the text is folded under
// it, so no line is ever wider than the terminal.
func (p *printer) wrap(prefix, text string) {
	if p.o.width() <= 0 || visibleWidth(prefix+text) <= p.o.width() {
		p.line(prefix + text)
		return
	}
	iw := visibleWidth(prefix)
	avail := p.o.width() - iw
	if avail < max(minText, p.o.width()/2) {
		// the prefix is most of the line: prefix and text are folded as
		// one paragraph, continuing four columns past the prefix's indent
		lead := len(prefix) - len(strings.TrimLeft(prefix, " "))
		for _, l := range foldPieces(prefix+strings.Join(strings.Fields(text), " "), p.o.width(), lead+4) {
			p.line(l)
		}
		return
	}
	indent := strings.Repeat(" ", iw)
	for i, l := range Wrap(text, max(avail, 1)) {
		if i == 0 {
			p.line(prefix + l)
		} else {
			p.line(indent + l)
		}
	}
}

// minText is the fewest columns wrap leaves for text beside its prefix.
const minText = 20

// width is the width to fold to; 0 for none.
func (o Options) width() int { return o.Width }
