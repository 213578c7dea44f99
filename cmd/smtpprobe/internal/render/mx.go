package render

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// MX is the document of `smtpprobe mx`.
type MX struct {
	SchemaVersion int `json:"schema_version"`
	resolver.Result
	Error *MXError `json:"error,omitempty"`

	lookupErr error
	ptr       bool // --ptr: show reverse DNS
	usable    bool // mail has somewhere to go, or the null MX says it has not
}

// MXError is a DNS failure in the JSON document (exit code 3).
type MXError struct {
	Kind    string           `json:"kind"`
	Message string           `json:"message"`
	Finding resolver.Finding `json:"finding"`
}

// NewMX makes the document of a resolution: its result, the lookup's
// error, whether --ptr was asked and whether the result is a success.
func NewMX(res resolver.Result, lookupErr error, ptr, usable bool) *MX {
	d := &MX{SchemaVersion: 1, Result: res, lookupErr: lookupErr, ptr: ptr, usable: usable}
	var re *resolver.Error
	if errors.As(lookupErr, &re) {
		d.Error = &MXError{Kind: re.Kind, Message: re.Error(), Finding: re.Finding()}
	}
	return d
}

// Text writes the MX table, warnings, finding and queries.
func (d *MX) Text(p *Printer) { writeMX(p.w, d.Result, d.lookupErr, d.ptr, d.usable, p.o.Color) }

// Quiet writes the kind of answer, then one line per host and address:
// "PREF HOST ADDRESS", as dig +short does.
func (d *MX) Quiet(p *Printer) {
	name := escapeUntrusted(d.Domain)
	if name == "" {
		name = escapeUntrusted(d.Input)
	}
	if d.Error != nil {
		p.line(name + " dns-error " + escapeUntrusted(d.Error.Kind))
		return
	}
	p.line(name + " " + escapeUntrusted(d.Code))
	for _, h := range d.Hosts {
		if len(h.Addresses) == 0 {
			p.linef("%d %s none", h.Preference, escapeUntrusted(h.Name))
		}
		for _, a := range h.Addresses {
			p.linef("%d %s %s", h.Preference, escapeUntrusted(h.Name), a.IP)
		}
	}
}

// Records is the document as one record.
func (d *MX) Records() []any { return []any{d} }

// mxHeadlines is the one-line summary of each Result code.
var mxHeadlines = map[string]string{
	"explicit":         "MX records",
	"no-address":       "MX records, but no MX host has an address",
	"hosts-unanswered": "MX records, but DNS did not answer for any MX host's address",
	"null-mixed":       "MX records, with a null MX among them (misconfigured)",
	"partial":          "MX records; some MX hosts have no address",
	"mx-cname":         "MX records; an MX target is an alias (CNAME)",
	"mx-warnings":      "MX records, with warnings",
	"implicit":         "no MX records; the domain's own address is its mail host (implicit MX)",
	"null":             "null MX: the domain accepts no mail",
	"nxdomain":         "the domain does not exist (NXDOMAIN)",
	"nodata":           "no MX and no address (NODATA): nowhere to deliver mail",
	"literal":          "address literal: no DNS involved",
}

