package address

import (
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// Repair is one named, minimal change to a MAIL FROM or RCPT TO line, with
// the rule of RFC 5321 (or an extension RFC) that makes the changed line
// the right one.
type Repair struct {
	Name   string `json:"name"`   // kebab-case, stable: "remove-space-after-colon"
	Change string `json:"change"` // what changes, in plain words: "remove the space after `FROM:`"
	Rule   string `json:"rule"`   // the rule behind it, in plain words
	Ref    string `json:"ref"`    // where the rule is written: "RFC 5321 §3.3"
}

// RepairContext is what a repair may know about the server: only what it
// advertised, so that no repair adds something the server never offered.
type RepairContext struct {
	SMTPUTF8 bool // the server advertised SMTPUTF8 in its EHLO reply (RFC 6531 §3.1)
	// Advertised holds the EHLO keywords the server offered; nil when
	// unknown. It tells a parameter the server never offered from
	// one it offered but refuses with this value.
	Advertised []string
}

// paramExtension is the EHLO keyword that allows each MAIL or RCPT
// parameter: RFC 6152 (BODY), RFC 1870 (SIZE), RFC 6531 (SMTPUTF8),
// RFC 3461 (DSN), RFC 4954 (AUTH), RFC 8689 (REQUIRETLS), RFC 6710
// (MT-PRIORITY). BODY=BINARYMIME needs BINARYMIME too (RFC 3030); the
// value is the server's to judge.
var paramExtension = map[string]string{
	"BODY": "8BITMIME", "SIZE": "SIZE", "SMTPUTF8": "SMTPUTF8",
	"RET": "DSN", "ENVID": "DSN", "NOTIFY": "DSN", "ORCPT": "DSN",
	"AUTH": "AUTH", "REQUIRETLS": "REQUIRETLS", "MT-PRIORITY": "MT-PRIORITY",
}

// advertises reports whether the server offered the extension that allows
// the parameter named.
func (rc RepairContext) advertises(param string) (extension string, ok bool) {
	ext := paramExtension[strings.ToUpper(param)]
	if ext == "" {
		return "", false
	}
	for _, k := range rc.Advertised {
		if strings.EqualFold(k, ext) {
			return ext, true
		}
	}
	return ext, false
}

// Candidate is a line with one or more repairs applied, ready to send.
type Candidate struct {
	Line string // the repaired MAIL FROM or RCPT TO line
	// PreludeParams are parameters the MAIL FROM sent before a RCPT TO line
	// must carry for the repair to mean anything (SMTPUTF8, RFC 6531 §3.4).
	PreludeParams []string
	Repairs       []Repair // in the order they were applied

	l envelopeLine // the parsed line, for a search that goes on from it
}

// Names is the candidate's repair names joined by "+", for display and
// de-duplication.
func (c Candidate) Names() string {
	names := make([]string, len(c.Repairs))
	for i, r := range c.Repairs {
		names[i] = r.Name
	}
	return strings.Join(names, "+")
}

// repairStep is one repair made concrete for one line: the metadata and
// the edit, which may be re-applied to a line other repairs already changed
// (for combinations). apply returns ok=false when the repair no longer
// applies or changes nothing.
type repairStep struct {
	Repair
	apply func(envelopeLine) (envelopeLine, bool)
}

// repairDef is one row of the repair table: a named repair, the rule
// behind it, and the edit. Most repairs apply once to a line; one with
// targets (drop-parameter) applies once per target, as separate repairs.
type repairDef struct {
	name string // kebab-case; a repair with targets appends "-" and the target's name
	rule string
	ref  string
	// change says in plain words what the repair changes in this line,
	// for this target ("" when it has none).
	change func(l envelopeLine, target string) string
	// edit makes the change; ok is false when it does not apply. It gets a
	// copy of the line to change.
	edit func(l envelopeLine, target string, rc RepairContext) (envelopeLine, bool)
	// targets lists what the repair applies to one at a time; nil applies
	// it once.
	targets func(l envelopeLine) []string
	// ruleFor, when set, words the rule for a target and what the server
	// advertised.
	ruleFor func(target string, rc RepairContext) string
}

// repairTable lists every repair in order of preference: the cheapest,
// most common template mistakes first. A new repair is one more row.
var repairTable = []repairDef{
	{
		name: "remove-space-after-colon",
		rule: "RFC 5321 allows no space on either side of the colon after FROM or TO; the path must follow the colon directly",
		ref:  "RFC 5321 §3.3, §4.1.1.2",
		change: func(l envelopeLine, _ string) string {
			return fmt.Sprintf("remove %s after `%s:`", blankName(l.postColon), strings.ToUpper(l.keyword))
		},
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			if !l.colon || l.postColon == "" {
				return l, false
			}
			l.postColon = ""
			return l, true
		},
	},
	{
		name: "remove-space-before-colon",
		rule: "RFC 5321 allows no space on either side of the colon after FROM or TO; many servers do not even recognise the command otherwise",
		ref:  "RFC 5321 §3.3, §4.1.1.2",
		change: func(l envelopeLine, _ string) string {
			return fmt.Sprintf("remove %s between `%s` and the colon", blankName(l.preColon), strings.ToUpper(l.keyword))
		},
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			if !l.colon || l.preColon == "" {
				return l, false
			}
			l.preColon = ""
			return l, true
		},
	},
	{
		name: "add-colon",
		rule: "the command is literally \"MAIL FROM:\" or \"RCPT TO:\" followed by the path",
		ref:  "RFC 5321 §4.1.1.2, §4.1.1.3",
		change: func(l envelopeLine, _ string) string {
			return fmt.Sprintf("write `%s:` with its colon, directly followed by the path", strings.ToUpper(l.keyword))
		},
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			if l.colon {
				return l, false
			}
			l.colon, l.preColon, l.postColon = true, "", ""
			return l, true
		},
	},
	{
		name: "add-angle-brackets",
		rule: "a reverse-path or forward-path is always written in angle brackets; a bare address is an RFC 822 habit that strict servers refuse",
		ref:  "RFC 5321 §4.1.2",
		change: func(l envelopeLine, _ string) string {
			return "put the address in angle brackets: `<" + l.path + ">`"
		},
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			if l.path == "" || strings.ContainsAny(l.path, "<>") {
				return l, false
			}
			l.path = "<" + l.path + ">"
			return l, true
		},
	},
	{
		name:   "balance-angle-brackets",
		rule:   "the path is \"<\" mailbox \">\": both brackets or none at all",
		ref:    "RFC 5321 §4.1.2",
		change: fixed("close the angle brackets around the address"),
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			opens, closes := strings.Count(l.path, "<"), strings.Count(l.path, ">")
			switch {
			case opens == 1 && closes == 0 && strings.HasPrefix(l.path, "<"):
				l.path += ">"
			case opens == 0 && closes == 1 && strings.HasSuffix(l.path, ">"):
				l.path = "<" + l.path
			default:
				return l, false
			}
			return l, true
		},
	},
	{
		name:   "remove-stray-brackets",
		rule:   "the path is exactly one \"<\" mailbox \">\"; brackets inside or doubled are not part of any address",
		ref:    "RFC 5321 §4.1.2",
		change: fixed("keep one pair of angle brackets around the address and remove the others"),
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			opens, closes := strings.Count(l.path, "<"), strings.Count(l.path, ">")
			if opens+closes < 2 || (opens == 1 && closes == 1 && strings.HasPrefix(l.path, "<") && strings.HasSuffix(l.path, ">")) {
				return l, false
			}
			l.path = "<" + strings.NewReplacer("<", "", ">", "").Replace(l.path) + ">"
			return l, true
		},
	},
	{
		name: "upper-case-verb",
		rule: "verbs and keywords are case-insensitive, so a server that needs upper case is at fault; upper case is still what every client sends",
		ref:  "RFC 5321 §2.4",
		change: func(l envelopeLine, _ string) string {
			return "write the verb as `" + strings.ToUpper(l.verb) + " " + strings.ToUpper(l.keyword) + ":` in upper case"
		},
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			l.verb, l.keyword = strings.ToUpper(l.verb), strings.ToUpper(l.keyword)
			return l, true
		},
	},
	{
		name: "single-space-after-verb",
		rule: "the grammar has one SP between the verb and FROM or TO",
		ref:  "RFC 5321 §4.1.1.2, §4.1.1.3",
		change: func(l envelopeLine, _ string) string {
			return fmt.Sprintf("put exactly one space between `%s` and `%s`", strings.ToUpper(l.verb), strings.ToUpper(l.keyword))
		},
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			l.verbGap = " "
			return l, true
		},
	},
	{
		name:   "remove-trailing-space",
		rule:   "servers SHOULD tolerate trailing white space, but not all do; the grammar ends the command at CRLF",
		ref:    "RFC 5321 §4.1.1",
		change: fixed("remove the white space at the end of the line"),
		edit: func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
			l.trailing = ""
			return l, true
		},
	},
	{
		name:   "remove-trailing-dot",
		rule:   "a domain in a path is a sequence of labels separated by dots; the root's trailing dot of DNS notation is not allowed",
		ref:    "RFC 5321 §4.1.2",
		change: fixed("remove the dot at the end of the domain"),
		edit: editMailbox(func(p pathParts) (pathParts, bool) {
			if !strings.HasSuffix(p.domain, ".") || strings.HasPrefix(p.domain, "[") {
				return p, false
			}
			p.domain = strings.TrimRight(p.domain, ".")
			return p, p.domain != ""
		}),
	},
	{
		name:   "unquote-local-part",
		rule:   "senders SHOULD use the minimum quoting; a local part that is a valid dot-string is sent unquoted",
		ref:    "RFC 5321 §4.1.2",
		change: fixed("remove the quotes around the local part, which does not need them"),
		edit: editMailbox(func(p pathParts) (pathParts, bool) {
			if !isQuoted(p.local) || !isDotString(unquote(p.local)) {
				return p, false
			}
			p.local = unquote(p.local)
			return p, true
		}),
	},
	{
		name:   "quote-local-part",
		rule:   "a local part that is not a dot-string (spaces, special characters, leading, trailing or doubled dots) must be a quoted string",
		ref:    "RFC 5321 §4.1.2",
		change: fixed("put the local part in double quotes"),
		edit: editMailbox(func(p pathParts) (pathParts, bool) {
			if p.local == "" || isQuoted(p.local) || isDotString(p.local) || !quotable(p.local) {
				return p, false
			}
			p.local = quote(p.local)
			return p, true
		}),
	},
	{
		name:   "add-smtputf8",
		rule:   "an address that is not ASCII may only be sent in a transaction whose MAIL FROM carries the SMTPUTF8 parameter, to a server that advertised it",
		ref:    "RFC 6531 §3.2, §3.4",
		change: fixed("declare SMTPUTF8 on MAIL FROM (the address is not ASCII)"),
		edit: func(l envelopeLine, _ string, rc RepairContext) (envelopeLine, bool) {
			if !rc.SMTPUTF8 || isASCII(l.path) {
				return l, false // never offered to a server that did not advertise it
			}
			if l.isMail() {
				if l.hasParam("SMTPUTF8") {
					return l, false
				}
				l.params = append(l.params, "SMTPUTF8")
				l.paramGaps = append(l.paramGaps, " ")
				return l, true
			}
			for _, p := range l.prelude {
				if strings.EqualFold(p, "SMTPUTF8") {
					return l, false
				}
			}
			l.prelude = append(l.prelude, "SMTPUTF8")
			return l, true
		},
	},
	{
		name: "domain-to-a-label",
		rule: "without SMTPUTF8 a domain must be ASCII; an internationalised domain is sent as its A-label (xn--…), which names the same domain",
		ref:  "RFC 5321 §2.3.5; RFC 5890 §2.3.2.1",
		change: func(l envelopeLine, _ string) string {
			a, _ := toALabel(splitPath(l.path).domain)
			return "write the domain in its ASCII form (A-label) `" + a + "`"
		},
		edit: editMailbox(func(p pathParts) (pathParts, bool) {
			if isASCII(p.domain) {
				return p, false
			}
			a, err := toALabel(p.domain)
			if err != nil {
				return p, false
			}
			p.domain = a
			return p, true
		}),
	},
	{
		// One repair per ESMTP parameter on the line.
		name:    "drop-parameter",
		ref:     "RFC 5321 §4.1.1.3, §4.1.1.11",
		targets: func(l envelopeLine) []string { return l.params },
		change: func(_ envelopeLine, param string) string {
			return "drop the parameter `" + param + "`"
		},
		edit: func(l envelopeLine, param string, _ RepairContext) (envelopeLine, bool) {
			for i, p := range l.params {
				if p == param {
					l.params = append(l.params[:i], l.params[i+1:]...)
					l.paramGaps = append(l.paramGaps[:i], l.paramGaps[i+1:]...)
					return l, true
				}
			}
			return l, false
		},
		ruleFor: func(param string, rc RepairContext) string {
			name, _, _ := strings.Cut(param, "=")
			if ext, ok := rc.advertises(name); ok {
				return "the server advertised " + ext + ", so the parameter itself is allowed, but it refuses it as sent: check its value (a SIZE over the server's limit, a BODY or AUTH value it does not know)"
			}
			return "a client must not send a MAIL or RCPT parameter the server did not advertise in EHLO; one it does not recognise or cannot implement is refused with 555"
		},
	},
}

