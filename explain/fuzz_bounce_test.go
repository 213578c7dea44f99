package explain

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadReport feeds arbitrary bytes to the message reader, as one
// message and as a stream: it must not panic, and every report must stay
// within its caps and use only the defined words.
func FuzzReadReport(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bounce", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("From a\nSubject: x\n\nbody\nFrom b\n\n"))
	f.Add([]byte("Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822;a@b\nStatus: 5.1.1\n--b--\n"))
	f.Add([]byte(`{"notificationType":"Bounce","bounce":{"bouncedRecipients":[{"emailAddress":"a@b"}]}}`))
	defined := map[string]bool{}
	for _, r := range Reasons {
		defined[r.Word] = true
	}
	kinds := map[string]bool{"bounce": true, "delay": true, "delivery": true, "feedback": true, "auto-reply": true, "none": true}
	check := func(t *testing.T, rep Report) {
		if !kinds[rep.Kind] {
			t.Fatalf("kind %q", rep.Kind)
		}
		if len(rep.Recipients) > maxRecipients {
			t.Fatalf("%d recipients", len(rep.Recipients))
		}
		for _, r := range rep.Recipients {
			if r.Reason == "" && rep.Kind != "none" || r.Reason != "" && !defined[r.Reason] {
				t.Fatalf("reason %q (kind %q)", r.Reason, rep.Kind)
			}
			if len(r.Diagnostic) > maxDiagnostic {
				t.Fatalf("diagnostic of %d bytes", len(r.Diagnostic))
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		check(t, ParseReport(raw))
		sc := NewMessageScanner(bytes.NewReader(raw))
		for n := 0; sc.Scan(); n++ {
			if n > len(raw)+1 {
				t.Fatal("more messages than bytes")
			}
			check(t, sc.Report())
		}
	})
}