// writeMX prints the result as a readable table. Every string that came
// from DNS goes through escapeUntrusted.
func writeMX(w io.Writer, res resolver.Result, lookupErr error, ptr, usable, color bool) {
	esc := escapeUntrusted
	name := esc(res.Domain)
	if name == "" {
		name = esc(res.Input)
	} else if res.Input != "" && !strings.EqualFold(strings.TrimSuffix(res.Input, "."), res.Domain) {
		name += " (" + esc(res.Input) + ")"
	}
	var re *resolver.Error
	if errors.As(lookupErr, &re) {
		fmt.Fprintf(w, "%s: %s\n", name, paint(color, 450, "DNS could not answer: "+esc(re.Error())))
		writeFinding(w, re.Finding())
		writeQueries(w, res.Queries)
		return
	}
	status := 250
	if !usable {
		status = 550
	}
	fmt.Fprintf(w, "%s: %s\n", name, paint(color, status, mxHeadlines[res.Code]))
	if res.Kind != resolver.KindLiteral {
		ad := "no"
		if res.AD {
			ad = "yes"
		}
		fmt.Fprintf(w, "  rcode %s from %s, DNSSEC-validated (AD) %s", esc(res.Rcode), esc(res.Server), ad)
		if res.Kind == resolver.KindExplicit || res.Kind == resolver.KindNull {
			fmt.Fprintf(w, ", MX TTL %ds", res.TTL)
		}
		fmt.Fprintln(w)
	}
	if len(res.CNAMEs) > 0 {
		fmt.Fprintf(w, "  via CNAME: %s\n", esc(strings.Join(res.CNAMEs, " → ")))
	}
	if len(res.Hosts) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PREF\tHOST\tADDRESS\tTTL")
		for _, h := range res.Hosts {
			pref := fmt.Sprint(h.Preference)
			if h.Implicit {
				pref = "0*"
			}
			if len(h.Addresses) == 0 {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", pref, esc(h.Name), paint(color, 550, "(none)"))
			}
			for i, a := range h.Addresses {
				p, hn := pref, esc(h.Name)
				if i > 0 {
					p, hn = "", ""
				}
				addr := a.IP.String()
				if ptr && a.PTR != nil {
					addr += "  " + describePTR(a.PTR, color)
				}
				ttl := fmt.Sprintf("%ds", a.TTL)
				if res.Kind == resolver.KindLiteral {
					ttl = ""
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p, hn, addr, ttl)
			}
		}
		tw.Flush()
		if res.Kind == resolver.KindImplicit {
			fmt.Fprintln(w, "  * implicit MX (RFC 5321 §5.1)")
		}
		if res.TruncatedHosts > 0 {
			fmt.Fprintf(w, "  … %d more MX hosts not resolved\n", res.TruncatedHosts)
		}
	}
	var warnings []string
	warnings = append(warnings, res.Warnings...)
	for _, h := range res.Hosts {
		for _, wn := range h.Warnings {
			warnings = append(warnings, h.Name+": "+wn)
		}
		for _, a := range h.Addresses {
			if a.PTR != nil {
				for _, wn := range a.PTR.Warnings {
					warnings = append(warnings, h.Name+" "+a.IP.String()+": "+wn)
				}
			}
		}
	}
	if len(warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, wn := range warnings {
			fmt.Fprintf(w, "  %s %s\n", paint(color, 450, "!"), esc(wn))
		}
	}
	writeFinding(w, res.Finding)
	writeQueries(w, res.Queries)
}

func describePTR(p *resolver.PTR, color bool) string {
	switch {
	case p.Error != "":
		return paint(color, 450, "PTR lookup failed")
	case len(p.Names) == 0:
		return paint(color, 450, "no PTR")
	case p.Confirmed:
		return "PTR " + escapeUntrusted(strings.Join(p.Names, ",")) + " " + paint(color, 250, "(FCrDNS ok)")
	}
	return "PTR " + escapeUntrusted(strings.Join(p.Names, ",")) + " " + paint(color, 550, "(not confirmed)")
}

func writeFinding(w io.Writer, f resolver.Finding) {
	if f.Meaning == "" {
		return
	}
	fmt.Fprintf(w, "\nMeaning: %s\n", f.Meaning)
	fmt.Fprintf(w, "Fix: %s\n", f.Fix)
	if try := remedyFlags(f.Remedies); try != "" {
		fmt.Fprintf(w, "Try: %s\n", try)
	}
	if len(f.Refs) > 0 {
		fmt.Fprintf(w, "See: %s\n", strings.Join(f.Refs, ", "))
	}
}

func writeQueries(w io.Writer, qs []resolver.Query) {
	if len(qs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nQueries (%d):\n", len(qs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, q := range qs {
		result := q.Rcode
		if q.Error != "" {
			result = q.Outcome
		}
		flags := ""
		if q.Truncated {
			flags += " TC"
		}
		if q.AD {
			flags += " AD"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s/%s\t%s%s\t%s\t%.1f ms\n", escapeUntrusted(q.Type), escapeUntrusted(q.Name),
			escapeUntrusted(q.Server), q.Transport, escapeUntrusted(result), flags, plural(q.Answers, "answer"), q.RTTMillis)
	}
	tw.Flush()
}

// remedyWords word each resolver.Remedy as the flag that applies it.
var remedyWords = map[resolver.Remedy]string{
	resolver.RemedyOtherServer:   "--dns HOST[:PORT] to ask another DNS server",
	resolver.RemedyLongerTimeout: "a longer --timeout to wait longer for the answers",
}

// remedyFlags is the command-line wording of a finding's remedies, or "".
func remedyFlags(rs []resolver.Remedy) string {
	var out []string
	for _, r := range rs {
		if w := remedyWords[r]; w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, "; ")
}
