package explain

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wantRcpt is what a fixture must report about one recipient; an empty
// field is not checked.
type wantRcpt struct {
	recipient, action, status string
	code                      int
	reason, cause, actor      string
	remote                    string // a substring of RemoteMTA
	context                   Command
}

var bounceCases = []struct {
	file              string
	kind, format, gen string
	rcpts             []wantRcpt
}{
	{"postfix-dsn.eml", "bounce", "rfc3464", "Postfix", []wantRcpt{
		{"nobody@example.net", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "mx.example.net", RCPT},
		{"full@example.org", "failed", "5.2.2", 552, "mailboxfull", "mailbox-full", "recipient", "mail.example.org", RCPT},
		{"someone@nxdomain.example", "failed", "5.4.4", 0, "hostunknown", "domain-unknown", "sender", "", ""},
		{"list@example.com", "failed", "5.7.1", 554, "blocked", "ip-blocklisted", "sender's admin", "mx.example.com", RCPT},
	}},
	{"postfix-delayed.eml", "delay", "rfc3464", "Postfix", []wantRcpt{
		{"accounts@slow.example", "delayed", "4.4.1", 0, "networkerror", "connection-failed", "recipient's admin", "", ""},
	}},
	{"exim-text.eml", "bounce", "exim", "Exim", []wantRcpt{
		{"ghost@example.net", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "mx1.example.net [192.0.2.31]", RCPT},
		{"quota@example.org", "failed", "5.2.2", 552, "mailboxfull", "mailbox-full", "recipient", "mail.example.org [198.51.100.40]", DATA},
	}},
	{"exim-delay.eml", "delay", "exim", "Exim", []wantRcpt{
		{"later@busy.example", "delayed", "4.7.1", 451, "blocked", "greylisted", "nobody", "mx.busy.example", RCPT},
	}},
	{"sendmail-dsn.eml", "bounce", "rfc3464", "Sendmail", []wantRcpt{
		{"olduser@example.net", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "mx.example.net", ""},
	}},
	{"qmail.eml", "bounce", "qmail", "qmail", []wantRcpt{
		{"missing@example.net", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "192.0.2.61", RCPT},
		{"nolocal@q.lab.example", "failed", "5.1.1", 0, "userunknown", "mailbox-unknown", "sender", "", ""},
		{"huge@example.org", "failed", "5.3.4", 552, "mesgtoobig", "message-too-big", "sender", "", DATA},
	}},
	{"exchange-o365.eml", "bounce", "rfc3464", "Microsoft Exchange", []wantRcpt{
		{"chris@fabrikam.example", "failed", "5.1.10", 550, "userunknown", "mailbox-unknown", "sender", "", ""},
	}},
	{"exchange-legacy.eml", "bounce", "exchange", "Microsoft Exchange", []wantRcpt{
		{"lee@partner.example", "failed", "5.2.2", 552, "mailboxfull", "mailbox-full", "recipient", "", ""},
	}},
	{"gmail.eml", "bounce", "rfc3464", "Gmail", []wantRcpt{
		{"jo@example.net", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "mx.example.net", ""},
	}},
	{"gmail-dmarc.eml", "bounce", "rfc3464", "Gmail", []wantRcpt{
		{"kim@gmail.example", "failed", "5.7.26", 550, "authfailure", "dmarc-fail", "sender's admin", "gmail-smtp-in", ""},
	}},
	{"yahoo.eml", "bounce", "yahoo", "Yahoo", []wantRcpt{
		{"nope@example.org", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "", RCPT},
		{"bigbox@example.com", "failed", "5.3.4", 552, "mesgtoobig", "message-too-big", "sender", "", DATA},
	}},
	{"ses-email.eml", "bounce", "rfc3464", "Amazon SES", []wantRcpt{
		{"lost@example.net", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "", ""},
	}},
	{"ses-bounce.json", "bounce", "amazon-ses-json", "Amazon SES", []wantRcpt{
		{"gone@example.net", "failed", "5.1.1", 550, "userunknown", "mailbox-unknown", "sender", "192.0.2.90", ""},
	}},
	{"ses-complaint.json", "feedback", "amazon-ses-json", "Amazon SES", []wantRcpt{
		{"annoyed@example.com", "", "", 0, "feedback", "abuse-complaint", "sender", "", ""},
	}},
	{"arf.eml", "feedback", "arf", "", []wantRcpt{
		{"reader@isp.example", "", "", 0, "feedback", "abuse-complaint", "sender", "", ""},
	}},
	{"vacation-rfc3834.eml", "auto-reply", "rfc3834", "", []wantRcpt{
		{"robin@example.org", "", "", 0, "vacation", "auto-reply", "nobody", "", ""},
	}},
	{"vacation-outlook.eml", "auto-reply", "rfc3834", "", []wantRcpt{
		{"alex@fabrikam.example", "", "", 0, "vacation", "auto-reply", "nobody", "", ""},
	}},
	{"vacation-x-autoreply.eml", "auto-reply", "rfc3834", "", []wantRcpt{
		{"hanna@beispiel.example", "", "", 0, "vacation", "auto-reply", "nobody", "", ""},
	}},
	{"postfix-success.eml", "delivery", "rfc3464", "Postfix", []wantRcpt{
		{"legal@partner.example", "relayed", "2.0.0", 250, "delivered", "relayed", "nobody", "mx.partner.example", ""},
	}},
	{"postfix-text.eml", "bounce", "postfix", "Postfix", []wantRcpt{
		{"intern@example.net", "failed", "5.7.1", 550, "norelaying", "relay-denied", "sender's admin", "mx.example.net [192.0.2.25]", RCPT},
		{"boss@example.org", "delayed", "4.7.1", 450, "requireptr", "no-reverse-dns", "sender's admin", "mx.example.org [198.51.100.8]", RCPT},
	}},
	{"generic-text.eml", "bounce", "text", "", []wantRcpt{
		{"visitor@small.example", "failed", "5.2.1", 550, "suspend", "mailbox-disabled", "recipient's admin", "", RCPT},
	}},
	{"plain-mail.eml", "none", "none", "", nil},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bounce", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkReport(t *testing.T, name string, got Report, kind, format, gen string, want []wantRcpt) {
	t.Helper()
	if got.Kind != kind || got.Format != format || got.Generator != gen {
		t.Errorf("%s: kind/format/generator = %q/%q/%q, want %q/%q/%q", name, got.Kind, got.Format, got.Generator, kind, format, gen)
	}
	if len(got.Recipients) != len(want) {
		t.Fatalf("%s: %d recipients, want %d: %+v", name, len(got.Recipients), len(want), got.Recipients)
	}
	for i, w := range want {
		g := got.Recipients[i]
		if g.Recipient != w.recipient || g.Action != w.action || g.Status != w.status || g.ReplyCode != w.code ||
			g.Reason != w.reason || g.Cause != w.cause || g.Actor != w.actor || !strings.Contains(g.RemoteMTA, w.remote) ||
			(w.context != "" && g.Context != w.context) {
			t.Errorf("%s recipient %d:\n got %q %q %q %d %q %q %q mta=%q ctx=%q\nwant %+v\n diag %q", name, i,
				g.Recipient, g.Action, g.Status, g.ReplyCode, g.Reason, g.Cause, g.Actor, g.RemoteMTA, g.Context, w, g.Diagnostic)
		}
		if g.Reason != "vacation" && g.Reason != "feedback" && g.Reason != "delivered" && (g.Explanation == "" || g.Fix == "") {
			t.Errorf("%s recipient %d: no explanation or fix: %+v", name, i, g)
		}
	}
}

