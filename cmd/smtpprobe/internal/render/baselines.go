package render

import (
	"fmt"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
)

// baselineFix is what the user should change when a baseline failed, by
// its fault: the library names the fault, the CLI its flags.
func baselineFix(b probe.Baseline, h *probe.HostReport) string {
	switch b.Fault {
	case probe.FaultHELO:
		return "give --helo this machine's fully-qualified name, or an address literal such as [192.0.2.1] (RFC 5321 §4.1.1.1)"
	case probe.FaultSender:
		return "give --from an address on a real domain, one with MX or A records that the server can verify (RFC 5321 §4.1.1.2)"
	case probe.FaultDomain:
		return "give --domain a mail domain this host takes mail for"
	case probe.FaultMailbox:
		return "give --user a mailbox that exists there; the cases that used it are withheld"
	case probe.FaultClient:
		return clientFix(b, h)
	}
	return ""
}

// clientFix is what to do when the server refused the prober's address.
func clientFix(b probe.Baseline, h *probe.HostReport) string {
	switch b.Cause {
	case explain.CauseBlocklisted:
		list := ""
		for _, s := range h.Steps {
			if s.Name == b.Step && s.Blocklist != "" {
				list = " (" + s.Blocklist + ")"
			}
		}
		return "the server checks a DNS blocklist" + list + " and it lists the address smtpprobe connects from: probe from an address that is not listed, or ask the site to exempt it"
	case explain.CauseGreylisted:
		for _, s := range h.Steps {
			if s.Name == b.Step && s.RetryAfterS > 0 {
				return fmt.Sprintf("the server greylists: run the probe again after %s", time.Duration(s.RetryAfterS)*time.Second)
			}
		}
		return "the server greylists: run the probe again in a few minutes, from the same address"
	case explain.CauseRateLimited, explain.CauseThrottled:
		return "the server limits how fast a client may go: wait, then run again with fewer runs in parallel"
	case explain.CauseAuthRequired:
		return "the server answers only after AUTH, which smtpprobe does not do: probe a host that takes mail from the Internet (the domain's MX)"
	case explain.CauseTLSRequired:
		return "the server answers only after STARTTLS: run with --tls starttls"
	}
	return "the server refused the address smtpprobe connects from"
}

// writeBaselines leads a host's report with every baseline that failed:
// what failed and what to change, before any verdict that rests on it.
func writeBaselines(p *printer, h *probe.HostReport) {
	writeFailedBaselines(p, h, "  FAILED      ", "  change      ")
}

// writeFailedBaselines writes each failed baseline of h after failed, and
// what to change after change.
func writeFailedBaselines(p *printer, h *probe.HostReport, failed, change string) {
	if h.Verdicts == nil {
		return
	}
	for _, b := range h.Verdicts.Baselines {
		if !b.Failed() {
			continue
		}
		p.wrap(failed, escapeUntrusted(b.Name+" baseline: "+b.Reason))
		if fix := baselineFix(b, h); fix != "" {
			p.wrap(change, fix)
		}
	}
}

// writeHello shows a fallback from EHLO to HELO.
func writeHello(p *printer, h *probe.HostReport) {
	if f := h.HELOFallback; f != nil {
		helo := "no reply"
		if f.HELO != nil {
			helo = p.reply(f.HELO)
		}
		p.wrap("  hello       ", fmt.Sprintf("EHLO was refused (%s); fell back to HELO: %s. With HELO no extensions are known (RFC 5321 §4.1.4)",
			p.reply(&f.EHLO), helo))
	}
}

// identitySources word where the EHLO name came from.
var identitySources = map[string]string{
	"given":           "as given",
	"hostname":        "this machine's name",
	"address-literal": "no fully-qualified name here, so the local address",
}

// writeIdentity says in one line what the server will see of the prober,
// then what is wrong with it.
func writeIdentity(p *printer, id *probe.Identity) {
	if id == nil {
		return
	}
	from := "MAIL FROM:<" + id.From + ">"
	if id.FromSource == "default" {
		from += " (postmaster@ the EHLO name)"
	}
	dom := ""
	switch id.FromDomain.Status {
	case "mx":
		dom = "; its domain has MX records"
	case "address":
		dom = "; its domain has an address (no MX)"
	case "not-checked":
		dom = "; its domain not checked (no DNS asked for an IP target; give --dns to check it)"
	}
	p.wrap("  identity    ", escapeUntrusted(fmt.Sprintf("the server will see EHLO %s (%s) and %s%s",
		id.HELO, identitySources[id.HELOSource], from, dom)))
	for _, pr := range id.Problems {
		p.wrap("  warning: ", escapeUntrusted(pr))
	}
}