// fixed is a change description that does not depend on the line.
func fixed(s string) func(envelopeLine, string) string {
	return func(envelopeLine, string) string { return s }
}

// editMailbox adapts an edit of the mailbox's local part or domain to an
// edit of the line; it does not apply when the path holds no mailbox.
func editMailbox(f func(pathParts) (pathParts, bool)) func(envelopeLine, string, RepairContext) (envelopeLine, bool) {
	return func(l envelopeLine, _ string, _ RepairContext) (envelopeLine, bool) {
		p := splitPath(l.path)
		if !p.ok {
			return l, false
		}
		p, ok := f(p)
		if !ok {
			return l, false
		}
		l.path = p.String()
		return l, true
	}
}

// steps makes the row concrete for one line: one step per target (or one
// step), each only if it applies and changes something.
func (d repairDef) steps(l envelopeLine, rc RepairContext) []repairStep {
	targets := []string{""}
	if d.targets != nil {
		targets = d.targets(l)
	}
	var out []repairStep
	for _, target := range targets {
		r := Repair{Name: d.name, Change: d.change(l, target), Rule: d.rule, Ref: d.ref}
		if target != "" {
			name, _, _ := strings.Cut(target, "=")
			r.Name += "-" + strings.ToLower(name)
		}
		if d.ruleFor != nil {
			r.Rule = d.ruleFor(target, rc)
		}
		apply := func(l envelopeLine) (envelopeLine, bool) {
			return changed(l, func(c envelopeLine) (envelopeLine, bool) { return d.edit(c, target, rc) })
		}
		if _, ok := apply(l); ok {
			out = append(out, repairStep{Repair: r, apply: apply})
		}
	}
	return out
}

