package render

import "github.com/smtpprobe/smtpprobe/probe"

// Probe is the document of `smtpprobe probe` and `smtpprobe demo`: the
// report, and with more than one host the roll-up of their verdicts.
type Probe struct {
	*probe.Report
	Rollup *Rollup `json:"rollup,omitempty"`
}

// NewProbe wraps a report as a document.
func NewProbe(r *probe.Report) *Probe {
	d := &Probe{Report: r}
	if len(r.Hosts) > 1 {
		c := compare(r)
		d.Rollup = &c
	}
	return d
}

// Text writes the report for people.
func (d *Probe) Text(p *Printer) { writeReport(p, d.Report) }

// Quiet writes one line per verdict and host.
func (d *Probe) Quiet(p *Printer) { writeQuietReport(p, d.Report) }

// Records is the report as one record.
func (d *Probe) Records() []any { return []any{d} }
