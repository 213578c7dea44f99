package main

import (
	"fmt"

	"github.com/smtpprobe/smtpprobe/probe"
)

func writeTarget(p *printer, r *probe.Report) {
	t := r.Target
	p.line(fmt.Sprintf("  %-10s  %s (%s)", "target", escapeUntrusted(t.Input), t.Kind))
	if r.Domain != "" {
		p.line(fmt.Sprintf("  %-10s  %s", "domain", escapeUntrusted(r.Domain)))
	}
}

func writeConnection(p *printer, h *probe.HostReport) {}
