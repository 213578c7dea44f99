package explain

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// none is the Context of a reply whose text does not say which command
// drew it.
const none Command = ""

// want is one expected reply: codes, context, and a piece of its text.
type want struct {
	code     int
	enh      string
	ctx      Command
	contains string
}

func readLog(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "logs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var logSamples = []struct {
	file string
	want []want
}{
	{"postfix-maillog.txt", []want{
		{554, "5.7.1", RCPT, "blocked using zen.spamhaus.org"},
		{550, "5.1.1", RCPT, "User unknown in local recipient table"},
		{504, "5.5.2", RCPT, "Helo command rejected: need fully-qualified hostname"},
		{450, "4.1.8", RCPT, "Sender address rejected: Domain not found"},
		{554, "5.7.1", RCPT, "Relay access denied"},
		{550, "5.1.1", RCPT, "tried to reach does not exist. Please try double-checking"},
		{550, "5.7.26", DATA, "DMARC policy"},
		{421, "4.7.0", Greeting, "too many connections"},
		{450, "4.2.0", RCPT, "Greylisted"},
		{421, "4.7.0", MAIL, "[TSS04]"},
		{550, "5.4.1", RCPT, "Recipient address rejected: Access denied"},
	}},
	{"exim-mainlog.txt", []want{
		{550, "5.1.1", RCPT, "User unknown in virtual mailbox table"},
		{451, "4.7.1", RCPT, "Greylisting"},
		{552, "5.3.4", MAIL, "Message size exceeds fixed limit"},
		{550, "5.7.1", DATA, "message content rejected"},
		{554, "", Greeting, "not accepting messages"},
		{550, "", RCPT, "Unrouteable address"},
	}},
	{"sendmail-maillog.txt", []want{
		{550, "5.1.1", none, "User unknown"}, // from dsn=5.1.1, stat=User unknown
		{421, "4.7.0", none, "Too many bad recipients"},
		{550, "5.7.1", RCPT, "Relaying denied"},
		{553, "5.1.8", MAIL, "Domain of sender address"},
	}},
	{"dsn-bounce.eml", []want{
		{550, "5.1.1", RCPT, "does not exist. Please try double-checking"},
		{552, "5.2.2", RCPT, "Mailbox full"},
		{550, "5.1.1", none, "unnecessary spaces. Learn more at https://support.google.com"},
		{552, "5.2.2", none, "Recipient address rejected: Mailbox full"},
		{550, "5.4.4", none, ""}, // Status: 5.4.4 with no SMTP reply beside it
	}},
	{"swaks-transcript.txt", []want{
		{220, "", Greeting, "ESMTP Postfix"},
		{250, "", EHLO, "PIPELINING SIZE 10240000"},
		{252, "2.0.0", VRFY, "bob"},
		{501, "5.1.7", MAIL, "Bad sender address syntax"},
		{250, "2.1.0", MAIL, "Ok"},
		{550, "5.1.1", RCPT, "User unknown in local recipient table"},
		{250, "2.1.5", RCPT, "Ok"},
		{354, "", DATA, "End data with"},
		{250, "2.0.0", DATA, "queued as"},
		{221, "2.0.0", QUIT, "Bye"},
	}},
	{"outlook-ndr.txt", []want{
		{550, "5.1.10", none, "RESOLVER.ADR.RecipientNotFound"},
		{550, "5.1.1", none, "RESOLVER.ADR.ExRecipNotFound; not found"},
		{550, "5.7.606", none, "banned sending IP"},
	}},
	{"no-replies.txt", nil},
}

