// Package dane judges an SMTP server's TLS against its DANE TLSA records
// as RFC 7672 asks of a sending MTA: which records are usable for SMTP,
// whether the certificate chain the server presented matches one of them,
// and what follows when DNSSEC says the records cannot be trusted.
//
// It does no I/O. The caller looks up the records through a validating
// resolver and opens the session; this package turns those facts into a
// verdict word, a reason, the RFC section behind it and the fix.
package dane

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// Verdict words, for one MX host and for the domain.
const (
	Pass                  = "pass"                    // a usable TLSA record matches the server's chain
	FailMismatch          = "fail-mismatch"           // usable records, none matches
	FailExpired           = "fail-expired"            // a DANE-TA chain matches but is out of its validity period
	FailName              = "fail-name"               // a DANE-TA chain matches but names neither the MX host nor the TLSA base domain
	FailDowngrade         = "fail-downgrade"          // usable records, but no TLS could be negotiated
	UnusableUsage         = "unusable-usage"          // a secure TLSA set with no record usable for SMTP
	UnusableBogus         = "unusable-bogus"          // DNSSEC validation failed on the way to the TLSA records
	NotApplicableInsecure = "not-applicable-insecure" // the MX or address records are not DNSSEC-signed
	NotApplicableNoTLSA   = "not-applicable-no-tlsa"  // signed, but no TLSA records
	DNSBogus              = "dns-bogus"               // domain only: the MX lookup itself failed validation
	// Unknown: usable records, but the server could not be asked (a 421
	// or other refusal before EHLO, a failed connection), so whether its
	// TLS matches is not known. Never read as a downgrade.
	Unknown = "unknown"
)

// Certificate usages, selectors and matching types (RFC 6698 §2.1, with
// the names of RFC 7218).
const (
	UsagePKIXTA = 0
	UsagePKIXEE = 1
	UsageDANETA = 2
	UsageDANEEE = 3

	SelectorCert = 0 // the whole certificate
	SelectorSPKI = 1 // its SubjectPublicKeyInfo

	MatchFull   = 0
	MatchSHA256 = 1
	MatchSHA512 = 2
)

// Record is one TLSA record.
type Record struct {
	Usage, Selector, MatchingType uint8
	Data                          []byte
}

// String is the record's presentation form: "3 1 1 <hex>".
func (r Record) String() string {
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, hex.EncodeToString(r.Data))
}

// unusable says why a record cannot serve SMTP (RFC 7672 §3.1), or "".
func (r Record) unusable() string {
	switch {
	case r.Usage == UsagePKIXTA || r.Usage == UsagePKIXEE:
		return fmt.Sprintf("usage %d (PKIX-%s) is not used by SMTP clients (RFC 7672 §3.1.3)", r.Usage, map[uint8]string{0: "TA", 1: "EE"}[r.Usage])
	case r.Usage > UsageDANEEE:
		return fmt.Sprintf("usage %d is unknown", r.Usage)
	case r.Selector > SelectorSPKI:
		return fmt.Sprintf("selector %d is unknown", r.Selector)
	case r.MatchingType > MatchSHA512:
		return fmt.Sprintf("matching type %d is unknown", r.MatchingType)
	case r.MatchingType == MatchSHA256 && len(r.Data) != sha256.Size,
		r.MatchingType == MatchSHA512 && len(r.Data) != sha512.Size:
		return fmt.Sprintf("%d bytes of data do not fit matching type %d", len(r.Data), r.MatchingType)
	}
	return ""
}

// matches tells whether cert is the one r describes.
func (r Record) matches(cert *x509.Certificate) bool {
	data := cert.Raw
	if r.Selector == SelectorSPKI {
		data = cert.RawSubjectPublicKeyInfo
	}
	switch r.MatchingType {
	case MatchSHA256:
		sum := sha256.Sum256(data)
		data = sum[:]
	case MatchSHA512:
		sum := sha512.Sum512(data)
		data = sum[:]
	}
	return bytes.Equal(data, r.Data)
}

