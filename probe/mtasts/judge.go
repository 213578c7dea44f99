package mtasts

import (
	"fmt"
	"strings"
)

// Input is what was learnt of a domain's MTA-STS publication.
type Input struct {
	Domain string
	// TXT are the _mta-sts TXT records, each with its strings
	// concatenated (RFC 8461 §3.1).
	TXT []string
	// DNSError says why the TXT lookup gave no answer; TXT is then
	// unknown.
	DNSError string
	// Fetch is the policy fetch, when the TXT record called for one.
	Fetch *Fetch
}

// MX is what was seen of one MX host's TLS.
type MX struct {
	Host string
	// TLS is true when STARTTLS was offered and a handshake completed;
	// NoTLS says why not.
	TLS   bool
	NoTLS string
	// Unreached is true when the session never got far enough to tell
	// whether TLS works (a 421 greeting, a connection failure).
	Unreached bool
	// PKIX is true when the chain leads to a trusted root and is in its
	// validity period; NameMatch when the certificate is valid for Host.
	PKIX      bool
	NameMatch bool
	// CertProblem describes what is wrong with the certificate.
	CertProblem string
}

// MXResult is the verdict on one MX host under the domain's policy.
type MXResult struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	RFC     string `json:"rfc"`
	// Pattern is the policy's mx pattern that covers the host.
	Pattern string `json:"pattern,omitempty"`
}

// Result is the domain's MTA-STS verdict.
type Result struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	RFC     string `json:"rfc"`
	Fix     string `json:"fix,omitempty"`
	// TXT is the _mta-sts record used, Fetch the policy fetch, Policy
	// the parsed policy.
	TXT    *TXT    `json:"txt,omitempty"`
	Fetch  *Fetch  `json:"fetch,omitempty"`
	Policy *Policy `json:"policy,omitempty"`
	// Problem is the parse or fetch error behind an invalid-* or
	// fetch-failed verdict.
	Problem string `json:"problem,omitempty"`
}

// NeedsFetch reports whether the TXT records call for a policy fetch: one
// valid v=STSv1 record.
func NeedsFetch(txt []string) bool {
	_, found, err := ParseTXT(txt)
	return found && err == nil
}

