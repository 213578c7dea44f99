package explain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestContextChangesTheReading checks that the same code reads differently
// after different commands, and that each reading says the right thing.
func TestContextChangesTheReading(t *testing.T) {
	tests := []struct {
		code     int
		enhanced string
		cmd      Command
		brief    []string // substrings of Brief()
		field    string   // "meaning", "when" or "fix"
		contains []string // substrings of that field
	}{
		{501, "", MAIL, []string{"sender address syntax", "angle brackets", "RFC 5321 §4.1.1.2"}, "when", []string{"MAIL FROM:user@example.com", "space after the colon", "underscore"}},
		{501, "", RCPT, []string{"recipient address syntax", "RFC 5321 §4.1.1.3"}, "fix", []string{"RCPT TO:<user@example.com>"}},
		{501, "", VRFY, []string{"VRFY argument missing or garbled"}, "fix", []string{"VRFY alice"}},
		{501, "", EHLO, []string{"EHLO/HELO argument", "host name"}, "fix", []string{"EHLO mail.example.com", "[192.0.2.1]"}},
		{501, "", HELO, []string{"EHLO/HELO argument"}, "meaning", []string{"underscore"}},
		{501, "", STARTTLS, []string{"no argument", "RFC 3207 §4"}, "fix", []string{"bare line STARTTLS"}},
		{252, "", VRFY, []string{"declines to confirm or deny", "not an error", "RFC 5321 §3.5.3, §7.3"}, "meaning", []string{"not an error", "user exists"}},
		{250, "", VRFY, []string{"verified"}, "meaning", []string{"syntax"}},
		{550, "", VRFY, []string{"policy"}, "meaning", []string{"250 for a known mailbox", "§7.3"}},
		{502, "", VRFY, []string{"disabled", "252"}, "when", []string{"disable_vrfy_command"}},
		{552, "", RCPT, []string{"452", "temporary"}, "meaning", []string{"RFC 821", "452"}},
		{552, "", MAIL, []string{"size"}, "when", []string{"SIZE="}},
		{500, "", MAIL, []string{"space before the colon"}, "meaning", []string{"MAIL FROM :<a@example.com>"}},
		{500, "", RCPT, []string{"space before the colon"}, "fix", []string{"RCPT TO:<user@example.com>"}},
		{554, "", MAIL, []string{"sender refused by policy"}, "fix", []string{"delisted"}},
		{550, "", MAIL, []string{"sender refused"}, "fix", []string{"authenticate"}},
		{550, "", RCPT, []string{"no such mailbox", "relaying denied"}, "fix", []string{"Relay denied"}},
		{553, "", MAIL, []string{"sender address not allowed"}, "when", []string{"submission"}},
		{553, "", RCPT, []string{"recipient address not allowed"}, "when", []string{"SMTPUTF8"}},
		{503, "", RCPT, []string{"MAIL FROM must come first"}, "meaning", []string{"MUST"}},
		{503, "", MAIL, []string{"EHLO/HELO missing"}, "fix", []string{"RSET"}},
		{503, "", DATA, []string{"no accepted recipient"}, "fix", []string{"RCPT"}},
		{555, "", MAIL, []string{"parameter not recognised", "RFC 5321 §4.1.1.11", "RFC 1869"}, "fix", []string{"EHLO"}},
		{530, "", MAIL, []string{"authentication (or TLS) required"}, "fix", []string{"STARTTLS", "AUTH"}},
		{538, "", AUTH, []string{"TLS"}, "fix", []string{"STARTTLS"}},
		{454, "", AUTH, []string{"temporary authentication failure"}, "fix", []string{"do not ask the user"}},
		{454, "", STARTTLS, []string{"TLS not available"}, "fix", []string{"certificate"}},
		{421, "", Greeting, []string{"greeting"}, "when", []string{"connect"}},
		{421, "", RCPT, []string{"closing the connection"}, "meaning", []string{"temporary"}},
		{554, "", Greeting, []string{"no SMTP service"}, "meaning", []string{"503"}},
		{554, "", DATA, []string{"after DATA", "SPF/DKIM/DMARC"}, "fix", []string{"DMARC"}},
		{500, "", Unknown, []string{"not recognised"}, "fix", []string{"CRLF"}},
		{250, "", BDAT, []string{"message accepted"}, "meaning", []string{"responsibility"}},
		{221, "", QUIT, []string{"goodbye"}, "fix", []string{"close"}},
		{250, "", RSET, []string{"reset"}, "fix", []string{"Nothing"}},
		{250, "", NOOP, []string{"alive"}, "fix", []string{"Nothing"}},
		{550, "5.1.1", RCPT, []string{"5.1.1 bad destination mailbox address"}, "fix", []string{"correct the address"}},
	}
	for _, tt := range tests {
		e := Explain(tt.code, tt.enhanced, "", tt.cmd)
		b := e.Brief()
		for _, s := range tt.brief {
			if !strings.Contains(b, s) {
				t.Errorf("%d after %s: Brief() = %q, want it to contain %q", tt.code, tt.cmd, b, s)
			}
		}
		f := map[string]string{"meaning": e.Meaning, "when": e.When, "fix": e.Fix}[tt.field]
		for _, s := range tt.contains {
			if !strings.Contains(f, s) {
				t.Errorf("%d after %s: %s = %q, want it to contain %q", tt.code, tt.cmd, tt.field, f, s)
			}
		}
		if e.Context != tt.cmd {
			t.Errorf("%d: Context = %q, want %q", tt.code, e.Context, tt.cmd)
		}
	}
}

