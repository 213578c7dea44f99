package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/transport"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// TLS is the document of `smtpprobe tls`.
type TLS struct {
	SchemaVersion int `json:"schema_version"`
	*transport.Report
}

// NewTLS makes the document of a transport-security check.
func NewTLS(r *transport.Report) *TLS { return &TLS{SchemaVersion: 1, Report: r} }

// Text writes the report: verdicts, trust, hosts layer by layer, fixes,
// lookups.
func (d *TLS) Text(p *Printer) { writeTransport(p, d.Report, true) }

// Quiet writes the three domain verdicts and one line per host.
func (d *TLS) Quiet(p *Printer) {
	p.linef("%s dane %s", escapeUntrusted(d.Domain), d.DANE.Verdict)
	p.linef("%s mta-sts %s", escapeUntrusted(d.Domain), d.MTASTS.Verdict)
	p.linef("%s tls-rpt %s", escapeUntrusted(d.Domain), d.TLSRPT.Verdict)
	for _, h := range d.Hosts {
		sts := "-"
		if h.MTASTS != nil {
			sts = h.MTASTS.Verdict
		}
		p.linef("%s starttls %s handshake %s pkix %s name %s dane %s mta-sts %s", escapeUntrusted(h.Host),
			h.STARTTLS.Status, h.Handshake.Status, h.PKIX.Status, h.Name.Status, h.DANE.Verdict, sts)
	}
}

// Records is the document as one record.
func (d *TLS) Records() []any { return []any{d} }

// verdictColor paints a verdict word: green for a pass, red for a
// failure, yellow for what is neither.
func verdictColor(p *printer, word string) string {
	code := 33
	switch {
	case word == "pass" || word == "enforce-pass" || word == "valid" || word == "offered" || word == "ok" || word == "match" || word == "required":
		code = 32
	case strings.HasPrefix(word, "fail") || strings.HasPrefix(word, "enforce-fail") || strings.HasPrefix(word, "enforce-mx") ||
		strings.HasPrefix(word, "invalid") || strings.HasPrefix(word, "unusable") || word == "dns-bogus" || word == "not-offered" ||
		word == "refused" || word == "failed" || word == "mismatch" || word == "fetch-failed":
		code = 31
	}
	return paint(p.o.Color, code, word)
}

