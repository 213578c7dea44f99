package explain

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRecognizerTableCompiles(t *testing.T) {
	rows, err := compileRecognizers(recognizerTables)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rows {
		r := c.row
		if err := checkRecognizer(r); err != nil {
			t.Error(err)
		}
		if r.fix == "" || r.ref == "" {
			t.Errorf("%s %q %q: every row needs a fix and a ref", r.source, r.codes, r.words)
		}
		if c.spec.enhanced == 0 && c.spec.groups == 0 {
			t.Errorf("%s %q: a row with neither enhanced code nor words matches too much", r.source, r.codes)
		}
	}
}

// checkRecognizer compiles a row and its word patterns, which the
// package compiles only when first needed.
func checkRecognizer(r recognizer) error {
	c, err := compileRecognizer(r)
	if err != nil {
		return err
	}
	if c.words != nil {
		for _, w := range c.words.src {
			if _, err := regexp.Compile(w); err != nil {
				return fmt.Errorf("%s %q: %w", r.source, r.words, err)
			}
		}
	}
	return nil
}

func TestCompileRecognizerRejectsBadRows(t *testing.T) {
	for _, r := range []recognizer{
		{source: "x", reason: "y", codes: "650"},
		{source: "x", reason: "y", codes: "5x"},
		{source: "x", reason: "y", enhanced: "5.7"},
		{source: "x", reason: "y", enhanced: "3.7.1"},
		{source: "x", reason: "y", enhanced: "5.7.9-1"},
		{source: "x", reason: "y", words: `(`},
		{source: "x", reason: "y"},
		{reason: "y", codes: "550"},
	} {
		if err := checkRecognizer(r); err == nil {
			t.Errorf("compileRecognizer(%+v) accepted a bad row", r)
		}
	}
}

func TestRecognizeCases(t *testing.T) {
	for _, c := range allRecognizeCases() {
		r := Recognize(c.code, c.enh, c.text)
		if r == nil {
			t.Errorf("Recognize(%d, %q, %q) = nil, want %s", c.code, c.enh, c.text, c.source)
			continue
		}
		if r.Source != c.source {
			t.Errorf("Recognize(%d, %q, %q).Source = %q, want %q (reason: %s)", c.code, c.enh, c.text, r.Source, c.source, r.Reason)
		}
		if r.Reason == "" || r.Fix == "" {
			t.Errorf("Recognize(%d, %q, %q): empty reason or fix", c.code, c.enh, c.text)
		}
	}
}

// TestEveryRowHasAPositiveCase checks that each table row wins for at least
// one case: a row no case reaches is either dead or shadowed by another.
func TestEveryRowHasAPositiveCase(t *testing.T) {
	won := make(map[int]bool)
	for _, c := range allRecognizeCases() {
		if best, _ := recognize(c.code, c.enh, c.text); best != nil {
			won[best.id] = true
		}
	}
	for _, c := range stagedCases {
		if best := matchReply(c.code, c.enh, c.text, c.cmd).best; best != nil {
			won[best.id] = true
		}
	}
	for i := range recognizerSet().all {
		c := &recognizerSet().all[i]
		if c.tmpl != nil {
			continue // catalogue rows: TestCatalogueRowsRecognised
		}
		if !won[c.id] {
			t.Errorf("row %d (%s %q %q %q) wins for no case", i, c.row.source, c.row.codes, c.row.enhanced, c.row.words)
		}
	}
}