func TestFindRepliesSamples(t *testing.T) {
	for _, s := range logSamples {
		t.Run(s.file, func(t *testing.T) {
			text := readLog(t, s.file)
			got := FindReplies(text)
			checkInvariants(t, text, got)
			if len(got) != len(s.want) {
				for _, g := range got {
					t.Logf("found %d %s %s %q", g.Code, g.Enhanced, g.Context, g.Text)
				}
				t.Fatalf("found %d replies, want %d", len(got), len(s.want))
			}
			for i, w := range s.want {
				g := got[i]
				if g.Code != w.code || g.Enhanced != w.enh || g.Context != w.ctx || !strings.Contains(g.Text, w.contains) {
					t.Errorf("reply %d = %d %q %s %q; want %d %q %s containing %q", i, g.Code, g.Enhanced, g.Context, g.Text, w.code, w.enh, w.ctx, w.contains)
				}
				if strings.Contains(g.Text, "550-5.1.1") || strings.Contains(g.Text, "\n") {
					t.Errorf("reply %d text keeps continuation prefixes or line breaks: %q", i, g.Text)
				}
			}
		})
	}
}

// TestFindRepliesSamplesCRLF: the same samples with CRLF line ends give
// the same replies.
func TestFindRepliesSamplesCRLF(t *testing.T) {
	for _, s := range logSamples {
		text := readLog(t, s.file)
		crlf := strings.ReplaceAll(text, "\n", "\r\n")
		a, b := FindReplies(text), FindReplies(crlf)
		checkInvariants(t, crlf, b)
		if len(a) != len(b) {
			t.Errorf("%s: %d replies with LF, %d with CRLF", s.file, len(a), len(b))
			continue
		}
		for i := range a {
			if a[i].Code != b[i].Code || a[i].Enhanced != b[i].Enhanced || a[i].Context != b[i].Context || a[i].Text != b[i].Text {
				t.Errorf("%s reply %d differs: %+v vs %+v", s.file, i, a[i], b[i])
			}
		}
	}
}