// TestBounceFixtures reads each fixture as one message, and again as the
// single message of a stream.
func TestBounceFixtures(t *testing.T) {
	for _, c := range bounceCases {
		raw := readFixture(t, c.file)
		t.Run(c.file, func(t *testing.T) {
			sc := NewMessageScanner(bytes.NewReader(raw))
			if !sc.Scan() {
				t.Fatalf("no message read: %v", sc.Err())
			}
			checkReport(t, c.file, sc.Report(), c.kind, c.format, c.gen, c.rcpts)
			if c.file == "exchange-o365.eml" && !sc.Report().Recipients[0].StatusReused {
				t.Errorf("Microsoft's 5.1.10 is not marked as its own meaning")
			}
			if !strings.HasSuffix(c.file, ".json") {
				checkReport(t, c.file+" (ReadReport)", ReadReport(bytes.NewReader(raw)), c.kind, c.format, c.gen, c.rcpts)
				// The same message with CRLF line ends, as on the wire.
				crlf := bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
				checkReport(t, c.file+" (CRLF)", ReadReport(bytes.NewReader(crlf)), c.kind, c.format, c.gen, c.rcpts)
			}
		})
	}
}

// TestBounceMbox reads every message fixture from one mbox, with a
// ">From " line quoted in a body, and gets the same reports in order.
func TestBounceMbox(t *testing.T) {
	var mbox bytes.Buffer
	var cases []int
	for i, c := range bounceCases {
		if strings.HasSuffix(c.file, ".json") {
			continue
		}
		fmt := "From MAILER-DAEMON Tue Dec  1 10:00:00 2026\n"
		mbox.WriteString(fmt)
		mbox.Write(bytes.TrimRight(readFixture(t, c.file), "\n"))
		mbox.WriteString("\n\n>From the archive: this line is quoted\n\n")
		cases = append(cases, i)
	}
	sc := NewMessageScanner(&mbox)
	if sc.Kind() != InputMbox {
		t.Fatalf("kind %q, want mbox", sc.Kind())
	}
	n := 0
	for sc.Scan() {
		if n >= len(cases) {
			t.Fatalf("more messages than written")
		}
		c := bounceCases[cases[n]]
		checkReport(t, c.file+" in mbox", sc.Report(), c.kind, c.format, c.gen, c.rcpts)
		n++
	}
	if n != len(cases) || sc.Err() != nil {
		t.Fatalf("read %d messages of %d, err %v", n, len(cases), sc.Err())
	}
}

