// Package tlsrpt reads a domain's SMTP TLS Reporting record, the _smtp._tls
// TXT record of RFC 8460 §3, and says whether senders can use it.
package tlsrpt

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// Verdict words.
const (
	Valid           = "valid"            // one v=TLSRPTv1 record with at least one usable rua
	None            = "none"             // no TLS-RPT record
	InvalidNoRUA    = "invalid-no-rua"   // the record names nowhere to send reports
	InvalidMultiple = "invalid-multiple" // more than one v=TLSRPTv1 record
	InvalidVersion  = "invalid-version"  // a record that looks like TLS-RPT with another version
	InvalidURI      = "invalid-uri"      // a rua URI is not a mailto: or https: URI
)

// Result is the TLS-RPT verdict.
type Result struct {
	Verdict string   `json:"verdict"`
	Reason  string   `json:"reason"`
	RFC     string   `json:"rfc"`
	Fix     string   `json:"fix,omitempty"`
	Record  string   `json:"record,omitempty"`
	RUA     []string `json:"rua,omitempty"`
}

const version = "v=TLSRPTv1"

// Judge reads the TXT records at _smtp._tls.<domain>, each with its
// strings concatenated.
func Judge(domain string, records []string) Result {
	owner := "_smtp._tls." + strings.TrimSuffix(domain, ".")
	fix := "Publish one record: " + owner + ". IN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@" + domain + "\""
	var ours, lookalike []string
	for _, r := range records {
		switch {
		case hasVersion(r):
			ours = append(ours, r)
		case strings.HasPrefix(strings.ToLower(r), "v=tlsrpt"):
			lookalike = append(lookalike, r)
		}
	}
	switch {
	case len(ours) == 0 && len(lookalike) > 0:
		return Result{Verdict: InvalidVersion, Record: lookalike[0], RFC: "RFC 8460 §3",
			Reason: fmt.Sprintf("the record %q does not start with %s exactly (the version is case-sensitive), so senders ignore it", lookalike[0], version), Fix: fix}
	case len(ours) == 0:
		return Result{Verdict: None, RFC: "RFC 8460 §3", Reason: "no TLS-RPT record at " + owner + ": senders send no reports of TLS failures",
			Fix: "To learn of failed TLS deliveries, p" + fix[1:]}
	case len(ours) > 1:
		return Result{Verdict: InvalidMultiple, RFC: "RFC 8460 §3", Reason: fmt.Sprintf("%d v=TLSRPTv1 records at %s; with more than one, senders use none", len(ours), owner),
			Fix: "Merge them into one record (rua takes a comma-separated list)"}
	}
	r := Result{Record: ours[0], RFC: "RFC 8460 §3"}
	fields := strings.Split(strings.TrimPrefix(ours[0], version), ";")
	var rua []string
	for _, f := range fields[1:] {
		f = strings.Trim(f, " \t")
		name, value, ok := strings.Cut(f, "=")
		if f == "" || !ok || name != "rua" {
			continue // an empty field after the last ';', or an extension
		}
		for _, u := range strings.Split(value, ",") {
			u = strings.Trim(u, " \t")
			if why := badURI(u); why != "" {
				r.Verdict, r.Reason, r.Fix = InvalidURI, fmt.Sprintf("rua %q %s, so senders cannot send reports there", u, why), "Give rua mailto: or https: URIs only, e.g. rua=mailto:tls-reports@"+domain
				return r
			}
			rua = append(rua, u)
		}
	}
	if len(rua) == 0 {
		r.Verdict, r.Reason, r.Fix = InvalidNoRUA, "the record has no rua field, so senders have nowhere to send reports", "Add rua=mailto:tls-reports@"+domain+" (or an https: URI)"
		return r
	}
	r.Verdict, r.RUA = Valid, rua
	r.Reason = "senders send daily reports of TLS successes and failures to " + strings.Join(rua, ", ")
	return r
}

// hasVersion reports whether a record starts with the exact version tag,
// followed by the end, a blank or ";".
func hasVersion(r string) bool {
	rest, ok := strings.CutPrefix(r, version)
	return ok && (rest == "" || strings.ContainsRune("; \t", rune(rest[0])))
}

// badURI says what is wrong with a rua URI, or "" (RFC 8460 §3: mailto
// and https are the defined schemes).
func badURI(s string) string {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return "is not a URI"
	}
	switch strings.ToLower(u.Scheme) {
	case "mailto":
		addr := u.Opaque
		if i := strings.IndexByte(addr, '?'); i >= 0 {
			addr = addr[:i]
		}
		if a, err := url.PathUnescape(addr); err == nil {
			addr = a
		}
		if _, err := mail.ParseAddress(addr); err != nil || !strings.Contains(addr, "@") {
			return "has no valid mail address"
		}
	case "https":
		if u.Host == "" {
			return "has no host"
		}
	case "":
		return "has no scheme (mailto: or https:)"
	default:
		return "uses the scheme " + u.Scheme + ":, not mailto: or https:"
	}
	return ""
}