// checkInvariants holds for every input: offsets in range and ordered,
// codes within the reply-code grammar, the span starting with the code.
func checkInvariants(t testing.TB, text string, got []Found) {
	t.Helper()
	prevEnd := 0
	for i, g := range got {
		if g.Start < prevEnd || g.Start > g.End || g.End > len(text) {
			t.Fatalf("reply %d: bad offsets %d..%d (previous end %d, len %d)", i, g.Start, g.End, prevEnd, len(text))
		}
		prevEnd = g.End
		if g.Code < 200 || g.Code > 599 {
			t.Fatalf("reply %d: code %d out of range", i, g.Code)
		}
		span := text[g.Start:g.End]
		if g.Inferred {
			if !strings.HasPrefix(span, g.Enhanced) || g.Enhanced == "" {
				t.Fatalf("reply %d: inferred reply span %q does not start with %q", i, span, g.Enhanced)
			}
			continue
		}
		if !strings.HasPrefix(span, itoa3(g.Code)) {
			t.Fatalf("reply %d: span %q does not start with its code %d", i, span, g.Code)
		}
		if g.Enhanced != "" && g.Enhanced[0] != itoa3(g.Code)[0] {
			t.Fatalf("reply %d: enhanced %q disagrees with code %d", i, g.Enhanced, g.Code)
		}
	}
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func TestFindRepliesLines(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []want
	}{
		{"issue example", `status=bounced (host mx.example.net[192.0.2.7] said: 550 5.1.1 <a@example.net>: Recipient address rejected: User unknown ...)`,
			[]want{{550, "5.1.1", none, "User unknown ..."}}},
		{"in reply to MAIL FROM", `said: 553 5.7.1 <a@b>: Sender address rejected: not logged in (in reply to MAIL FROM command)`,
			[]want{{553, "5.7.1", MAIL, "not logged in"}}},
		{"in reply to end of DATA", `said: 554 5.7.1 rejected (in reply to end of DATA command)`,
			[]want{{554, "5.7.1", DATA, "rejected"}}},
		{"in reply to EHLO", `said: 501 5.5.2 bad hostname (in reply to EHLO command)`,
			[]want{{501, "5.5.2", EHLO, "bad hostname"}}},
		{"said without enhanced code", `host mx[192.0.2.1] said: 550 Unknown user (in reply to RCPT TO command)`,
			[]want{{550, "", RCPT, "Unknown user"}}},
		{"in reply to an unknown command", `said: 500 5.5.2 Error: command not recognized (in reply to XYZZY command)`,
			[]want{{500, "5.5.2", Unknown, "command not recognized"}}},
		{"exim after MAIL FROM", `SMTP error from remote mail server after MAIL FROM:<a@b> SIZE=1234: 550 5.7.1 go away`,
			[]want{{550, "5.7.1", MAIL, "go away"}}},
		{"exim bounce on next line", "    SMTP error from remote mail server after RCPT TO:<a@b>:\n    550 5.1.1 <a@b>: no such user\n",
			[]want{{550, "5.1.1", RCPT, "no such user"}}},
		{"exim indented multi-line reply", "    SMTP error from remote mail server after RCPT TO:<a@b>:\n    550-5.1.1 no such\n    550 5.1.1 user here\n",
			[]want{{550, "5.1.1", RCPT, "no such user here"}}},
		{"exim for RCPT TO command", `2026-11-28 10:00:01 1abc-0001 ** a@example.net R=dnslookup T=remote_smtp: SMTP error from remote server for RCPT TO command, host: mx.example.net (192.0.2.7) reason: 550-5.1.1 The email account that you tried to reach does not exist. 550 5.1.1 Please try double-checking`,
			[]want{{550, "5.1.1", RCPT, "does not exist. Please try"}}},
		{"exim for MAIL FROM command", `SMTP error from remote mail server for MAIL FROM command, host: mx.example.net [192.0.2.7]: reason: 553 sender refused`,
			[]want{{553, "", MAIL, "sender refused"}}},
		{"opensmtpd failed-command", `Nov 28 10:00:00 mx smtpd[812]: 3c1f2a9d smtp failed-command command="RCPT TO:<x@example.net>" result="550 Invalid recipient: <x@example.net>"`,
			[]want{{550, "", RCPT, "Invalid recipient: <x@example.net>"}}},
		{"opensmtpd failed-command MAIL", `smtpd[812]: 3c1f2a9d smtp failed-command command="MAIL FROM:<a@b> " result="553 5.1.7 Sender address syntax error"`,
			[]want{{553, "5.1.7", MAIL, "Sender address syntax error"}}},
		{"opensmtpd delivery stat", `smtpd[812]: 5e0e1d2a mta delivery evpid=0123 from=<a@b> to=<c@example.net> rcpt=<-> source="192.0.2.1" relay="mx.example.net" delay=1s result="PermFail" stat="550 5.1.1 <c@example.net>: Recipient address rejected"`,
			[]want{{550, "5.1.1", none, "Recipient address rejected"}}},
		{"exim bounce, then another reply", "    SMTP error from remote mail server after RCPT TO:<a@b>:\n    550 5.1.1 first\n550 5.1.1 second\n",
			[]want{{550, "5.1.1", RCPT, "first"}, {550, "5.1.1", none, "second"}}},
		{"postfix bounce wrapped, then a transcript line", "<a@b>: host mx[192.0.2.1] said: 550 5.1.1\n    no such user (in reply to RCPT TO command)\n<<< 451 4.3.0 later\n",
			[]want{{550, "5.1.1", RCPT, "no such user"}, {451, "4.3.0", Greeting, "later"}}},
		{"sendmail reply=", `4ASB: to=<a@b>, reply=451 4.3.0 Temporary lookup failure, stat=Deferred`,
			[]want{{451, "4.3.0", none, "Temporary lookup failure"}}},
		{"sendmail dsn only", `to=<a@b>, dsn=5.1.1, stat=User unknown`,
			[]want{{550, "5.1.1", none, "User unknown"}}},
		{"postfix smtpd END-OF-MESSAGE", `NOQUEUE: reject: END-OF-MESSAGE from x[192.0.2.1]: 550 5.7.1 spam; from=<a@b> to=<c@d>`,
			[]want{{550, "5.7.1", DATA, "spam"}}},
		{"postfix smtpd CONNECT", `reject: CONNECT from x[192.0.2.1]: 554 5.7.1 <x[192.0.2.1]>: Client host rejected: Access denied; proto=SMTP`,
			[]want{{554, "5.7.1", Greeting, "Client host rejected"}}},
		{"postfix smtpd VRFY", `NOQUEUE: reject: VRFY from x[192.0.2.1]: 550 5.1.1 <zz>: Recipient address rejected: User unknown; to=<zz>`,
			[]want{{550, "5.1.1", VRFY, "User unknown"}}},
		{"S: C: transcript", "S: 220 mx.example.net ESMTP\nC: EHLO me.example\nS: 250-mx.example.net\nS: 250 SIZE 1000\nC: MAIL FROM:<a@b>\nS: 250 OK\n",
			[]want{{220, "", Greeting, "ESMTP"}, {250, "", EHLO, "SIZE 1000"}, {250, "", MAIL, "OK"}}},
		{">>> <<< transcript", "... while talking to mx.example.net.:\n>>> RCPT To:<bob@example.net>\n<<< 550 5.1.1 <bob@example.net>... User unknown\n550 5.1.1 bob@example.net... User unknown\n",
			[]want{{550, "5.1.1", RCPT, "User unknown"}, {550, "5.1.1", RCPT, "User unknown"}}},
		{"raw transcript", "220 mx ESMTP\nEHLO me\n250-mx\n250 HELP\nMAIL FROM:<a@b>\n250 2.1.0 Ok\nRCPT TO:<c@d>\n550-5.1.1 no\n550 5.1.1 such user\n",
			[]want{{220, "", Greeting, "ESMTP"}, {250, "", EHLO, "mx HELP"}, {250, "2.1.0", MAIL, "Ok"}, {550, "5.1.1", RCPT, "no such user"}}},
		{"PHPMailer debug", "2026-11-28 12:00:00 SERVER -> CLIENT: 220 mx.example.net ESMTP\n2026-11-28 12:00:00 CLIENT -> SERVER: EHLO web01\n2026-11-28 12:00:00 SERVER -> CLIENT: 250-mx.example.net\n2026-11-28 12:00:00 SERVER -> CLIENT: 250 8BITMIME\n2026-11-28 12:00:01 CLIENT -> SERVER: MAIL FROM:<www-data@web01>\n2026-11-28 12:00:01 SERVER -> CLIENT: 553 5.7.1 <www-data@web01>: Sender address rejected: not logged in\n",
			[]want{{220, "", Greeting, "ESMTP"}, {250, "", EHLO, "8BITMIME"}, {553, "5.7.1", MAIL, "not logged in"}}},
		{"curl verbose", "< 220 mx ESMTP\n> EHLO me\n< 250 mx\n> RCPT TO:<a@b>\n< 550 5.1.1 no\n",
			[]want{{220, "", Greeting, "ESMTP"}, {250, "", EHLO, "mx"}, {550, "5.1.1", RCPT, "no"}}},
		{"quoted mail text is not a transcript", "> Hello, see below\n> thanks\n550 5.1.1 no such user\n",
			[]want{{550, "5.1.1", none, "no such user"}}},
		{"python smtplib", `smtplib.SMTPRecipientsRefused: {'nobody@example.net': (550, b'5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in local recipient table')}`,
			[]want{{550, "5.1.1", RCPT, "User unknown in local recipient table"}}},
		{"python smtplib multi-line", `smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted. For more information, go to\n5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm123 - gsmtp')`,
			[]want{{535, "5.7.8", AUTH, "not accepted. For more information, go to https://support.google.com"}}},
		{"bare reply line", "550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org\n",
			[]want{{550, "5.7.1", none, "blocked using"}}},
		{"multi-line without enhanced code", "<- 250-first\n<- 250-second\n<- 250 third\n",
			[]want{{250, "", Greeting, "first second third"}}},
		{"qmail trailing code", "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\n",
			[]want{{553, "5.7.1", none, "rcpthosts"}}},
		{"class mismatch kept out of Enhanced", "250 5.1.1 odd\n",
			[]want{{250, "", none, "5.1.1 odd"}}},
		{"DSN status with no diagnostic", "Action: failed\nStatus: 4.4.1\nDiagnostic-Code: X-Postfix; connect timed out\n",
			[]want{{450, "4.4.1", none, ""}}},
		{"Exchange 2010 NDR", "Remote Server returned '< #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found>'",
			[]want{{550, "5.1.1", none, "not found"}}},
		{"two replies on one line", "first 550 5.1.1 no such user; then 451 4.3.0 try later",
			[]want{{550, "5.1.1", none, "no such user; then 451 4.3.0 try later"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := FindReplies(c.text)
			checkInvariants(t, c.text, got)
			if len(got) != len(c.want) {
				t.Fatalf("FindReplies(%q) = %+v, want %d replies", c.text, got, len(c.want))
			}
			for i, w := range c.want {
				g := got[i]
				if g.Code != w.code || g.Enhanced != w.enh || g.Context != w.ctx || !strings.Contains(g.Text, w.contains) {
					t.Errorf("reply %d = %d %q %s %q; want %d %q %s containing %q", i, g.Code, g.Enhanced, g.Context, g.Text, w.code, w.enh, w.ctx, w.contains)
				}
			}
		})
	}
}

// TestFindRepliesNoFalsePositives: numbers that are not replies.
func TestFindRepliesNoFalsePositives(t *testing.T) {
	for _, text := range []string{
		"Nov 28 12:00:01 mx postfix/smtpd[550]: connect from unknown[192.0.2.250]",
		"size=550, nrcpt=1 (queue active)",
		"connect to 192.0.2.7:250: Connection refused",
		"2026-05-05 12:55:01 listening on port 587",
		"250",
		"550\n421\n",
		"version 5.1.1 released",
		"HTTP/1.1\" 200 5120",
		"delays=0.1/0/250/0.5, dsn=2.0.0, status=sent (delivered to mailbox)",
		"uptime 452 days, load 2.50 4.21 5.50",
		"pid=421 port=25 elapsed=550ms",
		"the IP 203.0.113.250 and 250.1.1.1",
		"build 250 5.1.1 of the tool",
		"Subject: 550 ways to cook",
		"",
		"\x00\xff\xfe",
	} {
		if got := FindReplies(text); len(got) != 0 {
			t.Errorf("FindReplies(%q) = %+v, want none", text, got)
		}
	}
}

// TestFindRepliesLargeInput: a log of several megabytes is searched to
// its end; a multi-line reply and a reply whose context is on the line
// before both survive the window moving along.
func TestFindRepliesLargeInput(t *testing.T) {
	filler := "Nov 28 10:00:00 mx postfix/qmgr[123]: 4F2A1: removed\n"
	var sb strings.Builder
	for sb.Len() < 3<<20 {
		sb.WriteString(filler)
	}
	sb.WriteString("2026-11-28 10:00:01 1abc-0001 ** a@example.net R=dnslookup T=remote_smtp: SMTP error from remote mail server after RCPT TO:<a@example.net>:\n")
	sb.WriteString("    550-5.1.1 first line\n    550 5.1.1 second line\n")
	sb.WriteString(strings.Repeat(filler, 10))
	sb.WriteString("status=bounced (host mx.example.net[192.0.2.7] said: 552 5.2.2 Mailbox full (in reply to RCPT TO command))\n")
	text := sb.String()
	got := FindReplies(text)
	checkInvariants(t, text, got)
	if len(got) != 2 {
		t.Fatalf("found %+v, want 2 replies", got)
	}
	if g := got[0]; g.Code != 550 || g.Context != RCPT || g.Text != "first line second line" || g.Raw != text[g.Start:g.End] {
		t.Errorf("first reply = %+v", g)
	}
	if g := got[1]; g.Code != 552 || g.Enhanced != "5.2.2" || g.Context != RCPT || g.End < len(text)-40 {
		t.Errorf("last reply = %+v", g)
	}
}

// TestReplyScannerLines: the scanner hands out every line once, numbered,
// with each reply on the line it ends on, also for a line longer than
// MaxLineLen.
func TestReplyScannerLines(t *testing.T) {
	long := strings.Repeat("x", MaxLineLen+10)
	text := "<- 250-a\n<- 250 b\r\n" + long + "\nsaid: 550 5.1.1 c\nlast"
	sc := NewReplyScanner(strings.NewReader(text))
	var lines []Line
	for sc.Scan() {
		lines = append(lines, sc.Line())
	}
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want 6 (the long line in two pieces)", len(lines))
	}
	var rebuilt strings.Builder
	for i, l := range lines {
		rebuilt.WriteString(l.Text)
		if !l.Continued {
			rebuilt.WriteString("\n")
		}
		if want := []int{1, 2, 3, 3, 4, 5}[i]; l.Number != want {
			t.Errorf("line %d numbered %d, want %d", i, l.Number, want)
		}
	}
	if strings.ReplaceAll(text, "\r", "")+"\n" != rebuilt.String() {
		t.Errorf("lines do not rebuild the input")
	}
	if len(lines[0].Replies) != 0 || len(lines[1].Replies) != 1 || lines[1].Replies[0].Raw != "250-a\n<- 250 b" {
		t.Errorf("multi-line reply not on its last line: %+v %+v", lines[0].Replies, lines[1].Replies)
	}
	if len(lines[4].Replies) != 1 || lines[4].Replies[0].Code != 550 {
		t.Errorf("line 4 replies = %+v", lines[4].Replies)
	}
}

