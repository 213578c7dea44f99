package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe"
)

// verdict is one row of a host's verdicts: the key (as in the JSON), a
// word or two for --quiet and the comparison table, and the sentence the
// report prints.
type verdict struct {
	key    string
	value  string
	detail string
}

// hostVerdicts are the verdict rows of one host, in the order the report,
// --quiet and the comparison show them. A host that could not be probed
// has its status alone. A new verdict is a row here.
func hostVerdicts(h *probe.HostReport) []verdict {
	v := h.Verdicts
	if v == nil {
		return []verdict{{"status", string(h.Status), string(h.Status)}}
	}
	var out []verdict
	add := func(key, value, detail string) {
		out = append(out, verdict{key, strings.ReplaceAll(value, " ", "-"), detail})
	}
	if v.VRFYPolicy != nil {
		add("vrfy_policy", v.VRFYPolicy.Policy, v.VRFYPolicy.Policy)
	}
	if v.EXPNPolicy != nil {
		add("expn_policy", v.EXPNPolicy.Policy, v.EXPNPolicy.Policy)
	}
	if v.EnvelopeSyntax != nil {
		s := v.EnvelopeSyntax.Verdict
		if len(v.EnvelopeSyntax.Deciding) > 0 {
			s += " (" + strings.Join(v.EnvelopeSyntax.Deciding, ", ") + ")"
		}
		add("envelope_syntax", v.EnvelopeSyntax.Verdict, s)
	}
	add("catch_all", yesNo(v.CatchAll, "yes", "no"), yesNo(v.CatchAll, "yes: a random mailbox was accepted", "no: a random mailbox was refused"))
	add("postmaster_accepted", yesNo(v.PostmasterAccepted, "yes", "no"),
		yesNo(v.PostmasterAccepted, "yes", "no: "+postmasterRefusals(h)+"; RFC 5321 §4.5.1 requires both forms"))
	add("starttls", map[bool]string{true: "offered", false: "not-offered"}[v.STARTTLS], map[bool]string{true: "offered", false: "not offered"}[v.STARTTLS])
	add("smtputf8", map[bool]string{true: "advertised", false: "not-advertised"}[v.SMTPUTF8], map[bool]string{true: "advertised", false: "not advertised"}[v.SMTPUTF8])
	if v.ErrorLimit != nil {
		add("error_limit", fmt.Sprint(*v.ErrorLimit), fmt.Sprintf("the server disconnected after %d error replies (of the kinds it counts toward its limit)", *v.ErrorLimit))
	} else {
		add("error_limit", "not-reached", "not reached")
	}
	if t := v.Throttling; t != nil {
		add("throttling", "yes", fmt.Sprintf("the server throttles: %.1f–%.1f s extra per reply after %d error replies (%d slow replies, connection %d)",
			t.MinDelayMS/1000, t.MaxDelayMS/1000, t.AfterErrors, t.SlowReplies, t.Connection))
	}
	var failed []string
	for _, b := range v.Baselines {
		if b.Failed() {
			failed = append(failed, b.Name)
		}
	}
	if len(failed) > 0 {
		add("baselines", "failed:"+strings.Join(failed, ","), "failed: "+strings.Join(failed, ", ")+" (see above); the verdicts resting on them are withheld")
	} else if len(v.Baselines) > 0 {
		add("baselines", "ok", "ok: the server took the prober's identity and the mailbox under test")
	}
	var names []string
	for k := range v.Withheld {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		add("withheld", k, k+": "+escapeUntrusted(strings.TrimPrefix(v.Withheld[k], "withheld: ")))
	}
	if n := withheldSteps(h); n > 0 {
		add("withheld_steps", fmt.Sprint(n), fmt.Sprintf("%d (their refusals rest on a failed baseline; marked withheld in the suites below)", n))
	}
	conns := fmt.Sprint(h.Connections)
	if h.Connections > 1 {
		add("connections", conns, conns+" (error-drawing cases spread across them)")
	} else {
		add("connections", conns, conns)
	}
	if sc := h.Schedule; sc != nil {
		add("schedule", sc.Mode, scheduleText(sc, h))
	}
	return out
}

