package render

import (
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// softwareLine words what the session says about the server's MTA:
// "Postfix 3.8.1 (confidence high; also fits qmail: low)".
func softwareLine(sw *explain.Software) string {
	if sw == nil {
		return ""
	}
	s := "not identified"
	if sw.Name != "" {
		s = sw.Name
		if sw.Version != "" {
			s += " " + sw.Version
		}
		s += " (confidence " + sw.Confidence
	}
	var also []string
	for _, c := range sw.Candidates {
		also = append(also, c.Name+": "+c.Confidence)
	}
	switch {
	case sw.Name != "" && len(also) > 0:
		s += "; also fits " + strings.Join(also, ", ") + ")"
	case sw.Name != "":
		s += ")"
	case len(also) > 0:
		s += " (weak hints of " + strings.Join(also, ", ") + ")"
	}
	return escapeUntrusted(s)
}

// writeSoftware prints the software line, and with -v each clue.
func writeSoftware(p *printer, sw *explain.Software) {
	if sw == nil {
		return
	}
	p.wrap("  software    ", softwareLine(sw))
	if p.o.Verbose {
		for _, e := range sw.Evidence {
			p.wrap("      ", escapeUntrusted(e))
		}
	}
}
