package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/probe"
)

// reportOptions shape the human report.
type reportOptions struct {
	color   bool // colour reply codes by class
	width   int  // terminal width to wrap to; 0 when unknown (no wrapping)
	verbose bool // add each step's annotation and the full transcript
}

// writeReport prints a probe report for people, in the order they read
// it: target and DNS, connection and TLS, capabilities, VRFY/EXPN policy,
// the envelope syntax suite, then the verdicts and what to do about them.
// Every string that came from a server goes through escapeUntrusted.
func writeReport(w io.Writer, r *probe.Report, o reportOptions) {
	p := &printer{w: w, o: o}
	p.section("Target")
	writeTarget(p, r)
	for i := range r.Hosts {
		h := &r.Hosts[i]
		writeHost(p, h)
	}
	if len(r.Hosts) == 0 {
		p.line("  no host was probed")
	}
	for _, warn := range r.Warnings {
		p.wrap("  warning: ", escapeUntrusted(warn))
	}
}

// printer writes the report's lines, wrapping prose to the terminal.
type printer struct {
	w     io.Writer
	o     reportOptions
	first bool
}

func (p *printer) section(title string) {
	if p.first {
		fmt.Fprintln(p.w)
	}
	p.first = true
	fmt.Fprintln(p.w, title)
}

func (p *printer) line(s string) { fmt.Fprintln(p.w, s) }

// wrap prints prefix+text, folding text at spaces to the terminal width with
// continuation lines indented under the text.
func (p *printer) wrap(prefix, text string) {
	indent := strings.Repeat(" ", utf8.RuneCountInString(prefix))
	if p.o.width <= 0 || visibleWidth(prefix+text) <= p.o.width {
		fmt.Fprintln(p.w, prefix+text)
		return
	}
	avail := p.o.width - len(indent)
	if avail < 20 {
		avail = 20
	}
	cur := prefix
	n := 0
	for _, word := range breakLongWords(strings.Fields(text), avail) {
		wl := visibleWidth(word)
		if n > 0 && n+1+wl > avail {
			fmt.Fprintln(p.w, cur)
			cur, n = indent, 0
		}
		if n > 0 {
			cur += " "
			n++
		}
		cur += word
		n += wl
	}
	fmt.Fprintln(p.w, cur)
}

// breakLongWords splits any word wider than n runes into pieces of n, so
// that a long token a server sent is folded, not cut or left overlong.
func breakLongWords(words []string, n int) []string {
	var out []string
	for _, w := range words {
		for visibleWidth(w) > n && !strings.Contains(w, "\x1b") {
			r := []rune(w)
			out = append(out, string(r[:n]))
			w = string(r[n:])
		}
		out = append(out, w)
	}
	return out
}

// code shows a reply's code and enhanced code, coloured by class.
func (p *printer) code(rep *probe.Reply) string {
	if rep == nil {
		return "---"
	}
	s := fmt.Sprint(rep.Code)
	if rep.Code == 0 {
		s = "???"
	}
	if rep.Enhanced != "" {
		s += " " + escapeUntrusted(rep.Enhanced)
	}
	return paint(p.o.color, rep.Code, s)
}

// reply shows a whole reply on one line: code, enhanced code and text.
func (p *printer) reply(rep *probe.Reply) string {
	if rep == nil {
		return "(no reply)"
	}
	return p.code(rep) + " " + escapeUntrusted(replyText(rep))
}

