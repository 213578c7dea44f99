package explain

// Explanation is what the knowledge base says about one reply: the basic
// code on its own, refined by the enhanced code, read in the context of the
// command that drew it, and, where the text matched a recognizer, what the
// sending software meant by it.
type Explanation struct {
	Code      int      `json:"code"`
	Enhanced  string   `json:"enhanced,omitempty"`
	Context   Command  `json:"context,omitempty"` // the command that drew the reply, if known
	Class     int      `json:"class"`             // first digit
	ClassName string   `json:"class_name"`        // e.g. "Permanent Negative Completion"
	Category  string   `json:"category"`          // second digit's category, e.g. "syntax"
	ShortText string   `json:"short_text"`        // the RFC's own short text
	Meaning   string   `json:"meaning"`
	When      string   `json:"when"`
	Fix       string   `json:"fix"`
	Actor     string   `json:"actor"` // who has to act: "sender", "sender's admin", "recipient's admin", "nobody"
	Refs      []string `json:"refs"`  // e.g. "RFC 5321 §4.2.3"

	Recognized *Recognition `json:"recognized,omitempty"`
	Warnings   []string     `json:"warnings,omitempty"` // inconsistencies, e.g. a class mismatch
}

// Explain explains one reply: its basic code, enhanced code (may be empty)
// and text (may be empty), as an answer to cmd (Unknown when not known).
func Explain(code int, enhanced, text string, cmd Command) Explanation {
	return Explanation{Code: code, Enhanced: enhanced, Context: cmd, Class: code / 100}
}

// Brief is a one-line annotation of the explanation for a table row: what
// the reply means after this command, and the RFC section it relies on.
func (e Explanation) Brief() string {
	return e.Meaning
}
