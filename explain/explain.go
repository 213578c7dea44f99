package explain

import (
	"fmt"
	"strings"
)

// Explanation is what the knowledge base says about one reply: the basic
// code on its own, refined by the enhanced code, read in the context of the
// command that drew it, and, where the text matched a recognizer, what the
// sending software meant by it.
type Explanation struct {
	Code      int      `json:"code"` // 0 when only an enhanced code was given
	Enhanced  string   `json:"enhanced,omitempty"`
	Context   Command  `json:"context,omitempty"` // the command that drew the reply, if known
	Class     int      `json:"class"`             // first digit
	ClassName string   `json:"class_name"`        // e.g. "Permanent Negative Completion"
	Category  string   `json:"category"`          // second digit's category, e.g. "syntax"
	ShortText string   `json:"short_text"`        // the RFC's own short text
	Summary   string   `json:"summary"`           // a few words: what it means after this command
	Meaning   string   `json:"meaning"`
	When      string   `json:"when"`
	Fix       string   `json:"fix"`
	Actor     string   `json:"actor"` // who has to act: "sender", "sender's admin", "recipient's admin", "nobody"
	Refs      []string `json:"refs"`  // e.g. "RFC 5321 §4.2.3"

	// EnhancedStatus explains the enhanced code on its own layer.
	EnhancedStatus *EnhancedStatus `json:"enhanced_status,omitempty"`
	Recognized     *Recognition    `json:"recognized,omitempty"`
	Warnings       []string        `json:"warnings,omitempty"` // inconsistencies, e.g. a class mismatch
}

// EnhancedStatus is the explanation of an enhanced status code
// (class.subject.detail, RFC 3463) from the IANA registry, or, for a detail
// the registry lacks, from its subject or class alone.
type EnhancedStatus struct {
	Code       string   `json:"code"` // as given, e.g. "5.1.1"
	Class      int      `json:"class"`
	ClassName  string   `json:"class_name"` // e.g. "Permanent Failure"
	Subject    string   `json:"subject"`    // e.g. "Addressing Status"
	Title      string   `json:"title"`      // the registry's text, e.g. "Bad destination mailbox address"
	Meaning    string   `json:"meaning"`
	Fix        string   `json:"fix"`
	Registered bool     `json:"registered"` // the exact subject.detail is in the IANA registry
	Level      string   `json:"level"`      // what the meaning comes from: "detail", "subject" or "class"
	Associated string   `json:"associated_basic_codes,omitempty"`
	Refs       []string `json:"refs"`
}