// EERecord is the DANE-EE record to publish for cert: 3 1 1 and the SHA-256
// of its public key, the form RFC 7671 §5.1 recommends (it survives a
// certificate renewal that keeps the key).
func EERecord(cert *x509.Certificate) Record {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return Record{Usage: UsageDANEEE, Selector: SelectorSPKI, MatchingType: MatchSHA256, Data: sum[:]}
}

// Host is what is known of one MX host for DANE.
type Host struct {
	// Name is the MX host name as the MX record gives it (the domain
	// itself for an implicit MX).
	Name string
	// MX is the DNSSEC status of the MX lookup that named the host.
	MX resolver.Security
	// Addr is the DNSSEC status of the host's address lookups.
	Addr resolver.Security
	// TLSABase is the TLSA base domain the records were found at (the
	// CNAME-expanded host name or the original, RFC 7672 §2.2.3); empty
	// when no TLSA lookup was made.
	TLSABase string
	// TLSA is the DNSSEC status of the TLSA lookup.
	TLSA resolver.Security
	// Records are the TLSA records; none after a (secure) denial.
	Records []Record

	// TLS is true when STARTTLS was offered and a handshake completed.
	TLS bool
	// NoTLS says why not, when TLS is false ("STARTTLS not offered",
	// "handshake failed: ...").
	NoTLS string
	// Unreached is true when the session never got far enough to tell
	// whether TLS works (a 421 greeting, a connection failure).
	Unreached bool
	// Chain is the certificate chain the server presented, leaf first.
	Chain []*x509.Certificate
}

// RecordCheck is what one TLSA record was found to say of the chain.
type RecordCheck struct {
	Record  string `json:"record"`
	Usable  bool   `json:"usable"`
	Matched bool   `json:"matched"`
	Note    string `json:"note,omitempty"`
}

// Result is a DANE verdict, for one host or for the domain.
type Result struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	RFC     string `json:"rfc"`
	// Fix names what the publisher should change; empty on pass.
	Fix string `json:"fix,omitempty"`
	// TLSAName is the owner name the records were looked up at.
	TLSAName string        `json:"tlsa_name,omitempty"`
	Records  []RecordCheck `json:"records,omitempty"`
	// Suggested is the DANE-EE record matching the certificate seen.
	Suggested string `json:"suggested_tlsa,omitempty"`
}

// TLSAName is the owner name of an SMTP server's TLSA records (RFC 7672
// §2.2.3 with RFC 6698 §3): _25._tcp.<base>.
func TLSAName(base string) string { return "_25._tcp." + strings.TrimSuffix(base, ".") }

