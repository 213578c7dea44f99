package explain

// Recognition is what a recognizer knows about a reply text from a known
// receiver or MTA: who sends it, what they mean by it, and what to do.
type Recognition struct {
	Source string `json:"source"` // e.g. "Postfix", "Gmail", "Microsoft 365", "Spamhaus"
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
	Ref    string `json:"ref,omitempty"` // the provider's documentation or RFC
	// IANAMeaning is set when the provider uses a registered enhanced code
	// for something else: the registry's meaning, shown as such.
	IANAMeaning string `json:"iana_meaning,omitempty"`
}

// Recognize returns what is known about a reply from its code, enhanced
// code and text, or nil when no recognizer matches.
func Recognize(code int, enhanced, text string) *Recognition {
	return nil
}
