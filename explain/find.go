package explain

import (
	"bufio"
	"errors"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Found is one SMTP reply found in free text (a transcript, a bounce, an MTA
// log line).
type Found struct {
	Start, End int     // byte offsets of the reply in the text
	Code       int     // basic reply code
	Enhanced   string  // enhanced status code, if any
	Text       string  // the reply's text after the codes
	Context    Command // the command it answered, when the text tells; "" when it does not
	// Inferred is set when the text gave only an enhanced status code
	// (a DSN "Status: 5.1.1" or Sendmail's "dsn=5.1.1" with no SMTP reply
	// beside it): Code is then the class's generic code (250, 450 or 550),
	// not one a server sent.
	Inferred bool
	// Raw is the reply as it stands in the input, text[Start:End].
	Raw string
}

// Limits on the work the finder does, so that any input is handled in time
// linear in its size and in memory bounded whatever its size.
const (
	// maxFound caps the number of replies FindReplies returns; a
	// ReplyScanner has no cap.
	maxFound = 10000
	// MaxLineLen is the longest piece of a line the finder handles at
	// once; a longer line is handed out in pieces (Line.Continued).
	MaxLineLen = 64 << 10
	// lookahead is how many lines past the current one the finder keeps:
	// a reply continues over at most maxFold lines, and Exim's may start
	// on the line after its introducer.
	lookahead = maxFold + 3
	// lookbehind is how many lines before the current one stay in the
	// window, for a Status: field's check of its paragraph.
	lookbehind = maxFold + 1
	// maxFold is how many continuation lines one reply may span.
	maxFold = 50
	// maxReplyText is how long a reply quoted over several lines may grow
	// before no more lines are joined to it.
	maxReplyText = 8 << 10
)

// replyAt matches a basic code, optionally followed by an enhanced code
// (RFC 5321 §4.2 Reply-code: first digit 2-5, second 0-5; RFC 3463 §2),
// at the start of the string.
var replyAt = lazyRegexp(`^([2-5][0-5][0-9])(?:([- ])\s*([245]\.[0-9]{1,3}\.[0-9]{1,3}))?(?:[- ]|$)`)

// replyPair finds a basic code followed by an enhanced code anywhere in a
// line ("... 550 5.1.1 ..."): the pair is distinctive enough to need no
// introducer. The class digits must agree, checked in code.
var replyPair = lazyRegexp(`(?:^|[^\w.:/-])([2-5][0-5][0-9])[- ]([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[\s,;:]|$)`)

// introducer finds the phrases after which MTAs and NDRs quote a reply, so
// that a bare code there ("said: 550 Unknown user") is taken as a reply.
//
// This and the patterns below without (?i) are matched against
// asciiLower(line).
var introducer = lazyRegexp(`(?:\bsaid:|\breject=|\breply=|\breturned '(?:<\s*#[245]\.[0-9.]+\s*)?|\bsmtp;|\breported error:|refused to talk to me:|\bdeferred:|\bremote server returned:?)\s*`)

// eximAfter is Exim's "SMTP error from remote mail server after RCPT
// TO:<a@b>:" (also "remote mailer", "pipelined", "end of data",
// "initial connection"); the reply follows, on the same line or the next.
var eximAfter = lazyRegexp(`smtp error from remote (?:mail server|mailer|server) after (?:pipelined )?([^:\n]{1,40}?)(?::[^\n]*?)??:(?:\s+|$)`)

// eximFor is Exim's other wording, in bounces and logs: "SMTP error from
// remote server for RCPT TO command, host: mx.example.net (192.0.2.7)
// reason: 550-5.1.1 …".
var eximFor = lazyRegexp(`smtp error from remote (?:mail server|mailer|server) for ([a-z ]{1,30}?) command,[^\n]{0,300}?\breason:\s*`)

// openSMTPDResult is OpenSMTPD's log of a refused command or delivery:
// `smtp failed-command command="RCPT TO:<a@b>" result="550 Invalid
// recipient: <a@b>"`, and `stat="550 5.1.1 …"` on its delivery lines. The
// reply ends at the closing quote.
var openSMTPDResult = lazyRegexp(`\b(?:result|stat)="`)

// openSMTPDCommand names the command in an OpenSMTPD failed-command line.
var openSMTPDCommand = lazyRegexp(`\bcommand="([^"]{1,40})`)

// postfixReject is Postfix smtpd's own rejection log: "NOQUEUE: reject:
// RCPT from host[ip]: 554 5.7.1 ...; from=<a> to=<b> proto=ESMTP helo=<h>".
var postfixReject = lazyRegexp(`\b(?:reject|discard|hold|filter|defer|reject_warning|warning): ([a-z-]+) from [^ ]*\]: `)

// inReplyTo is how Postfix names the command a remote reply answered.
var inReplyTo = lazyRegexp(`(?i)\s*\(in\s+reply\s+to\s+([^)]{1,40}?)(?:\s+command)?\)`)

// sendmailRuleset names the command Sendmail's check rulesets answer.
var sendmailRuleset = lazyRegexp(`ruleset=check_(rcpt|mail|relay|data|eoh|eom|vrfy|expn|etrn|helo)`)

// dsnOnly finds an enhanced code given without an SMTP reply: the DSN
// "Status:" field (RFC 3464 §2.3.4) and Sendmail's "dsn=" log field.
var dsnOnly = lazyRegexp(`(?:^status:\s*|\bdsn=)([245])\.([0-9]{1,3})\.([0-9]{1,3})\b`)

// Transcript markers: what tools print before a server or client line
// (swaks "<-", "<**", "<~", " ->", " ~>"; Sendmail DSN ">>>", "<<<";
// "S:"/"C:" in RFCs and many tools; PHPMailer "SERVER -> CLIENT:"; curl
// "< " and "> ").
var (
	serverMark = regexp.MustCompile(`^\s*(?:<\*\*|<~\*|<~|<-|<<<|S:|\[S\]|(?i:server -> client:)|(?i:server:)|<\s)\s*`)
	clientMark = regexp.MustCompile(`^\s*(?:\*\*>|~>|->|>>>|C:|\[C\]|(?i:client -> server:)|(?i:client:)|>\s)\s*`)
	// timestampLead is a leading time stamp some transcripts carry.
	timestampLead = regexp.MustCompile(`^\s*(?:\[?[0-9][0-9:.\-/T+Z]*[0-9Z]\]?\s+){1,2}`)
)

// line is one line of the input (or a piece of an over-long one): its
// offsets and text.
type line struct {
	start, end int // end excludes the line break
	next       int // where the following line starts
	number     int // 1-based line number in the input
	s          string
	continued  bool // a piece of a longer line: no line break follows
	hasReply   int8 // 1 holds a reply, -1 does not, 0 not yet known
}

// FindReplies finds every SMTP reply in text, in order, as a ReplyScanner
// does, and returns at most 10000 of them.
func FindReplies(text string) []Found {
	sc := NewReplyScanner(strings.NewReader(text))
	var out []Found
	for len(out) < maxFound && sc.Scan() {
		out = append(out, sc.Line().Replies...)
	}
	if len(out) > maxFound {
		out = out[:maxFound]
	}
	return out
}

// Line is one line of the input handed out by a ReplyScanner, with the
// replies that end on it.
type Line struct {
	Number  int    // 1-based line number
	Start   int    // byte offset of the line in the input
	Text    string // the line without its line break
	Replies []Found
	// Continued is set on a piece of a line longer than MaxLineLen: the
	// next Line goes on with the same input line.
	Continued bool
}

// ReplyScanner finds every SMTP reply in a stream of text, line by line:
// lines of an SMTP transcript (bare, or marked as swaks, curl, PHPMailer,
// Sendmail DSNs and RFCs print them: "<-", "<**", "< ", "SERVER ->
// CLIENT:", "<<<", "S:"), with a multi-line reply collapsed into one
// Found; replies quoted in bounces (DSN Diagnostic-Code, folded over
// several lines; Exchange and Outlook NDR text) and in Postfix, Exim,
// OpenSMTPD and Sendmail logs and Python smtplib errors. Context is set
// when the text says which command drew the reply: the last client command
// of a transcript, Postfix's "(in reply to RCPT TO command)" and "reject:
// RCPT from", Exim's "after MAIL FROM:<…>" and "for RCPT TO command",
// OpenSMTPD's command="RCPT TO:…", Sendmail's "ruleset=check_rcpt",
// smtplib's exception name. A DSN "Status:" or Sendmail "dsn=" failure
// with no reply beside it is reported with Inferred set.
//
// The input may be of any size: the scanner keeps a window of about a
// hundred lines around the one it reads (a reply and the words that place
// it span a few lines), so memory stays bounded and the work is linear in
// the input. A number counts as a reply code only where a reply can stand:
// at the start of a transcript line, after a phrase that introduces a
// reply ("said:", "reply=", "smtp;"…), or directly followed by an enhanced
// code of the same class. Time stamps, PIDs, ports, IP octets and sizes do
// not match.
type ReplyScanner struct {
	r       *bufio.Reader
	f       finder
	offset  int // input offset of the next byte to read
	number  int // line number of the last line read
	eof     bool
	err     error
	emitted int // window index of the next line to hand out
	queue   []Found
	cur     Line
}

// NewReplyScanner returns a scanner reading r.
func NewReplyScanner(r io.Reader) *ReplyScanner {
	return &ReplyScanner{r: bufio.NewReaderSize(r, MaxLineLen)}
}

// Scan advances to the next line; it returns false at the end of the input
// or on a read error (see Err).
func (sc *ReplyScanner) Scan() bool {
	f := &sc.f
	for {
		if sc.emitted < f.i && sc.emitted < len(f.lines) {
			sc.cur = sc.lineOut(sc.emitted)
			sc.emitted++
			sc.compact()
			return true
		}
		sc.fill()
		if f.i >= len(f.lines) {
			return false
		}
		f.scanLine()
		sc.queue = append(sc.queue, f.out...)
		f.out = f.out[:0]
	}
}

// Line is the line the last Scan advanced to.
func (sc *ReplyScanner) Line() Line { return sc.cur }

// Err is the first read error, other than io.EOF.
func (sc *ReplyScanner) Err() error { return sc.err }

// lineOut builds the Line for window index k with the replies that end on
// it: they were all found once scanning moved past k, since a reply never
// ends before the line it starts on.
func (sc *ReplyScanner) lineOut(k int) Line {
	ln := sc.f.lines[k]
	out := Line{Start: ln.start, Text: ln.s, Continued: ln.continued, Number: ln.number}
	for len(sc.queue) > 0 {
		r := sc.queue[0]
		last := r.End
		if last > r.Start {
			last--
		}
		if last >= ln.next && k+1 < len(sc.f.lines) {
			break
		}
		out.Replies = append(out.Replies, r)
		sc.queue = sc.queue[1:]
	}
	return out
}

// fill reads lines until the window holds lookahead lines past the current
// one, or the input ends.
func (sc *ReplyScanner) fill() {
	f := &sc.f
	for !sc.eof && len(f.lines)-f.i <= lookahead {
		ln, ok := sc.readLine()
		if !ok {
			break
		}
		if !f.hasClient {
			if _, ok := clientCommand(ln.s); ok {
				f.hasClient = true
			}
		}
		f.lines = append(f.lines, ln)
	}
}

// readLine reads one line, or a MaxLineLen piece of a longer one.
func (sc *ReplyScanner) readLine() (line, bool) {
	b, err := sc.r.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		sc.eof = true
		if !errors.Is(err, io.EOF) {
			sc.err = err
		}
		if len(b) == 0 {
			return line{}, false
		}
	}
	start := sc.offset
	sc.offset += len(b)
	ln := line{start: start, next: sc.offset}
	if !sc.pieceContinues() {
		sc.number++
	}
	ln.number = sc.number
	switch {
	case len(b) > 0 && b[len(b)-1] == '\n':
		b = b[:len(b)-1]
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
	case errors.Is(err, bufio.ErrBufferFull):
		ln.continued = true
	}
	ln.s = string(b)
	ln.end = start + len(b)
	return ln, true
}

// pieceContinues tells whether the last line read was a piece of a longer
// line, so the next one carries the same number.
func (sc *ReplyScanner) pieceContinues() bool {
	n := len(sc.f.lines)
	return n > 0 && sc.f.lines[n-1].continued
}

// compact drops the lines already handed out and no longer needed behind
// the current one, now and then, so the window stays small.
func (sc *ReplyScanner) compact() {
	f := &sc.f
	drop := min(sc.emitted, f.i) - lookbehind
	if drop < 64 {
		return
	}
	n := copy(f.lines, f.lines[drop:])
	clear(f.lines[n:])
	f.lines = f.lines[:n]
	f.i -= drop
	sc.emitted -= drop
}

// finder holds the state of the search over a window of lines.
type finder struct {
	lines     []line
	i         int // the current line, an index into lines
	out       []Found
	hasClient bool    // client command lines were seen: it is a transcript
	lastCmd   Command // the last client command seen
	seenCmd   bool
	inData    bool // a 354 was seen: client lines are message content
	added     bool // a reply was added; lastEnd is where it ended
	lastEnd   int
}

// clientCommand tells whether s is a line a client sent, and which command.
func clientCommand(s string) (Command, bool) {
	marked := func(s string) (Command, bool) {
		loc := clientMark.FindStringIndex(s)
		if loc == nil {
			return "", false
		}
		cmd := CommandOf(s[loc[1]:])
		// "> " also quotes mail text; it marks a client line only
		// before a verb.
		if cmd == Unknown && strings.TrimSpace(s[:loc[1]]) == ">" {
			return "", false
		}
		return cmd, true
	}
	if cmd, ok := marked(s); ok {
		return cmd, true
	}
	if ts := timestampLead.FindStringIndex(s); ts != nil {
		if cmd, ok := marked(s[ts[1]:]); ok {
			return cmd, true
		}
	}
	// A bare upper-case verb line, as in a pasted raw transcript.
	fields := strings.Fields(s)
	if len(fields) == 0 || len(s) > 600 || s[0] == ' ' || s[0] == '\t' {
		return "", false
	}
	verb := fields[0]
	switch {
	case strings.HasPrefix(verb, "MAIL") && strings.HasPrefix(strings.ToUpper(s), "MAIL FROM:"),
		strings.HasPrefix(verb, "RCPT") && strings.HasPrefix(strings.ToUpper(s), "RCPT TO:"):
		return CommandOf(s), true
	case verb == "EHLO" || verb == "HELO" || verb == "LHLO" || verb == "VRFY" || verb == "EXPN" || verb == "AUTH" || verb == "BDAT":
		if len(fields) <= 3 {
			return CommandOf(s), true
		}
	case verb == "DATA" || verb == "QUIT" || verb == "RSET" || verb == "NOOP" || verb == "STARTTLS" || verb == "HELP":
		if len(fields) == 1 {
			return CommandOf(s), true
		}
	}
	return "", false
}

// dataLine strips the client marker from a transcript line.
func dataLine(s string) string {
	if loc := clientMark.FindStringIndex(s); loc != nil {
		return s[loc[1]:]
	}
	return s
}

// scanLine looks for replies on the current line and advances f.i past
// every line it used.
func (f *finder) scanLine() {
	ln := f.lines[f.i]
	if cmd, ok := clientCommand(ln.s); ok {
		// Between a 354 and the lone dot, client lines are message
		// content: the next reply still answers DATA (RFC 5321 §4.1.1.4).
		switch {
		case f.inData && strings.TrimSpace(dataLine(ln.s)) == ".":
			f.inData = false
		case !f.inData:
			f.lastCmd, f.seenCmd = cmd, true
		}
		f.i++
		return
	}
	if f.lineStartReply(ln) {
		return
	}
	if !f.inLineReplies(ln) {
		f.i++
	}
}

// lineStartReply handles a transcript line that begins with a reply code,
// possibly after a server marker or time stamp, and collapses the
// continuation lines of a multi-line reply (RFC 5321 §4.2.1).
func (f *finder) lineStartReply(ln line) bool {
	off, marked := serverOffset(ln.s)
	m := replyAt().FindStringSubmatchIndex(ln.s[off:])
	if m == nil {
		return false
	}
	codeStr := ln.s[off+m[2] : off+m[3]]
	code, _ := strconv.Atoi(codeStr)
	enh := ""
	if m[6] >= 0 {
		enh = ln.s[off+m[6] : off+m[7]]
		if enh[0] != codeStr[0] {
			enh = "" // class mismatch: keep it in the text, report no enhanced code
		}
	}
	// A bare unmarked line needs letters in its text or an enhanced code,
	// so that a line holding only a number is not taken for a reply.
	if !marked && enh == "" {
		rest := ln.s[off+3:]
		if strings.IndexFunc(rest, isLetter) < 0 {
			return false
		}
	}
	start := ln.start + off
	var parts []string
	last := f.i
	cont := len(ln.s) > off+3 && ln.s[off+3] == '-'
	parts = append(parts, replyBody(ln.s[off:], codeStr, enh))
	for cont && last+1 < len(f.lines) && last+1-f.i <= maxFold {
		next := f.lines[last+1]
		noff, _ := serverOffset(next.s)
		rest := next.s[noff:]
		if !strings.HasPrefix(rest, codeStr) || (len(rest) > 3 && rest[3] != '-' && rest[3] != ' ') {
			break
		}
		last++
		parts = append(parts, replyBody(rest, codeStr, enh))
		cont = len(rest) > 3 && rest[3] == '-'
	}
	end := f.lines[last].end
	// In a transcript a reply answers the last client command; one before
	// any command is the greeting (RFC 5321 §3.1).
	var ctx Command
	switch {
	case f.seenCmd:
		ctx = f.lastCmd
	case f.hasClient || marked:
		ctx = Greeting
	}
	body := cleanText(strings.Join(parts, " "), codeStr, enh)
	if enh == "" {
		enh = trailingEnhancedOf(body, codeStr)
	}
	f.add(Found{Start: start, End: end, Code: code, Enhanced: enh, Text: body, Context: ctx})
	f.inData = code == 354 && f.seenCmd
	f.i = last + 1
	return true
}

// serverOffset returns where the reply starts on a transcript line, after
// any server marker or time stamp, and whether a marker was there.
func serverOffset(s string) (int, bool) {
	off := 0
	if ts := timestampLead.FindStringIndex(s); ts != nil {
		if loc := serverMark.FindStringIndex(s[ts[1]:]); loc != nil && loc[1] > 0 {
			return ts[1] + loc[1], true
		}
	}
	if loc := serverMark.FindStringIndex(s); loc != nil && loc[1] > 0 && strings.TrimSpace(s[:loc[1]]) != "" {
		return loc[1], true
	}
	return off, false
}

// replyBody strips the codes from one reply line.
func replyBody(s, code, enh string) string {
	s = s[len(code):]
	if len(s) > 0 && (s[0] == '-' || s[0] == ' ') {
		s = s[1:]
	}
	if enh != "" {
		t := strings.TrimLeft(s, " ")
		if strings.HasPrefix(t, enh) {
			s = t[len(enh):]
		}
	}
	return s
}

// introducerWords are the literal words introducer needs, lower-case.
var introducerWords = []string{"said:", "reject=", "reply=", "returned", "smtp;", "reported error:", "refused to talk", "deferred:"}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// hasPairShape tells whether s holds "ddd d." or "ddd-d.", the start of a
// basic code followed by an enhanced code, which replyPair needs.
func hasPairShape(s string) bool {
	for i := strings.IndexByte(s, '.'); i >= 0; {
		if i >= 5 && (s[i-2] == ' ' || s[i-2] == '-') && isDigit(s[i-1]) && isDigit(s[i-3]) && isDigit(s[i-4]) && isDigit(s[i-5]) {
			return true
		}
		j := strings.IndexByte(s[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// hasCodeDigits tells whether s holds three digits that could be a reply
// code (RFC 5321 §4.2: 2-5, 0-5, 0-9).
func hasCodeDigits(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] >= '2' && s[i] <= '5' && s[i+1] >= '0' && s[i+1] <= '5' && s[i+2] >= '0' && s[i+2] <= '9' {
			return true
		}
	}
	return false
}

// asciiLower lower-cases ASCII letters only, keeping every byte offset.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isLetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }

// inLineReplies finds replies quoted inside a line: after an introducer,
// Exim's "after CMD:", Postfix's "reject: CMD from …:", or as a code and
// enhanced-code pair. Candidates are gathered in one pass per pattern and
// tried in order, so a line costs time linear in its length. It reports
// whether it moved f.i past the line itself (a reply spanning lines).
func (f *finder) inLineReplies(ln line) (moved bool) {
	pos, found := 0, false
	for _, c := range candidates(ln.s) {
		if c.at < pos {
			continue
		}
		if len(f.out) >= maxFound {
			break
		}
		var next int
		var used bool
		if c.python {
			next, used = f.pythonReply(ln, c.at, c.ctx)
		} else {
			next, used = f.replyFrom(ln, c.at, c.ctx, c.quoted)
		}
		if !used {
			continue
		}
		found = true
		if f.i >= len(f.lines) || f.lines[f.i].start != ln.start {
			return true // the reply spanned later lines; f.i already moved
		}
		pos = next
	}
	if !found {
		f.dsnOnlyReply(ln)
	}
	return false
}

// candidate is a place on a line where a reply code may start, with the
// context the words before it give.
type candidate struct {
	at     int
	ctx    Command
	python bool // the code opens a Python smtplib tuple: (550, b'5.1.1 …')
	quoted bool // the reply ends at the next double quote (OpenSMTPD)
}

// pythonTuple is how Python's smtplib exceptions show a reply:
// SMTPRecipientsRefused: {'a@b': (550, b'5.1.1 <a@b>: …')}.
var pythonTuple = lazyRegexp(`\(([2-5][0-5][0-9]), b?['"]`)

// pythonContext maps smtplib's exception names to the command that drew
// the reply.
var pythonContext = []struct {
	name string
	cmd  Command
}{
	{"smtpsenderrefused", MAIL}, {"smtprecipientsrefused", RCPT}, {"smtpdataerror", DATA},
	{"smtpauthenticationerror", AUTH}, {"smtpheloerror", EHLO}, {"smtpconnecterror", Greeting},
	{"smtpnotsupportederror", Unknown},
}

// candidates lists, in order of position, where a reply may start on s.
func candidates(s string) []candidate {
	// Every reply has a code: on this line, or on the next when this one
	// ends in "…:" (Exim's "after RCPT TO:<a@b>:"). Most log lines have
	// neither and cost one byte scan.
	if !hasCodeDigits(s) && !strings.HasSuffix(strings.TrimRight(s, " \t"), ":") {
		return nil
	}
	s = asciiLower(s)
	var out []candidate
	// Each pattern runs only when the words it needs are on the line:
	// strings.Contains is far cheaper than a regexp scan.
	if containsAny(s, introducerWords) {
		for _, m := range introducer().FindAllStringIndex(s, -1) {
			var c Command
			if strings.Contains(s[m[0]:m[1]], "refused to talk") {
				c = Greeting
			}
			out = append(out, candidate{at: m[1], ctx: c})
		}
	}
	if strings.Contains(s, "smtp error from remote") {
		for _, m := range eximAfter().FindAllStringSubmatchIndex(s, -1) {
			out = append(out, candidate{at: m[1], ctx: contextFromPhrase(s[m[2]:m[3]])})
		}
		for _, m := range eximFor().FindAllStringSubmatchIndex(s, -1) {
			out = append(out, candidate{at: m[1], ctx: contextFromPhrase(s[m[2]:m[3]])})
		}
	}
	if strings.Contains(s, `="`) && (strings.Contains(s, `result="`) || strings.Contains(s, `stat="`)) {
		var ctx Command
		if m := openSMTPDCommand().FindStringSubmatch(s); m != nil {
			ctx = contextFromPhrase(m[1])
		}
		for _, m := range openSMTPDResult().FindAllStringIndex(s, -1) {
			out = append(out, candidate{at: m[1], ctx: ctx, quoted: true})
		}
	}
	if strings.Contains(s, " from ") && strings.Contains(s, "]: ") {
		for _, m := range postfixReject().FindAllStringSubmatchIndex(s, -1) {
			out = append(out, candidate{at: m[1], ctx: contextFromPhrase(s[m[2]:m[3]])})
		}
	}
	if hasPairShape(s) {
		for _, m := range replyPair().FindAllStringSubmatchIndex(s, -1) {
			if s[m[2]] == s[m[4]] { // RFC 3463 §3: the classes agree
				out = append(out, candidate{at: m[2]})
			}
		}
	}
	if strings.Contains(s, ", b'") || strings.Contains(s, `, b"`) || strings.Contains(s, ", '") {
		for _, m := range pythonTuple().FindAllStringSubmatchIndex(s, -1) {
			var ctx Command
			for _, p := range pythonContext {
				if strings.Contains(s[:m[0]], p.name) {
					ctx = p.cmd
				}
			}
			out = append(out, candidate{at: m[2], ctx: ctx, python: true})
		}
	}
	if len(out) == 0 {
		return nil
	}
	if m := sendmailRuleset().FindStringSubmatch(s); m != nil {
		ctx := contextFromPhrase(m[1])
		for i := range out {
			if out[i].ctx == "" {
				out[i].ctx = ctx
			}
		}
	}
	// Stable: at one position the earlier pattern's context wins.
	sort.SliceStable(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

// replyFrom reads a reply starting at byte at of line ln (or, when the line
// ends there, at the start of the next indented line). It reports where
// scanning of ln resumes, and whether a reply was found.
func (f *finder) replyFrom(ln line, at int, ctx Command, quoted bool) (next int, ok bool) {
	s := ln.s[at:]
	if quoted {
		if i := strings.IndexByte(s, '"'); i >= 0 {
			s = s[:i]
		}
	}
	lineIdx := f.i
	base := ln.start + at
	if strings.TrimSpace(s) == "" && !quoted && f.i+1 < len(f.lines) {
		// Exim bounce: the reply is on the next, indented line.
		nl := f.lines[f.i+1]
		t := strings.TrimLeft(nl.s, " \t")
		if len(t) == len(nl.s) {
			return 0, false
		}
		lineIdx = f.i + 1
		base = nl.start + len(nl.s) - len(t)
		s = t
	}
	m := replyAt().FindStringSubmatchIndex(s)
	if m == nil {
		return 0, false
	}
	codeStr := s[m[2]:m[3]]
	code, _ := strconv.Atoi(codeStr)
	enh := ""
	if m[6] >= 0 {
		enh = s[m[6]:m[7]]
		if enh[0] != codeStr[0] {
			enh = ""
		}
	}
	// Gather the body: the rest of this line, then indented continuation
	// lines while the reply is visibly unfinished.
	pieces := []span{{s, base, base + len(s)}}
	lastLine := lineIdx
	joined := s
	for n := 0; !quoted && n < maxFold && len(joined) < maxReplyText && lastLine+1 < len(f.lines) && wantsContinuation(ln.s[:at], joined, f.lines[lastLine+1].s, codeStr); n++ {
		lastLine++
		nl := f.lines[lastLine]
		pieces = append(pieces, span{nl.s, nl.start, nl.end})
		joined += "\n" + nl.s
	}
	// Cut trailers and find where the reply ends.
	body := joined
	cut := len(body)
	if loc := inReplyTo().FindStringSubmatchIndex(body); loc != nil {
		ctx = contextFromPhrase(body[loc[2]:loc[3]])
		cut = loc[0]
	}
	if i := strings.Index(body[:cut], "; from=<"); i >= 0 {
		cut = i
	}
	if i := strings.LastIndex(body[:cut], "'"); i >= 0 && strings.Contains(strings.ToLower(ln.s[:at]), "returned '") {
		cut = i
	}
	body = body[:cut]
	body = strings.TrimRight(body, " \t\r\n")
	body = trimUnbalanced(body)
	// Map the cut back to an absolute offset.
	endAbs := absOffset(pieces, len(body))
	text := cleanText(replyBody(body, codeStr, enh), codeStr, enh)
	if enh == "" {
		enh = trailingEnhancedOf(text, codeStr)
	}
	f.add(Found{Start: base, End: endAbs, Code: code, Enhanced: enh, Text: text, Context: ctx})
	if lastLine != f.i {
		f.i = lastLine + 1
		return 0, true
	}
	return at + len(body), true
}

// span is a piece of a reply quoted over several lines, with its absolute
// offsets in the input.
type span struct {
	text     string
	from, to int
}

// pythonReply reads "550, b'5.1.1 text'" at byte at of ln: the code, the
// quoted reply (with its escaped line breaks), up to the closing quote.
func (f *finder) pythonReply(ln line, at int, ctx Command) (next int, ok bool) {
	s := ln.s[at:]
	code, err := strconv.Atoi(s[:3])
	if err != nil {
		return 0, false
	}
	q := strings.IndexAny(s, `'"`)
	if q < 0 {
		return 0, false
	}
	quote := s[q]
	body := s[q+1:]
	end := -1
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' {
			i++
			continue
		}
		if body[i] == quote {
			end = i
			break
		}
	}
	if end < 0 {
		return 0, false
	}
	raw := strings.NewReplacer(`\r\n`, " ", `\n`, " ", `\r`, " ", `\t`, " ").Replace(body[:end])
	enh := ""
	if m := leadingEnhanced().FindStringSubmatch(raw); m != nil && m[1][0] == s[0] {
		enh = m[1]
		raw = raw[len(m[0]):]
	}
	text := cleanText(raw, s[:3], enh)
	if enh != "" {
		text = strings.Join(strings.Fields(strings.ReplaceAll(" "+text+" ", " "+enh+" ", " ")), " ")
	}
	f.add(Found{Start: ln.start + at, End: ln.start + at + q + 1 + end, Code: code, Enhanced: enh, Text: text, Context: ctx})
	return at + q + 1 + end, true
}

// leadingEnhanced matches an enhanced code at the start of a text.
var leadingEnhanced = lazyRegexp(`^\s*([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:\s+|$)`)

// absOffset maps an offset in joined (pieces' texts joined by "\n") back to
// an absolute offset in the input.
func absOffset(pieces []span, n int) int {
	for _, p := range pieces {
		if n <= len(p.text) {
			return p.from + n
		}
		n -= len(p.text) + 1
	}
	last := pieces[len(pieces)-1]
	return last.to
}

// wantsContinuation tells whether a reply quoted so far (reply, with the
// words before it on its first line) goes on in next (code is the reply's
// basic code): next is indented, is not a new reply or header field, and the
// reply has not ended (Postfix's "(in reply to …)" ends it).
func wantsContinuation(before, reply, next, code string) bool {
	joined := before + reply
	if next == "" || (next[0] != ' ' && next[0] != '\t') {
		return false
	}
	t := strings.TrimSpace(next)
	if t == "" || inReplyTo().MatchString(joined) {
		return false
	}
	// An indented multi-line reply, as Exim quotes it: "550-…" goes on
	// in the next line with the same code (RFC 5321 §4.2.1).
	lastLine := strings.TrimSpace(reply[strings.LastIndexByte(reply, '\n')+1:])
	if strings.HasPrefix(lastLine, code+"-") && strings.HasPrefix(t, code) {
		return true
	}
	if _, ok := clientCommand(next); ok {
		return false
	}
	if loc := serverMark.FindStringIndex(next); loc != nil && strings.TrimSpace(next[:loc[1]]) != "" {
		return false
	}
	// A Postfix bounce wraps until "(in reply to"; a folded DSN field
	// continues while indented. Both are indented text.
	return strings.Contains(strings.ToLower(joined), "said:") || strings.Contains(joined, "in reply") ||
		folded(joined)
}

// folded reports whether joined is a DSN header field whose value may be
// folded onto indented lines (RFC 5322 §2.2.3).
func folded(joined string) bool {
	l := strings.ToLower(strings.TrimSpace(joined))
	return strings.HasPrefix(l, "diagnostic-code:") || strings.Contains(l, "smtp;")
}

// trimUnbalanced drops closing parentheses that close something opened
// before the reply ("status=bounced (host … said: 550 …)").
func trimUnbalanced(s string) string {
	extraParen := strings.Count(s, ")") - strings.Count(s, "(")
	extraAngle := strings.Count(s, ">") - strings.Count(s, "<")
	for {
		switch {
		case extraParen > 0 && strings.HasSuffix(s, ")"):
			extraParen--
		case extraAngle > 0 && strings.HasSuffix(s, ">"):
			extraAngle--
		default:
			return s
		}
		s = strings.TrimRight(s[:len(s)-1], " ")
	}
}

// dsnOnlyReply reports a "Status: 5.1.1" or "dsn=5.1.1" that stands without
// a reply in its paragraph (RFC 3464 §2.3.4).
func (f *finder) dsnOnlyReply(ln line) {
	if !strings.Contains(ln.s, "dsn=") && !strings.HasPrefix(strings.ToLower(strings.TrimLeft(ln.s, " \t")), "status:") {
		return
	}
	m := dsnOnly().FindStringSubmatchIndex(asciiLower(ln.s))
	if m == nil {
		return
	}
	// A DSN's Status field repeats the code of the Diagnostic-Code in the
	// same recipient block; only a Status with no reply beside it counts.
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ln.s)), "status:") && f.replyNearby() {
		return
	}
	class := ln.s[m[2]:m[3]]
	if class == "2" {
		return // a success needs no explaining, and no reply was quoted
	}
	enh := ln.s[m[2]:m[7]]
	code := map[string]int{"2": 250, "4": 450, "5": 550}[class]
	text := ""
	if i := strings.Index(ln.s, "stat="); i >= 0 {
		text = strings.TrimSpace(ln.s[i+len("stat="):])
	}
	f.add(Found{Start: ln.start + m[2], End: ln.start + m[7], Code: code, Enhanced: enh, Text: text, Inferred: true})
}

