package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// Limits on --timeout: below the minimum nothing can answer, above the
// maximum the user is better served by an error than by a hang.
const (
	mxDefaultTimeout = 10 * time.Second
	mxMinTimeout     = 100 * time.Millisecond
	mxMaxTimeout     = 10 * time.Minute
)

const mxExamples = `  smtpprobe mx example.com                 # MX hosts and addresses, from /etc/resolv.conf's servers
  smtpprobe mx --dns 192.0.2.53 example.com # ask that server
  smtpprobe mx --ptr example.com           # also reverse DNS and its forward confirmation
  smtpprobe mx --json bücher.example       # IDN: asked as xn--bcher-kva.example
`

// mxDocument is the --json output of `smtpprobe mx`.
type mxDocument struct {
	SchemaVersion int `json:"schema_version"`
	resolver.Result
	Error *mxError `json:"error,omitempty"`
}

// mxError is a DNS failure in the JSON document (exit code 3).
type mxError struct {
	Kind    string           `json:"kind"`
	Message string           `json:"message"`
	Finding resolver.Finding `json:"finding"`
}

func runMX(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("mx", "smtpprobe mx [flags] DOMAIN", mxExamples)
	servers := fs.StringArray("dns", nil, "DNS server HOST[:PORT] to ask (repeatable; default: /etc/resolv.conf)")
	timeout := fs.Duration("timeout", mxDefaultTimeout, "time for the whole resolution")
	asJSON := fs.Bool("json", false, "print one JSON document (schema_version 1)")
	ptr := fs.Bool("ptr", false, "check reverse DNS of every address and its forward confirmation (FCrDNS)")
	color := addColorFlag(fs, "the output")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	mode := *color
	if fs.NArg() != 1 {
		return argCountError(e, "mx", "one DOMAIN", fs.NArg(), "")
	}
	if *timeout < mxMinTimeout || *timeout > mxMaxTimeout {
		return usageError(e, "mx", fmt.Sprintf("--timeout must be between %v and %v, not %v", mxMinTimeout, mxMaxTimeout, *timeout))
	}
	for _, s := range *servers {
		if _, err := resolver.ServerAddr(s); err != nil {
			return usageError(e, "mx", "--dns: "+escapeUntrusted(err.Error()))
		}
	}
	domain := fs.Arg(0)
	if at := strings.LastIndex(domain, "@"); at >= 0 {
		msg := "an address was given; mx takes a domain"
		if _, err := resolver.ParseDomain(domain[at+1:]); err == nil {
			msg += " — did you mean " + domain[at+1:] + "?"
		}
		return usageError(e, "mx", msg)
	}
	if _, err := resolver.ParseDomain(domain); err != nil {
		// ParseDomain's errors hold only printable characters, already
		// made safe: escaping them again would double every backslash.
		return usageError(e, "mx", err.Error())
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := resolver.New(*servers)
	res, lookupErr := c.LookupMX(ctx, domain)
	if lookupErr == nil && *ptr {
		c.CheckPTR(ctx, &res)
	}
	code := mxExitCode(res, lookupErr)
	if *asJSON {
		doc := mxDocument{SchemaVersion: 1, Result: res}
		var re *resolver.Error
		if errors.As(lookupErr, &re) {
			doc.Error = &mxError{Kind: re.Kind, Message: re.Error(), Finding: re.Finding()}
		}
		enc := json.NewEncoder(jsonSafe{e.stdout})
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(e.stderr, "smtpprobe mx: writing JSON: %v\n", err)
			return exitUsage
		}
		return code
	}
	writeMX(e.stdout, res, lookupErr, *ptr, useColor(mode, e.stdout, e.getenv))
	return code
}

// mxExitCode: 0 when mail has somewhere to go (or the null MX says
// plainly it has not), 1 when the domain has no usable mail host, whatever
// each host's failure was, 3 when DNS could not answer: the MX question,
// or every host's address lookup for want of a server that answers.
func mxExitCode(res resolver.Result, err error) int {
	var re *resolver.Error
	if errors.As(err, &re) {
		if re.Kind == "input" {
			return exitUsage
		}
		return exitDNS
	}
	if err != nil {
		return exitDNS
	}
	switch res.Kind {
	case resolver.KindNull, resolver.KindLiteral:
		return exitOK
	case resolver.KindNone:
		return exitCheck
	}
	switch {
	case res.Usable():
		return exitOK
	case res.Unanswered():
		return exitDNS
	}
	return exitCheck
}

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
func writeMX(w io.Writer, res resolver.Result, lookupErr error, ptr, color bool) {
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
	if mxExitCode(res, nil) != exitOK {
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
