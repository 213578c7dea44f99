package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
)

// writeTarget prints what was asked and, for a domain, its MX table.
func writeTarget(p *printer, r *probe.Report) {
	t := r.Target
	p.line(fmt.Sprintf("  %-10s  %s (%s)", "target", escapeUntrusted(t.Input), t.Kind))
	switch {
	case !r.Incomplete:
	case r.IncompleteReason == probe.IncompleteInterrupted:
		p.wrap("  incomplete  ", "interrupted: what follows is what was seen; verdicts that needed the rest are unknown")
	default:
		p.wrap("  incomplete  ", "the time budget (--max-time) ran out: what follows is what was seen; verdicts that needed the rest are unknown")
	}
	if r.Domain != "" {
		p.line(fmt.Sprintf("  %-10s  %s", "domain", escapeUntrusted(r.Domain)))
	}
	writeIdentity(p, r.Identity)
	if r.DomainNote != "" {
		p.wrap("  note        ", escapeUntrusted(r.DomainNote))
	}
	if r.Proxy != nil {
		dns := "DNS direct, not through the proxy"
		if r.Proxy.DNS == "proxy" {
			dns = "DNS through the proxy too, over TCP"
		}
		p.wrap("  proxy       ", escapeUntrusted(r.Proxy.URL)+" (SOCKS5; "+dns+")")
	}
	if r.MX == nil {
		if t.Direct() {
			p.line("  dns         not asked: the target names the host")
		}
		return
	}
	mx := r.MX
	kind := string(mx.Kind)
	if mx.Rcode != "" {
		kind += " (" + escapeUntrusted(mx.Rcode) + ")"
	}
	p.line(fmt.Sprintf("  %-10s  %s", "mx", kind))
	if len(mx.Hosts) > 0 {
		nameW := len("host")
		for _, h := range mx.Hosts {
			nameW = max(nameW, len(escapeUntrusted(h.Name)))
		}
		p.line(fmt.Sprintf("    %-4s  %-*s  %s", "pref", nameW, "host", "addresses"))
		for _, h := range mx.Hosts {
			var addrs []string
			for _, a := range h.Addresses {
				addrs = append(addrs, a.IP.String())
			}
			if len(addrs) == 0 {
				addrs = []string{"(none)"}
			}
			p.line(fmt.Sprintf("    %4d  %-*s  %s", h.Preference, nameW, escapeUntrusted(h.Name), strings.Join(addrs, ", ")))
			for _, w := range h.Warnings {
				p.wrap("          warning: ", escapeUntrusted(w))
			}
		}
	}
	for _, w := range mx.Warnings {
		p.wrap("  warning: ", escapeUntrusted(w))
	}
}

// writeConnection prints the connection, TLS and capabilities of a host.
func writeConnection(p *printer, h *probe.HostReport) {
	if t := h.TLS; t != nil {
		p.line("  tls         " + escapeUntrusted(t.Version) + ", " + escapeUntrusted(t.Cipher))
		p.wrap("  certificate ", escapeUntrusted(t.Subject)+", issued by "+escapeUntrusted(t.Issuer))
		if len(t.SANs) > 0 {
			var sans []string
			for _, s := range t.SANs {
				sans = append(sans, escapeUntrusted(s))
			}
			p.wrap("  names       ", strings.Join(sans, ", "))
		}
		p.line(fmt.Sprintf("  valid       %s to %s", t.NotBefore.UTC().Format(time.DateOnly), t.NotAfter.UTC().Format(time.DateOnly)))
		p.line(fmt.Sprintf("  verified    chain %s, name %s", map[bool]string{true: "trusted", false: "not trusted"}[t.Verified],
			map[bool]string{true: "matches", false: "does not match"}[t.NameMatch]))
		for _, pr := range t.Problems {
			p.wrap("  problem     ", escapeUntrusted(pr))
		}
	} else if h.Status == probe.StatusOK {
		p.line("  tls         none: the session was not encrypted")
	}
	if kws := h.Extensions.List(); len(kws) > 0 {
		if h.TLS != nil {
			p.section("Capabilities (EHLO over TLS)")
		} else {
			p.section("Capabilities")
		}
		for _, e := range kws {
			s := escapeUntrusted(e.Keyword)
			if len(e.Params) > 0 {
				s += " " + escapeUntrusted(strings.Join(e.Params, " "))
			}
			p.line("  " + s)
		}
	}
}
