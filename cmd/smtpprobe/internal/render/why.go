package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe"
)

// Why is the document of `smtpprobe why`: the report, with -v its
// transcript in the text.
type Why struct {
	*probe.WhyReport
}

// NewWhy wraps a diagnosis as a document.
func NewWhy(r *probe.WhyReport) *Why { return &Why{WhyReport: r} }

// Text writes the diagnosis, and with -v the transcript.
func (d *Why) Text(p *Printer) {
	writeWhy(p.w, d.WhyReport, p.o.Color, p.o.Width)
	if p.o.Verbose {
		writeWhyTranscript(p.w, d.Transcript, p.o.Color)
	}
}

// Quiet writes the conclusion's kind and, when a line was found that the
// server takes, that line.
func (d *Why) Quiet(p *Printer) {
	c := d.Conclusion
	p.line(string(c.Kind))
	if c.Found() && c.Fixed != "" {
		if c.FixedPrelude != "" {
			p.line(showExact(c.FixedPrelude))
		}
		p.line(showExact(c.Fixed))
	}
}

// Records is the report as one record.
func (d *Why) Records() []any { return []any{d.WhyReport} }

// whyReply renders a reply on one line, server text escaped.
func whyReply(r *probe.Reply, color bool) string {
	if r == nil {
		return "(no reply)"
	}
	s := strconv.Itoa(r.Code)
	if t := r.Text(); t != "" {
		s += " " + t
	}
	return paint(color, r.Code, escapeUntrusted(s))
}

// writeWhy prints the diagnosis: what was sent where, every attempt, the
// two replies side by side, and the conclusion in plain words. Lines the
// user may copy are printed exactly (showExact): only control bytes and
// the like are escaped, and flagged; server text is escaped in full.
func writeWhy(w io.Writer, rep *probe.WhyReport, color bool, termWidth int) {
	esc := escapeUntrusted
	c := rep.Conclusion
	fmt.Fprintf(w, "Line:      %s\n", showExact(rep.Line))
	where := esc(rep.Server)
	if rep.Host != nil {
		h := esc(rep.Host.Addr)
		if rep.Host.Name != "" && rep.Host.Name != rep.Server {
			h += " (" + esc(rep.Host.Name) + ")"
		}
		if h != where {
			where += " → " + h
		}
	}
	fmt.Fprintf(w, "Server:    %s\n", where)
	if rep.Software != nil {
		fmt.Fprintf(w, "Software:  %s\n", softwareLine(rep.Software))
	}
	for _, he := range rep.HostErrors {
		fmt.Fprintf(w, "           %s failed: %s\n", esc(he.Host), esc(string(he.Status)))
	}
	if rep.Prelude != "" {
		fmt.Fprintf(w, "Sent first: %s\n", showExact(rep.Prelude))
	}
	if len(rep.Attempts) > 0 {
		fmt.Fprintf(w, "\nAttempts (%d on %s):\n", len(rep.Attempts), attemptConnections(rep))
		width := 0
		for _, a := range rep.Attempts {
			width = max(width, Width(plainExact(a.Line)))
		}
		width = min(width, 60)
		for _, a := range rep.Attempts {
			reply := whyReply(a.Reply, color)
			switch {
			case a.Outcome == "prelude-rejected":
				reply = "MAIL FROM refused: " + whyReply(a.PreludeReply, color)
			case a.Reply == nil && a.Error != "":
				reply = "(no reply: " + esc(a.Error) + ")"
			}
			tag := ""
			if len(a.Repairs) > 0 {
				var names []string
				for _, r := range a.Repairs {
					names = append(names, r.Name)
				}
				tag = "  [" + strings.Join(names, " + ") + "]"
			} else if a.N == 1 {
				tag = "  [as given]"
			}
			row := fmt.Sprintf("  %2d  ", a.N) + Pad(plainExact(a.Line), width) + "  " + reply + tag
			if termWidth > 0 && Width(row) > termWidth {
				// on a narrow terminal the reply goes under its line
				fmt.Fprintf(w, "  %2d  %s\n", a.N, plainExact(a.Line))
				fmt.Fprintf(w, "      %s%s\n", reply, tag)
			} else {
				fmt.Fprintln(w, row)
			}
			if a.Prelude != "" && a.Prelude != rep.Prelude {
				fmt.Fprintf(w, "      after %s\n", plainExact(a.Prelude))
			}
		}
	}
	// The replies block is set off by one blank line, and only when it
	// has something to say.
	var verdict strings.Builder
	vw := &verdict
	switch c.Kind {
	case probe.WhyRepaired:
		fmt.Fprintf(vw, "Rejected:  %s\n", whyReply(c.Original, color))
		fmt.Fprintf(vw, "Accepted:  %s\n", whyReply(c.Accepted, color))
		writeSend(vw, c)
		if c.Strict != "" {
			fmt.Fprintf(vw, "Better:    %s  (to the letter of RFC 5321)\n", showExact(c.Strict))
		}
	case probe.WhySyntaxFixed:
		fmt.Fprintf(vw, "Rejected:  %s\n", whyReply(c.Original, color))
		fmt.Fprintf(vw, "Then:      %s\n", whyReply(c.RepairedReply, color))
		writeSend(vw, c)
	case probe.WhyPartial:
		fmt.Fprintf(vw, "Rejected:  %s\n", whyReply(c.Original, color))
		for _, p := range c.Progress {
			var names []string
			for _, r := range p.Repairs {
				names = append(names, r.Name)
			}
			fmt.Fprintf(vw, "Progress:  %s → %s\n", strings.Join(names, " + "), whyReply(p.Reply, color))
		}
		writeLine(vw, "Closest:", c)
		fmt.Fprintf(vw, "Then:      %s\n", whyReply(c.RepairedReply, color))
	case probe.WhyAcceptedAsSent:
		fmt.Fprintf(vw, "Accepted:  %s\n", whyReply(c.Original, color))
		if c.Strict != "" {
			fmt.Fprintf(vw, "Better:    %s  (to the letter of RFC 5321)\n", showExact(c.Strict))
		}
	default:
		if c.Original != nil {
			fmt.Fprintf(vw, "Rejected:  %s\n", whyReply(c.Original, color))
		}
	}
	if verdict.Len() > 0 {
		fmt.Fprintf(w, "\n%s", verdict.String())
	}
	// On a terminal the paragraph is folded to its width; elsewhere it is
	// one line, for grep.
	summary := plainExact(c.Summary) // our words and the user's lines: no server text
	if width := termWidth; width > 0 {
		summary = strings.Join(Wrap(summary, min(width-1, 100)), "\n")
	}
	fmt.Fprintf(w, "\n%s\n", summary)
	if c.Explanation != "" && !c.Found() {
		fmt.Fprintf(w, "About that reply: %s\n", esc(c.Explanation))
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "Note: %s (%s)\n", plainExact(f.Detail), f.Ref)
	}
	for _, wn := range c.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", esc(wn))
	}
}

