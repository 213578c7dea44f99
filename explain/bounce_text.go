package explain

import (
	"regexp"
	"strings"
	"sync"
)

// generatorMark is one mark of the software that wrote a report: a header
// field (name, and a pattern its value must match) or words in the body.
type generatorMark struct {
	name   string // the generator, as Report.Generator says it
	format string // Report.Format of its text layout
	header string // header field name; "" matches the body text
	words  string // case-insensitive regular expression
}

// generatorMarks are tried in order; the first that matches names the
// generator. Provider marks come before MTA marks, since providers run
// MTAs whose own words they keep.
var generatorMarks = []generatorMark{
	{name: "Amazon SES", format: "amazon-ses", header: "X-SES-Outgoing", words: `.`},
	{name: "Amazon SES", format: "amazon-ses", header: "From", words: `amazonses\.com`},
	{name: "Amazon SES", format: "amazon-ses", words: `reporting-mta:\s*dns;\s*\S*amazonses\.com|amazon ses has`},
	{name: "Gmail", format: "gmail", header: "From", words: `mailer-daemon@(?:googlemail|gmail)\.com`},
	{name: "Gmail", format: "gmail", words: `(?:^|\n)\*\* (?:address not found|message not delivered|message blocked) \*\*|your message wasn't delivered to`},
	{name: "Yahoo", format: "yahoo", header: "From", words: `mailer-daemon@(?:\S+\.)?(?:yahoo|yahoodns|aol)\.(?:com|net)`},
	{name: "Yahoo", format: "yahoo", words: `sorry, we were unable to deliver your message to the following address`},
	{name: "Microsoft Exchange", format: "exchange", header: "X-MS-Exchange-Message-Is-Ndr", words: `.?`},
	{name: "Microsoft Exchange", format: "exchange", words: `delivery has failed to these recipients or groups|your message (?:to \S+ )?couldn't be delivered|did not reach (?:some or all of )?the intended recipient|diagnostic information for administrators|generating server:`},
	{name: "qmail", format: "qmail", words: `hi\. this is the qmail-send program`},
	{name: "Exim", format: "exim", header: "X-Failed-Recipients", words: `.`},
	{name: "Exim", format: "exim", words: `this message was created automatically by mail delivery software|the following address\(es\) failed:`},
	{name: "Postfix", format: "postfix", words: `this is the mail system at host|x-postfix-queue-id:|the mail system\s*\n`},
	{name: "Sendmail", format: "sendmail", words: `-{3,} the following addresses had (?:permanent fatal|transient non-fatal) errors|-{3,} transcript of session follows|the original message was received at`},
}

// compiledMarks is generatorMarks with their patterns compiled, on first use.
var compiledMarks = sync.OnceValue(func() []filtered {
	out := make([]filtered, len(generatorMarks))
	for i, g := range generatorMarks {
		out[i] = newFiltered(g.words) // matched against lower-cased text
	}
	return out
})

// generator names the software that wrote the message, from its marks.
func (m *message) generator() string {
	body := strings.ToLower(capText(strings.Join(m.texts, "\n"), 16<<10))
	var dsnText strings.Builder
	for _, part := range m.dsn {
		for _, blk := range part {
			for k, v := range blk {
				if strings.HasPrefix(k, "x-") || k == "reporting-mta" {
					dsnText.WriteString(k + ": " + strings.ToLower(v) + "\n")
				}
			}
		}
	}
	dsn := dsnText.String()
	re := compiledMarks()
	for i, g := range generatorMarks {
		if g.header != "" {
			if v, ok := m.header[textprotoKey(g.header)]; ok && re[i].MatchString(strings.ToLower(strings.Join(v, " "))) {
				return g.name
			}
			continue
		}
		if re[i].MatchString(body) || dsn != "" && re[i].MatchString(dsn) {
			return g.name
		}
	}
	return ""
}

// textprotoKey is a header name in the canonical form mail.Header keys use.
func textprotoKey(s string) string {
	b := []byte(strings.ToLower(s))
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '-'
	}
	return string(b)
}

// textFormat is the format name of a generator's text layout.
func textFormat(generator string) string {
	for _, g := range generatorMarks {
		if g.name == generator {
			return g.format
		}
	}
	return "text"
}