// errReader fails after its text.
type errReader struct{ r io.Reader }

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestReplyScannerReadError(t *testing.T) {
	sc := NewReplyScanner(errReader{strings.NewReader("said: 550 x\n")})
	n := 0
	for sc.Scan() {
		n++
	}
	if n != 1 || sc.Err() == nil || !strings.Contains(sc.Err().Error(), "disk on fire") {
		t.Errorf("lines %d, err %v", n, sc.Err())
	}
}

func TestFindRepliesCapsCount(t *testing.T) {
	text := strings.Repeat("550 x\n", maxFound+500)
	if got := FindReplies(text); len(got) != maxFound {
		t.Errorf("found %d replies, want the cap %d", len(got), maxFound)
	}
}

// TestFindThenRecognize: replies found in the samples are recognised.
func TestFindThenRecognize(t *testing.T) {
	text := readLog(t, "postfix-maillog.txt")
	var sources []string
	for _, f := range FindReplies(text) {
		r := Recognize(f.Code, f.Enhanced, f.Text)
		if r == nil {
			sources = append(sources, "-")
			continue
		}
		sources = append(sources, r.Source)
	}
	want := []string{"Spamhaus", "Postfix", "Postfix", "Postfix", "Postfix", "Gmail", "Gmail", "Postfix", "Greylisting", "Yahoo", "Microsoft 365"}
	if strings.Join(sources, ",") != strings.Join(want, ",") {
		t.Errorf("sources = %v, want %v", sources, want)
	}
}

