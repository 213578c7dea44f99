// Package mtasts reads a domain's MTA-STS policy as RFC 8461 describes it
// and judges its MX hosts against it: the _mta-sts TXT record, the policy
// fetched over HTTPS from mta-sts.<domain>, its strict syntax, the MX
// patterns (a wildcard covers exactly one leftmost label) and, per MX host,
// whether its TLS would satisfy a sender applying the policy.
package mtasts

import (
	"fmt"
	"strconv"
	"strings"
)

// Domain verdict words.
const (
	EnforcePass         = "enforce-pass"           // enforce, and every MX host passes
	EnforceMXNotCovered = "enforce-mx-not-covered" // enforce, and an MX host matches no mx pattern
	EnforceFailCert     = "enforce-fail-cert"      // enforce, and an MX host's certificate is not PKIX-valid for its name
	EnforceFailNoTLS    = "enforce-fail-notls"     // enforce, and an MX host offers no working TLS
	Testing             = "testing"                // mode testing: failures are reported, mail still flows
	None                = "none"                   // mode none: the domain withdrew its policy
	NoPolicy            = "no-policy"              // no v=STSv1 TXT record
	InvalidTXT          = "invalid-txt"            // the TXT record is malformed, or there are several
	FetchFailed         = "fetch-failed"           // the policy could not be fetched over HTTPS
	InvalidPolicy       = "invalid-policy"         // the policy was fetched but does not parse
	// EnforceUnknown: enforce, no MX host fails, but some could not be
	// asked (a 421, a failed connection), so a pass would overclaim.
	EnforceUnknown = "enforce-unknown"
)

// Per-MX verdict words (no word: no policy applies).
const (
	MXPass           = "pass"
	MXFailNotCovered = "fail-mx-not-covered"
	MXFailCert       = "fail-cert"
	MXFailNoTLS      = "fail-notls"
	MXUnknown        = "unknown" // the server could not be asked; never read as fail-notls
)

// Policy modes (RFC 8461 §5).
const (
	ModeEnforce = "enforce"
	ModeTesting = "testing"
	ModeNone    = "none"
)

// MaxAge is the largest max_age a policy may give: a year (RFC 8461 §3.2).
const MaxAge = 31557600

// MaxPolicySize bounds the policy body read (RFC 8461 §3.3 lets senders
// stop at 64 KiB).
const MaxPolicySize = 64 << 10

// TXT is a parsed _mta-sts record (RFC 8461 §3.1).
type TXT struct {
	Record string `json:"record"`
	ID     string `json:"id"`
}

// ParseTXT picks and parses the _mta-sts record out of a TXT RRset, each
// element one record with its strings already concatenated. Records not
// other than v=STSv1 are discarded. It returns found=false when none
// is left; an error when more than one is, or it is malformed.
func ParseTXT(records []string) (txt TXT, found bool, err error) {
	var sts []string
	for _, r := range records {
		if rest, ok := strings.CutPrefix(r, "v=STSv1"); ok && (rest == "" || strings.ContainsRune("; \t", rune(rest[0]))) {
			sts = append(sts, r)
		}
	}
	switch len(sts) {
	case 0:
		return TXT{}, false, nil
	case 1:
	default:
		return TXT{}, true, fmt.Errorf("%d v=STSv1 TXT records; exactly one is allowed, so senders ignore them all (RFC 8461 §3.1)", len(sts))
	}
	txt.Record = sts[0]
	fields, err := splitFields(strings.TrimPrefix(sts[0], "v=STSv1"))
	if err != nil {
		return txt, true, err
	}
	for _, f := range fields {
		name, value, ok := strings.Cut(f, "=")
		if !ok || !validExtName(name) || value == "" {
			return txt, true, fmt.Errorf("field %q is not name=value (RFC 8461 §3.1)", f)
		}
		if name == "id" {
			if txt.ID != "" {
				return txt, true, fmt.Errorf("id appears twice (RFC 8461 §3.1)")
			}
			if len(value) > 32 || !isAlnum(value) {
				return txt, true, fmt.Errorf("id %q must be 1 to 32 letters and digits (RFC 8461 §3.1)", value)
			}
			txt.ID = value
			continue
		}
		for _, c := range []byte(value) {
			if c < 0x21 || c > 0x7e || c == ';' || c == '=' {
				return txt, true, fmt.Errorf("field %q has a character not allowed in a value (RFC 8461 §3.1)", f)
			}
		}
	}
	if txt.ID == "" {
		return txt, true, fmt.Errorf("no id field; it is required (RFC 8461 §3.1)")
	}
	return txt, true, nil
}