// changed runs edit on a copy and reports ok only when it applied and the
// line (or its prelude) actually differs.
func changed(l envelopeLine, edit func(envelopeLine) (envelopeLine, bool)) (envelopeLine, bool) {
	n, ok := edit(l.clone())
	if !ok || (n.String() == l.String() && strings.Join(n.prelude, " ") == strings.Join(l.prelude, " ")) {
		return l, false
	}
	return n, true
}

// singleSteps lists every repair that applies to the parsed line, in table
// order.
func singleSteps(l envelopeLine, rc RepairContext) []repairStep {
	var steps []repairStep
	for _, d := range repairTable {
		steps = append(steps, d.steps(l, rc)...)
	}
	return steps
}

// RepairCandidates returns the repaired variants of a MAIL FROM or RCPT TO
// line, smallest change first: every single repair in table order, then
// every pair, then larger combinations up to maxRepairs repairs each, in
// a deterministic order, never more than limit candidates in all (limit
// <= 0 means no limit). A combination whose repairs get in each other's way
// or that yields a line already listed is skipped.
func RepairCandidates(line string, rc RepairContext, maxRepairs, limit int) ([]Candidate, error) {
	l, err := parseEnvelopeLine(line)
	if err != nil {
		return nil, err
	}
	return candidatesFrom(l, rc, maxRepairs, limit, nil), nil
}

