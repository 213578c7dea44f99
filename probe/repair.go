package probe

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
	// Advertised holds the EHLO keywords the server offered, upper case;
	// nil when unknown. It tells a parameter the server never offered from
	// one it offered but refuses with this value.
	Advertised []string
}

// paramExtension is the EHLO keyword that allows each MAIL or RCPT
// parameter: RFC 6152 (BODY), RFC 1870 (SIZE), RFC 6531 (SMTPUTF8),
// RFC 3461 (DSN), RFC 4954 (AUTH), RFC 8689 (REQUIRETLS), RFC 3030
// (BODY=BINARYMIME), RFC 6710 (MT-PRIORITY).
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

// repairRow is one row of the repair table: from a parsed line, the steps
// it offers (none when it does not apply, several for "drop each
// parameter").
type repairRow func(l envelopeLine, rc RepairContext) []repairStep

// repairTable lists every repair in order of preference: the cheapest,
// most common template mistakes first. A new repair is one more row.
var repairTable = []repairRow{
	rowRemoveSpaceAfterColon,
	rowRemoveSpaceBeforeColon,
	rowAddColon,
	rowAddBrackets,
	rowBalanceBrackets,
	rowRemoveStrayBrackets,
	rowUpperCaseVerb,
	rowSingleSpaceAfterVerb,
	rowRemoveTrailingSpace,
	rowRemoveTrailingDot,
	rowUnquoteLocalPart,
	rowQuoteLocalPart,
	rowAddSMTPUTF8,
	rowDomainToALabel,
	rowDropParameter,
}

// single wraps a repair that yields one step, applicable when edit says so.
func single(r Repair, edit func(envelopeLine) (envelopeLine, bool)) func(envelopeLine, RepairContext) []repairStep {
	return func(l envelopeLine, _ RepairContext) []repairStep {
		if _, ok := changed(l, edit); !ok {
			return nil
		}
		return []repairStep{{Repair: r, apply: func(l envelopeLine) (envelopeLine, bool) { return changed(l, edit) }}}
	}
}

// changed runs edit and reports ok only when it applied and the line (or
// its prelude) actually differs.
func changed(l envelopeLine, edit func(envelopeLine) (envelopeLine, bool)) (envelopeLine, bool) {
	n, ok := edit(l.clone())
	if !ok || (n.String() == l.String() && strings.Join(n.prelude, " ") == strings.Join(l.prelude, " ")) {
		return l, false
	}
	return n, true
}

func rowRemoveSpaceAfterColon(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "remove-space-after-colon",
		Change: fmt.Sprintf("remove the space after `%s:`", strings.ToUpper(l.keyword)),
		Rule:   "RFC 5321 allows no space on either side of the colon after FROM or TO; the path must follow the colon directly",
		Ref:    "RFC 5321 §3.3, §4.1.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
		if !l.colon || l.postColon == "" {
			return l, false
		}
		l.postColon = ""
		return l, true
	})(l, rc)
}

func rowRemoveSpaceBeforeColon(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "remove-space-before-colon",
		Change: fmt.Sprintf("remove the space between `%s` and the colon", strings.ToUpper(l.keyword)),
		Rule:   "RFC 5321 allows no space on either side of the colon after FROM or TO; many servers do not even recognise the command otherwise",
		Ref:    "RFC 5321 §3.3, §4.1.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
		if !l.colon || l.preColon == "" {
			return l, false
		}
		l.preColon = ""
		return l, true
	})(l, rc)
}

func rowAddColon(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "add-colon",
		Change: fmt.Sprintf("write `%s:` with its colon, directly followed by the path", strings.ToUpper(l.keyword)),
		Rule:   "the command is literally \"MAIL FROM:\" or \"RCPT TO:\" followed by the path",
		Ref:    "RFC 5321 §4.1.1.2, §4.1.1.3",
	}, func(l envelopeLine) (envelopeLine, bool) {
		if l.colon {
			return l, false
		}
		l.colon, l.preColon, l.postColon = true, "", ""
		return l, true
	})(l, rc)
}

func rowAddBrackets(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "add-angle-brackets",
		Change: "put the address in angle brackets: `<" + l.path + ">`",
		Rule:   "a reverse-path or forward-path is always written in angle brackets; a bare address is an RFC 822 habit that strict servers refuse",
		Ref:    "RFC 5321 §4.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
		if l.path == "" || strings.ContainsAny(l.path, "<>") {
			return l, false
		}
		l.path = "<" + l.path + ">"
		return l, true
	})(l, rc)
}

