package render

import (
	"fmt"

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

// Text writes one line per address: its answer, why, and the reply.
func (d *VRFY) Text(p *Printer) {
	for _, a := range d.Addresses {
		where := ""
		if a.Host != "" {
			where = escapeUntrusted(a.Host) + ": "
		}
		rep := ""
		if a.Reply != nil {
			rep = " [" + where + p.reply(a.Reply) + "]"
		}
		p.wrap(fmt.Sprintf("%s: %s — ", escapeUntrusted(a.Address), a.Answer), a.Reason+rep)
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