// writeSend prints the line to send, after the MAIL FROM it needs when a
// repair changed that.
func writeSend(w io.Writer, c probe.WhyConclusion) { writeLine(w, "Send:", c) }

// writeLine prints the repaired line under a label, after the MAIL FROM
// it needs when a repair changed that.
func writeLine(w io.Writer, label string, c probe.WhyConclusion) {
	if c.FixedPrelude != "" {
		fmt.Fprintf(w, "%-10s %s\n", label, showExact(c.FixedPrelude))
		fmt.Fprintf(w, "     then  %s\n", showExact(c.Fixed))
		return
	}
	fmt.Fprintf(w, "%-10s %s\n", label, showExact(c.Fixed))
}

// attemptConnections says how many connections the attempts went on, and
// how many were dialled when some carried none (a host or a reconnect
// refused), so the count agrees with the transcript's numbers.
func attemptConnections(rep *probe.WhyReport) string {
	used := map[int]bool{}
	for _, a := range rep.Attempts {
		if a.Connection > 0 {
			used[a.Connection] = true
		}
	}
	if len(used) == rep.Connections {
		return pluralWord(len(used), "connection")
	}
	return fmt.Sprintf("%d of the %s dialled", len(used), pluralWord(rep.Connections, "connection"))
}

func pluralWord(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// writeWhyTranscript prints every byte of every connection, for -v: the
// server's text escaped, reply codes coloured.
func writeWhyTranscript(w io.Writer, lines []probe.TranscriptLine, color bool) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\nTranscript:\n")
	conn := 0
	for _, t := range lines {
		if t.Connection != conn {
			conn = t.Connection
			fmt.Fprintf(w, "  -- connection %d\n", conn)
		}
		for i, text := range transcriptText(t, color) {
			at := fmt.Sprintf("%8.1fms", t.AtMS)
			if i > 0 {
				at = strings.Repeat(" ", len(at))
			}
			fmt.Fprintf(w, "  %s %s: %s\n", at, t.Dir, text)
		}
	}
}