func TestSameCodeDiffersByCommand(t *testing.T) {
	pairs := []struct {
		code int
		a, b Command
	}{
		{501, MAIL, VRFY}, {501, MAIL, EHLO}, {501, RCPT, VRFY}, {252, VRFY, ""}, {550, MAIL, RCPT},
		{553, MAIL, RCPT}, {554, Greeting, DATA}, {552, RCPT, MAIL}, {503, RCPT, MAIL}, {454, AUTH, STARTTLS},
	}
	for _, p := range pairs {
		x, y := Explain(p.code, "", "", p.a), Explain(p.code, "", "", p.b)
		if x.Brief() == y.Brief() || x.Meaning+x.When+x.Fix == y.Meaning+y.When+y.Fix {
			t.Errorf("%d reads the same after %q and %q: %q", p.code, p.a, p.b, x.Brief())
		}
	}
}

func TestHELOAndBDATBorrowReadings(t *testing.T) {
	if h, e := Explain(501, "", "", HELO), Explain(501, "", "", EHLO); h.Summary != e.Summary {
		t.Errorf("501 after HELO %q differs from EHLO %q", h.Summary, e.Summary)
	}
	if b, d := Explain(503, "", "", BDAT), Explain(503, "", "", DATA); b.Summary != d.Summary {
		t.Errorf("503 after BDAT %q differs from DATA %q", b.Summary, d.Summary)
	}
}

func TestEnhancedRefinesBasic(t *testing.T) {
	e := Explain(550, "5.1.1", "", RCPT)
	if e.EnhancedStatus == nil || !e.EnhancedStatus.Registered || e.EnhancedStatus.Level != "detail" {
		t.Fatalf("EnhancedStatus = %+v", e.EnhancedStatus)
	}
	if !strings.Contains(e.EnhancedStatus.Meaning, "does not exist") {
		t.Errorf("5.1.1 meaning %q", e.EnhancedStatus.Meaning)
	}
	if !strings.Contains(e.Meaning, "mailbox does not exist") {
		t.Errorf("basic layer meaning %q", e.Meaning)
	}
	if len(e.Warnings) != 0 {
		t.Errorf("550 5.1.1 is consistent, got warnings %q", e.Warnings)
	}
	found := false
	for _, r := range e.Refs {
		if strings.HasPrefix(r, "RFC 3463") {
			found = true
		}
	}
	if !found {
		t.Errorf("refs %q lack RFC 3463", e.Refs)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		code     int
		enhanced string
		want     []string // one substring per expected warning
	}{
		{250, "5.1.1", []string{"class mismatch"}},
		{550, "4.2.0", []string{"class mismatch"}},
		{550, "5.7.606", []string{"not in the IANA registry", "Security or Policy Status"}},
		{550, "5.9.1", []string{"subject is undefined"}},
		{250, "5.1.1", []string{"RFC 3463 §2"}},
		{550, "5.6.10", []string{"deprecates"}},
		{354, "2.0.0", []string{"should carry no enhanced code"}},
		{259, "", []string{"not a registered reply code"}},
		{550, "5.x.1", []string{"not an enhanced status code"}},
		{550, "3.1.1", []string{"class must be 2, 4 or 5"}},
	}
	for _, tt := range tests {
		e := Explain(tt.code, tt.enhanced, "", "")
		all := strings.Join(e.Warnings, " | ")
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("%d %s: warnings %q, want one containing %q", tt.code, tt.enhanced, all, w)
			}
		}
	}
	for _, ok := range []struct {
		code int
		enh  string
	}{{550, "5.1.1"}, {451, "4.1.1"}, {250, "2.0.0"}, {552, "5.2.2"}, {550, "5.7.17"}, {554, "5.7.15"}, {452, "4.7.15"}, {556, "5.1.10"}, {501, "5.5.4"}, {550, "5.7.28"},
		// The common real replies: the other failure class of a listed
		// code, and 554 for a policy code listed with 550.
		{452, "4.2.2"}, {554, "5.7.1"}, {450, "4.7.25"}} {
		if w := Explain(ok.code, ok.enh, "", "").Warnings; len(w) != 0 {
			t.Errorf("%d %s should be consistent, warnings %q", ok.code, ok.enh, w)
		}
	}
}

