package explain

import (
	"strings"
	"testing"
	"time"
)

// FuzzExplain checks that any code, enhanced code, text and command name,
// as a reply line or an argument might carry them, gets an annotation
// without a panic.
func FuzzExplain(f *testing.F) {
	f.Add(252, "", "Cannot VRFY user", "vrfy")
	f.Add(501, "5.5.4", "Syntax error in parameters", "mail")
	f.Add(550, "5.7.26", "This mail is unauthenticated", "rcpt")
	f.Add(421, "4.7.0", "too many errors", "")
	f.Add(0, "9.9.9", "\x1b[2J", "nosuch")
	f.Add(-1, "5.1", "\xff", "RCPT")
	f.Fuzz(func(t *testing.T, code int, enhanced, text, cmd string) {
		c, _ := ParseCommand(cmd)
		if Explain(code, enhanced, text, c).Brief() == "" {
			t.Fatalf("no annotation for %d %q %q after %q", code, enhanced, text, cmd)
		}
		_ = Recognize(code, enhanced, text)
		_ = CommandOf(text)
	})
}

// TestFindRepliesManyCandidatesOnOneLine is the regression for a line
// full of reply introducers ("said: said: ..."), each a candidate that
// turns out not to be a reply: FindReplies must stay linear in the input
// (its doc says so), not rescan the rest of the line per candidate. One
// MiB of them takes about two seconds when linear and far more than ten
// minutes when quadratic; the two-minute bound only tells a hang apart.
func TestFindRepliesManyCandidatesOnOneLine(t *testing.T) {
	for _, text := range []string{
		strings.Repeat("said: ", (1<<20)/6),
		strings.Repeat("after RCPT TO:<a@b>: ", (1<<20)/21),
	} {
		done := make(chan int, 1)
		go func() { done <- len(FindReplies(text)) }()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("FindReplies did not return within two minutes on %d bytes of %.24q", len(text), text)
		}
	}
}