// TestRecognizeNearMisses: replies that share a code or some words with a
// row but are not that situation.
func TestRecognizeNearMisses(t *testing.T) {
	for _, c := range []struct {
		code       int
		enh, text  string
		notSource  string // the source it must not be attributed to ("" = must be nil)
		notContain string // a word the reason must not contain
	}{
		{550, "5.1.1", "Mailbox does not exist", "", ""},
		{550, "5.1.10", "<a@null.example>: Recipient address rejected: Domain null.example does not accept mail (nullMX)", srcM365, ""},
		{550, "5.7.26", "Message rejected", "", ""},
		{250, "2.1.5", "Ok", srcGmail, ""}, // Postfix's stock text
		{421, "4.3.0", "Temporary Error", srcGmail, ""},
		{501, "5.5.2", "Syntax error in parameters scanning \"to\"", srcGmail, ""},
		{550, "5.2.2", "Mailbox full", srcExchange, ""},
		{550, "5.7.1", "Message rejected due to content", "", ""},
		{552, "5.2.2", "Quota exceeded for alice", "", ""},
		{550, "", "Unrouteable address", "", ""}, // Exim: must match
		{554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", "", "PBL"},
		{450, "4.7.1", "Client host rejected: cannot find your reverse hostname, [192.0.2.1]", srcGmail, ""},
		{550, "5.7.606", "Access denied", srcGmail, ""},
		{421, "4.7.0", "Too many concurrent SMTP connections; please try again later.", srcGmail, ""},
		{550, "5.1.1", "User unknown", srcSendmail, ""},
		{550, "5.1.1", "<a@b>: unknown user", srcExim, ""},
		{550, "5.7.1", "Access denied", srcSendmail, ""},
		{451, "", "Temporary failure, please try again later", srcOpenSMTPD, ""},
		{535, "5.7.8", "Authentication credentials invalid", srcPostfix, ""},
	} {
		r := Recognize(c.code, c.enh, c.text)
		switch {
		case c.notSource == "" && c.notContain == "" && r != nil && c.text != "Unrouteable address":
			t.Errorf("Recognize(%d, %q, %q) = %s (%s), want nil", c.code, c.enh, c.text, r.Source, r.Reason)
		case c.notSource != "" && r != nil && r.Source == c.notSource:
			t.Errorf("Recognize(%d, %q, %q) attributed to %s: %s", c.code, c.enh, c.text, r.Source, r.Reason)
		case c.notContain != "" && (r == nil || strings.Contains(r.Reason, c.notContain) && !strings.Contains(r.Reason, "combines")):
			t.Errorf("Recognize(%d, %q, %q) = %+v, must not claim %s", c.code, c.enh, c.text, r, c.notContain)
		}
	}
	if r := Recognize(550, "", "Unrouteable address"); r == nil || r.Source != srcExim {
		t.Errorf("Exim's Unrouteable address not recognised: %+v", r)
	}
}

// TestRecognizeRewordings: the same software, other words, same row.
func TestRecognizeRewordings(t *testing.T) {
	for _, c := range []struct {
		source, reasonWord string
		code               int
		enh, a, b          string
	}{
		{srcGmail, "DMARC", 550, "5.7.26",
			"Unauthenticated email from example.com is not accepted due to domain's DMARC policy.",
			"This message was rejected because example.com's DMARC policy says so; unauthenticated mail is refused. - gsmtp"},
		{srcGmail, "no Gmail", 550, "5.1.1",
			"The email account that you tried to reach does not exist.",
			"The account you tried to reach does not exist; see https://support.google.com/mail/?p=NoSuchUser"},
		{srcPostfix, "local user", 550, "5.1.1",
			"<a@example.net>: Recipient address rejected: User unknown in local recipient table",
			"<A@EXAMPLE.NET>: recipient address REJECTED: user unknown in local recipient table; see admin"},
		{srcPostfix, "MX, A or AAAA", 450, "4.1.8",
			"<a@x.example>: Sender address rejected: Domain not found",
			"<a@x.example>: Sender address rejected: domain not found (DNS said NXDOMAIN)"},
		{srcM365, "block list", 550, "5.7.641",
			"Access denied, banned sending IP [192.0.2.1].",
			"Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. (AS3140)"},
		{srcYahoo, "temporarily defers", 421, "4.7.0",
			"[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints",
			"[TSS04] Msgs temporarily deferred due to user complaints - 4.16.55.1"},
		{srcSpamhaus, "XBL", 550, "5.7.1",
			"Service unavailable; Client host [192.0.2.1] blocked using xbl.spamhaus.org",
			"Rejected: 192.0.2.1 listed at xbl.spamhaus.org"},
		{srcExim, "no router", 550, "",
			"Unrouteable address",
			"unrouteable address (verify failed)"},
		{srcSendmail, "no local user", 550, "5.1.1",
			"<kijitora@example.com>... User unknown",
			"<KIJITORA@example.com>... user unknown"},
		{srcQmail, "does not relay", 553, "",
			"sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
			"sorry, that domain isn't in my list of allowed rcpthosts; no valid cert for gatewaying (#5.7.1)"},
	} {
		for _, text := range []string{c.a, c.b} {
			r := Recognize(c.code, c.enh, text)
			if r == nil || r.Source != c.source || !strings.Contains(r.Reason, c.reasonWord) {
				t.Errorf("Recognize(%d, %q, %q) = %+v, want %s mentioning %q", c.code, c.enh, text, r, c.source, c.reasonWord)
			}
		}
	}
}

// TestRecognizeSpecificity pins the tie-break rule.
func TestRecognizeSpecificity(t *testing.T) {
	pick := func(rows []recognizer, code int, enh, text string) string {
		t.Helper()
		cs, err := compileRecognizers([][]recognizer{rows})
		if err != nil {
			t.Fatal(err)
		}
		e, has := parseEnhanced(enh)
		best, _ := bestOf(cs, code, e, has, strings.ToLower(text))
		if best == nil {
			return ""
		}
		return best.row.source
	}
	for _, c := range []struct {
		name string
		rows []recognizer
		want string
	}{
		{"exact enhanced beats range", []recognizer{
			{source: "range", reason: "r", enhanced: "5.7.600-700", words: `access denied`},
			{source: "exact", reason: "r", enhanced: "5.7.606", words: `ip`},
		}, "exact"},
		{"enhanced beats none", []recognizer{
			{source: "none", reason: "r", codes: "550", words: `access denied && banned`},
			{source: "range", reason: "r", enhanced: "5.7.600-700"},
		}, "range"},
		{"exact code beats class", []recognizer{
			{source: "class", reason: "r", codes: "5xx", words: `access`},
			{source: "exact", reason: "r", codes: "550", words: `access`},
		}, "exact"},
		{"more word groups win", []recognizer{
			{source: "one", reason: "r", codes: "550", words: `access denied, banned sending ip`},
			{source: "two", reason: "r", codes: "550", words: `access && banned`},
		}, "two"},
		{"longer words win", []recognizer{
			{source: "short", reason: "r", codes: "550", words: `banned`},
			{source: "long", reason: "r", codes: "550", words: `banned sending`},
		}, "long"},
		{"first row wins a tie", []recognizer{
			{source: "first", reason: "r", codes: "550", words: `banned`},
			{source: "second", reason: "r", codes: "550", words: `denied`},
		}, "first"},
		{"template loses to the list it reports", []recognizer{
			{source: "template", reason: "r", codes: "550", enhanced: "5.7.606", words: `access && denied && banned`, template: true},
			{source: "list", reason: "r", words: `banned`},
		}, "list"},
	} {
		if got := pick(c.rows, 550, "5.7.606", "Access denied, banned sending IP"); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRecognizeIANAMeaning(t *testing.T) {
	for _, c := range []struct {
		code       int
		enh, text  string
		ianaPrefix string
	}{
		{550, "5.7.27", "This message was blocked because it didn't pass SPF authentication. - gsmtp", "X.7.27"},
		{421, "4.7.30", "Your email has been rate limited because DKIM authentication didn't pass. - gsmtp", "X.7.30"},
		{421, "4.7.29", "Your email has been rate limited because this message wasn't sent over a TLS connection. - gsmtp", "X.7.29"},
		{550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "X.1.10"},
		{554, "5.2.2", "Submission quota exceeded", "X.2.2"},
		{550, "5.7.12", "Sender was not authenticated by organization", "X.7.12"},
	} {
		r := Recognize(c.code, c.enh, c.text)
		if r == nil || !strings.HasPrefix(r.IANAMeaning, c.ianaPrefix) {
			t.Errorf("Recognize(%d, %q, %q) = %+v, want IANAMeaning %s…", c.code, c.enh, c.text, r, c.ianaPrefix)
		}
	}
	// A provider that uses the code as registered gets no IANA note.
	if r := Recognize(550, "5.7.27", "<a@null.example>: Sender address rejected: Domain null.example does not accept mail (nullMX)"); r == nil || r.Source != srcPostfix || r.IANAMeaning != "" {
		t.Errorf("Postfix nullMX: %+v", r)
	}
}

func TestRecognizeVia(t *testing.T) {
	r := Recognize(554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1")
	if r == nil || r.Source != srcSpamhaus || r.Via != srcPostfix {
		t.Errorf("Spamhaus via Postfix: %+v", r)
	}
	r = Recognize(550, "5.7.1", "Rejected: 192.0.2.1 listed at zen.spamhaus.org")
	if r == nil || r.Source != srcSpamhaus || r.Via != srcSendmail {
		t.Errorf("Spamhaus via Sendmail: %+v", r)
	}
	r = Recognize(553, "5.7.1", "[BL23] Connections not accepted from IP addresses on Spamhaus XBL; see http://postmaster.yahoo.com/errors/550-bl23.html [550]")
	if r == nil || r.Source != srcSpamhaus || r.Via != srcYahoo || !strings.Contains(r.Reason, "XBL") {
		t.Errorf("Spamhaus XBL via Yahoo: %+v", r)
	}
	r = Recognize(553, "", "http://www.spamhaus.org/query/bl?ip=192.0.2.1")
	if r == nil || r.Source != srcSpamhaus || r.Via != "" {
		t.Errorf("Spamhaus URL only: %+v", r)
	}
	r = Recognize(554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using rbl.example.net")
	if r == nil || r.Source != srcPostfix || r.Via != "" {
		t.Errorf("unknown list via Postfix: %+v", r)
	}
}

func TestRecognizeFoldedMultiline(t *testing.T) {
	// As Postfix logs a Gmail multi-line reply: every line's prefix kept.
	text := "The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser d2si - gsmtp"
	if r := Recognize(550, "5.1.1", text); r == nil || r.Source != srcGmail {
		t.Errorf("folded Gmail reply: %+v", r)
	}
	text = "Unauthenticated email from example.com is not accepted due to 550-5.7.26 domain's DMARC policy. - gsmtp"
	if r := Recognize(550, "5.7.26", text); r == nil || !strings.Contains(r.Reason, "DMARC") {
		t.Errorf("folded DMARC reply: %+v", r)
	}
}

func TestRecognizeEnhancedLeftInText(t *testing.T) {
	r := Recognize(550, "", "5.1.1 <a@example.net>: Recipient address rejected: User unknown in local recipient table")
	if r == nil || r.Source != srcPostfix {
		t.Errorf("enhanced code left at the start of the text: %+v", r)
	}
	// A class that disagrees with the basic code is not taken.
	if r := Recognize(250, "", "5.1.1 <a@example.net>: Recipient address rejected: User unknown in local recipient table"); r != nil {
		t.Errorf("class mismatch recognised: %+v", r)
	}
}

func TestRecognizeOddInput(t *testing.T) {
	for _, c := range []struct {
		code      int
		enh, text string
	}{
		{0, "", ""}, {-1, "x.y.z", "\x00\xff"}, {999, "5.7.", "spamhaus"}, {550, "5.7.99999", "access denied"},
		{550, "", strings.Repeat("spamhaus ", 100000)},
	} {
		_ = Recognize(c.code, c.enh, c.text) // must not panic
	}
	if r := Recognize(0, "", "mx.google.com at your service - gsmtp"); r == nil || r.Source != srcGmail {
		t.Errorf("a row without a code constraint should still match text alone: %+v", r)
	}
	if r := Recognize(250, "", "OK, checked against zen.spamhaus.org"); r != nil {
		t.Errorf("a blocklist named in a success reply is not a listing: %+v", r)
	}
}

func BenchmarkRecognize(b *testing.B) {
	cases := allRecognizeCases()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := cases[i%len(cases)]
		Recognize(c.code, c.enh, c.text)
	}
}

func ExampleRecognize() {
	r := Recognize(554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/pbl/query/PBL123")
	fmt.Println(r.Source, "via", r.Via)
	// Output: Spamhaus via Postfix
}

func TestRecognizerSources(t *testing.T) {
	got := strings.Join(RecognizerSources(), ",")
	for _, want := range []string{"Gmail", "Microsoft 365", "Microsoft Exchange", "Outlook.com", "Yahoo", "Spamhaus", "Barracuda", "SpamCop", "Postfix", "Exim", "Sendmail", "OpenSMTPD", "qmail"} {
		if !strings.Contains(","+got+",", ","+want+",") {
			t.Errorf("RecognizerSources() = %s, missing %s", got, want)
		}
	}
}

// TestRecognizeGmailSpecific: Gmail's most common refusals get their own
// row, not only the "gsmtp" mark that says who is speaking.
func TestRecognizeGmailSpecific(t *testing.T) {
	for _, c := range []struct {
		code      int
		enh, text string
		reason    string
	}{
		{550, "5.7.1", "[192.0.2.1] The IP you're using to send mail is not authorized to send email directly to our servers. Please use the SMTP relay at your service provider instead. - gsmtp", "straight from this IP"},
		{421, "4.7.0", "[192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp", "unusual rate of spam"},
		{550, "5.7.1", "[192.0.2.1] Our system has detected that this message is likely unsolicited mail. - gsmtp", "classed this message as spam"},
		{550, "5.7.25", "[192.0.2.1] The IP address sending this message does not have a PTR record setup. - gsmtp", "no PTR record"},
	} {
		best, _ := recognize(c.code, c.enh, c.text)
		if best == nil || best.row.template || best.row.source != srcGmail || !strings.Contains(best.row.reason, c.reason) {
			t.Errorf("%d %s %q: row %+v, want Gmail's own row saying %q", c.code, c.enh, c.text, best, c.reason)
		}
	}
}

// stagedCases are replies read differently by the command they answer.
var stagedCases = []struct {
	recognizeCase
	cmd Command
}{
	{recognizeCase{"Exim", 550, "", "Administrative prohibition"}, EXPN},
}

// TestRecognizeAtStage: a row written for one command is used for that
// command only, and beats the general row of the same server there.
func TestRecognizeAtStage(t *testing.T) {
	for _, c := range stagedCases {
		at := RecognizeAt(c.code, c.enh, c.text, c.cmd)
		general := RecognizeAt(c.code, c.enh, c.text, RCPT)
		if at == nil || general == nil || at.Source != c.source || general.Source != c.source {
			t.Fatalf("%d %s: %+v at %s, %+v at RCPT; want %s both", c.code, c.text, at, c.cmd, general, c.source)
		}
		if at.Reason == general.Reason {
			t.Errorf("%d %s: the same reading at %s and at RCPT: %s", c.code, c.text, c.cmd, at.Reason)
		}
		if none := Recognize(c.code, c.enh, c.text); none.Reason != general.Reason {
			t.Errorf("%d %s: with no command the %s reading was used: %s", c.code, c.text, c.cmd, none.Reason)
		}
	}
	if r := RecognizeAt(550, "", "Administrative prohibition", EXPN); r == nil || r.Knob != "acl_smtp_expn" {
		t.Errorf("Exim's EXPN refusal names knob %v, want acl_smtp_expn", r)
	}
}

// TestRecognizedReadingCitesItsSection: when a recognised reading replaces
// the context's, the references lead with the recognizer's section and
// drop those the replaced reading cited (Sendmail's unbalanced bracket is
// RFC 5321 §4.1.2, not the SMTPUTF8 section a 553 to MAIL may be about).
func TestRecognizedReadingCitesItsSection(t *testing.T) {
	e := Explain(553, "5.1.0", "<a@b... Unbalanced '<'", MAIL)
	if len(e.Refs) == 0 || e.Refs[0] != "RFC 5321 §4.1.2" || slices.Contains(e.Refs, "RFC 6531 §3.5") {
		t.Errorf("refs %v; want RFC 5321 §4.1.2 first and no RFC 6531 §3.5", e.Refs)
	}
}

// OpenSMTPD 6.8 answers an unknown ESMTP parameter with 503 5.5.4: the
// reading after MAIL and RCPT says the parameter is the problem, not the
// order of the commands, as the 503 alone would.
func TestOpenSMTPDUnsupportedOptionIsNoSequenceError(t *testing.T) {
	for _, cmd := range []Command{MAIL, RCPT} {
		b := Explain(503, "5.5.4", "Invalid command arguments: Unsupported option FOO=bar", cmd).Brief()
		if !strings.Contains(b, "parameter") || strings.Contains(b, "out of order:") || !strings.Contains(b, "§4.1.1.11") {
			t.Errorf("%s: %q; want the unsupported parameter named, citing RFC 5321 §4.1.1.11", cmd, b)
		}
	}
}
