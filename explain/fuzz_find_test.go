package explain

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzFindReplies checks the log annotator on arbitrary text: no panic,
// spans inside the text and in order, codes that are reply codes, and the
// documented bound on the number of replies.
func FuzzFindReplies(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("..", "testdata", "explain", "*"))
	for _, p := range samples {
		if filepath.Ext(p) == ".golden" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"S: 250-mx.example\r\nS: 250 SIZE 1000\r\nC: RCPT TO:<a@b>\r\nS: 550 5.1.1 unknown\r\n",
		"said: 550 5.7.1 relay denied (in reply to RCPT TO command)",
		"Diagnostic-Code: smtp; 552-5.2.2 over quota\nStatus: 5.2.2\n",
		"2026-11-28 12:00:00 1abc-000 ** a@b R=x T=y: SMTP error from remote mail server after RCPT TO:<a@b>: 550 5.1.1 no",
		"dsn=4.2.0, stat=Deferred: 450 4.2.0 greylisted",
		"<<< 250-", "250-\n250-\n250", "550 5.1.1", "5.1.1", "\x00\r\n550 \xff\n", "999 9.9.9 x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		found := FindReplies(text)
		if len(found) > 10000 {
			t.Fatalf("%d replies; the bound is 10000", len(found))
		}
		last := 0
		for _, r := range found {
			if r.Start < last || r.End < r.Start || r.End > len(text) {
				t.Fatalf("span %d..%d out of order or outside the text (len %d, previous start %d)", r.Start, r.End, len(text), last)
			}
			last = r.Start
			if r.Code < 200 || r.Code > 599 {
				t.Fatalf("reply code %d in %q", r.Code, text[r.Start:r.End])
			}
			_ = Explain(r.Code, r.Enhanced, r.Text, r.Context).Brief()
		}
	})
}

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
		strings.Repeat("said: ", MaxFindInput/6),
		strings.Repeat("after RCPT TO:<a@b>: ", MaxFindInput/21),
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
