package explain

import (
	"fmt"
	"strconv"
	"strings"
)

// CodeError reports a code the knowledge base cannot explain, and what can
// still be said about it (usually from its first digit; RFC 5321 §4.2 asks
// clients to act on that digit for codes they do not know).
type CodeError struct {
	Input  string // the code as given
	Reason string // why it cannot be explained
	Class  int    // the first digit, when it is a reply class (2-5); else 0
	Said   string // what can still be said about it
}

func (e *CodeError) Error() string {
	if e.Said == "" {
		return e.Input + ": " + e.Reason
	}
	return e.Input + ": " + e.Reason + ". " + e.Said
}

// CheckCode returns nil when code is a registered basic reply code, and a
// *CodeError otherwise.
func CheckCode(code int) error {
	if _, ok := basicCodes[code]; ok {
		return nil
	}
	return invalidCodeError(strconv.Itoa(code), code)
}

// invalidCodeError describes a code that is unregistered or malformed.
func invalidCodeError(input string, code int) *CodeError {
	first := code / 100
	if code < 0 || code > 999 || (code < 100 && len(input) != 3) {
		return &CodeError{Input: input, Reason: "not a reply code: a reply code has exactly three digits (RFC 5321 §4.2)"}
	}
	if ValidCode(code) {
		ci := classes[first]
		return &CodeError{Input: input, Class: first,
			Reason: "not a registered reply code",
			Said: fmt.Sprintf("By its first digit it is a %dyz (%s) reply: %s A client must treat it like %d00 (RFC 5321 §4.2, §4.3.2).",
				first, ci.Name, lowerFirst(ci.Meaning), first)}
	}
	switch {
	case first == 1:
		return &CodeError{Input: input, Reason: "not a valid SMTP reply code (the first digit must be 2-5)",
			Said: "1yz would be a Positive Preliminary reply, which SMTP never uses: no SMTP command allows it (RFC 5321 §4.2.1)."}
	case first < 2 || first > 5:
		return &CodeError{Input: input, Reason: "not a valid SMTP reply code (the first digit must be 2-5)",
			Said: fmt.Sprintf("Nothing can be read from it: %d is not a reply class (RFC 5321 §4.2).", first)}
	default:
		ci := classes[first]
		return &CodeError{Input: input, Class: first,
			Reason: fmt.Sprintf("not a valid SMTP reply code (the second digit must be 0-5, not %d)", (code/10)%10),
			Said: fmt.Sprintf("Its first digit alone would make it a %dyz (%s) reply: %s",
				first, ci.Name, lowerFirst(ci.Meaning))}
	}
}

// ParseEnhanced splits an enhanced status code "class.subject.detail"
// (RFC 3463 §2: class 2, 4 or 5; subject and detail one to three digits).
func ParseEnhanced(s string) (class, subject, detail int, err error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return 0, 0, 0, &CodeError{Input: s, Reason: "not an enhanced status code: it has the form class.subject.detail, such as 5.1.1 (RFC 3463 §2)"}
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" || (i == 0 && len(p) != 1) {
			return 0, 0, 0, &CodeError{Input: s, Reason: "not an enhanced status code: class is one digit, subject and detail one to three digits each (RFC 3463 §2)"}
		}
		n[i], _ = strconv.Atoi(p)
	}
	if _, ok := enhancedClasses[n[0]]; !ok {
		return 0, 0, 0, &CodeError{Input: s, Reason: fmt.Sprintf("not a valid enhanced status code: the class must be 2, 4 or 5, not %d (RFC 3463 §3.1)", n[0])}
	}
	return n[0], n[1], n[2], nil
}

// LookupEnhanced explains an enhanced status code on its own. A detail the
// registry lacks is explained by its subject; an undefined subject by its
// class. Only a malformed code is an error.
func LookupEnhanced(s string) (EnhancedStatus, error) {
	class, subject, detail, err := ParseEnhanced(s)
	if err != nil {
		return EnhancedStatus{}, err
	}
	cl := enhancedClasses[class]
	st := EnhancedStatus{Code: s, Class: class, ClassName: cl.Title}
	key := fmt.Sprintf("%d.%d", subject, detail)
	if ec, ok := enhancedCodes[key]; ok {
		st.Registered, st.Level = true, "detail"
		st.Subject = enhancedSubjects[subject].Title
		st.Title, st.Meaning, st.Fix, st.Associated = ec.Title, ec.Meaning, ec.Fix, ec.Associated
		st.Refs = []string{ec.Ref}
		if ec.Ref != "RFC 3463" && !strings.HasPrefix(ec.Ref, "RFC 3463 ") {
			st.Refs = append(st.Refs, "RFC 3463")
		}
		return st, nil
	}
	if si, ok := enhancedSubjects[subject]; ok {
		st.Level, st.Subject = "subject", si.Title
		st.Title = si.Title + " (unregistered detail)"
		st.Meaning, st.Fix = si.Meaning, si.Fix
		st.Refs = []string{"RFC 3463 §3"}
		return st, nil
	}
	st.Level, st.Subject = "class", "undefined"
	st.Title = cl.Title + " (undefined subject)"
	st.Meaning, st.Fix = cl.Meaning, cl.Fix
	st.Refs = []string{"RFC 3463 §3.1"}
	return st, nil
}