// replyNearby tells whether the paragraph around the current line (up to a
// blank line, at most maxFold lines each way) holds a reply code.
func (f *finder) replyNearby() bool {
	has := func(j int) bool {
		ln := &f.lines[j]
		if ln.hasReply == 0 {
			ln.hasReply = -1
			if s := ln.s; (hasPairShape(s) && replyPair().MatchString(s)) || replyAfterIntroducer(s) {
				ln.hasReply = 1
			}
		}
		return ln.hasReply == 1
	}
	if has(f.i) {
		return true
	}
	for d := -1; d <= 1; d += 2 {
		for j, n := f.i+d, 0; j >= 0 && j < len(f.lines) && n < maxFold; j, n = j+d, n+1 {
			if strings.TrimSpace(f.lines[j].s) == "" {
				break
			}
			if has(j) {
				return true
			}
		}
	}
	return false
}

func replyAfterIntroducer(s string) bool {
	s = asciiLower(s)
	if !containsAny(s, introducerWords) {
		return false
	}
	for _, m := range introducer().FindAllStringIndex(s, -1) {
		if replyAt().MatchString(s[m[1]:]) {
			return true
		}
	}
	return false
}

// contextFromPhrase maps the words MTAs use for a command ("RCPT TO",
// "end of data", "MAIL", "initial connection", "check_rcpt") to a Command.
func contextFromPhrase(p string) Command {
	p = strings.ToLower(strings.TrimSpace(p))
	switch {
	case strings.HasPrefix(p, "end of data"), strings.HasPrefix(p, "end-of-message"), strings.HasPrefix(p, "end of message"),
		p == "eom", p == "eoh", p == "data", strings.HasPrefix(p, "data "):
		return DATA
	case strings.HasPrefix(p, "initial connection"), strings.HasPrefix(p, "connect"), strings.HasPrefix(p, "greeting"),
		strings.HasPrefix(p, "banner"), p == "relay":
		return Greeting
	case strings.HasPrefix(p, "rcpt"):
		return RCPT
	case strings.HasPrefix(p, "mail"):
		return MAIL
	}
	if c, ok := ParseCommand(strings.Fields(p + " x")[0]); ok {
		return c
	}
	return Unknown
}