func BenchmarkFindReplies(b *testing.B) {
	var sb strings.Builder
	for _, s := range logSamples {
		sb.WriteString(readLog(b, s.file))
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		FindReplies(text)
	}
}

// BenchmarkFindRepliesLarge measures 16 MiB of log lines.
func BenchmarkFindRepliesLarge(b *testing.B) {
	text := readLog(b, "postfix-maillog.txt")
	text = strings.Repeat(text, 16<<20/len(text)+1)[:16<<20]
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		FindReplies(text)
	}
}

// BenchmarkFindRepliesAdversarial: inputs built to make a careless finder
// quadratic (many introducers or candidates on one line, long paragraphs
// of Status fields, endless continuation lines, unbalanced parentheses).
func BenchmarkFindRepliesAdversarial(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"introducers", strings.Repeat("said: 5 ", 20000)},
		{"pairs", strings.Repeat("x 550 5.1.1", 20000)},
		{"exim", strings.Repeat("SMTP error from remote mail server after ", 5000)},
		{"status", strings.Repeat("Status: 5.1.1\n", 20000)},
		{"continuation", "said: 550 x\n" + strings.Repeat("  y\n", 200000)},
		{"multiline", strings.Repeat("<- 550-x\n", 100000)},
		{"parens", "said: 550 x" + strings.Repeat(")", 200000)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			for i := 0; i < b.N; i++ {
				FindReplies(c.text)
			}
		})
	}
}
