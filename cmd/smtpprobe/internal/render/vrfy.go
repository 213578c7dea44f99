package render

import (
	"fmt"

	"github.com/smtpprobe/smtpprobe/explain"

	"github.com/smtpprobe/smtpprobe/probe"
)

// VRFYAnswer is one address's line of `smtpprobe vrfy`.
type VRFYAnswer struct {
	Address string       `json:"address"`
	Answer  string       `json:"answer"` // exists, likely-exists, does-not-exist, unknown
	Reason  string       `json:"reason"`
	Host    string       `json:"host,omitempty"`
	Sent    string       `json:"sent,omitempty"`
	Reply   *probe.Reply `json:"reply"`
	Policy  string       `json:"vrfy_policy,omitempty"` // the policy for the argument form the address was sent in
	// Cause is the cause word of a refused VRFY, as on a probe step.
	Cause explain.Cause `json:"cause,omitempty"`
	// Withheld says why the reply tells nothing about the mailbox: a
	// failed baseline of the host that answered.
	Withheld string `json:"withheld,omitempty"`
}

// VRFY is the document of `smtpprobe vrfy`: one answer per address, and
// the probe reports behind them.
type VRFY struct {
	SchemaVersion int             `json:"schema_version"`
	Addresses     []VRFYAnswer    `json:"addresses"`
	Reports       []*probe.Report `json:"reports"`
}

// NewVRFY returns an empty document to add answers and reports to.
func NewVRFY() *VRFY {
	return &VRFY{SchemaVersion: probe.SchemaVersion, Addresses: []VRFYAnswer{}, Reports: []*probe.Report{}}
}

// Text writes, first, each failed baseline of a host asked and what to
// change; then one line per address: its answer, why, the cause of a
// refusal, and the reply.
func (d *VRFY) Text(p *Printer) {
	for _, r := range d.Reports {
		for i := range r.Hosts {
			host := escapeUntrusted(r.Hosts[i].Host)
			writeFailedBaselines(p, &r.Hosts[i], host+": FAILED ", host+": change: ")
		}
	}
	for _, a := range d.Addresses {
		where := ""
		if a.Host != "" {
			where = escapeUntrusted(a.Host) + ": "
		}
		rep := ""
		if a.Reply != nil {
			rep = " [" + where + p.reply(a.Reply) + "]"
		}
		reason := a.Reason
		if a.Withheld != "" {
			reason = "withheld: " + reason
		}
		if a.Cause != "" {
			reason += " (cause " + string(a.Cause) + ")"
		}
		p.wrap(fmt.Sprintf("%s: %s — ", escapeUntrusted(a.Address), a.Answer), escapeUntrusted(reason)+rep)
	}
	for _, r := range d.Reports {
		for _, h := range r.Hosts {
			if h.Software != nil {
				p.wrap(escapeUntrusted(h.Host)+" runs ", softwareLine(h.Software))
			}
		}
	}
}

// Quiet writes "ADDRESS ANSWER" for each address.
func (d *VRFY) Quiet(p *Printer) {
	for _, a := range d.Addresses {
		p.line(escapeUntrusted(a.Address) + " " + a.Answer)
	}
}

// vrfyRecord is one ndjson line of vrfy: an address's answer.
type vrfyRecord struct {
	SchemaVersion int `json:"schema_version"`
	VRFYAnswer
}

// Records are one answer a line.
func (d *VRFY) Records() []any {
	var out []any
	for _, a := range d.Addresses {
		out = append(out, vrfyRecord{SchemaVersion: d.SchemaVersion, VRFYAnswer: a})
	}
	return out
}