// continuationInText matches the code prefixes a relay leaves inside a
// folded multi-line reply; they are removed from Found.Text.
var continuationInText = lazyRegexp(`(?:^|\s)([2-5][0-5][0-9])[- ](?:([245]\.[0-9]{1,3}\.[0-9]{1,3})\s+)?`)

// cleanText collapses white space and removes the repeated "550-5.1.1"
// prefixes of a folded multi-line reply with the same codes.
func cleanText(s, code, enh string) string {
	s = continuationInText().ReplaceAllStringFunc(s, func(m string) string {
		t := strings.TrimSpace(m)
		if !strings.HasPrefix(t, code) {
			return m
		}
		if (enh != "" && strings.Contains(t, enh)) || (enh == "" && len(t) == 4 && t[3] == '-') {
			return " "
		}
		return m
	})
	return strings.Join(strings.Fields(s), " ")
}

// trailingEnhancedOf returns qmail's trailing "(#5.7.1)" when its class
// agrees with the basic code.
func trailingEnhancedOf(text, code string) string {
	if m := trailingEnhanced().FindStringSubmatch(text); m != nil && m[1][0] == code[0] {
		return m[1]
	}
	return ""
}

func (f *finder) add(x Found) {
	if x.Code < 200 || x.Code > 599 || x.End < x.Start {
		return
	}
	if f.added && x.Start < f.lastEnd {
		return // overlaps the previous reply
	}
	x.Raw = f.rawText(x.Start, x.End)
	f.added, f.lastEnd = true, x.End
	f.out = append(f.out, x)
}

// rawText is the input between offsets start and end, rebuilt from the
// lines in the window with their line breaks.
func (f *finder) rawText(start, end int) string {
	var b strings.Builder
	for _, ln := range f.lines {
		if ln.next <= start || ln.start >= end {
			continue
		}
		full := ln.s + "\r\n"[2-(ln.next-ln.end):]
		from, to := max(start-ln.start, 0), min(end-ln.start, len(full))
		if from < to {
			b.WriteString(full[from:to])
		}
	}
	return b.String()
}