func rowBalanceBrackets(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "balance-angle-brackets",
		Change: "close the angle brackets around the address",
		Rule:   "the path is \"<\" mailbox \">\": both brackets or none at all",
		Ref:    "RFC 5321 §4.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
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
	})(l, rc)
}

func rowRemoveStrayBrackets(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "remove-stray-brackets",
		Change: "keep one pair of angle brackets around the address and remove the others",
		Rule:   "the path is exactly one \"<\" mailbox \">\"; brackets inside or doubled are not part of any address",
		Ref:    "RFC 5321 §4.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
		opens, closes := strings.Count(l.path, "<"), strings.Count(l.path, ">")
		if opens+closes < 2 || (opens == 1 && closes == 1 && strings.HasPrefix(l.path, "<") && strings.HasSuffix(l.path, ">")) {
			return l, false
		}
		inner := strings.NewReplacer("<", "", ">", "").Replace(l.path)
		l.path = "<" + inner + ">"
		return l, true
	})(l, rc)
}

func rowUpperCaseVerb(l envelopeLine, rc RepairContext) []repairStep {
	want := strings.ToUpper(l.verb) + " " + strings.ToUpper(l.keyword)
	return single(Repair{
		Name:   "upper-case-verb",
		Change: "write the verb as `" + want + ":` in upper case",
		Rule:   "verbs and keywords are case-insensitive, so a server that needs upper case is at fault; upper case is still what every client sends",
		Ref:    "RFC 5321 §2.4",
	}, func(l envelopeLine) (envelopeLine, bool) {
		if l.verb == strings.ToUpper(l.verb) && l.keyword == strings.ToUpper(l.keyword) {
			return l, false
		}
		l.verb, l.keyword = strings.ToUpper(l.verb), strings.ToUpper(l.keyword)
		return l, true
	})(l, rc)
}

func rowSingleSpaceAfterVerb(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "single-space-after-verb",
		Change: fmt.Sprintf("put exactly one space between `%s` and `%s`", strings.ToUpper(l.verb), strings.ToUpper(l.keyword)),
		Rule:   "the grammar has one SP between the verb and FROM or TO",
		Ref:    "RFC 5321 §4.1.1.2, §4.1.1.3",
	}, func(l envelopeLine) (envelopeLine, bool) {
		if l.verbGap == " " {
			return l, false
		}
		l.verbGap = " "
		return l, true
	})(l, rc)
}

func rowRemoveTrailingSpace(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "remove-trailing-space",
		Change: "remove the white space at the end of the line",
		Rule:   "servers SHOULD tolerate trailing white space, but not all do; the grammar ends the command at CRLF",
		Ref:    "RFC 5321 §4.1.1",
	}, func(l envelopeLine) (envelopeLine, bool) {
		if l.trailing == "" {
			return l, false
		}
		l.trailing = ""
		return l, true
	})(l, rc)
}

func rowRemoveTrailingDot(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "remove-trailing-dot",
		Change: "remove the dot at the end of the domain",
		Rule:   "a domain in a path is a sequence of labels separated by dots; the root's trailing dot of DNS notation is not allowed",
		Ref:    "RFC 5321 §4.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
		p := splitPath(l.path)
		if !p.ok || !strings.HasSuffix(p.domain, ".") || strings.HasPrefix(p.domain, "[") {
			return l, false
		}
		p.domain = strings.TrimRight(p.domain, ".")
		if p.domain == "" {
			return l, false
		}
		l.path = p.String()
		return l, true
	})(l, rc)
}

func rowUnquoteLocalPart(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "unquote-local-part",
		Change: "remove the quotes around the local part, which does not need them",
		Rule:   "senders SHOULD use the minimum quoting; a local part that is a valid dot-string is sent unquoted",
		Ref:    "RFC 5321 §4.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
		p := splitPath(l.path)
		if !p.ok || !isQuoted(p.local) {
			return l, false
		}
		inner := unquote(p.local)
		if !isDotString(inner) {
			return l, false
		}
		p.local = inner
		l.path = p.String()
		return l, true
	})(l, rc)
}