// Patterns of the text bounces, compiled on first use.
type textPatterns struct {
	// addrLine is a line that names a failed recipient and starts its
	// entry: "<a@b>: host … said: …" (Postfix), "<a@b>:" (qmail, Yahoo),
	// "  a@b" (Exim, Sendmail, Exchange's "a@b on 12/1/2026…").
	addrLine *regexp.Regexp
	// sentence is a recipient named in a sentence: "Your message wasn't
	// delivered to a@b because …" (Gmail), "Your message to a@b couldn't
	// be delivered." (Microsoft 365).
	sentence *regexp.Regexp
	// stop ends the report text: the returned message follows.
	stop *regexp.Regexp
	// remote finds the remote host in a diagnostic.
	remote []*regexp.Regexp
	// contexts name the command a diagnostic's reply answered.
	contexts []contextMark
	// qmailStatus is qmail's "(#5.1.1)".
	qmailStatus *regexp.Regexp
	// delayed says the report is only a warning: delivery goes on.
	delayed *regexp.Regexp
	// leadReply is a reply code, and an enhanced code, at the start of a
	// diagnostic (RFC 5321 §4.2, RFC 3463 §2).
	leadReply *regexp.Regexp
}

// contextMark is a phrase that names the command a reply answered.
type contextMark struct {
	re  filtered
	cmd Command
}

const addrPattern = `[^\s<>()"@,;:]{1,128}@[A-Za-z0-9][A-Za-z0-9.-]{0,252}`

var textPats = sync.OnceValue(func() *textPatterns {
	p := &textPatterns{
		addrLine: regexp.MustCompile(`^(?:<(` + addrPattern + `)>|[ \t]{0,6}(` + addrPattern + `))(?:\.\.\.|:|\s+\(` + addrPattern + `\)|\s+on\s+[0-9][^\n]*|\s*\((?:expanded from|generated from)[^)]*\))?(?:\s+(.*))?$`),
		sentence: regexp.MustCompile(`(?i)(?:wasn't|was not|couldn't be|could not be|has not been|hasn't been)\s+delivered\s+to\s+<?(` + addrPattern + `)>?|your message to <?(` + addrPattern + `)>? (?:couldn't|could not) be delivered|your message to <?(` + addrPattern + `)>? has been blocked`),
		stop:     regexp.MustCompile(`(?i)^\s*(?:-{2,}\s*(?:below this line is a copy of the message|original message|the original message|this is a copy of the message|original message headers)|-{3,}\s*original message(?: follows)?\s*-{3,}|original message headers:?$|------ This is a copy of the message)`),
		remote: []*regexp.Regexp{
			regexp.MustCompile(`\bhost ([A-Za-z0-9][A-Za-z0-9.-]*)\[([0-9A-Fa-f.:]+)\] said:`),
			regexp.MustCompile(`\bhost ([A-Za-z0-9][A-Za-z0-9.-]*) \[([0-9A-Fa-f.:]+)\]`),
			regexp.MustCompile(`^()([0-9]{1,3}(?:\.[0-9]{1,3}){3}) does not like`),
			regexp.MustCompile(`\b(?:Connected to|Giving up on) ()([0-9]{1,3}(?:\.[0-9]{1,3}){3})`),
			regexp.MustCompile(`(?i)\bwhile talking to ([A-Za-z0-9][A-Za-z0-9.-]*?)\.?:()`),
			regexp.MustCompile(`(?i)\bremote server:? ([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})()`),
		},
		// matched against the lower-cased diagnostic
		contexts: []contextMark{
			{newFiltered(`\(in reply to (?:rcpt to|rcpt)\b`), RCPT},
			{newFiltered(`\(in reply to mail from\b`), MAIL},
			{newFiltered(`\(in reply to (?:end of )?data\b`), DATA},
			{newFiltered(`\bafter rcpt to:|\[rcpt_to\]|does not like recipient|\brcpt to:<[^>]*>\.\.\.|>>> rcpt to:`), RCPT},
			{newFiltered(`\bafter mail from:|\[mail_from\]|does not like sender|but sender was rejected|>>> mail from:`), MAIL},
			{newFiltered(`\bafter (?:end of data|data)\b|\[(?:end_of_message|data)\]|failed after i sent the message|>>> data\b|>>> \.(?:\s|$)`), DATA},
			{newFiltered(`\bafter (?:initial connection|greeting)\b|\[connect\]|refused to talk to me`), Greeting},
		},
		leadReply:   regexp.MustCompile(`^([2-5][0-5][0-9])(?:([- ])\s*([245]\.[0-9]{1,3}\.[0-9]{1,3}))?(?:[- ]|$)`),
		qmailStatus: regexp.MustCompile(`\(#([245]\.[0-9]{1,3}\.[0-9]{1,3})\)`),
		delayed:     regexp.MustCompile(`(?i)has not yet been delivered|delivery to the following recipients? (?:has been|was) delayed|will (?:continue|keep) (?:trying|attempting)|still being retried|is delayed|delivery delayed|no action is required on your part|\bwarning: message .* delayed\b|delay reason:`),
	}
	return p
})