// Check judges one host. now is the time certificate dates are judged at
// (DANE-TA only: DANE-EE ignores dates, RFC 7672 §3.1.1).
func Check(h Host, now time.Time) Result {
	r := Result{}
	if h.TLSABase != "" {
		r.TLSAName = TLSAName(h.TLSABase)
	}
	// The record to publish is only suggested where publishing it would
	// work: DNSSEC is in place.
	suggested := ""
	if len(h.Chain) > 0 {
		suggested = EERecord(h.Chain[0]).String()
	}
	switch {
	case h.MX == resolver.Bogus:
		return r.set(UnusableBogus, "the MX lookup failed DNSSEC validation (SERVFAIL from the validating resolver), so this host cannot be trusted as a destination", "RFC 7672 §2.2.1",
			"Repair the signatures of the zone holding the MX records (expired RRSIGs, or a DS record without a matching DNSKEY)")
	case h.MX != resolver.Secure:
		return r.set(NotApplicableInsecure, "the MX records are not DNSSEC-validated, so senders do not use DANE for this host", "RFC 7672 §2.2.1",
			"Sign the zone holding the MX records with DNSSEC (and publish its DS record in the parent) before publishing TLSA records")
	case h.Addr == resolver.Bogus:
		return r.set(UnusableBogus, "the address records of "+h.Name+" failed DNSSEC validation, so senders treat the host as unusable", "RFC 7672 §2.2.2",
			"Repair the signatures of the zone holding "+h.Name+"'s A/AAAA records")
	case h.Addr != resolver.Secure:
		return r.set(NotApplicableInsecure, "the address records of "+h.Name+" are not DNSSEC-validated, so senders do not look up its TLSA records", "RFC 7672 §2.2.2",
			"Sign the zone holding "+h.Name+" with DNSSEC to make DANE possible")
	case h.TLSA == resolver.Bogus || h.TLSA == resolver.Indeterminate:
		what := "failed DNSSEC validation"
		if h.TLSA == resolver.Indeterminate {
			what = "got no usable answer"
		}
		return r.set(UnusableBogus, "the TLSA lookup at "+r.TLSAName+" "+what+"; senders must not deliver to a host whose TLSA records cannot be known, so this MX is unusable", "RFC 7672 §2.2",
			"Make the TLSA records at "+r.TLSAName+" resolve and validate (check their signatures, and that the servers answer TLSA queries)")
	case h.TLSA != resolver.Secure:
		return r.set(NotApplicableInsecure, "the TLSA answer at "+r.TLSAName+" is not DNSSEC-validated, so senders ignore it", "RFC 7672 §2.2",
			"Publish the TLSA records in a DNSSEC-signed zone")
	case len(h.Records) == 0:
		r.Suggested = suggested
		fix := ""
		if r.Suggested != "" {
			fix = "To protect this host with DANE, publish " + r.TLSAName + ". IN TLSA " + r.Suggested + " (the key of the certificate it serves)"
		}
		return r.set(NotApplicableNoTLSA, "the zone is signed and "+r.TLSAName+" has no TLSA records (validated denial), so senders use TLS only opportunistically", "RFC 7672 §2.2", fix)
	}

	r.Suggested = suggested
	var usable []Record
	for _, rec := range h.Records {
		why := rec.unusable()
		r.Records = append(r.Records, RecordCheck{Record: rec.String(), Usable: why == "", Note: why})
		if why == "" {
			usable = append(usable, rec)
		}
	}
	if len(usable) == 0 {
		reason := "the TLSA set at " + r.TLSAName + " is validated but has no record usable for SMTP: TLS is mandatory, but the server is not authenticated"
		if !h.TLS {
			reason += "; and TLS failed here (" + h.NoTLS + "), so senders cannot deliver"
		}
		return r.set(UnusableUsage, reason, "RFC 7672 §2.2",
			"Replace the records with DANE-EE or DANE-TA ones, e.g. "+r.TLSAName+". IN TLSA "+orPlaceholder(r.Suggested))
	}
	if !h.TLS && h.Unreached {
		return r.set(Unknown, "usable TLSA records make TLS mandatory, but the server could not be asked ("+h.NoTLS+"), so whether its TLS matches is unknown; this is not a downgrade", "RFC 7672 §2.2",
			"Run the check again later; if the server keeps refusing, check its connection limits")
	}
	if !h.TLS {
		return r.set(FailDowngrade, "usable TLSA records make TLS mandatory, but TLS failed here ("+h.NoTLS+"): senders that apply DANE defer the mail rather than send it in the clear", "RFC 7672 §2.2",
			"Offer STARTTLS on "+h.Name+" with the certificate the TLSA records describe, or remove the TLSA records first")
	}
	if len(h.Chain) == 0 {
		return r.set(FailMismatch, "the server presented no certificate to match the TLSA records against", "RFC 7672 §3", "Configure a certificate on "+h.Name)
	}

	// failure is the best-placed reason a DANE-TA match fell short.
	var taFail, taReason string
	for i, rec := range h.Records {
		if r.Records[i].Note != "" {
			continue
		}
		switch rec.Usage {
		case UsageDANEEE:
			// Names and dates do not matter for DANE-EE (RFC 7672 §3.1.1).
			if rec.matches(h.Chain[0]) {
				r.Records[i].Matched = true
				r.Records[i].Note = "matches the server's certificate (names and dates are not checked for DANE-EE)"
			} else {
				r.Records[i].Note = "does not match the server's certificate"
			}
		case UsageDANETA:
			verdict, note := checkTA(rec, h, now)
			r.Records[i].Note = note
			r.Records[i].Matched = verdict == Pass
			if verdict != Pass && verdict != FailMismatch && taFail == "" {
				taFail, taReason = verdict, note
			}
		}
	}
	for i, rc := range r.Records {
		if rc.Matched {
			r.Suggested = ""
			return r.set(Pass, "TLSA record "+h.Records[i].String()+" at "+r.TLSAName+" "+rc.Note, rfcOfUsage(h.Records[i].Usage), "")
		}
	}
	rollover := "; on a key change, publish the new record next to the old one and wait for the TTL to pass before switching the certificate (RFC 7671 §8.1)"
	switch taFail {
	case FailExpired:
		return r.set(FailExpired, taReason, "RFC 7672 §3.1.2", "Renew the certificate on "+h.Name+" under the same trust anchor"+rollover)
	case FailName:
		return r.set(FailName, taReason, "RFC 7672 §3.2.3", "Serve a certificate naming "+h.Name+" (or the TLSA base domain), or publish a DANE-EE record, which ignores names: "+r.TLSAName+". IN TLSA "+orPlaceholder(r.Suggested))
	}
	return r.set(FailMismatch, "no usable TLSA record at "+r.TLSAName+" matches the certificate chain "+h.Name+" presented: senders that apply DANE refuse to deliver", "RFC 7672 §3",
		"Publish "+r.TLSAName+". IN TLSA "+orPlaceholder(r.Suggested)+" for the certificate now served"+rollover)
}

