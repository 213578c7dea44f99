package render

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe"
)

// writeReport prints a probe report for people, in the order they read
// it: the target and its MX hosts; for each host its status, verdicts and
// advice; then the evidence host by host (TLS, capabilities, VRFY/EXPN,
// the envelope syntax suite, with -v the transcript); and with more than
// one host, the hosts side by side.
// Every string that came from a server goes through escapeUntrusted.
func writeReport(p *printer, r *probe.Report) {
	p.section("Target")
	writeTarget(p, r)
	for _, warn := range r.Warnings {
		p.wrap("  warning: ", escapeUntrusted(warn))
	}
	for i := range r.Hosts {
		writeHostSummary(p, &r.Hosts[i])
	}
	if len(r.Hosts) == 0 {
		p.line("  no host was probed")
	}
	for i := range r.Hosts {
		writeHostDetails(p, &r.Hosts[i])
	}
	if len(r.Hosts) > 1 {
		writeComparison(p, r)
	}
	if r.Transport != nil {
		writeTransport(p, r.Transport, p.o.Verbose)
	}
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
	return paint(p.o.Color, rep.Code, s)
}

// reply shows a whole reply on one line: code, enhanced code and text.
func (p *printer) reply(rep *probe.Reply) string {
	if rep == nil {
		return "(no reply)"
	}
	s := p.code(rep) + " " + escapeUntrusted(replyText(rep))
	if len(rep.LineCodes) > 0 {
		// The lines disagree: say so, and which codes came with it.
		codes := make([]string, len(rep.LineCodes))
		for i, c := range rep.LineCodes {
			codes[i] = fmt.Sprintf("%03d", c)
		}
		s += " [mixed codes " + strings.Join(codes, ", ") + ": judged by the last line]"
	}
	return s
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

// hostAddressLabel puts the address a host was reached at in brackets
// after its name: [127.0.0.1:25]. An IPv6 address and port already carry
// brackets ([::1]:25) and are shown as they are.
func hostAddressLabel(addr string) string {
	if strings.HasPrefix(addr, "[") {
		return addr
	}
	return "[" + addr + "]"
}

// hostTitle is "Host NAME [ADDRESS]".
func hostTitle(h *probe.HostReport) string {
	title := "Host " + escapeUntrusted(h.Host)
	if h.Address != "" && h.Address != h.Host {
		title += " " + hostAddressLabel(escapeUntrusted(h.Address))
	}
	return title
}

// writeHostSummary prints what a reader needs first about one host: how
// the session went, the verdicts and the advice.
func writeHostSummary(p *printer, h *probe.HostReport) {
	p.section(hostTitle(h))
	p.line("  status      " + string(h.Status))
	if h.Error != "" {
		p.wrap("  error       ", escapeUntrusted(h.Error))
	}
	if h.Banner != nil {
		p.wrap("  banner      ", p.reply(h.Banner))
	}
	writeBaselines(p, h)
	writeSoftware(p, h.Software)
	writeHello(p, h)
	for _, d := range h.Deviations {
		p.wrap("  deviation   ", escapeUntrusted(string(d.Kind)+": "+d.Detail))
	}
	if h.Verdicts == nil {
		return
	}
	writeVerdicts(p, h)
	writeAdvice(p, h)
}

// writeHostDetails prints the evidence behind a host's verdicts: TLS,
// capabilities, every step of every suite, and with -v the transcript.
func writeHostDetails(p *printer, h *probe.HostReport) {
	p.section("Details of " + escapeUntrusted(h.Host))
	n := p.count
	writeConnection(p, h)
	if h.Verdicts != nil {
		writeVRFY(p, h)
		writeSyntax(p, h)
	}
	if p.o.Verbose {
		writeTranscript(p, h) // for a failed host, what came before the fault
	}
	if p.count == n {
		p.line("  nothing more was seen")
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
		width = max(width, Width(escapeUntrusted(s.Sent)))
	}
	width = min(width, 40)
	// On a narrow terminal each reply goes under its line rather than
	// beside it, where it would fold into a thin column.
	stacked := p.o.Width > 0 && 2+width+2+minReply > p.o.Width
	for _, s := range steps {
		sent := escapeUntrusted(s.Sent)
		switch {
		case stacked:
			p.wrap("  ", sent)
			p.wrap(replyIndent, replyOrSkip(p, s))
		case Width(sent) > width:
			// a line too long for the column goes on its own
			p.wrap("  ", sent)
			p.wrap("  "+strings.Repeat(" ", width)+"  ", replyOrSkip(p, s))
		default:
			p.wrap("  "+Pad(sent, width)+"  ", replyOrSkip(p, s))
		}
		if p.o.Verbose && s.Annotation != "" {
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
		nameW = max(nameW, Width(s.Name))
		sentW = max(sentW, Width(escapeUntrusted(s.Sent)))
		verdictW = max(verdictW, Width(verdictWord(s)))
	}
	sentW = min(sentW, 48)
	fixed := func(sw int) int { return 2 + nameW + 2 + sw + 2 + verdictW }
	if p.o.Width > 0 && fixed(sentW) > p.o.Width {
		// our own line gives way before the server's reply does
		sentW = p.o.Width - fixed(0)
	}
	if p.o.Width > 0 && sentW < minSent {
		writeSyntaxStacked(p, steps, nameW)
	} else {
		header := "  " + Pad("case", nameW) + "  " + Pad("sent", sentW) + "  " + Pad("verdict", verdictW) + "  reply"
		if p.o.Width > 0 && Width(header) > p.o.Width {
			header = strings.TrimRight(header[:len(header)-len("reply")], " ") + "\n" + replyIndent + "reply"
		}
		p.line(header)
		for _, s := range steps {
			sent := truncate(escapeUntrusted(s.Sent), sentW)
			rep := replyOrSkip(p, s)
			row := "  " + Pad(s.Name, nameW) + "  " + Pad(sent, sentW) + "  " + Pad(verdictWord(s), verdictW) + "  "
			if p.o.Width > 0 && visibleWidth(row+rep) > p.o.Width {
				// The reply is what is being diagnosed: never cut it; give it
				// lines of its own under the row instead.
				p.line(strings.TrimRight(row, " "))
				p.wrap(replyIndent, rep)
				continue
			}
			p.line(row + rep)
		}
	}
	// The cases worth a sentence: where the server strays from the RFC, or
	// refuses for policy, and every line the user wrote, whose reply is
	// what was asked.
	var notes []probe.StepResult
	for _, s := range steps {
		raw := s.Step().Role == probe.RoleRcptRaw
		if s.Conformance == probe.Lenient || s.Conformance == probe.TooStrict || s.Conformance == probe.WrongCode || s.Conformance == probe.Policy || s.Conformance == probe.Undecided || raw || p.o.Verbose {
			notes = append(notes, s)
		}
	}
	if len(notes) > 0 {
		p.line("")
		for _, s := range notes {
			raw := s.Step().Role == probe.RoleRcptRaw
			p.wrap("  "+s.Name+": ", escapeUntrusted(s.Verdict))
			if raw {
				p.wrap("      ", "sent: "+escapeUntrusted(s.Sent))
			}
			if s.Annotation != "" && (s.Outcome != probe.Accepted || raw || p.o.Verbose) {
				p.wrap("      ", "reply: "+escapeUntrusted(s.Annotation))
			}
		}
	}
}

// replyIndent starts a syntax-table reply moved under its row.
const replyIndent = "      "

// minSent is the narrowest the syntax table's sent column may be; on a
// terminal narrower than that needs, each case is stacked instead.
const minSent = 20

// minReply is the narrowest column a reply is given beside its line.
const minReply = 30

// writeSyntaxStacked prints the syntax suite for a narrow terminal: the
// case and its verdict on one line, the line sent and the reply folded
// under it, none of them cut.
func writeSyntaxStacked(p *printer, steps []probe.StepResult, nameW int) {
	p.line("  " + Pad("case", nameW) + "  verdict")
	p.line(replyIndent + "sent / reply")
	for _, s := range steps {
		p.wrap("  "+Pad(s.Name, nameW)+"  ", verdictWord(s))
		p.wrap(replyIndent+"> ", escapeUntrusted(s.Sent))
		p.wrap(replyIndent+"< ", replyOrSkip(p, s))
	}
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
	p.line("  verdicts")
	for _, v := range hostVerdicts(h) {
		p.wrap(fmt.Sprintf("    %-20s", v.key), v.detail)
	}
}

// scheduleText says how the plan ran: the mode, its cost and what the
// server made it change.
func scheduleText(sc *probe.Schedule, h *probe.HostReport) string {
	s := fmt.Sprintf("%s, up to %s at once, %s, %s, %.1fms", sc.Mode, plural(sc.Connections, "connection"),
		plural(sc.Groups, "group"), plural(sc.RoundTrips, "round trip"), sc.WallMS)
	if !sc.Pipelining && (sc.Mode != probe.ModeLockStep || h.EHLO != nil && !h.Extensions.Has("PIPELINING")) {
		s += "; the server does not advertise PIPELINING"
	}
	if sc.Resent > 0 {
		s += fmt.Sprintf("; %s sent again after the server hung up before answering", plural(sc.Resent, "step"))
		if r := resentText(h); r != "" {
			s += " (" + r + ")"
		}
	}
	if sc.Lowered > 0 {
		s += fmt.Sprintf("; the server refused a connection with 421, so the cap was lowered %s", plural(sc.Lowered, "time"))
	}
	if sc.Tarpit {
		s += "; error replies grew slower within a session (a tarpit), so each error went on its own connection"
	}
	return s
}

// resentText names the steps sent again, with the connection that lost
// each and the one that answered it: the first few, then how many more.
func resentText(h *probe.HostReport) string {
	const shown = 4
	var names []string
	more := 0
	for _, st := range h.Steps {
		if st.ResentFrom == 0 {
			continue
		}
		if len(names) == shown {
			more++
			continue
		}
		names = append(names, fmt.Sprintf("%s: connection %d, again on %d", st.Name, st.ResentFrom, st.Connection))
	}
	if more > 0 {
		names = append(names, fmt.Sprintf("%d more", more))
	}
	return strings.Join(names, "; ")
}

func writeAdvice(p *printer, h *probe.HostReport) {
	advice := probe.Advise(h)
	if len(advice) == 0 {
		return
	}
	p.line("  advice")
	for _, a := range advice {
		p.wrap("    - ", escapeUntrusted(a))
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
		for _, text := range transcriptText(t, p.o.Color) {
			p.line(fmt.Sprintf("  %8.1fms %s: %s", t.AtMS, t.Dir, text))
		}
	}
	if h.TranscriptDropped > 0 {
		p.line(fmt.Sprintf("  (%d bytes past the transcript's caps were not kept)", h.TranscriptDropped))
	}
}