// Explain explains one reply: its basic code, enhanced code (may be empty)
// and text (may be empty), as an answer to cmd. An empty cmd gives the
// general reading. Unknown (a verb the server did not know, or a command
// not known to the caller) reads like the general one except for the few
// codes that answer an unknown verb (500, 502, 503, 530). code 0 with an
// enhanced code explains the enhanced code alone.
func Explain(code int, enhanced, text string, cmd Command) Explanation {
	e := Explanation{Code: code, Enhanced: enhanced, Context: cmd}
	if enhanced != "" {
		st, err := LookupEnhanced(enhanced)
		if err != nil {
			e.Warnings = append(e.Warnings, err.Error())
		} else {
			e.EnhancedStatus = &st
		}
	}
	if code == 0 && e.EnhancedStatus != nil {
		explainEnhancedOnly(&e)
		return e
	}

	e.Class = code / 100
	if c, ok := classNamesAll[e.Class]; ok {
		e.ClassName = c
	}
	e.Category = categories[(code/10)%10]
	base, known := basicCodes[code]
	switch {
	case known:
		e.ShortText = base.ShortText
		e.Summary, e.Meaning, e.When, e.Fix, e.Actor = base.Brief, base.Meaning, base.When, base.Fix, base.Actor
		e.Refs = append(e.Refs, base.Refs...)
	case ValidCode(code):
		ci := classes[e.Class]
		e.Summary = strings.ToLower(ci.Name) + " (unregistered code, read by its first digit)"
		e.Meaning, e.Fix, e.Actor = ci.Meaning, ci.Fix, ci.Actor
		e.When = "This code is not registered; a client must act on its first digit alone."
		e.Refs = []string{"RFC 5321 §4.2.1", "RFC 5321 §4.3.2"}
		e.Warnings = append(e.Warnings, fmt.Sprintf("%d is not a registered reply code; it is read by its first digit only (RFC 5321 §4.2)", code))
	default:
		e.Summary = "not a valid SMTP reply code"
		e.Meaning = invalidCodeError(fmt.Sprint(code), code).Said
		e.Refs = []string{"RFC 5321 §4.2"}
		e.Warnings = append(e.Warnings, fmt.Sprintf("%d does not match the reply-code grammar (first digit 2-5, second 0-5, third 0-9; RFC 5321 §4.2)", code))
	}
	if note, ok := lookupNote(code, cmd); ok {
		e.Summary = note.Brief
		e.Meaning = firstNonEmpty(note.Meaning, e.Meaning)
		e.When = firstNonEmpty(note.When, e.When)
		e.Fix = firstNonEmpty(note.Fix, e.Fix)
		e.Actor = firstNonEmpty(note.Actor, e.Actor)
		e.Refs = appendUnique(append([]string(nil), note.Refs...), e.Refs...)
	}
	e.Recognized = Recognize(code, enhanced, text)
	if st := e.EnhancedStatus; st != nil {
		e.Refs = appendUnique(e.Refs, st.Refs...)
		if r := e.Recognized; r != nil && r.IANAMeaning != "" {
			// The provider's own code: the registry's pairing of basic
			// codes does not apply to it.
			e.Warnings = append(e.Warnings, fmt.Sprintf("%s uses %s for its own meaning, not the IANA registry's (%s); the %s reading applies",
				r.Source, enhanced, st.Title, r.Source))
			if class := code / 100; class != st.Class {
				e.Warnings = append(e.Warnings, consistencyWarnings(code, *st)[0])
			}
		} else {
			e.Warnings = append(e.Warnings, consistencyWarnings(code, *st)...)
		}
	}
	return e
}

// explainEnhancedOnly fills e from the enhanced code alone.
func explainEnhancedOnly(e *Explanation) {
	st := e.EnhancedStatus
	e.Class = st.Class
	e.ClassName = st.ClassName
	e.Category = st.Subject
	e.ShortText = st.Title
	e.Summary = strings.ToLower(st.Title)
	e.Meaning = st.Meaning
	e.Fix = st.Fix
	e.When = enhancedWhen(*st)
	e.Actor = classes[st.Class].Actor
	e.Refs = append([]string(nil), st.Refs...)
	if !st.Registered {
		e.Warnings = append(e.Warnings, unregisteredWarning(*st))
	}
}

// enhancedWhen says where an enhanced code turns up.
func enhancedWhen(st EnhancedStatus) string {
	s := "In the text of a reply, right after the basic code, from servers that advertise ENHANCEDSTATUSCODES (RFC 2034), and in the Status field of bounces (RFC 3464)."
	switch st.Associated {
	case "", "Any", "Not given", ".":
	default:
		noun := "basic code "
		if strings.ContainsAny(st.Associated, ",/") || strings.Contains(st.Associated, " or ") || strings.Contains(st.Associated, "XX") {
			noun = "basic codes "
		}
		s += " IANA pairs it with " + noun + st.Associated + "."
	}
	return s
}

// lookupNote finds the context note for code after cmd, falling back from
// HELO to EHLO and from BDAT to DATA.
func lookupNote(code int, cmd Command) (contextNote, bool) {
	if cmd == "" {
		return contextNote{}, false
	}
	if n, ok := contextNotes[contextKey{code, cmd}]; ok {
		return n, true
	}
	if f, ok := contextFallback[cmd]; ok {
		n, ok := contextNotes[contextKey{code, f}]
		return n, ok
	}
	return contextNote{}, false
}