// textRecipients reads the recipients of a bounce written as text: each
// entry starts at a line naming the address and runs to the next entry, a
// blank line after its first diagnostic line, or the returned message.
func textRecipients(text string) []Recipient {
	if text == "" {
		return nil
	}
	p := textPats()
	var out []Recipient
	index := map[string]int{}
	var cur *Recipient
	var diag []string
	flush := func() {
		if cur == nil {
			return
		}
		d := strings.Join(diag, " ")
		cur.Diagnostic = capText(strings.Join(strings.Fields(d), " "), maxDiagnostic)
		key := strings.ToLower(cur.Recipient)
		if i, ok := index[key]; ok {
			// Named twice (Microsoft 365 lists a recipient for people and
			// again for administrators): keep the entry that quotes a reply.
			if replyCodeOf(out[i].Diagnostic) == 0 && (replyCodeOf(cur.Diagnostic) != 0 || out[i].Diagnostic == "") {
				out[i].Diagnostic = cur.Diagnostic
			}
		} else if len(out) < maxRecipients {
			index[key] = len(out)
			out = append(out, *cur)
		}
		cur, diag = nil, nil
	}
	lines := strings.Split(capText(text, 256<<10), "\n")
	blankAfter := false
	for _, ln := range lines {
		ln = strings.TrimRight(ln, "\r ")
		if (strings.Contains(ln, "--") || strings.Contains(ln, "riginal")) && p.stop.MatchString(ln) {
			break
		}
		hasAt := strings.IndexByte(ln, '@') >= 0
		if !hasAt && cur == nil {
			continue
		}
		if m := matchIf(hasAt, p.addrLine, ln); m != nil && addrLineOK(ln, m) {
			flush()
			cur = &Recipient{Recipient: firstNonEmpty(m[1], m[2])}
			if m[3] != "" {
				diag = append(diag, m[3])
			}
			blankAfter = false
			continue
		}
		if m := indexIf(hasAt, p.sentence, ln); m != nil {
			flush()
			a := ""
			for g := 2; g+1 < len(m); g += 2 {
				if m[g] >= 0 {
					a = ln[m[g]:m[g+1]]
					break
				}
			}
			cur = &Recipient{Recipient: a}
			if rest := strings.TrimSpace(ln[m[1]:]); rest != "" {
				diag = append(diag, rest)
			}
			blankAfter = false
			continue
		}
		if cur == nil {
			continue
		}
		if strings.TrimSpace(ln) == "" {
			if len(diag) > 0 {
				blankAfter = true
			}
			continue
		}
		if blankAfter {
			// A new paragraph: an indented one, or one that quotes the
			// reply ("The response from the remote server was:"), still
			// belongs to the entry; anything else ends it.
			t := strings.TrimSpace(ln)
			if !(ln[0] == ' ' || ln[0] == '\t') && !continuesEntry(t) && replyCodeOf(strings.Join(diag, " ")) != 0 {
				flush()
				continue
			}
			blankAfter = false
		}
		if len(diag) < 40 {
			diag = append(diag, strings.TrimSpace(ln))
		}
	}
	flush()
	return out
}

// continuesEntry tells whether a paragraph after a recipient's first one
// still describes it: the reply quoted under a heading, or the reply line.
func continuesEntry(t string) bool {
	l := strings.ToLower(t)
	return strings.HasPrefix(l, "the response from the remote server") || strings.HasPrefix(l, "the response was") ||
		strings.HasPrefix(l, "remote server returned") || strings.HasPrefix(l, "remote host said") ||
		replyCodeOf(t) != 0
}

// addrLineOK rejects address lines that are prose or header fields
// rather than an entry: the address must stand at the start, alone or
// before a separator.
func addrLineOK(ln string, m []string) bool {
	t := strings.TrimSpace(ln)
	if m[1] == "" && (strings.HasPrefix(ln, "       ") || strings.Contains(t, " ") && m[3] != "" && !strings.Contains(ln, " on ")) {
		return false
	}
	if m[1] != "" && m[3] != "" && !strings.HasPrefix(t, "<"+m[1]+">:") && !strings.HasPrefix(t, "<"+m[1]+">...") {
		return false
	}
	return true
}

// replyCodeOf is the reply code at the start of s, or quoted in it by a
// known introducer; 0 when there is none.
func replyCodeOf(s string) int {
	if code, _, _ := leadingReply(s); code != 0 {
		return code
	}
	if !mayQuoteReply(s) {
		return 0
	}
	for _, f := range FindReplies(capText(s, maxDiagnostic)) {
		if !f.Inferred {
			return f.Code
		}
	}
	return 0
}