func orPlaceholder(rec string) string {
	if rec == "" {
		return "3 1 1 <SHA-256 of the server's public key>"
	}
	return rec
}

func rfcOfUsage(u uint8) string {
	if u == UsageDANETA {
		return "RFC 7672 §3.1.2"
	}
	return "RFC 7672 §3.1.1"
}

func (r Result) set(verdict, reason, rfc, fix string) Result {
	r.Verdict, r.Reason, r.RFC, r.Fix = verdict, reason, rfc, fix
	return r
}

// checkTA applies one DANE-TA record (RFC 7672 §3.1.2): a certificate the
// server sent must match it, the chain must lead from the leaf to that
// certificate and be in its validity period, and the leaf must name the MX
// host or the TLSA base domain (§3.2.3). The verdict is Pass, FailMismatch,
// FailExpired or FailName.
func checkTA(rec Record, h Host, now time.Time) (string, string) {
	var ta *x509.Certificate
	for _, c := range h.Chain[1:] {
		if rec.matches(c) {
			ta = c
			break
		}
	}
	if ta == nil {
		if rec.matches(h.Chain[0]) {
			return FailMismatch, "matches the server's own certificate, but a DANE-TA record must name an issuer in its chain (publish it as usage 3 instead)"
		}
		return FailMismatch, "matches no certificate in the chain the server sent (the trust anchor must be sent with the chain, RFC 7672 §3.1.2)"
	}
	roots := x509.NewCertPool()
	roots.AddCert(ta)
	inter := x509.NewCertPool()
	for _, c := range h.Chain[1:] {
		if c != ta {
			inter.AddCert(c)
		}
	}
	leaf := h.Chain[0]
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := leaf.Verify(opts); err != nil {
		var ci x509.CertificateInvalidError
		if errors.As(err, &ci) && ci.Reason == x509.Expired {
			return FailExpired, fmt.Sprintf("the chain leads to the trust anchor %q, but a certificate in it is outside its validity period at %s", ta.Subject.CommonName, now.UTC().Format(time.RFC3339))
		}
		return FailMismatch, "matches " + ta.Subject.String() + " in the chain, but the leaf does not verify up to it: " + err.Error()
	}
	names := []string{h.Name}
	if h.TLSABase != "" && !strings.EqualFold(h.TLSABase, h.Name) {
		names = append(names, h.TLSABase)
	}
	for _, n := range names {
		if leaf.VerifyHostname(n) == nil {
			return Pass, "matches " + ta.Subject.String() + ", the chain leads to it and the certificate names " + n
		}
	}
	return FailName, fmt.Sprintf("the chain leads to the trust anchor, but the certificate names %s, not %s (a DANE-TA match still needs the name, RFC 7672 §3.2.3)", describeNames(leaf), strings.Join(names, " or "))
}