// TestPairingNotes: a basic code the registry does not list beside the
// enhanced code, and that no generous reading fits, is a note, not a
// warning.
func TestPairingNotes(t *testing.T) {
	for _, c := range []struct {
		code int
		enh  string
	}{{550, "5.1.3"}, {221, "2.1.5"}, {501, "5.2.2"}, {421, "4.7.0"}} {
		e := Explain(c.code, c.enh, "", "")
		if len(e.Warnings) != 0 || len(e.Notes) != 1 || !strings.Contains(e.Notes[0], fmt.Sprintf("not %d", c.code)) {
			t.Errorf("%d %s: warnings %q, notes %q; want one note", c.code, c.enh, e.Warnings, e.Notes)
		}
	}
}

func TestLookupEnhancedFallbacks(t *testing.T) {
	tests := []struct {
		code, level, subject string
		registered           bool
	}{
		{"5.1.1", "detail", "Addressing Status", true},
		{"4.7.999", "subject", "Security or Policy Status", false},
		{"5.2.9", "subject", "Mailbox Status", false},
		{"5.8.1", "class", "undefined", false},
		{"2.0.0", "detail", "Other or Undefined Status", true},
	}
	for _, tt := range tests {
		st, err := LookupEnhanced(tt.code)
		if err != nil {
			t.Fatalf("%s: %v", tt.code, err)
		}
		if st.Level != tt.level || st.Subject != tt.subject || st.Registered != tt.registered || st.Meaning == "" || st.Fix == "" {
			t.Errorf("%s: %+v", tt.code, st)
		}
	}
	for _, bad := range []string{"5.1", "5.1.1.1", "6.1.1", "3.1.1", "5..1", "5.1.1234", "55.1.1", "a.b.c", ""} {
		if _, err := LookupEnhanced(bad); err == nil {
			t.Errorf("LookupEnhanced(%q) accepted", bad)
		}
	}
}

func TestExplainEnhancedOnly(t *testing.T) {
	e := Explain(0, "5.7.26", "", "")
	if e.Class != 5 || e.ClassName != "Permanent Failure" || e.Meaning == "" || e.Fix == "" || e.When == "" {
		t.Errorf("%+v", e)
	}
	if !strings.Contains(e.When, "550") {
		t.Errorf("When %q should name the associated basic code", e.When)
	}
}

func TestBriefPrefersRecognizedProvider(t *testing.T) {
	e := Explain(550, "5.7.26", "", RCPT)
	e.Recognized = &Recognition{Source: "Gmail", Reason: "DMARC policy rejection"}
	if b := e.Brief(); !strings.HasPrefix(b, "Gmail: DMARC policy rejection") {
		t.Errorf("Brief() = %q", b)
	}
}