// Judge gives the domain's verdict and, when a policy applies (mode
// enforce or testing), one verdict per MX host in the order given; nil
// entries otherwise.
func Judge(in Input, hosts []MX) (Result, []*MXResult) {
	per := make([]*MXResult, len(hosts))
	var r Result
	if in.DNSError != "" {
		r = Result{Verdict: FetchFailed, Reason: "DNS gave no answer for the _mta-sts TXT record, so no policy can be found: " + in.DNSError, RFC: "RFC 8461 §3.1",
			Problem: in.DNSError, Fix: "Make _mta-sts." + in.Domain + " resolve (its servers must answer TXT queries)"}
		return r, per
	}
	txt, found, err := ParseTXT(in.TXT)
	if !found {
		return Result{Verdict: NoPolicy, Reason: "no v=STSv1 TXT record at _mta-sts." + in.Domain + ": senders apply no MTA-STS policy", RFC: "RFC 8461 §3.1",
			Fix: "To require authenticated TLS from senders, publish _mta-sts." + in.Domain + ". IN TXT \"v=STSv1; id=<a new id on every change>\" and serve the policy at " + PolicyURL(in.Domain)}, per
	}
	if err != nil {
		return Result{Verdict: InvalidTXT, Reason: "the _mta-sts TXT record is unusable: " + err.Error() + "; senders act as if there were no policy", RFC: "RFC 8461 §3.1",
			Problem: err.Error(), Fix: "Publish exactly one record of the form \"v=STSv1; id=20240101T000000\" at _mta-sts." + in.Domain}, per
	}
	r.TXT = &txt
	r.Fetch = in.Fetch
	if in.Fetch == nil || in.Fetch.Stage != "" {
		problem := "not fetched"
		if in.Fetch != nil {
			problem = in.Fetch.Error
		}
		r.Verdict, r.RFC, r.Problem = FetchFailed, "RFC 8461 §3.3", problem
		r.Reason = "the TXT record announces a policy, but fetching " + PolicyURL(in.Domain) + " failed: " + problem + "; senders without a cached policy deliver as if there were none"
		r.Fix = "Serve the policy at " + PolicyURL(in.Domain) + " over HTTPS with a certificate valid for mta-sts." + in.Domain + ", as text/plain, with status 200 and no redirect"
		if in.Fetch != nil && in.Fetch.Stage == "size" || in.Fetch != nil && in.Fetch.Stage == "content-type" {
			r.Verdict, r.RFC = InvalidPolicy, "RFC 8461 §3.2"
			r.Reason = "the policy at " + PolicyURL(in.Domain) + " was fetched but cannot be used: " + problem
		}
		return r, per
	}
	pol, err := ParsePolicy(in.Fetch.Body)
	if err != nil {
		r.Verdict, r.RFC, r.Problem = InvalidPolicy, "RFC 8461 §3.2", err.Error()
		r.Reason = "the policy at " + PolicyURL(in.Domain) + " does not parse: " + err.Error() + "; senders ignore it"
		r.Fix = "Correct the policy file: lines \"version: STSv1\", \"mode: enforce\" (or testing, none), \"mx: <pattern>\" for each MX host, \"max_age: 604800\", each ending in LF or CRLF"
		return r, per
	}
	r.Policy = &pol
	if pol.Mode == ModeNone {
		r.Verdict, r.RFC = None, "RFC 8461 §5"
		r.Reason = "the policy's mode is none: senders drop any cached policy and apply none"
		return r, per
	}
	counts := map[string]int{}
	var failing = map[string][]string{}
	for i, h := range hosts {
		per[i] = judgeMX(pol, h)
		counts[per[i].Verdict]++
		if per[i].Verdict != MXPass {
			failing[per[i].Verdict] = append(failing[per[i].Verdict], h.Host)
		}
	}
	summary := fmt.Sprintf("%d of %d MX hosts pass", counts[MXPass], len(hosts))
	if pol.Mode == ModeTesting {
		r.Verdict, r.RFC = Testing, "RFC 8461 §5"
		r.Reason = "the policy's mode is testing: senders report failures (TLS-RPT) but still deliver; " + summary
		if counts[MXPass] == len(hosts) {
			r.Fix = "Every MX host passes; switch the policy to \"mode: enforce\" (and change the TXT id) to protect the mail"
		} else {
			r.Fix = "Fix the failing MX hosts before switching to enforce: " + describeFailing(failing)
		}
		return r, per
	}
	r.RFC = "RFC 8461 §5"
	for _, v := range []struct{ mx, domain, fix string }{
		{MXFailNotCovered, EnforceMXNotCovered, "Add to the policy (and change the TXT id) " + mxLines(failing[MXFailNotCovered]) + ", or point the MX records at covered hosts"},
		{MXFailNoTLS, EnforceFailNoTLS, "Offer STARTTLS on each MX host named"},
		{MXFailCert, EnforceFailCert, "Serve on each MX host named a certificate from a public CA, valid now and naming the MX host"},
	} {
		if len(failing[v.mx]) > 0 {
			r.Verdict = v.domain
			r.Reason = "mode enforce, and senders refuse to deliver to " + strings.Join(failing[v.mx], ", ") + " (" + v.mx + "); " + summary
			r.Fix = v.fix + ": " + strings.Join(failing[v.mx], ", ")
			if counts[MXPass] == 0 {
				r.Reason += ": mail to this domain is not delivered at all by senders applying MTA-STS"
			}
			return r, per
		}
	}
	if n := counts[MXUnknown]; n > 0 {
		r.Verdict = EnforceUnknown
		r.Reason = fmt.Sprintf("mode enforce; %d MX host(s) could not be checked, the rest pass (%s)", n, summary)
		r.Fix = "Run the check again when every MX host answers"
		return r, per
	}
	r.Verdict = EnforcePass
	r.Reason = "mode enforce, and every MX host is covered by the policy and passes its TLS checks"
	return r, per
}

// mxLines is the policy lines that would cover hosts.
func mxLines(hosts []string) string {
	var l []string
	for _, h := range hosts {
		l = append(l, "\"mx: "+h+"\"")
	}
	return strings.Join(l, " and ")
}

func describeFailing(f map[string][]string) string {
	var parts []string
	for _, k := range []string{MXFailNotCovered, MXFailNoTLS, MXFailCert} {
		if len(f[k]) > 0 {
			parts = append(parts, k+": "+strings.Join(f[k], ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// judgeMX applies the policy to one MX host (RFC 8461 §4).
func judgeMX(pol Policy, h MX) *MXResult {
	pat := pol.Covering(h.Host)
	switch {
	case pat == "":
		return &MXResult{Verdict: MXFailNotCovered, RFC: "RFC 8461 §4.1",
			Reason: fmt.Sprintf("%s matches none of the policy's mx patterns (%s); a wildcard covers exactly one leftmost label", h.Host, strings.Join(pol.MX, ", "))}
	case !h.TLS && h.Unreached:
		return &MXResult{Verdict: MXUnknown, Pattern: pat, RFC: "RFC 8461 §4.2",
			Reason: "covered by " + pat + ", but the server could not be asked (" + h.NoTLS + "), so whether its TLS passes is unknown"}
	case !h.TLS:
		return &MXResult{Verdict: MXFailNoTLS, Pattern: pat, RFC: "RFC 8461 §4.2",
			Reason: "covered by " + pat + ", but TLS failed: " + h.NoTLS}
	case !h.PKIX || !h.NameMatch:
		why := h.CertProblem
		if why == "" {
			why = "the certificate is not PKIX-valid for " + h.Host
		}
		return &MXResult{Verdict: MXFailCert, Pattern: pat, RFC: "RFC 8461 §4.2",
			Reason: "covered by " + pat + ", but " + why}
	}
	return &MXResult{Verdict: MXPass, Pattern: pat, RFC: "RFC 8461 §4.2",
		Reason: "covered by " + pat + ", with TLS and a certificate valid for " + h.Host}
}
