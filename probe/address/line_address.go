package address

import (
	"fmt"
	"regexp"
	"strings"
)

// findingAt locates, for an address finding, the character it is about:
// the first group of the pattern that takes part in the match. A new
// finding with a place is a row; one without a row is named without it.
var findingAt = map[string]*regexp.Regexp{
	"local-part-consecutive-dots": regexp.MustCompile(`\.(\.)`),
	"local-part-leading-dot":      regexp.MustCompile(`^(\.)`),
	"local-part-trailing-dot":     regexp.MustCompile(`(\.)@`),
	"local-part-empty":            regexp.MustCompile(`^(@)`),
	"missing-at":                  regexp.MustCompile(`($)`),
	"domain-consecutive-dots":     regexp.MustCompile(`@.*?\.(\.)`),
	"domain-leading-dot":          regexp.MustCompile(`@(\.)`),
	"domain-trailing-dot":         regexp.MustCompile(`(\.)$`),
	"domain-empty":                regexp.MustCompile(`@($)`),
	"domain-underscore":           regexp.MustCompile(`@.*?(_)`),
	"domain-label-hyphen":         regexp.MustCompile(`[@.](-)|(-)(?:\.|$)`),
	"fullwidth-at":                regexp.MustCompile(`(＠)`),
}

// positionOf is the 0-based offset in box of what finding id is about, or
// -1 when it has no place.
func positionOf(id, box string) int {
	re, ok := findingAt[id]
	if !ok {
		return -1
	}
	m := re.FindStringSubmatchIndex(box)
	for g := 2; g+1 < len(m); g += 2 {
		if m[g] >= 0 {
			return m[g]
		}
	}
	return -1
}

// addressFinding is the address checker's verdict on the mailbox inside a
// MAIL FROM or RCPT TO line, before any repair: the first error it finds,
// with the byte of the line where it is. Nothing for the null path, for
// <postmaster> at RCPT (RFC 5321 §4.1.1.3), an address with a control
// character (a finding of its own) or a line whose brackets do not
// enclose one mailbox (the repairs handle those).
func addressFinding(line string, l envelopeLine) (LineFinding, bool) {
	path := l.path
	if !strings.HasPrefix(path, "<") || !strings.HasSuffix(path, ">") || strings.Count(path, "<") != 1 || strings.Count(path, ">") != 1 {
		return LineFinding{}, false
	}
	box := path[1 : len(path)-1]
	if strings.HasPrefix(box, "@") { // a source route: the mailbox follows the colon
		if i := strings.IndexByte(box, ':'); i >= 0 {
			box = box[i+1:]
		}
	}
	if box == "" || strings.EqualFold(box, "postmaster") && strings.EqualFold(l.verb, "rcpt") || strings.IndexFunc(box, isControl) >= 0 {
		return LineFinding{}, false
	}
	r := AnalyzeAddress(box)
	for _, f := range r.Findings {
		if f.Severity != SeverityError || strings.HasSuffix(f.ID, "too-long") || strings.Contains(f.Message, "control character") {
			continue // lengths and control characters have findings of their own
		}
		where := ""
		if at, base := positionOf(f.ID, box), strings.Index(line, box); at >= 0 && base >= 0 {
			where = fmt.Sprintf(" (at byte %d of the line)", base+at+1)
		}
		return LineFinding{Kind: "address-invalid",
			Detail: fmt.Sprintf("the address %s is not a valid mailbox: %s%s", box, f.Message, where),
			Ref:    f.Ref}, true
	}
	return LineFinding{}, false
}