// leadingReply parses a reply that starts s: "550 5.1.1 text",
// "550-5.1.1 text", "550 text". The codes a folded multi-line reply
// repeats inside its text ("… try 550-5.1.1 double-checking …") are
// dropped from the text.
func leadingReply(s string) (code int, enhanced, text string) {
	s = strings.TrimSpace(s)
	m := textPats().leadReply.FindStringSubmatch(s)
	if m == nil {
		return 0, "", ""
	}
	code = int(m[1][0]-'0')*100 + int(m[1][1]-'0')*10 + int(m[1][2]-'0')
	enhanced = m[3]
	if enhanced != "" && enhanced[0] != m[1][0] {
		enhanced = ""
	}
	text = strings.TrimSpace(s[len(m[0]):])
	if enhanced != "" {
		text = strings.ReplaceAll(text, m[1]+"-"+enhanced+" ", "")
		text = strings.ReplaceAll(text, m[1]+" "+enhanced+" ", "")
	} else {
		text = strings.ReplaceAll(text, " "+m[1]+"-", " ")
	}
	return code, enhanced, strings.TrimSpace(text)
}

// vacationPatterns are the marks of an automatic reply, compiled on first use.
type vacationPatterns struct {
	subject *regexp.Regexp
	body    *regexp.Regexp
}

var vacationPats = sync.OnceValue(func() *vacationPatterns {
	return &vacationPatterns{
		subject: regexp.MustCompile(`(?i)^(?:re:\s*)?(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|responder)|autoreply|out of (?:the )?office|on vacation|vacation reply|away from (?:the|my) office|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence du bureau|respuesta autom[aá]tica|fuera de la oficina|risposta automatica|automatisch antwoord|afwezigheidsbericht)`),
		body:    regexp.MustCompile(`(?i)\b(?:i am|i'm|i will be|i'll be)\s+(?:currently\s+)?(?:out of (?:the )?office|away|on (?:vacation|holiday|leave|annual leave|parental leave)|travell?ing|not in the office)|\bwith limited access to (?:e-?mail|my e-?mail)|\bthis is an automatic reply|\bthis is an auto(?:mated|matic)?[- ]?(?:reply|response)\b`),
	}
})

// autoReplyHeader tells whether a header field marks the message as an
// automatic reply (RFC 3834 §5; X-Autoreply and friends).
func (m *message) autoReplyHeader() bool {
	return m.autoReplyHeaderSignal() != ""
}

func (m *message) autoReplyHeaderSignal() string {
	if v := strings.ToLower(strings.TrimSpace(m.header.Get("Auto-Submitted"))); strings.HasPrefix(v, "auto-replied") {
		return "Auto-Submitted: " + v
	}
	for _, h := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Vacation"} {
		if v := strings.TrimSpace(m.header.Get(h)); v != "" && !strings.EqualFold(v, "no") {
			return h + ": " + v
		}
	}
	if v := strings.ToLower(strings.TrimSpace(m.header.Get("Precedence"))); v == "auto_reply" {
		return "Precedence: auto_reply"
	}
	if v := strings.TrimSpace(m.header.Get("X-Auto-Response-Suppress")); v != "" && strings.HasPrefix(strings.ToLower(m.header.Get("Subject")), "automatic reply") {
		return "Subject: Automatic reply (Microsoft)"
	}
	return ""
}

// autoReplySignal is the evidence that the message is an automatic reply,
// or "": a header field, else an out-of-office subject, else vacation
// wording in the body of a message that asks for no reply.
func (m *message) autoReplySignal(subject, body string) string {
	if s := m.autoReplyHeaderSignal(); s != "" {
		return s
	}
	p := vacationPats()
	if p.subject.MatchString(subject) {
		return "Subject: " + subject
	}
	auto := strings.ToLower(strings.TrimSpace(m.header.Get("Auto-Submitted")))
	if (auto != "" && auto != "no") && p.body.MatchString(capText(body, 8<<10)) {
		return "vacation wording in the body, Auto-Submitted: " + auto
	}
	return ""
}

// matchIf is re's submatches in s when ok, else nil: a cheap test first.
func matchIf(ok bool, re *regexp.Regexp, s string) []string {
	if !ok {
		return nil
	}
	return re.FindStringSubmatch(s)
}

// indexIf is re's submatch offsets in s when ok, else nil.
func indexIf(ok bool, re *regexp.Regexp, s string) []int {
	if !ok {
		return nil
	}
	return re.FindStringSubmatchIndex(s)
}

// mayQuoteReply tells whether s holds three digits in a row starting
// with 2-5, as every reply code does: a cheap test before FindReplies.
func mayQuoteReply(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			run++
			if run == 3 && s[i-2] >= '2' && s[i-2] <= '5' {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}