// yesNo words a verdict that may not have been determined.
func yesNo(b *bool, yes, no string) string {
	if b == nil {
		return "not determined"
	}
	if *b {
		return yes
	}
	return no
}

// writeQuietReport prints the verdict lines of a probe report: one line
// per verdict and host, "HOST KEY VALUE", nothing else.
func writeQuietReport(p *printer, r *probe.Report) {
	if r.Incomplete {
		p.line(escapeUntrusted(r.Target.Input) + " incomplete " + r.IncompleteReason)
	}
	if len(r.Hosts) == 0 {
		p.line(escapeUntrusted(r.Target.Input) + " hosts none")
	}
	for i := range r.Hosts {
		h := &r.Hosts[i]
		for _, v := range hostVerdicts(h) {
			p.line(escapeUntrusted(h.Host) + " " + v.key + " " + v.value)
		}
		// a line the user wrote was asked about: its reply code and outcome
		for _, s := range h.Steps {
			if s.Step().Role != probe.RoleRcptRaw {
				continue
			}
			code := "-"
			if s.Reply != nil {
				code = fmt.Sprint(s.Reply.Code)
			}
			p.line(escapeUntrusted(h.Host) + " " + s.Name + " " + code + " " + string(s.Outcome))
		}
	}
}

// writeComparison prints the hosts side by side, a verdict a row, and
// marks the rows where they disagree. When the table does not fit the
// terminal, each host gets its own column block in turn.
func writeComparison(p *printer, r *probe.Report) {
	p.section("Hosts compared")
	c := compare(r)
	keyW := len("verdict")
	for _, row := range c.Rows {
		keyW = max(keyW, Width(row.Key))
	}
	colW := make([]int, len(c.Hosts))
	for i, h := range c.Hosts {
		colW[i] = Width(escapeUntrusted(h))
		for _, row := range c.Rows {
			colW[i] = max(colW[i], Width(row.Values[i]))
		}
	}
	// Fit as many host columns as the width allows, then the rest below.
	for start := 0; start < len(c.Hosts); {
		end := start + 1
		used := 2 + keyW + 2 + colW[start]
		for end < len(c.Hosts) && (p.o.Width <= 0 || used+2+colW[end]+2 <= p.o.Width) {
			used += 2 + colW[end]
			end++
		}
		if start > 0 {
			p.line("")
		}
		head := "  " + Pad("verdict", keyW)
		for i := start; i < end; i++ {
			head += "  " + Pad(Truncate(escapeUntrusted(c.Hosts[i]), colW[i]), colW[i])
		}
		p.line(strings.TrimRight(head, " "))
		for _, row := range c.Rows {
			line := "  " + Pad(row.Key, keyW)
			for i := start; i < end; i++ {
				v := row.Values[i]
				if v == "" {
					v = "-" // this host has no such verdict
				}
				line += "  " + Pad(v, colW[i])
			}
			if !row.Agree {
				line += "  *"
			}
			p.line(strings.TrimRight(line, " "))
		}
		start = end
	}
	if c.Disagree > 0 {
		p.wrap("  ", fmt.Sprintf("* the hosts disagree on %s: mail to this domain is treated differently depending on which host takes it.", plural(c.Disagree, "verdict")))
	} else {
		p.wrap("  ", "the hosts agree on every verdict.")
	}
}

// plural is "1 verdict", "2 verdicts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// withheldSteps counts the steps whose verdict a failed baseline withheld.
func withheldSteps(h *probe.HostReport) int {
	n := 0
	for _, s := range h.Steps {
		if s.Withheld != "" {
			n++
		}
	}
	return n
}