// TestReasonsCovered: every reason word the classifier gives is defined,
// and every defined word is one the classifier can give or a kind's.
func TestReasonsCovered(t *testing.T) {
	defined := map[string]bool{}
	for _, r := range Reasons {
		if defined[r.Word] || r.Definition == "" {
			t.Errorf("reason %q repeated or undefined", r.Word)
		}
		defined[r.Word] = true
	}
	used := map[string]bool{"feedback": true, "vacation": true, "delivered": true, "undefined": true}
	for _, r := range causeRules {
		if !defined[r.reason] {
			t.Errorf("rule gives undefined reason %q", r.reason)
		}
		if r.cause == "" || r.actor == "" {
			t.Errorf("rule for %q lacks cause or actor", r.reason)
		}
		used[r.reason] = true
	}
	for _, s := range sesSubtypes {
		used[s.reason] = true
	}
	for w := range defined {
		if !used[w] {
			t.Errorf("reason %q is defined but never given", w)
		}
	}
	if len(Reasons) != 35 {
		t.Errorf("%d reasons, want the 35 of the taxonomy", len(Reasons))
	}
}

// hugeReader yields head, then n bytes of fill with a line break every
// lineLen bytes, then tail, without ever holding the whole input.
type hugeReader struct {
	head, tail []byte
	fill       byte
	n, lineLen int
	sent       int
}

func (h *hugeReader) Read(p []byte) (int, error) {
	if len(h.head) > 0 {
		k := copy(p, h.head)
		h.head = h.head[k:]
		return k, nil
	}
	if h.sent < h.n {
		k := min(len(p), h.n-h.sent)
		for i := range k {
			if (h.sent+i+1)%h.lineLen == 0 {
				p[i] = '\n'
			} else {
				p[i] = h.fill
			}
		}
		h.sent += k
		return k, nil
	}
	if len(h.tail) > 0 {
		k := copy(p, h.tail)
		h.tail = h.tail[k:]
		return k, nil
	}
	return 0, io.EOF
}

// TestReadReportLargeInput streams 100 MB through the message reader: a
// bounce whose returned message has a 60 MB line, and an mbox with such
// a message between two bounces. The report is read from the start, the
// message is marked truncated, and the messages after it are still found.
func TestReadReportLargeInput(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MB")
	}
	bounce := readFixture(t, "qmail.eml")
	rep := ReadReport(&hugeReader{head: bounce, fill: 'x', n: 100 << 20, lineLen: 60 << 20})
	if !rep.Truncated || rep.Kind != "bounce" || len(rep.Recipients) != 3 {
		t.Fatalf("truncated %v, kind %q, %d recipients", rep.Truncated, rep.Kind, len(rep.Recipients))
	}
	sep := []byte("\nFrom MAILER-DAEMON Tue Dec  1 10:00:00 2026\n")
	head := append(append([]byte("From MAILER-DAEMON Tue Dec  1 10:00:00 2026\n"), bounce...), sep...)
	head = append(head, bounce...)
	tail := append(append([]byte("\n"), sep...), readFixture(t, "yahoo.eml")...)
	sc := NewMessageScanner(&hugeReader{head: head, tail: tail, fill: 'y', n: 100 << 20, lineLen: 60 << 20})
	var kinds []string
	for sc.Scan() {
		r := sc.Report()
		kinds = append(kinds, fmt.Sprintf("%s/%s/%d/%v", r.Kind, r.Format, len(r.Recipients), r.Truncated))
	}
	want := []string{"bounce/qmail/3/false", "bounce/qmail/3/true", "bounce/yahoo/2/false"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) || sc.Err() != nil {
		t.Fatalf("messages %v, want %v (err %v)", kinds, want, sc.Err())
	}
}

// TestBounceDocsListEveryWord: docs/bounces.md defines every reason word
// and every cause word the classifier gives.
func TestBounceDocsListEveryWord(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "bounces.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range Reasons {
		if !strings.Contains(doc, "| `"+r.Word+"` | "+r.Definition+" |") {
			t.Errorf("docs/bounces.md lacks the row of reason %q as Reasons defines it", r.Word)
		}
	}
	causes := []string{"auto-reply", "unspecified", "abuse-complaint", "fraud-report", "virus-report", "not-spam-report", "auth-failure-report", "other-feedback"}
	for _, r := range causeRules {
		causes = append(causes, r.cause)
	}
	for _, s := range sesSubtypes {
		causes = append(causes, s.cause)
	}
	for _, c := range causes {
		if !strings.Contains(doc, "`"+c+"`") {
			t.Errorf("docs/bounces.md does not name cause %q", c)
		}
	}
}
