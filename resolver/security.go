package resolver

import (
	"context"
	"strings"

	"github.com/miekg/dns"
)

// Security is what DNSSEC says of one answer, as a validating resolver
// reports it: the AD bit of its response (RFC 4035 §3.2.3, RFC 6840 §5.8),
// or SERVFAIL, which is how such a resolver answers when validation fails.
// smtpprobe does not validate signatures itself: it trusts the AD bit of
// the server it asks, which is only sound when that server validates and
// the path to it cannot be tampered with (a resolver on loopback).
type Security string

// Security values.
const (
	// Secure: the answer, and every CNAME on the way to it, came with the
	// AD bit set.
	Secure Security = "secure"
	// Insecure: the server answered without the AD bit (an unsigned zone,
	// or a resolver that does not validate).
	Insecure Security = "insecure"
	// Bogus: the server answered SERVFAIL. From a validating resolver
	// that is a failed validation; it is never read as "no records".
	Bogus Security = "bogus"
	// Indeterminate: no usable answer (timeout, REFUSED, a broken
	// server), so nothing is known.
	Indeterminate Security = "indeterminate"
)

// securityOf is the Security of a lookup that ended with err (an *Error or
// nil) after answers whose AD bits were all ad.
func securityOf(ad bool, err error) Security {
	if err != nil {
		if e, ok := err.(*Error); ok && e.Kind == "servfail" {
			return Bogus
		}
		return Indeterminate
	}
	if ad {
		return Secure
	}
	return Insecure
}

// combineSecurity is the status of several lookups taken together: bogus
// if any is, else indeterminate if any is, else insecure if any is.
func combineSecurity(all ...Security) Security {
	rank := map[Security]int{Secure: 0, Insecure: 1, Indeterminate: 2, Bogus: 3}
	out := Secure
	for _, s := range all {
		if rank[s] > rank[out] {
			out = s
		}
	}
	return out
}

// Answer is the outcome of one Lookup: the records of the asked type at
// the end of any CNAME chain, and what DNSSEC says of them.
type Answer struct {
	Name     string   `json:"name"` // as asked, no trailing dot
	Type     string   `json:"type"`
	Rcode    string   `json:"rcode,omitempty"`
	Security Security `json:"dnssec"`
	// CNAMEs are the aliases followed from Name, in order.
	CNAMEs []string `json:"cnames,omitempty"`
	// Records are the records of the asked type; none for NXDOMAIN or
	// NODATA.
	Records []dns.RR `json:"-"`
	Server  string   `json:"server,omitempty"`
	Queries []Query  `json:"queries"`
	// Error says why DNS gave no usable answer; Security is then bogus
	// (SERVFAIL) or indeterminate.
	Error string `json:"error,omitempty"`
}

// NXDomain reports whether the name does not exist.
func (a Answer) NXDomain() bool { return a.Rcode == "NXDOMAIN" }

// Target is the name the records belong to: the end of the CNAME chain.
func (a Answer) Target() string {
	if n := len(a.CNAMEs); n > 0 {
		return a.CNAMEs[n-1]
	}
	return a.Name
}

// Lookup asks for one name and type, follows CNAMEs, and reports the DNSSEC
// status of the whole chain. The error, an *Error, is for DNS giving no
// usable answer; the Answer then still says what was asked and how it
// failed, and a SERVFAIL has Security bogus.
func (c *Client) Lookup(ctx context.Context, name string, qtype uint16) (Answer, error) {
	out := Answer{Name: strings.TrimSuffix(strings.ToLower(name), "."), Type: dns.TypeToString[qtype]}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	l := c.newLookup()
	a, err := l.stream(0).resolve(ctx, name, qtype)
	out.Queries = l.snapshot()
	out.CNAMEs = a.chain
	out.Security = securityOf(a.ad, err)
	if err != nil {
		out.Rcode = lastRcode(out.Queries)
		out.Error = err.Error()
		return out, err
	}
	out.Rcode, out.Server, out.Records = rcodeName(a.rcode), a.server, a.rrs
	return out, nil
}