// replyText is a reply's text on one line without the enhanced code that
// starts each line (RFC 2034 §4), which the code column already shows.
func replyText(rep *probe.Reply) string {
	var parts []string
	for _, l := range rep.Lines {
		if rep.Enhanced != "" {
			if rest, ok := strings.CutPrefix(l, rep.Enhanced); ok && (rest == "" || rest[0] == ' ') {
				l = strings.TrimLeft(rest, " ")
			}
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

func writeHost(p *printer, h *probe.HostReport) {
	title := "Host " + escapeUntrusted(h.Host)
	if h.Address != "" && h.Address != h.Host {
		title += " [" + escapeUntrusted(h.Address) + "]"
	}
	p.section(title)
	p.line("  status      " + h.Status)
	if h.Error != "" {
		p.wrap("  error       ", escapeUntrusted(h.Error))
	}
	if h.Banner != nil {
		p.wrap("  banner      ", p.reply(h.Banner))
	}
	writeBaselines(p, h)
	writeHello(p, h)
	for _, d := range h.Deviations {
		p.wrap("  deviation   ", escapeUntrusted(d.Kind+": "+d.Detail))
	}
	writeConnection(p, h)
	if h.Verdicts == nil {
		if p.o.verbose {
			writeTranscript(p, h) // what came before the fault
		}
		return
	}
	writeVRFY(p, h)
	writeSyntax(p, h)
	writeVerdicts(p, h)
	writeAdvice(p, h)
	if p.o.verbose {
		writeTranscript(p, h)
	}
}

// stepsOf returns the non-housekeeping steps of one suite.
func stepsOf(h *probe.HostReport, suite string) []probe.StepResult {
	var out []probe.StepResult
	for _, s := range h.Steps {
		if s.Suite == suite && !s.Setup {
			out = append(out, s)
		}
	}
	return out
}

func writeVRFY(p *printer, h *probe.HostReport) {
	steps := stepsOf(h, "vrfy")
	if len(steps) == 0 {
		return
	}
	p.section("VRFY and EXPN")
	width := 0
	for _, s := range steps {
		width = max(width, utf8.RuneCountInString(escapeUntrusted(s.Sent)))
	}
	width = min(width, 40)
	for _, s := range steps {
		sent := escapeUntrusted(s.Sent)
		p.wrap(fmt.Sprintf("  %-*s  ", width, sent), replyOrSkip(p, s))
		if p.o.verbose && s.Annotation != "" {
			p.wrap("      ", escapeUntrusted(s.Annotation))
		}
	}
	v := h.Verdicts
	if v.VRFYPolicy != nil {
		p.wrap("  vrfy_policy "+v.VRFYPolicy.Policy+": ", v.VRFYPolicy.Reason)
	}
	if v.EXPNPolicy != nil {
		p.wrap("  expn_policy "+v.EXPNPolicy.Policy+": ", v.EXPNPolicy.Reason)
	}
	for _, s := range steps {
		if s.Conformance == probe.Lenient || s.Conformance == probe.TooStrict || s.Conformance == probe.WrongCode {
			p.wrap("  "+s.Name+": ", escapeUntrusted(s.Verdict))
		}
	}
}

func replyOrSkip(p *printer, s probe.StepResult) string {
	if s.Outcome == probe.Skipped {
		return "(" + escapeUntrusted(s.Verdict) + ")"
	}
	return p.reply(s.Reply)
}

// verdictWord is the one-word verdict of the syntax table.
func verdictWord(s probe.StepResult) string {
	if s.Withheld != "" {
		return "withheld"
	}
	switch s.Conformance {
	case probe.Conforms:
		return "ok"
	case probe.Informative:
		return string(s.Outcome)
	case probe.NotJudged:
		return string(s.Outcome)
	}
	return string(s.Conformance)
}

func writeSyntax(p *printer, h *probe.HostReport) {
	steps := stepsOf(h, "syntax")
	if len(steps) == 0 {
		return
	}
	p.section("Envelope syntax suite")
	nameW, sentW, verdictW := len("case"), len("sent"), len("verdict")
	for _, s := range steps {
		nameW = max(nameW, len(s.Name))
		sentW = max(sentW, utf8.RuneCountInString(escapeUntrusted(s.Sent)))
		verdictW = max(verdictW, len(verdictWord(s)))
	}
	sentW = min(sentW, 48)
	fixed := func(sw int) int { return 2 + nameW + 2 + sw + 2 + verdictW }
	if p.o.width > 0 && fixed(sentW) > p.o.width {
		// our own line gives way before the server's reply does
		sentW = max(p.o.width-fixed(0), 20)
	}
	header := fmt.Sprintf("  %-*s  %-*s  %-*s  %s", nameW, "case", sentW, "sent", verdictW, "verdict", "reply")
	if p.o.width > 0 && utf8.RuneCountInString(header) > p.o.width {
		header = strings.TrimRight(header[:len(header)-len("reply")], " ") + "\n" + replyIndent + "reply"
	}
	p.line(header)
	for _, s := range steps {
		sent := truncate(escapeUntrusted(s.Sent), sentW)
		rep := replyOrSkip(p, s)
		row := fmt.Sprintf("  %-*s  %-*s  %-*s  ", nameW, s.Name, sentW, sent, verdictW, verdictWord(s))
		if p.o.width > 0 && visibleWidth(row+rep) > p.o.width {
			// The reply is what is being diagnosed: never cut it; give it
			// lines of its own under the row instead.
			p.line(strings.TrimRight(row, " "))
			p.wrap(replyIndent, rep)
			continue
		}
		p.line(row + rep)
	}
	// The cases worth a sentence: where the server strays from the RFC, or
	// refuses for policy.
	var notes []probe.StepResult
	for _, s := range steps {
		if s.Conformance == probe.Lenient || s.Conformance == probe.TooStrict || s.Conformance == probe.WrongCode || s.Conformance == probe.Policy || s.Conformance == probe.Undecided || p.o.verbose {
			notes = append(notes, s)
		}
	}
	if len(notes) > 0 {
		p.line("")
		for _, s := range notes {
			p.wrap("  "+s.Name+": ", escapeUntrusted(s.Verdict))
			if s.Annotation != "" && (s.Outcome != probe.Accepted || p.o.verbose) {
				p.wrap("      ", "reply: "+escapeUntrusted(s.Annotation))
			}
		}
	}
}

// replyIndent starts a syntax-table reply moved under its row.
const replyIndent = "      "

// visibleWidth is the number of runes of s a terminal shows: the colour
// escapes paint adds take no room.
func visibleWidth(s string) int {
	return utf8.RuneCountInString(ansiEscape.ReplaceAllString(s, ""))
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// truncate shortens s to n runes, marking the cut.
func truncate(s string, n int) string {
	if n <= 1 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func yesNo(b *bool, yes, no string) string {
	if b == nil {
		return "not determined"
	}
	if *b {
		return yes
	}
	return no
}

// postmasterRefusals names the postmaster RCPT lines the server refused
// and its codes, e.g. "RCPT TO:<postmaster> drew 501".
func postmasterRefusals(h *probe.HostReport) string {
	var out []string
	for _, s := range h.Steps {
		if s.Step().Role == probe.RolePostmaster && s.Outcome == probe.Rejected && s.Reply != nil {
			out = append(out, fmt.Sprintf("%s drew %d", escapeUntrusted(s.Sent), s.Reply.Code))
		}
	}
	return strings.Join(out, ", ")
}

func writeVerdicts(p *printer, h *probe.HostReport) {
	v := h.Verdicts
	p.section("Verdicts")
	row := func(k, val string) { p.wrap(fmt.Sprintf("  %-20s", k), val) }
	if v.VRFYPolicy != nil {
		row("vrfy_policy", v.VRFYPolicy.Policy)
	}
	if v.EXPNPolicy != nil {
		row("expn_policy", v.EXPNPolicy.Policy)
	}
	if v.EnvelopeSyntax != nil {
		s := v.EnvelopeSyntax.Verdict
		if len(v.EnvelopeSyntax.Deciding) > 0 {
			s += " (" + strings.Join(v.EnvelopeSyntax.Deciding, ", ") + ")"
		}
		row("envelope_syntax", s)
	}
	row("catch_all", yesNo(v.CatchAll, "yes: a random mailbox was accepted", "no: a random mailbox was refused"))
	row("postmaster_accepted", yesNo(v.PostmasterAccepted, "yes", "no: "+postmasterRefusals(h)+"; RFC 5321 §4.5.1 requires both forms"))
	row("starttls", map[bool]string{true: "offered", false: "not offered"}[v.STARTTLS])
	row("smtputf8", map[bool]string{true: "advertised", false: "not advertised"}[v.SMTPUTF8])
	if v.ErrorLimit != nil {
		row("error_limit", fmt.Sprintf("the server disconnected after %d error replies", *v.ErrorLimit))
	} else {
		row("error_limit", "not reached")
	}
	writeWithheld(p, h, row)
	if h.Connections > 1 {
		row("connections", fmt.Sprintf("%d (error-drawing cases spread across them)", h.Connections))
	} else {
		row("connections", fmt.Sprint(h.Connections))
	}
}

func writeAdvice(p *printer, h *probe.HostReport) {
	advice := probe.Advise(h)
	if len(advice) == 0 {
		return
	}
	p.section("Advice")
	for _, a := range advice {
		p.wrap("  - ", escapeUntrusted(a))
	}
}

// transcriptText renders one transcript entry for a person, one string
// per line on the wire (a read may hold a whole multi-line reply). Server
// text is escaped from the exact bytes, so an invalid byte shows once as
// \xNN; reply codes are coloured; lines sent are shown as typed.
func transcriptText(t probe.TranscriptLine, color bool) []string {
	data := t.Data
	if t.DataBase64 != "" {
		if b, err := base64.StdEncoding.DecodeString(t.DataBase64); err == nil {
			data = string(b)
		}
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		text := escapeUntrusted(line)
		switch {
		case t.Dir == probe.DirClient:
			text = plainExact(line)
		case t.Dir == probe.DirServer && len(line) >= 3:
			if code, err := strconv.Atoi(line[:3]); err == nil {
				text = paint(color, code, escapeUntrusted(line[:3])) + escapeUntrusted(line[3:])
			}
		}
		out = append(out, text)
	}
	return out
}

func writeTranscript(p *printer, h *probe.HostReport) {
	if len(h.Transcript) == 0 {
		return
	}
	p.section("Transcript")
	conn := 0
	for _, t := range h.Transcript {
		if t.Connection != conn {
			conn = t.Connection
			p.line(fmt.Sprintf("  -- connection %d", conn))
		}
		for _, text := range transcriptText(t, p.o.color) {
			p.line(fmt.Sprintf("  %8.1fms %s: %s", t.AtMS, t.Dir, text))
		}
	}
	if h.TranscriptDropped > 0 {
		p.line(fmt.Sprintf("  (%d bytes past the transcript's caps were not kept)", h.TranscriptDropped))
	}
}
