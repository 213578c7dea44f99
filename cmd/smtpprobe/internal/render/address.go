package render

import (
	"fmt"
	"io"

	"github.com/smtpprobe/smtpprobe/probe"
)

// Address is the document of `smtpprobe address`: the analysis with the
// schema version.
type Address struct {
	SchemaVersion int `json:"schema_version"`
	probe.AddressReport
}

// NewAddress wraps an analysis as a document.
func NewAddress(r probe.AddressReport) *Address {
	return &Address{SchemaVersion: 1, AddressReport: r}
}

// Text writes the parts, the verdict and the findings.
func (d *Address) Text(p *Printer) { writeAddressText(p.w, d.AddressReport, p.o.Color) }

// Quiet writes the verdict alone: "valid" or "invalid", then whether it
// is an RFC 5322 addr-spec, and the ID of every error found.
func (d *Address) Quiet(p *Printer) {
	v := map[bool]string{true: "valid", false: "invalid"}
	line := showExact(d.Input) + " mailbox " + v[d.ValidMailbox] + " addr-spec " + v[d.ValidAddrSpec]
	for _, f := range d.Findings {
		if f.Severity == probe.SeverityError {
			line += " " + f.ID
		}
	}
	p.line(line)
}

// Records is the document as one record.
func (d *Address) Records() []any { return []any{d} }

// writeAddressText prints the analysis for a person: the parts, the
// verdict, then every finding with its RFC section.
func writeAddressText(w io.Writer, r probe.AddressReport, color bool) {
	row := func(label, value string) { fmt.Fprintf(w, "%-10s %s\n", label, value) }
	row("input", showExact(r.Input))
	if r.Bracketed || r.Address != r.Input {
		row("address", showExact(r.Address))
	}
	if r.Route != "" {
		row("route", plainExact(r.Route)+"  (ignored by servers)")
	}
	octets := "octets"
	if len(r.LocalPart) == 1 {
		octets = "octet"
	}
	row("local", fmt.Sprintf("%s  (%s, %d %s)", plainExact(r.LocalPart), r.LocalPartForm, len(r.LocalPart), octets))
	if r.Domain != "" {
		row("domain", fmt.Sprintf("%s  (%s)", plainExact(r.Domain), r.DomainForm))
	}
	if r.ALabel != "" && r.ALabel != r.Domain {
		row("a-label", showExact(r.ALabel))
	}
	if r.ValidMailbox {
		// Exactly what goes between MAIL FROM: and the parameters.
		row("send as", showExact(r.Path))
	}
	if r.NeedsSMTPUTF8 {
		row("smtputf8", "required (the local part is not ASCII)")
	} else {
		row("smtputf8", "not needed")
	}
	verdict := paint(color, 250, "valid SMTP mailbox")
	if !r.ValidMailbox {
		verdict = paint(color, 550, "not a valid SMTP mailbox")
	}
	if r.ValidAddrSpec {
		verdict += "; valid RFC 5322 addr-spec"
	} else {
		verdict += "; not a valid RFC 5322 addr-spec"
	}
	row("verdict", verdict)
	if len(r.Findings) == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, f := range r.Findings {
		sev := fmt.Sprintf("%-7s", f.Severity)
		switch f.Severity {
		case probe.SeverityError:
			sev = paint(color, 550, sev)
		case probe.SeverityWarning:
			sev = paint(color, 450, sev)
		}
		fmt.Fprintf(w, "%s  %s: %s (%s)\n", sev, f.ID, plainExact(f.Message), f.Ref)
	}
}