// splitFields splits what follows the version into fields at ";" with
// optional blanks around it, allowing one trailing ";".
func splitFields(rest string) ([]string, error) {
	if rest == "" {
		return nil, nil
	}
	parts := strings.Split(rest, ";")
	if strings.TrimRight(parts[0], " \t") != "" {
		return nil, fmt.Errorf("text %q after the version must follow a ';' (RFC 8461 §3.1)", parts[0])
	}
	var out []string
	for i, p := range parts[1:] {
		p = strings.Trim(p, " \t")
		if p == "" {
			if i == len(parts)-2 {
				break // one trailing delimiter
			}
			return nil, fmt.Errorf("empty field between ';' (RFC 8461 §3.1)")
		}
		if strings.ContainsAny(p, " \t") {
			return nil, fmt.Errorf("field %q contains a blank (RFC 8461 §3.1)", p)
		}
		out = append(out, p)
	}
	return out, nil
}

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// validExtName is an extension name: a letter or digit, then up to 31
// letters, digits, "_", "-" or ".".
func validExtName(s string) bool {
	if s == "" || len(s) > 32 || !isAlnum(s[:1]) {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if !isAlnum(string(c)) && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// Policy is a parsed policy file (RFC 8461 §3.2).
type Policy struct {
	Mode   string   `json:"mode"`
	MaxAge int64    `json:"max_age"`
	MX     []string `json:"mx"`
}

// ParsePolicy parses a policy body strictly: "key: value" lines ending in
// LF or CRLF (and nothing else), version STSv1, a mode, max_age, and at
// least one mx pattern unless the mode is none. Unknown fields are
// ignored, as the RFC requires; a known field other than mx given twice is
// an error.
func ParsePolicy(body []byte) (Policy, error) {
	var p Policy
	text := string(body)
	if strings.ContainsRune(text, 0) {
		return p, fmt.Errorf("the policy contains a NUL byte")
	}
	lines := strings.Split(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // the last line's terminator
	}
	seen := map[string]bool{}
	for i, line := range lines {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if strings.ContainsRune(line, '\r') {
			return p, fmt.Errorf("line %d: a CR not followed by LF; lines end in LF or CRLF (RFC 8461 §3.2)", n)
		}
		line = strings.TrimRight(line, " \t")
		key, value, ok := strings.Cut(line, ":")
		if !ok || key == "" {
			return p, fmt.Errorf("line %d %q is not \"key: value\" (RFC 8461 §3.2)", n, line)
		}
		value = strings.TrimLeft(value, " \t")
		if !validExtName(key) {
			return p, fmt.Errorf("line %d: %q is not a field name (RFC 8461 §3.2)", n, key)
		}
		if value == "" {
			return p, fmt.Errorf("line %d: field %s has no value (RFC 8461 §3.2)", n, key)
		}
		known := key == "version" || key == "mode" || key == "max_age" || key == "mx"
		if known && key != "mx" && seen[key] {
			return p, fmt.Errorf("line %d: field %s given twice (RFC 8461 §3.2)", n, key)
		}
		seen[key] = true
		switch key {
		case "version":
			if value != "STSv1" {
				return p, fmt.Errorf("line %d: version %q; it must be STSv1 (RFC 8461 §3.2)", n, value)
			}
		case "mode":
			if value != ModeEnforce && value != ModeTesting && value != ModeNone {
				return p, fmt.Errorf("line %d: mode %q; it must be enforce, testing or none (RFC 8461 §3.2)", n, value)
			}
			p.Mode = value
		case "max_age":
			if len(value) > 10 || !isDigits(value) {
				return p, fmt.Errorf("line %d: max_age %q is not 1 to 10 digits (RFC 8461 §3.2)", n, value)
			}
			v, _ := strconv.ParseInt(value, 10, 64)
			if v > MaxAge {
				return p, fmt.Errorf("line %d: max_age %d is above the maximum %d (RFC 8461 §3.2)", n, v, MaxAge)
			}
			p.MaxAge = v
		case "mx":
			if err := checkPattern(value); err != nil {
				return p, fmt.Errorf("line %d: mx %q: %v (RFC 8461 §3.2)", n, value, err)
			}
			p.MX = append(p.MX, value)
		}
	}
	for _, k := range []string{"version", "mode", "max_age"} {
		if !seen[k] {
			return p, fmt.Errorf("no %s field; it is required (RFC 8461 §3.2)", k)
		}
	}
	if p.Mode != ModeNone && len(p.MX) == 0 {
		return p, fmt.Errorf("mode %s with no mx pattern: no MX host could ever pass (RFC 8461 §3.2)", p.Mode)
	}
	return p, nil
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// checkPattern checks an mx pattern: a host name, optionally preceded by
// "*." (RFC 8461 §3.2, §4.1).
func checkPattern(p string) error {
	name := strings.TrimPrefix(p, "*.")
	if strings.Contains(name, "*") {
		return fmt.Errorf("a wildcard may only be the whole leftmost label")
	}
	name = strings.TrimSuffix(name, ".")
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fmt.Errorf("not a fully qualified host name")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q is not a host name label", l)
		}
		for _, c := range []byte(l) {
			if !isAlnum(string(c)) && c != '-' {
				return fmt.Errorf("label %q has a character other than letters, digits and hyphens", l)
			}
		}
	}
	return nil
}

// MatchMX reports whether host matches an mx pattern (RFC 8461 §4.1):
// exactly, ignoring case and a final dot, or, for "*.suffix", when host is
// one label followed by suffix. A wildcard never covers the suffix itself
// nor two labels, and nothing matches by a mere suffix or prefix.
func MatchMX(pattern, host string) bool {
	p := strings.ToLower(strings.TrimSuffix(pattern, "."))
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if suffix, ok := strings.CutPrefix(p, "*"); ok && strings.HasPrefix(suffix, ".") {
		label, ok := strings.CutSuffix(h, suffix)
		return ok && label != "" && !strings.Contains(label, ".")
	}
	return p == h
}

// Covering is the first pattern of the policy that matches host, or "".
func (p Policy) Covering(host string) string {
	for _, pat := range p.MX {
		if MatchMX(pat, host) {
			return pat
		}
	}
	return ""
}