func TestCompactRefs(t *testing.T) {
	got := CompactRefs([]string{"RFC 5321 §3.5.3", "RFC 5321 §7.3", "RFC 3463", "RFC 4954 §6", "RFC 4954 §4"})
	if want := "RFC 5321 §3.5.3, §7.3, RFC 3463, RFC 4954 §6, §4"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		in   string
		want Query
	}{
		{"252", Query{Code: 252}},
		{"5.1.1", Query{Enhanced: "5.1.1"}},
		{"550 5.1.1", Query{Code: 550, Enhanced: "5.1.1"}},
		{"550-5.7.26 Unauthenticated email from example.com is not accepted", Query{Code: 550, Enhanced: "5.7.26", Text: "Unauthenticated email from example.com is not accepted"}},
		{"550 5.1.1 <a@b>: Recipient address rejected", Query{Code: 550, Enhanced: "5.1.1", Text: "<a@b>: Recipient address rejected"}},
		{"550 Requested action not taken", Query{Code: 550, Text: "Requested action not taken"}},
		{"553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", Query{Code: 553, Enhanced: "5.7.1", Text: "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"}},
		{"250 5.1.1 odd", Query{Code: 250, Enhanced: "5.1.1", Text: "odd"}},
		{"550-5.7.1 first\r\n550 5.7.1 second", Query{Code: 550, Enhanced: "5.7.1", Text: "first second"}},
		{"  421  ", Query{Code: 421}},
		{"220", Query{Code: 220}},
	}
	for _, tt := range tests {
		got, err := ParseQuery(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseQuery(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseQueryErrorsSayWhatCanBeSaid(t *testing.T) {
	tests := []struct {
		in    string
		class int
		says  string
	}{
		{"600", 0, "first digit must be 2-5"},
		{"199", 0, "Positive Preliminary"},
		{"259", 2, "Positive Completion"},
		{"299", 2, "second digit must be 0-5"},
		{"470", 4, "Transient Negative Completion"},
		{"5.1", 0, "class.subject.detail"},
		{"6.1.1", 0, "class must be 2, 4 or 5"},
		{"abc", 0, "not a reply code"},
		{"5500", 0, "not a reply code"},
		{"", 0, "empty"},
		{"550-5.1.1 a\n551 b", 0, "different codes"},
	}
	for _, tt := range tests {
		_, err := ParseQuery(tt.in)
		var ce *CodeError
		if !errors.As(err, &ce) {
			t.Errorf("ParseQuery(%q) error %v, want a *CodeError", tt.in, err)
			continue
		}
		if ce.Class != tt.class || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseQuery(%q) = class %d, %q; want class %d and %q", tt.in, ce.Class, err, tt.class, tt.says)
		}
	}
	if err := CheckCode(550); err != nil {
		t.Errorf("CheckCode(550) = %v", err)
	}
}

func TestCompare252And501TeachesTheSeed(t *testing.T) {
	c := Compare([]Explanation{Explain(252, "", "", ""), Explain(501, "", "", "")})
	all := strings.Join(c.Differences, "\n") + "\n" + strings.Join(c.WhenWhich, "\n")
	for _, x := range c.Items {
		all += "\n" + x.Meaning + "\n" + x.When + "\n" + x.Fix
	}
	for _, s := range []string{
		"2xx Positive Completion", "5xx Permanent Negative Completion",
		"will not confirm or deny", "will take a message", "VRFY", "spammers",
		"could not parse", "angle brackets", "MAIL FROM", "RCPT TO", "colon", "stray spaces", "encoding",
		"No fix needed", "bounce", "domain's administrator",
		"250 = the server verified", "550 = no such mailbox", "502",
		"RFC 5321 §3.5.3", "RFC 5321 §7.3", "RFC 5321 §4.1.4", "RFC 5321 §4.3.2",
	} {
		if !strings.Contains(all, s) {
			t.Errorf("252 vs 501 does not teach %q", s)
		}
	}
	if len(c.WhenWhich) != 2 {
		t.Errorf("WhenWhich has %d entries", len(c.WhenWhich))
	}
}

func TestVariantsListPerCommandReadings(t *testing.T) {
	vs := Variants(501)
	cmds := map[Command]bool{}
	for _, v := range vs {
		cmds[v.Command] = true
		if v.Brief == "" || len(v.Refs) == 0 {
			t.Errorf("empty variant %+v", v)
		}
	}
	for _, c := range []Command{EHLO, MAIL, RCPT, VRFY, STARTTLS, AUTH, DATA, RSET, QUIT} {
		if !cmds[c] {
			t.Errorf("501 has no variant after %s", c)
		}
	}
	if len(Variants(214)) != 1 {
		t.Errorf("214 variants: %+v", Variants(214))
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"252", "5.1.1", "550 5.1.1", "550-5.7.26 x", "553 x (#5.7.1)", "600", "5.1", "", "\r\n", "550-5.1.1 a\n550 b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			var ce *CodeError
			if !errors.As(err, &ce) || err.Error() == "" {
				t.Fatalf("ParseQuery(%q) error %v is not a *CodeError", s, err)
			}
			return
		}
		if q.Code == 0 && q.Enhanced == "" {
			t.Fatalf("ParseQuery(%q) returned neither code nor enhanced code", s)
		}
		e := Explain(q.Code, q.Enhanced, q.Text, "")
		if e.Meaning == "" || e.Brief() == "" {
			t.Fatalf("ParseQuery(%q) = %+v explains to nothing", s, q)
		}
	})
}

