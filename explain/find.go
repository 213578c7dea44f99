package explain

// Found is one SMTP reply found in free text (a transcript, a bounce, an MTA
// log line).
type Found struct {
	Start, End int     // byte offsets of the reply in the text
	Code       int     // basic reply code
	Enhanced   string  // enhanced status code, if any
	Text       string  // the reply's text after the codes
	Context    Command // the command it answered, when the text tells
}

// FindReplies finds every SMTP reply in text, in order.
func FindReplies(text string) []Found {
	return nil
}