func rowQuoteLocalPart(l envelopeLine, rc RepairContext) []repairStep {
	return single(Repair{
		Name:   "quote-local-part",
		Change: "put the local part in double quotes",
		Rule:   "a local part that is not a dot-string (spaces, special characters, leading, trailing or doubled dots) must be a quoted string",
		Ref:    "RFC 5321 §4.1.2",
	}, func(l envelopeLine) (envelopeLine, bool) {
		p := splitPath(l.path)
		if !p.ok || p.local == "" || isQuoted(p.local) || isDotString(p.local) {
			return l, false
		}
		p.local = quote(p.local)
		l.path = p.String()
		return l, true
	})(l, rc)
}

func rowAddSMTPUTF8(l envelopeLine, rc RepairContext) []repairStep {
	if !rc.SMTPUTF8 {
		return nil
	}
	r := Repair{
		Name:   "add-smtputf8",
		Change: "declare SMTPUTF8 on MAIL FROM (the address is not ASCII)",
		Rule:   "an address that is not ASCII may only be sent in a transaction whose MAIL FROM carries the SMTPUTF8 parameter, to a server that advertised it",
		Ref:    "RFC 6531 §3.2, §3.4",
	}
	return single(r, func(l envelopeLine) (envelopeLine, bool) {
		if isASCII(l.path) {
			return l, false
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
	})(l, rc)
}

func rowDomainToALabel(l envelopeLine, rc RepairContext) []repairStep {
	p := splitPath(l.path)
	alabel := ""
	if p.ok && !isASCII(p.domain) {
		alabel, _ = toALabel(p.domain)
	}
	return single(Repair{
		Name:   "domain-to-a-label",
		Change: "write the domain in its ASCII form (A-label) `" + alabel + "`",
		Rule:   "without SMTPUTF8 a domain must be ASCII; an internationalised domain is sent as its A-label (xn--…), which names the same domain",
		Ref:    "RFC 5321 §2.3.5; RFC 5890 §2.3.2.1",
	}, func(l envelopeLine) (envelopeLine, bool) {
		p := splitPath(l.path)
		if !p.ok || isASCII(p.domain) {
			return l, false
		}
		a, err := toALabel(p.domain)
		if err != nil {
			return l, false
		}
		p.domain = a
		l.path = p.String()
		return l, true
	})(l, rc)
}

// rowDropParameter offers one repair per ESMTP parameter on the line. Its
// rule depends on whether the server offered the parameter's extension.
func rowDropParameter(l envelopeLine, rc RepairContext) []repairStep {
	var steps []repairStep
	for _, param := range l.params {
		name, _, _ := strings.Cut(param, "=")
		rule := "a client must not send a MAIL or RCPT parameter the server did not advertise in EHLO; one it does not recognise or cannot implement is refused with 555"
		if ext, ok := rc.advertises(name); ok {
			rule = "the server advertised " + ext + ", so the parameter itself is allowed, but it refuses it as sent: check its value (a SIZE over the server's limit, a BODY or AUTH value it does not know)"
		}
		steps = append(steps, repairStep{
			Repair: Repair{
				Name:   "drop-parameter-" + strings.ToLower(name),
				Change: "drop the parameter `" + param + "`",
				Rule:   rule,
				Ref:    "RFC 5321 §4.1.1.3, §4.1.1.11",
			},
			apply: func(l envelopeLine) (envelopeLine, bool) {
				for i, p := range l.params {
					if p == param {
						l = l.clone()
						l.params = append(l.params[:i], l.params[i+1:]...)
						l.paramGaps = append(l.paramGaps[:i], l.paramGaps[i+1:]...)
						return l, true
					}
				}
				return l, false
			},
		})
	}
	return steps
}

// singleSteps lists every repair that applies to the parsed line, in table
// order.
func singleSteps(l envelopeLine, rc RepairContext) []repairStep {
	var steps []repairStep
	for _, row := range repairTable {
		steps = append(steps, row(l, rc)...)
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
	steps := singleSteps(l, rc)
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
				out = append(out, Candidate{Line: cur.String(), PreludeParams: append([]string(nil), cur.prelude...), Repairs: used})
			}
			return !full()
		})
	}
	return out, nil
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
	Kind   string `json:"kind"`   // "local-part-too-long", "path-too-long", "domain-too-long"
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
// quoting, case, trailing space and dot), and nothing that depends on the
// server (parameters, SMTPUTF8, A-labels). A line that cannot be parsed is
// returned as it is.
func StrictLine(line string) string {
	l, err := parseEnvelopeLine(line)
	if err != nil {
		return line
	}
	for _, row := range repairTable {
		for _, st := range row(l, RepairContext{}) {
			if serverDependent(st.Name) {
				continue
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