// TestProviderReuseWins checks the provider's reading wins over the
// registry's where a provider reuses a registered enhanced code, and the
// registry's meaning is kept and labelled.
func TestProviderReuseWins(t *testing.T) {
	e := Explain(550, "5.7.27", "The sender's domain does not pass SPF - gsmtp", RCPT)
	r := e.Recognized
	if r == nil || r.IANAMeaning == "" {
		t.Fatalf("Recognized = %+v; want a provider reading with the IANA meaning beside it", r)
	}
	if b := e.Brief(); !strings.HasPrefix(b, r.Source+": ") || strings.Contains(b, "null MX") {
		t.Errorf("Brief() = %q; want the provider's reading, not the registry's", b)
	}
	if all := strings.Join(e.Warnings, " "); !strings.Contains(all, "not the IANA registry's (Sender address has null MX)") {
		t.Errorf("warnings %q", all)
	}
	if e.EnhancedStatus == nil || e.EnhancedStatus.Title != "Sender address has null MX" {
		t.Errorf("the registry layer must stay: %+v", e.EnhancedStatus)
	}
}

// TestContextRefs: a code shared by two extensions cites the one that
// defines the command it answered.
func TestContextRefs(t *testing.T) {
	for _, c := range []struct {
		code      int
		cmd       Command
		want, not string
	}{
		{454, STARTTLS, "RFC 3207 §4", "RFC 4954"},
		{454, AUTH, "RFC 4954 §6", "RFC 3207"},
		{556, RCPT, "RFC 7504 §3", ""},
		{521, Greeting, "RFC 7504 §2", ""},
	} {
		e := Explain(c.code, "", "", c.cmd)
		refs := strings.Join(e.Refs, ", ")
		if !strings.Contains(refs, c.want) || (c.not != "" && strings.Contains(refs, c.not)) || !strings.Contains(e.Brief(), c.want) {
			t.Errorf("%d after %s: refs %s, brief %q; want %s without %q", c.code, c.cmd, refs, e.Brief(), c.want, c.not)
		}
	}
}

// TestCommandReplySequences: a success or intermediate reply a command
// cannot get is a plain warning; a failure code outside the lists is a
// note; listed replies draw neither.
func TestCommandReplySequences(t *testing.T) {
	e := Explain(354, "", "", MAIL)
	if len(e.Warnings) != 1 || e.Warnings[0] != "RFC 5321 §4.3.2 does not list 354 as a reply to MAIL: the server is misbehaving or the reply was matched to the wrong command" {
		t.Errorf("354 after MAIL: warnings %q", e.Warnings)
	}
	for _, c := range []struct {
		code int
		cmd  Command
	}{{252, EHLO}, {252, RCPT}, {250, Greeting}, {221, MAIL}, {334, VRFY}} {
		if w := Explain(c.code, "", "", c.cmd).Warnings; len(w) != 1 || !strings.Contains(w[0], fmt.Sprintf("does not list %d", c.code)) && !strings.Contains(w[0], fmt.Sprintf("do not list %d", c.code)) {
			t.Errorf("%d after %s: warnings %q", c.code, c.cmd, w)
		}
	}
	if x := Explain(554, "", "", RCPT); len(x.Warnings) != 0 || len(x.Notes) != 1 {
		t.Errorf("554 after RCPT: warnings %q notes %q; want one note", x.Warnings, x.Notes)
	}
	for _, c := range []struct {
		code int
		cmd  Command
	}{{250, RCPT}, {252, VRFY}, {354, DATA}, {421, Greeting}, {421, MAIL}, {530, MAIL}, {556, RCPT}, {454, STARTTLS}, {334, AUTH}, {501, QUIT}, {221, QUIT}, {214, HELP}} {
		if x := Explain(c.code, "", "", c.cmd); len(x.Warnings)+len(x.Notes) != 0 {
			t.Errorf("%d after %s: warnings %q notes %q; want none", c.code, c.cmd, x.Warnings, x.Notes)
		}
	}
}

// TestArgumentlessCommands501: 501 after DATA, RSET, NOOP and QUIT has its
// own reading, not only a summary.
func TestArgumentlessCommands501(t *testing.T) {
	general := Explain(501, "", "", "")
	for _, cmd := range []Command{DATA, RSET, NOOP, QUIT} {
		e := Explain(501, "", "", cmd)
		if e.Meaning == general.Meaning || e.When == general.When || e.Fix == general.Fix || !strings.Contains(e.Fix, strings.ToUpper(string(cmd))) {
			t.Errorf("501 after %s reads like the general 501: %+v", cmd, e)
		}
	}
}
