package explain

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzFindReplies feeds arbitrary text to FindReplies and Recognize: they
// must not panic, offsets must lie in the text and be ordered, and every
// code must be within the reply-code grammar (RFC 5321 §4.2).
func FuzzFindReplies(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "logs", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"said: 550 5.1.1 x (in reply to RCPT TO command)",
		"<- 250-a\n<- 250 b\n",
		"Diagnostic-Code: smtp; 550-5.1.1 a\n 550 5.1.1 b\n",
		"SMTP error from remote mail server after RCPT TO:<a@b>:\n    550 x\n",
		"Remote Server returned '< #5.1.1 smtp;550 5.1.1 x>'",
		"Status: 5.1.1\n",
		"dsn=4.4.1, stat=Deferred: 421 4.4.1 x",
		"553 sorry (#5.7.1)",
		"SERVER -> CLIENT: 220 x\nCLIENT -> SERVER: EHLO y\n",
		"< 250 ok\n> RCPT TO:<a@b>\n< 550 no\n",
		`SMTPRecipientsRefused: {'a@b': (550, b'5.1.1 x\n5.1.1 y')}`,
		`smtp failed-command command="RCPT TO:<x@y>" result="550 Invalid recipient: <x@y>"`,
		"SMTP error from remote server for RCPT TO command, host: h (192.0.2.7) reason: 550-5.1.1 a 550 5.1.1 b",
		"SMTP error from remote mail server after RCPT TO:<a@b>:\n    550-5.1.1 a\n    550 5.1.1 b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := FindReplies(text)
		checkInvariants(t, text, got)
		for _, g := range got {
			_ = Recognize(g.Code, g.Enhanced, g.Text)
		}
	})
}