// registryKey names an enhanced code as the registry does: "X.1.1".
func registryKey(code string) string {
	if i := strings.IndexByte(code, '.'); i >= 0 {
		return "X" + code[i:]
	}
	return code
}

// subjectDetail drops the class: "5.1.1" becomes "1.1".
func subjectDetail(code string) string {
	if i := strings.IndexByte(code, '.'); i >= 0 {
		return code[i+1:]
	}
	return code
}

// RegistryTitle is the IANA registry's text for an enhanced code, for
// showing beside a provider's own meaning; ok is false when the code is not
// registered.
func RegistryTitle(enhanced string) (title string, ok bool) {
	st, err := LookupEnhanced(enhanced)
	if err != nil || !st.Registered {
		return "", false
	}
	return st.Title, true
}

// Query is one thing the user asked about: a basic code, an enhanced code,
// both, or a whole reply line.
type Query struct {
	Code     int    // 0 when only an enhanced code was given
	Enhanced string // "" when none
	Text     string // the reply text after the codes, if a line was given
}

// ParseQuery reads "252", "5.1.1", "550 5.1.1", or a whole reply line such
// as "550-5.7.26 Unauthenticated email ..." or "550 5.1.1 <a@b>: Recipient
// address rejected". A multi-line reply given as one argument is joined.
// An unregistered or malformed basic code is a *CodeError saying what can
// be said about it; an unregistered enhanced code is not an error.
func ParseQuery(arg string) (Query, error) {
	var q Query
	lines := strings.FieldsFunc(arg, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) == 0 {
		return q, &CodeError{Input: arg, Reason: "empty: give a reply code such as 550, an enhanced code such as 5.1.1, or a reply line"}
	}
	var texts []string
	for i, line := range lines {
		lq, err := parseLine(strings.TrimSpace(line))
		if err != nil {
			return q, err
		}
		if i == 0 {
			q.Code, q.Enhanced = lq.Code, lq.Enhanced
		} else if lq.Code != q.Code {
			return q, &CodeError{Input: arg, Reason: fmt.Sprintf("the lines carry different codes (%d, %d); a multi-line reply uses one code on every line (RFC 5321 §4.2.1)", q.Code, lq.Code)}
		}
		if lq.Text != "" {
			texts = append(texts, lq.Text)
		}
	}
	q.Text = strings.Join(texts, " ")
	return q, nil
}

func parseLine(line string) (Query, error) {
	var q Query
	word, rest := line, ""
	if i := strings.IndexAny(line, " \t-"); i >= 0 {
		word, rest = line[:i], strings.TrimLeft(line[i+1:], " \t")
	}
	if strings.Contains(word, ".") {
		if _, _, _, err := ParseEnhanced(word); err != nil {
			return q, err
		}
		q.Enhanced, q.Text = word, rest
		return q, nil
	}
	code, err := strconv.Atoi(word)
	if err != nil || len(word) != 3 || strings.ContainsAny(word, "+-") {
		input := word
		if input == "" {
			input = line // "-5": the word before the separator is empty
		}
		return q, &CodeError{Input: input, Reason: "not a reply code: give three digits such as 550, an enhanced code such as 5.1.1, or a reply line"}
	}
	if _, ok := basicCodes[code]; !ok {
		return q, invalidCodeError(word, code) // the code as typed: "099", not "99"
	}
	q.Code = code
	enh, after := rest, ""
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		enh, after = rest[:i], strings.TrimLeft(rest[i+1:], " \t")
	}
	if looksEnhanced(enh) {
		q.Enhanced, q.Text = enh, after
	} else {
		q.Text = rest
		q.Enhanced = qmailTrailingCode(rest)
	}
	return q, nil
}

// looksEnhanced reports whether s has the shape d.d+.d+ (any class digit,
// so a mismatched class is still taken and then flagged).
func looksEnhanced(s string) bool {
	p := strings.Split(s, ".")
	if len(p) != 3 || len(p[0]) != 1 {
		return false
	}
	for _, x := range p {
		if x == "" || len(x) > 3 || strings.Trim(x, "0123456789") != "" {
			return false
		}
	}
	return true
}

// qmailTrailingCode picks the qmail convention of an enhanced code at the
// end of the text: "... rcpthosts (#5.7.1)".
func qmailTrailingCode(text string) string {
	t := strings.TrimSpace(text)
	if !strings.HasSuffix(t, ")") {
		return ""
	}
	i := strings.LastIndex(t, "(#")
	if i < 0 {
		return ""
	}
	if c := t[i+2 : len(t)-1]; looksEnhanced(c) {
		return c
	}
	return ""
}