// Brief is a one-line annotation of the explanation for a table row: what
// the reply means after this command, and the RFC sections it relies on.
// A recognised provider's reading comes first, since it is more specific
// than the registry's.
func (e Explanation) Brief() string {
	s := e.Summary
	if r := e.Recognized; r != nil && r.Reason != "" {
		s = r.Source + ": " + r.Reason
	} else if st := e.EnhancedStatus; st != nil && e.Code != 0 && st.Level == "detail" && !strings.HasSuffix(st.Code, ".0") {
		// An X.Y.0 detail is "other or undefined": it adds nothing here.
		s += "; " + st.Code + " " + strings.ToLower(st.Title[:1]) + st.Title[1:]
	}
	refs := e.Refs
	if len(refs) > 2 {
		refs = refs[:2]
	}
	if len(refs) > 0 {
		s += " (" + CompactRefs(refs) + ")"
	}
	return s
}

// CompactRefs joins references, naming each document once:
// ["RFC 5321 §3.5.3", "RFC 5321 §7.3"] becomes "RFC 5321 §3.5.3, §7.3".
func CompactRefs(refs []string) string {
	var b strings.Builder
	last := ""
	for i, r := range refs {
		doc, sec, ok := strings.Cut(r, " §")
		if i > 0 {
			b.WriteString(", ")
		}
		if ok && doc == last {
			b.WriteString("§" + sec)
			continue
		}
		b.WriteString(r)
		last = ""
		if ok {
			last = doc
		}
	}
	return b.String()
}

// consistencyWarnings flags an enhanced code that does not fit the basic
// code: a different class (RFC 3463 §2, RFC 2034 §4), a 3yz reply carrying
// one, an unregistered detail, or a basic code IANA does not pair with it.
func consistencyWarnings(code int, st EnhancedStatus) []string {
	var w []string
	class := code / 100
	switch {
	case class == 3:
		w = append(w, fmt.Sprintf("a %d reply should carry no enhanced code: they accompany only 2yz, 4yz and 5yz replies (RFC 2034 §4)", code))
	case class != st.Class:
		w = append(w, fmt.Sprintf("class mismatch: reply %d is %s but enhanced code %s is %s; the two classes must agree (RFC 3463 §2), so one of them is wrong",
			code, classNamesAll[class], st.Code, st.ClassName))
	}
	if !st.Registered {
		w = append(w, unregisteredWarning(st))
		return w
	}
	if allowed, checkable := associatedAllows(st.Associated, code); checkable && !allowed {
		w = append(w, fmt.Sprintf("the IANA registry pairs %s with %s; %d is not among them", registryKey(st.Code), st.Associated, code))
	}
	if ec, ok := enhancedCodes[subjectDetail(st.Code)]; ok && ec.Deprecated != "" {
		w = append(w, st.Code+": "+ec.Deprecated)
	}
	return w
}

func unregisteredWarning(st EnhancedStatus) string {
	if st.Level == "subject" {
		return fmt.Sprintf("%s is not in the IANA registry; it is read by its subject (%s) only", st.Code, st.Subject)
	}
	return fmt.Sprintf("%s is not in the IANA registry and its subject is undefined; it is read by its class (%s) only", st.Code, st.ClassName)
}

// associatedAllows reads the registry's "associated basic status code"
// column. checkable is false when it names no codes ("Any", "Not given").
func associatedAllows(assoc string, code int) (allowed, checkable bool) {
	if assoc == "" || assoc == "Any" || assoc == "Not given" || assoc == "." {
		return false, false
	}
	class := code / 100
	// "5XX", and "(other 4XX or 5XX codes are allowed)".
	for _, c := range []int{2, 4, 5} {
		if class == c && strings.Contains(assoc, fmt.Sprintf("%dXX", c)) {
			return true, true
		}
	}
	for _, f := range strings.FieldsFunc(assoc, func(r rune) bool { return r < '0' || r > '9' }) {
		if len(f) == 3 && f == fmt.Sprint(code) {
			return true, true
		}
	}
	return false, true
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// appendUnique appends the items of more that dst does not hold yet.
func appendUnique(dst []string, more ...string) []string {
outer:
	for _, m := range more {
		for _, d := range dst {
			if d == m {
				continue outer
			}
		}
		dst = append(dst, m)
	}
	return dst
}