// candidatesFrom lists the repaired variants of a parsed line as
// RepairCandidates does, leaving out the repairs named in skip (those
// already applied on the way to l).
func candidatesFrom(l envelopeLine, rc RepairContext, maxRepairs, limit int, skip map[string]bool) []Candidate {
	var steps []repairStep
	for _, st := range singleSteps(l, rc) {
		if !skip[st.Name] {
			steps = append(steps, st)
		}
	}
	seen := map[string]bool{candidateKey(l): true}
	var out []Candidate
	full := func() bool { return limit > 0 && len(out) >= limit }
	for size := 1; size <= maxRepairs && size <= len(steps) && !full(); size++ {
		forEachCombination(len(steps), size, func(idx []int) bool {
			cur := l
			var used []Repair
			for _, i := range idx {
				next, ok := steps[i].apply(cur)
				if !ok {
					return true
				}
				cur = next
				used = append(used, steps[i].Repair)
			}
			if k := candidateKey(cur); !seen[k] {
				seen[k] = true
				out = append(out, Candidate{Line: cur.String(), PreludeParams: append([]string(nil), cur.prelude...), Repairs: used, l: cur})
			}
			return !full()
		})
	}
	return out
}

func candidateKey(l envelopeLine) string {
	return l.String() + "\x00" + strings.Join(l.prelude, " ")
}