// describeNames lists the DNS names a certificate is valid for, or says it
// has none: the subject CN is not used for name checks (RFC 6125 §6.4.4).
func describeNames(c *x509.Certificate) string {
	if len(c.DNSNames) == 0 {
		if c.Subject.CommonName != "" {
			return fmt.Sprintf("no subjectAltName DNS name (its CN %q is not used for name checks, RFC 6125 §6.4.4)", c.Subject.CommonName)
		}
		return "no DNS name"
	}
	return strings.Join(c.DNSNames, ", ")
}

// domainOrder ranks host verdicts: the domain's verdict is its worst
// host's, since a sender may pick any MX host.
var domainOrder = []string{UnusableBogus, FailDowngrade, FailMismatch, FailExpired, FailName, UnusableUsage, Unknown, NotApplicableInsecure, NotApplicableNoTLSA, Pass}

// Domain is the domain's verdict from the MX lookup's DNSSEC status and
// the hosts' verdicts, keyed by host name in delivery order.
func Domain(mx resolver.Security, names []string, hosts []Result) Result {
	switch {
	case mx == resolver.Bogus:
		return Result{Verdict: DNSBogus, Reason: "the MX lookup failed DNSSEC validation (SERVFAIL from the validating resolver): senders cannot learn where mail goes and defer it", RFC: "RFC 7672 §2.2.1",
			Fix: "Repair the zone's DNSSEC: re-sign it, and check that the parent's DS record matches a published DNSKEY"}
	case mx == resolver.Indeterminate:
		return Result{Verdict: UnusableBogus, Reason: "the MX lookup got no usable answer, so DANE cannot be judged", RFC: "RFC 7672 §2.2.1"}
	case mx != resolver.Secure:
		return Result{Verdict: NotApplicableInsecure, Reason: "the MX records are not DNSSEC-validated, so senders do not use DANE for this domain", RFC: "RFC 7672 §2.2.1",
			Fix: "Sign the zone with DNSSEC and publish its DS record, then TLSA records for each MX host"}
	case len(hosts) == 0:
		return Result{Verdict: NotApplicableNoTLSA, Reason: "no MX host to look up TLSA records for", RFC: "RFC 7672 §2.2"}
	}
	worst := len(domainOrder) - 1
	count := map[string]int{}
	for _, h := range hosts {
		count[h.Verdict]++
		for i, v := range domainOrder {
			if v == h.Verdict && i < worst {
				worst = i
			}
		}
	}
	v := domainOrder[worst]
	var which []string
	for i, h := range hosts {
		if h.Verdict == v {
			which = append(which, names[i])
		}
	}
	out := Result{Verdict: v, RFC: "RFC 7672 §2.2"}
	switch {
	case v == Pass:
		out.Reason = "every MX host's certificate matches its TLSA records"
	case count[v] == len(hosts):
		out.Reason = "every MX host: " + hosts[0].Reason
		out.Fix, out.RFC = hosts[0].Fix, hosts[0].RFC
	default:
		out.Reason = fmt.Sprintf("%d of %d MX hosts (%s): %s; a sender may pick any MX host, so the domain is only as protected as that", len(which), len(hosts), strings.Join(which, ", "), v)
		out.Fix = "See the per-host findings of " + strings.Join(which, ", ")
	}
	return out
}
