package explain

import (
	"fmt"
	"slices"
	"strings"
)

// Explanation is what the knowledge base says about one reply: the basic
// code on its own, refined by the enhanced code, read in the context of the
// command that drew it, and, where the text matched a recognizer, what the
// sending software meant by it.
type Explanation struct {
	Code      int     `json:"code"` // 0 when only an enhanced code was given
	Enhanced  string  `json:"enhanced,omitempty"`
	Context   Command `json:"context,omitempty"` // the command that drew the reply, if known
	Class     int     `json:"class"`             // first digit
	ClassName string  `json:"class_name"`        // e.g. "Permanent Negative Completion"
	Category  string  `json:"category"`          // second digit's category, e.g. "syntax"
	ShortText string  `json:"short_text"`        // the RFC's own short text
	Summary   string  `json:"summary"`           // a few words: what it means after this command
	// Meaning and Fix are the most specific reading: a recognised
	// sender's own reason and fix when the text matched a recognizer,
	// else the basic code's reading after the command.
	Meaning string `json:"meaning"`
	When    string `json:"when"`
	Fix     string `json:"fix"`
	// GenericMeaning and GenericFix keep the basic code's reading when a
	// recognizer's replaced Meaning and Fix.
	GenericMeaning string   `json:"generic_meaning,omitempty"`
	GenericFix     string   `json:"generic_fix,omitempty"`
	Actor          string   `json:"actor"` // who has to act: "sender", "sender's admin", "recipient's admin", "nobody"
	Refs           []string `json:"refs"`  // e.g. "RFC 5321 §4.2.3"

	// EnhancedStatus explains the enhanced code on its own layer.
	EnhancedStatus *EnhancedStatus `json:"enhanced_status,omitempty"`
	Recognized     *Recognition    `json:"recognized,omitempty"`
	Warnings       []string        `json:"warnings,omitempty"` // inconsistencies, e.g. a class mismatch
	// Notes are remarks too slight to warn about, e.g. a basic code the
	// registry does not list beside the enhanced code.
	Notes []string `json:"notes,omitempty"`
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
		e.Refs = appendUnique(append([]string(nil), note.Refs...), refsFor(e.Refs, cmd)...)
	}
	if cmd != "" {
		w, n := sequenceRemark(code, cmd)
		if w != "" {
			e.Summary = "not a reply " + strings.ToUpper(string(cmd)) + " should get; read alone: " + e.Summary
			e.Warnings = append(e.Warnings, w)
		}
		if n != "" {
			e.Notes = append(e.Notes, n)
		}
	}
	e.Recognized = RecognizeAt(code, enhanced, text, cmd)
	if r := e.Recognized; e.readsRecognized() {
		// The sender of the reply knows best what it meant.
		e.GenericMeaning, e.Meaning = e.Meaning, r.Reason
		if r.Fix != "" {
			e.GenericFix, e.Fix = e.Fix, r.Fix
		}
		if strings.HasPrefix(r.Ref, "RFC ") {
			// The reading that applies rests on the recognizer's section
			// first. The context note may cover several readings (553 to
			// MAIL: an unqualified sender, or UTF-8 without SMTPUTF8);
			// SMTPUTF8's sections stay only when this one is about it.
			refs := e.Refs
			if !mentionsUTF8(text + " " + r.Reason) {
				refs = slices.DeleteFunc(slices.Clone(refs), func(ref string) bool { return strings.HasPrefix(ref, "RFC 6531") })
			}
			e.Refs = appendUnique([]string{r.Ref}, refs...)
		}
	}
	if st := e.EnhancedStatus; st != nil {
		e.Refs = appendUnique(e.Refs, st.Refs...)
		if r := e.Recognized; r != nil && r.IANAMeaning != "" {
			// The provider's own code: the registry's pairing of basic
			// codes does not apply to it.
			e.Warnings = append(e.Warnings, fmt.Sprintf("%s uses %s for its own meaning, not the IANA registry's (%s); the %s reading applies",
				r.Source, enhanced, st.Title, r.Source))
			if class := code / 100; class != st.Class {
				w, _ := consistencyWarnings(code, *st)
				e.Warnings = append(e.Warnings, w[0])
			}
		} else {
			w, notes := consistencyWarnings(code, *st)
			e.Warnings = append(e.Warnings, w...)
			e.Notes = append(e.Notes, notes...)
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

// commandRFCs names the extension RFC that defines each command a basic
// code is shared between: 454 is RFC 4954's after AUTH and RFC 3207's
// after STARTTLS.
var commandRFCs = map[string]Command{"RFC 4954": AUTH, "RFC 3207": STARTTLS}

// refsFor drops from refs those of an extension that defines another
// command than cmd.
func refsFor(refs []string, cmd Command) []string {
	var out []string
	for _, r := range refs {
		doc, _, _ := strings.Cut(r, " §")
		if c, ok := commandRFCs[doc]; ok && c != cmd {
			continue
		}
		out = append(out, r)
	}
	return out
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

// SpecificFix is the most specific fix known: the recognised sender's,
// then the enhanced code's when it names a registered detail more precise
// than the basic code (5.2.2 "mailbox full" beside 452 after RCPT), then
// the basic code's reading after its command.
func (e Explanation) SpecificFix() string {
	if r := e.Recognized; e.readsRecognized() && r.Fix != "" {
		return r.Fix
	}
	if st := e.EnhancedStatus; st != nil && e.Code != 0 && specificDetail(*st, e.Class) {
		return st.Fix
	}
	return e.Fix
}

// specificDetail tells whether an enhanced code says more than the basic
// code of class it came with: a registered detail of the same failure
// class. An X.Y.0 detail ("other or undefined") and the protocol subject
// X.5.Z say no more than the basic code read after its command; a success
// needs no fix whatever its detail.
func specificDetail(st EnhancedStatus, class int) bool {
	return st.Registered && st.Level == "detail" && st.Class == class && class != 2 &&
		!strings.HasSuffix(st.Code, ".0") && !strings.HasPrefix(st.Code[1:], ".5.")
}

// Brief is a one-line annotation of the explanation for a table row: what
// the reply means after this command, and the RFC sections it relies on.
// A recognised provider's reading comes first, since it is more specific
// than the registry's.
func (e Explanation) Brief() string {
	s := e.Summary
	if r := e.Recognized; e.readsRecognized() {
		s = r.Source + ": " + r.Reason
	} else if r != nil && r.Template != "" {
		s = r.Source + ": " + s
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
// one, an unregistered or deprecated detail. A basic code the registry
// does not list beside the enhanced code is only a note: the registry's
// lists are examples, and servers pair codes in ways it does not record.
func consistencyWarnings(code int, st EnhancedStatus) (warnings, notes []string) {
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
		return w, nil
	}
	if !pairingListed(st, code) {
		notes = append(notes, fmt.Sprintf("the IANA registry lists %s beside %s, not %d; servers often pair them otherwise, so this alone is no fault", st.Associated, registryKey(st.Code), code))
	}
	if ec, ok := enhancedCodes[subjectDetail(st.Code)]; ok && ec.Deprecated != "" {
		w = append(w, st.Code+": "+ec.Deprecated)
	}
	return w, notes
}

// pairingListed tells whether the registry's "associated basic status
// code" column fits code, read generously: the code itself; its twin in
// the other failure class (452 for a registry 552: the registry names one
// and servers send the other when the condition is transient or final);
// and for a security or policy code (X.7.Z), 550 and 554 alike, the two
// codes servers refuse on policy with. A column naming no codes fits all.
func pairingListed(st EnhancedStatus, code int) bool {
	allowed, checkable := associatedAllows(st.Associated, code)
	if !checkable || allowed {
		return true
	}
	var twins []int
	switch code / 100 {
	case 4:
		twins = append(twins, code+100)
	case 5:
		twins = append(twins, code-100)
	}
	if (code == 550 || code == 554) && strings.HasPrefix(st.Code[1:], ".7.") {
		twins = append(twins, 550, 554)
	}
	for _, t := range twins {
		if ok, _ := associatedAllows(st.Associated, t); ok {
			return true
		}
	}
	return false
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

// readsRecognized tells whether the recognised sender's reason replaces
// the code's reading. A positive reply's stock text names its sender but
// says no more than the code's reading after the command, so it does not.
func (e Explanation) readsRecognized() bool {
	r := e.Recognized
	return r != nil && r.Reason != "" && !(e.Code < 400 && r.Template != "")
}

// mentionsUTF8 tells whether a reply text or reading is about non-ASCII
// addresses (RFC 6531).
func mentionsUTF8(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"utf8", "utf-8", "smtputf8", "ascii", "5.6.7", "international"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