// writeTransport prints the transport security of a domain: the three
// domain verdicts first, then the DNSSEC trust, then each MX host layer by
// layer, then the lookups. full adds the lookups (the tls command); the
// probe report leaves them to --json.
func writeTransport(p *printer, r *transport.Report, full bool) {
	p.section("Transport security of " + r.Domain)
	row := func(name, verdict, reason, rfc string) {
		p.wrap(fmt.Sprintf("  %-8s %s  ", name, verdictColor(p, verdict)), escapeUntrusted(reason)+" ("+rfc+")")
	}
	row("DANE", r.DANE.Verdict, r.DANE.Reason, r.DANE.RFC)
	row("MTA-STS", r.MTASTS.Verdict, r.MTASTS.Reason, r.MTASTS.RFC)
	row("TLS-RPT", r.TLSRPT.Verdict, r.TLSRPT.Reason, r.TLSRPT.RFC)
	if r.Enforcement != "" {
		p.wrap("  plain text: ", escapeUntrusted(r.Enforcement))
	}
	resolvers := strings.Join(r.Resolver, ", ")
	p.wrap("  DNSSEC: ", fmt.Sprintf("MX lookup %s; the AD bit of %s is trusted as is: smtpprobe does not validate signatures itself", r.MXSecurity, resolvers))
	if r.MXError != "" {
		p.wrap("  MX lookup failed: ", escapeUntrusted(r.MXError))
	}
	writeTLSIdentity(p, r)
	if len(r.Hosts) == 0 {
		p.line("  no MX host to check")
	}
	for _, h := range r.Hosts {
		p.line("")
		addr := h.Address
		if addr == "" {
			addr = "not connected"
		}
		p.line(fmt.Sprintf("  MX %s (preference %d) %s, addresses %s", escapeUntrusted(h.Host), h.Preference, addr, h.DNSSEC))
		layer := func(name string, l transport.Layer) {
			text := escapeUntrusted(l.Detail)
			if l.Cause == transport.CauseFirstMXOnly {
				text += " (probe --all-mx, or smtpprobe tls, checks every one)"
			}
			if l.RFC != "" {
				text += " (" + l.RFC + ")"
			}
			prefix := fmt.Sprintf("    %-10s %s", name, verdictColor(p, l.Status))
			if text == "" {
				p.line(prefix)
				return
			}
			p.wrap(prefix+"  ", text)
		}
		layer("starttls", h.STARTTLS)
		layer("handshake", h.Handshake)
		layer("pkix", h.PKIX)
		layer("name", h.Name)
		if h.TLS != nil {
			names := strings.Join(h.TLS.SANs, ", ")
			if names == "" {
				names = "no subjectAltName"
			}
			p.wrap("    certificate ", escapeUntrusted(fmt.Sprintf("%s, issued by %s, names %s, valid %s to %s",
				h.TLS.Subject, h.TLS.Issuer, names, h.TLS.NotBefore.UTC().Format(time.DateOnly), h.TLS.NotAfter.UTC().Format(time.DateOnly))))
		}
		dl := transport.Layer{Status: h.DANE.Verdict, Detail: h.DANE.Reason, RFC: h.DANE.RFC}
		layer("dane", dl)
		for _, rc := range h.DANE.Records {
			p.wrap("      TLSA ", escapeUntrusted(rc.Record+": "+rc.Note))
		}
		if h.MTASTS != nil {
			layer("mta-sts", transport.Layer{Status: h.MTASTS.Verdict, Detail: h.MTASTS.Reason, RFC: h.MTASTS.RFC})
		} else {
			layer("mta-sts", transport.Layer{Status: "-", Detail: "no policy applies"})
		}
		if h.Enforcement != nil {
			layer("plaintext", *h.Enforcement)
		}
		if h.DANE.Fix != "" && r.MXSecurity == resolver.Secure { // else the domain's fix says it
			p.wrap("    fix: ", escapeUntrusted(h.DANE.Fix))
		}
	}
	var fixes []string
	for _, f := range []string{r.DANE.Fix, r.MTASTS.Fix, r.TLSRPT.Fix} {
		if f != "" {
			fixes = append(fixes, f)
		}
	}
	if len(fixes) > 0 {
		p.line("")
		p.line("  What to do:")
		for _, f := range fixes {
			p.wrap("    - ", escapeUntrusted(f))
		}
	}
	if full && len(r.Lookups) > 0 {
		p.line("")
		p.line("  DNS lookups (DNSSEC status from the resolver's AD bit):")
		lookupLine := func(name, typ, rcode string, sec resolver.Security, what string) {
			p.wrap(fmt.Sprintf("    %-34s %-5s %-8s %-13s ", escapeUntrusted(name), typ, rcode, sec), escapeUntrusted(what))
		}
		lookupLine(r.Domain, "MX", r.MXRcode, r.MXSecurity, plural(len(r.Hosts), "host"))
		for _, h := range r.Hosts {
			lookupLine(h.Host, "A+AAAA", "", h.DNSSEC, "address lookups together")
		}
		for _, a := range r.Lookups {
			what := fmt.Sprintf("%d record(s)", len(a.Records))
			if a.Error != "" {
				what = a.Error
			}
			lookupLine(a.Name, a.Type, a.Rcode, a.Security, what)
		}
	}
}

// writeTLSIdentity says in one line what the MX hosts this check dialled
// saw of the prober: the EHLO name, where it came from, and the sender of
// the plain-text check; one clause per host when they differ. Nothing
// when it dialled none (a probe's own sessions say it there).
func writeTLSIdentity(p *printer, r *transport.Report) {
	var order []string
	hosts := map[string][]string{}
	for _, h := range r.Hosts {
		if h.HELOName == "" {
			continue
		}
		s := "EHLO " + h.HELOName + " (" + identitySources[h.HELOSource] + ")"
		if h.From != "" {
			s += " and MAIL FROM:<" + h.From + ">"
			if h.From == "postmaster@"+h.HELOName {
				s += " (postmaster@ the EHLO name)"
			}
		}
		if hosts[s] == nil {
			order = append(order, s)
		}
		hosts[s] = append(hosts[s], h.Host)
	}
	if len(order) == 0 {
		return
	}
	parts := order
	if len(order) > 1 {
		parts = nil
		for _, s := range order {
			parts = append(parts, s+" to "+strings.Join(hosts[s], ", "))
		}
	}
	p.wrap("  identity  ", escapeUntrusted("the server saw "+strings.Join(parts, "; ")))
	warned := map[string]bool{}
	for _, h := range r.Hosts {
		if pr := probe.HELOProblem(h.HELOName); h.HELOName != "" && pr != "" && !warned[pr] {
			warned[pr] = true
			p.wrap("  warning: ", escapeUntrusted(pr))
		}
	}
}