// forEachCombination calls f with every k-subset of 0..n-1 in
// lexicographic order until f returns false.
func forEachCombination(n, k int, f func([]int) bool) {
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	for {
		if !f(append([]int(nil), idx...)) {
			return
		}
		i := k - 1
		for i >= 0 && idx[i] == n-k+i {
			i--
		}
		if i < 0 {
			return
		}
		idx[i]++
		for j := i + 1; j < k; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}

// LineFinding is something wrong with a line that no repair may change,
// because changing it would name a different mailbox.
type LineFinding struct {
	Kind   string `json:"kind"`   // "local-part-too-long", "path-too-long", "domain-too-long", "line-too-long", "control-character", "address-invalid"
	Detail string `json:"detail"` // plain words, with the numbers
	Ref    string `json:"ref"`
}

// Size limits of RFC 5321 §4.5.3.1, in octets.
const (
	maxLocalPart = 64  // §4.5.3.1.1
	maxDomain    = 255 // §4.5.3.1.2
	maxPath      = 256 // §4.5.3.1.3, with the angle brackets
	maxLine      = 512 // §4.5.3.1.4, with the CRLF
)

// LineFindings reports the limits a line breaks that no repair can mend:
// shortening a local part or domain would address someone else.
func LineFindings(line string) []LineFinding {
	l, err := parseEnvelopeLine(line)
	if err != nil {
		return nil
	}
	var out []LineFinding
	if n := len(line) + 2; n > maxLine {
		out = append(out, LineFinding{"line-too-long",
			fmt.Sprintf("the command is %d octets with its CRLF; servers need only accept %d (extensions such as SMTPUTF8 add a little)", n, maxLine),
			"RFC 5321 §4.5.3.1.4"})
	}
	if i := strings.IndexFunc(l.path, isControl); i >= 0 {
		out = append(out, LineFinding{"control-character",
			fmt.Sprintf("the address has a control character (byte 0x%02x, at byte %d of the address); RFC 5321 allows none in a mailbox, not even in a quoted local part, so no form of this address can be sent: correct it where it comes from", l.path[i], i+1),
			"RFC 5321 §4.1.2"})
	}
	if f, ok := addressFinding(line, l); ok {
		out = append(out, f)
	}
	p := splitPath(l.path)
	if !p.ok {
		return out
	}
	if n := len(p.local); n > maxLocalPart {
		out = append(out, LineFinding{"local-part-too-long",
			fmt.Sprintf("the local part is %d octets; servers need only accept %d, and no change to it keeps the same mailbox", n, maxLocalPart),
			"RFC 5321 §4.5.3.1.1"})
	}
	if n := len(p.domain); n > maxDomain {
		out = append(out, LineFinding{"domain-too-long",
			fmt.Sprintf("the domain is %d octets; the limit is %d", n, maxDomain), "RFC 5321 §4.5.3.1.2"})
	}
	if n := len(p.local) + 1 + len(p.domain) + 2; n > maxPath {
		out = append(out, LineFinding{"path-too-long",
			fmt.Sprintf("the path is %d octets with its brackets; servers need only accept %d", n, maxPath), "RFC 5321 §4.5.3.1.3"})
	}
	return out
}

// Violations names the single repairs that would bring a line closer to
// RFC 5321's grammar, whatever a server thinks of it: what to warn about
// when a lenient server accepted the line as sent. Parameters are not
// counted: whether they are allowed depends on the server.
func Violations(line string) []Repair {
	l, err := parseEnvelopeLine(line)
	if err != nil {
		return nil
	}
	var out []Repair
	for _, s := range singleSteps(l, RepairContext{}) {
		if serverDependent(s.Name) || s.Name == "upper-case-verb" || s.Name == "remove-trailing-space" || s.Name == "unquote-local-part" {
			continue // allowed by RFC 5321 (§2.4, §4.1.1, §4.1.2), merely unusual, or up to the server
		}
		out = append(out, s.Repair)
	}
	return out
}

// serverDependent names the repairs whose need depends on the server:
// what it advertised (parameters, SMTPUTF8) or whether SMTPUTF8 is used.
func serverDependent(name string) bool {
	return strings.HasPrefix(name, "drop-parameter-") || name == "add-smtputf8" || name == "domain-to-a-label"
}

// StrictLine is the line as RFC 5321 writes it, whatever the server: every
// repair of its grammar applied in table order (spacing, colon, brackets,
// quoting, trailing space and dot), and nothing that depends on the server
// (parameters, SMTPUTF8, A-labels). The verb keeps the case it was typed
// in: verbs are case-insensitive (RFC 5321 §2.4). A line that cannot be parsed is
// returned as it is.
func StrictLine(line string) string {
	l, err := parseEnvelopeLine(line)
	if err != nil {
		return line
	}
	for _, d := range repairTable {
		for _, st := range d.steps(l, RepairContext{}) {
			if serverDependent(st.Name) || st.Name == "upper-case-verb" {
				continue // the verb's case is the client's choice (RFC 5321 §2.4)
			}
			if n, ok := st.apply(l); ok {
				l = n
			}
		}
	}
	return l.String()
}

// toALabel converts an internationalised domain to its ASCII form.
func toALabel(domain string) (string, error) {
	return idna.Lookup.ToASCII(domain)
}

// blankName names the white space (spaces and tabs, see isSpace) a repair
// removes: "the space", "the tab", "the 3 spaces", "a tab and a space". A
// tab looks like spaces on screen, so it is always named.
func blankName(ws string) string {
	tabs := strings.Count(ws, "\t")
	spaces := len(ws) - tabs
	plural := func(n int, one string) string {
		if n == 1 {
			return "a " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case tabs == 0 && spaces == 1:
		return "the space"
	case tabs == 1 && spaces == 0:
		return "the tab"
	case tabs == 0:
		return fmt.Sprintf("the %d spaces", spaces)
	case spaces == 0:
		return fmt.Sprintf("the %d tabs", tabs)
	}
	return plural(tabs, "tab") + " and " + plural(spaces, "space")
}
