package explain

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Report is what one message says about the delivery of an earlier one:
// a delivery status notification (RFC 3464, or one of the common
// non-standard bounce texts), a feedback report (RFC 5965), an automatic
// reply (RFC 3834), or none of these.
type Report struct {
	// Kind is what the message is: "bounce" (a recipient failed),
	// "delay" (delivery is still being tried), "delivery" (a success
	// notification), "feedback" (a complaint report), "auto-reply" or
	// "none" (no delivery report found).
	Kind string `json:"kind"`
	// Format is how the report was read: "rfc3464", "arf", "rfc3834",
	// "amazon-ses-json", or the text layout of the software that wrote
	// it ("postfix", "exim", "sendmail", "qmail", "exchange", "gmail",
	// "yahoo").
	Format string `json:"format"`
	// Generator names the software or provider that wrote the report, when
	// its marks show ("Postfix", "Exim", "Sendmail", "qmail", "Microsoft
	// Exchange", "Gmail", "Yahoo", "Amazon SES"); "" when they do not.
	Generator    string `json:"generator,omitempty"`
	From         string `json:"from,omitempty"`
	Subject      string `json:"subject,omitempty"`
	Date         string `json:"date,omitempty"`
	MessageID    string `json:"message_id,omitempty"`
	ReportingMTA string `json:"reporting_mta,omitempty"`
	// OriginalMessageID and OriginalSubject identify the message the
	// report is about, from its returned copy or headers.
	OriginalMessageID string      `json:"original_message_id,omitempty"`
	OriginalSubject   string      `json:"original_subject,omitempty"`
	Recipients        []Recipient `json:"recipients"`
	Feedback          *Feedback   `json:"feedback,omitempty"`
	AutoReply         *AutoReply  `json:"auto_reply,omitempty"`
	// Truncated is set when the message was longer than MaxMessageBytes
	// or had a line longer than MaxMessageLine: only its start was read.
	Truncated bool `json:"truncated,omitempty"`
}

// Recipient is the report on one recipient: what happened, what the
// remote server said, and what it means.
type Recipient struct {
	Recipient         string `json:"recipient"`
	OriginalRecipient string `json:"original_recipient,omitempty"`
	// Action is the DSN action (RFC 3464 §2.3.3): failed, delayed,
	// delivered, relayed or expanded; for a text bounce, what its words
	// say. Empty for a feedback report or an auto-reply.
	Action string `json:"action"`
	// Status is the enhanced status code (RFC 3463), from the report or
	// the reply; empty when neither gives one.
	Status string `json:"status"`
	// StatusReused is set when the recognised sender of the reply uses
	// this registered code for a meaning of its own (Microsoft's 5.1.10
	// for an unknown recipient): the registry's title does not apply.
	StatusReused   bool   `json:"status_reused,omitempty"`
	ReplyCode      int    `json:"reply_code"` // the SMTP reply code, 0 when the report quotes none
	RemoteMTA      string `json:"remote_mta"`
	Diagnostic     string `json:"diagnostic"`                // the remote server's words or the reporter's
	DiagnosticType string `json:"diagnostic_type,omitempty"` // "smtp", "x-unix"…, from Diagnostic-Code
	LastAttempt    string `json:"last_attempt,omitempty"`
	// Reason is the word of the reason taxonomy bounce classifiers share
	// (see Reasons); Cause is ours, finer; Actor is who has to act.
	Reason string `json:"reason"`
	Cause  string `json:"cause"`
	Actor  string `json:"actor"`
	// Explanation reads the reply through the knowledge base (see
	// Explain): a line on what it means; Fix is what to do.
	Explanation string `json:"explanation"`
	Fix         string `json:"fix"`
	// Context is the SMTP command the reply answered, when the report
	// tells.
	Context Command `json:"context,omitempty"`
	// Source is the reply knowledge's recognised sender of the reply text.
	Source string `json:"recognized_by,omitempty"`
}

// Feedback is the machine-readable part of a feedback report (RFC 5965 §3.1).
type Feedback struct {
	Type             string `json:"type"` // abuse, fraud, virus, other, not-spam, auth-failure
	UserAgent        string `json:"user_agent,omitempty"`
	OriginalMailFrom string `json:"original_mail_from,omitempty"`
	SourceIP         string `json:"source_ip,omitempty"`
	ReportedDomain   string `json:"reported_domain,omitempty"`
	ArrivalDate      string `json:"arrival_date,omitempty"`
}

// AutoReply tells why a message was taken for an automatic reply.
type AutoReply struct {
	// Signal is the evidence: a header field ("Auto-Submitted:
	// auto-replied", "X-Autoreply: yes") or the subject or body wording.
	Signal string `json:"signal"`
}

// Limits on reading messages, so that any input is read in bounded memory.
const (
	// MaxMessageBytes is how much of one message is kept; the rest is
	// read and dropped. The delivery report comes before the returned
	// message, so a report is read whole however large the returned copy.
	MaxMessageBytes = 1 << 20
	// MaxMessageLine is the longest line kept; a longer line is cut.
	MaxMessageLine = 64 << 10
	// maxRecipients caps the recipients read from one message.
	maxRecipients = 1000
	// maxDiagnostic caps one recipient's diagnostic text.
	maxDiagnostic = 4 << 10
	// maxParts and maxDepth cap the MIME structure walked.
	maxParts = 64
	maxDepth = 5
)

// ReadReport reads one message (headers and body, as in RFC 5322) and
// says what it reports. It never fails: a message it cannot read is Kind
// "none". Only the first MaxMessageBytes are read.
func ReadReport(r io.Reader) Report {
	var b bytes.Buffer
	truncated := false
	br := bufio.NewReaderSize(r, 16<<10)
	for {
		line, cut, err := readCappedLine(br)
		cut = cut || b.Len()+len(line) > MaxMessageBytes
		if cut {
			truncated = true
		}
		if b.Len()+len(line) <= MaxMessageBytes {
			b.Write(line)
		}
		if err != nil {
			break
		}
	}
	rep := ParseReport(b.Bytes())
	rep.Truncated = rep.Truncated || truncated
	return rep
}

// readCappedLine reads one line with its line break, keeping at most
// MaxMessageLine bytes of it; cut tells that some were dropped.
func readCappedLine(br *bufio.Reader) (line []byte, cut bool, err error) {
	var out []byte
	for {
		b, e := br.ReadSlice('\n')
		if len(out)+len(b) <= MaxMessageLine {
			out = append(out, b...)
		} else {
			if room := MaxMessageLine - len(out); room > 0 {
				out = append(out, b[:room]...)
			}
			cut = true
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if cut && len(out) > 0 && out[len(out)-1] != '\n' && e == nil {
			out = append(out, '\n')
		}
		return out, cut, e
	}
}

// ParseReport says what the message in raw reports (see ReadReport).
func ParseReport(raw []byte) Report {
	if kind := SniffInput(raw); kind == InputJSON {
		reps := parseSESJSON(raw)
		if len(reps) > 0 {
			return reps[0]
		}
	}
	m := parseMessage(raw)
	return m.report()
}

// message is a message taken apart: its headers and the parts a report
// is read from.
type message struct {
	header     mail.Header
	texts      []string   // human-readable parts, decoded
	dsn        [][]fields // message/delivery-status parts, as field blocks
	arf        []fields   // message/feedback-report, one block
	origHeader mail.Header
	isReport   string // the multipart/report's report-type, lower-case
	truncated  bool
}

// parseMessage splits raw into its headers and parts; a message without a
// header block is read as all body.
func parseMessage(raw []byte) *message {
	m := &message{}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.header = mail.Header{}
		m.texts = append(m.texts, string(raw))
		return m
	}
	m.header = msg.Header
	ct := msg.Header.Get("Content-Type")
	m.walk(ct, msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0, new(int))
	return m
}

// walk reads one MIME entity of type ct, recursing into multiparts.
func (m *message) walk(ct, cte string, body io.Reader, depth int, parts *int) {
	*parts++
	if *parts > maxParts || depth > maxDepth {
		return
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || ct == "" {
		mt = "text/plain"
	}
	body = decodeTransfer(cte, body)
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if mt == "multipart/report" && m.isReport == "" {
			m.isReport = strings.ToLower(params["report-type"])
		}
		boundary := params["boundary"]
		if boundary == "" {
			return
		}
		mr := multipart.NewReader(body, boundary)
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1, parts)
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		b, _ := io.ReadAll(body)
		m.dsn = append(m.dsn, parseFieldBlocks(string(b)))
	case mt == "message/feedback-report":
		b, _ := io.ReadAll(body)
		for _, blk := range parseFieldBlocks(string(b)) {
			m.arf = append(m.arf, blk)
		}
	case mt == "message/rfc822" || mt == "message/global" || mt == "text/rfc822-headers" ||
		mt == "message/rfc822-headers" || mt == "message/global-headers":
		if m.origHeader == nil {
			if om, err := mail.ReadMessage(io.MultiReader(body, strings.NewReader("\r\n\r\n"))); err == nil {
				m.origHeader = om.Header
			}
		}
	case strings.HasPrefix(mt, "text/"):
		b, _ := io.ReadAll(body)
		s := string(b)
		if mt == "text/html" {
			if len(m.texts) > 0 {
				return // the plain alternative says the same
			}
			s = htmlText(s)
		}
		m.texts = append(m.texts, s)
	}
}

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 §6).
func decodeTransfer(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Clean{r: body})
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	}
	return body
}

// base64Clean drops the line breaks and spaces base64 bodies carry, which
// the decoder refuses.
type base64Clean struct{ r io.Reader }

func (c *base64Clean) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		k := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
				p[k] = b
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// htmlText is a rough plain rendering of an HTML part: tags dropped, block
// ends turned into line breaks, the common entities decoded.
func htmlText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(s[i+1 : i+j])
		if strings.HasPrefix(tag, "br") || strings.HasPrefix(tag, "/p") || strings.HasPrefix(tag, "/div") ||
			strings.HasPrefix(tag, "/tr") || strings.HasPrefix(tag, "/li") || strings.HasPrefix(tag, "p") && (len(tag) == 1 || tag[1] == ' ') {
			b.WriteByte('\n')
		}
		s = s[i+j+1:]
	}
	return strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&amp;", "&").Replace(b.String())
}

// fields is one block of "Name: value" fields (a DSN's per-message or
// per-recipient block, RFC 3464 §2.1), names lower-cased, folded lines
// joined.
type fields map[string]string

func (f fields) get(name string) string { return f[name] }

// parseFieldBlocks splits text into blocks of fields at blank lines. It
// is lenient: a line without a colon is dropped.
func parseFieldBlocks(text string) []fields {
	var out []fields
	cur := fields{}
	last := ""
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, last = fields{}, ""
	}
	for _, ln := range strings.Split(text, "\n") {
		ln = strings.TrimRight(ln, "\r")
		switch {
		case strings.TrimSpace(ln) == "":
			flush()
		case (ln[0] == ' ' || ln[0] == '\t') && last != "":
			cur[last] += " " + strings.TrimSpace(ln)
		default:
			name, value, ok := strings.Cut(ln, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(name))
			if _, dup := cur[last]; !dup {
				cur[last] = strings.TrimSpace(value)
			}
		}
	}
	flush()
	return out
}

// headerText decodes a header field's encoded words (RFC 2047).
func headerText(h mail.Header, name string) string {
	v := h.Get(name)
	if v == "" {
		return ""
	}
	if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		v = d
	}
	return strings.Join(strings.Fields(v), " ")
}

// typedValue strips the type from a typed DSN field ("rfc822; a@b",
// "dns; mx.example.net", "smtp; 550 …") and returns both.
func typedValue(v string) (typ, value string) {
	t, rest, ok := strings.Cut(v, ";")
	if !ok || strings.ContainsAny(t, " <@") && !strings.HasPrefix(strings.TrimSpace(t), "x-") {
		return "", strings.TrimSpace(v)
	}
	return strings.ToLower(strings.TrimSpace(t)), strings.TrimSpace(rest)
}

// bareAddress strips angle brackets and a display name from an address.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return strings.TrimSpace(s[i+1 : i+j])
		}
	}
	return strings.Trim(s, "<>\"' ")
}

// report reads what the message reports, trying the structured formats
// first, then the texts of known bounce software, then auto-reply marks.
func (m *message) report() Report {
	rep := Report{
		From:      headerText(m.header, "From"),
		Subject:   headerText(m.header, "Subject"),
		Date:      headerText(m.header, "Date"),
		MessageID: headerText(m.header, "Message-Id"),
		Truncated: m.truncated,
	}
	if m.origHeader != nil {
		rep.OriginalMessageID = headerText(m.origHeader, "Message-Id")
		rep.OriginalSubject = headerText(m.origHeader, "Subject")
	}
	rep.Generator = m.generator()
	text := strings.Join(m.texts, "\n")
	blocks := textRecipients(text)
	switch {
	case len(m.arf) > 0 || m.isReport == "feedback-report":
		m.readFeedback(&rep)
	case len(m.dsn) > 0:
		rep.Format = "rfc3464"
		m.readDSN(&rep, blocks)
	case len(blocks) > 0 && (!m.autoReplyHeader() || rep.Generator != "" || m.fromDaemon()):
		rep.Format = textFormat(rep.Generator)
		rep.Recipients = blocks
	default:
		if sig := m.autoReplySignal(rep.Subject, text); sig != "" {
			rep.Kind, rep.Format = "auto-reply", "rfc3834"
			rep.AutoReply = &AutoReply{Signal: sig}
			addr := bareAddress(headerText(m.header, "From"))
			rep.Recipients = []Recipient{{Recipient: addr}}
		} else if len(blocks) > 0 {
			rep.Format = textFormat(rep.Generator)
			rep.Recipients = blocks
		}
	}
	if rep.Kind == "" {
		m.failedHeaderRecipients(&rep, text)
	}
	for i := range rep.Recipients {
		r := &rep.Recipients[i]
		finishRecipient(r, rep.Kind)
		if rep.Feedback != nil {
			r.Cause = feedbackCause(rep.Feedback.Type)
			r.Explanation, r.Fix = feedbackReading(rep.Feedback.Type)
		}
	}
	if rep.Recipients == nil {
		rep.Recipients = []Recipient{}
	}
	if rep.Kind == "" {
		rep.Kind = kindOf(rep.Recipients)
	}
	if rep.Format == "" {
		rep.Format = "none"
	}
	return rep
}

// failedHeaderRecipients adds the recipients an X-Failed-Recipients header
// names (Exim, Gmail) that the body did not list, with the first reply
// the body quotes, when the message is plainly a bounce.
func (m *message) failedHeaderRecipients(rep *Report, text string) {
	have := map[string]bool{}
	for _, r := range rep.Recipients {
		have[strings.ToLower(r.Recipient)] = true
	}
	list := m.header.Get("X-Failed-Recipients")
	if list == "" {
		return
	}
	for _, a := range strings.Split(list, ",") {
		a = bareAddress(a)
		if a == "" || have[strings.ToLower(a)] || len(rep.Recipients) >= maxRecipients {
			continue
		}
		have[strings.ToLower(a)] = true
		rep.Recipients = append(rep.Recipients, Recipient{Recipient: a, Diagnostic: firstDiagnostic(text)})
	}
	if rep.Format == "" && len(rep.Recipients) > 0 {
		rep.Format = textFormat(rep.Generator)
	}
}

// firstDiagnostic is the first failure reply quoted in text, or "".
func firstDiagnostic(text string) string {
	for _, f := range FindReplies(capText(text, 64<<10)) {
		if f.Code >= 400 {
			return f.Raw
		}
	}
	return ""
}

// kindOf is a report's kind from its recipients' actions: a bounce when
// any failed, a delay when all are delayed, a delivery notice when all
// were delivered.
func kindOf(rs []Recipient) string {
	if len(rs) == 0 {
		return "none"
	}
	delayed, delivered := 0, 0
	for _, r := range rs {
		switch r.Action {
		case "delayed":
			delayed++
		case "delivered", "relayed", "expanded":
			delivered++
		}
	}
	switch {
	case delayed == len(rs):
		return "delay"
	case delivered == len(rs):
		return "delivery"
	case delayed+delivered == len(rs):
		return "delay"
	}
	return "bounce"
}

// readDSN reads the recipients of the message/delivery-status parts
// (RFC 3464 §2.2, §2.3), filling what a field leaves out from the
// human-readable text's entry for the same recipient.
func (m *message) readDSN(rep *Report, blocks []Recipient) {
	byAddr := map[string]Recipient{}
	for _, b := range blocks {
		byAddr[strings.ToLower(b.Recipient)] = b
	}
	for _, part := range m.dsn {
		for i, blk := range part {
			if _, ok := blk["final-recipient"]; !ok {
				if _, ok := blk["original-recipient"]; !ok {
					if i == 0 || blk["reporting-mta"] != "" {
						_, rep.ReportingMTA = typedValue(blk.get("reporting-mta"))
					}
					continue
				}
			}
			if len(rep.Recipients) >= maxRecipients {
				return
			}
			r := Recipient{Action: strings.ToLower(strings.TrimSpace(blk.get("action")))}
			_, r.Recipient = typedValue(blk.get("final-recipient"))
			r.Recipient = bareAddress(r.Recipient)
			if v := blk.get("original-recipient"); v != "" {
				_, o := typedValue(v)
				if o = bareAddress(o); !strings.EqualFold(o, r.Recipient) {
					r.OriginalRecipient = o
				}
			}
			if r.Recipient == "" {
				r.Recipient = r.OriginalRecipient
			}
			r.Status = statusCode(blk.get("status"))
			_, r.RemoteMTA = typedValue(blk.get("remote-mta"))
			r.DiagnosticType, r.Diagnostic = typedValue(blk.get("diagnostic-code"))
			r.LastAttempt = blk.get("last-attempt-date")
			if t, ok := byAddr[strings.ToLower(r.Recipient)]; ok {
				if r.Diagnostic == "" {
					r.Diagnostic = t.Diagnostic
				}
				if r.RemoteMTA == "" {
					r.RemoteMTA = t.RemoteMTA
				}
				r.Context = contextOf(t.Diagnostic)
			}
			rep.Recipients = append(rep.Recipients, r)
		}
	}
}

// readFeedback reads a feedback report (RFC 5965 §3.1-3.2): one entry per
// original recipient, with reason "feedback".
func (m *message) readFeedback(rep *Report) {
	rep.Kind, rep.Format = "feedback", "arf"
	f := fields{}
	for _, blk := range m.arf {
		for k, v := range blk {
			if _, ok := f[k]; !ok {
				f[k] = v
			}
		}
	}
	fb := &Feedback{
		Type:             strings.ToLower(f.get("feedback-type")),
		UserAgent:        f.get("user-agent"),
		OriginalMailFrom: bareAddress(f.get("original-mail-from")),
		SourceIP:         f.get("source-ip"),
		ReportedDomain:   f.get("reported-domain"),
		ArrivalDate:      firstNonEmpty(f.get("arrival-date"), f.get("received-date")),
	}
	if fb.Type == "" {
		fb.Type = "other"
	}
	rep.Feedback = fb
	var rcpts []string
	for _, blk := range m.arf {
		if v := blk.get("original-rcpt-to"); v != "" {
			rcpts = append(rcpts, bareAddress(v))
		}
	}
	if len(rcpts) == 0 && m.origHeader != nil {
		if to := m.origHeader.Get("To"); to != "" {
			if list, err := mail.ParseAddressList(to); err == nil {
				for _, a := range list {
					rcpts = append(rcpts, a.Address)
				}
			}
		}
	}
	if len(rcpts) == 0 {
		rcpts = []string{""} // the reporter redacted it
	}
	for _, a := range rcpts {
		rep.Recipients = append(rep.Recipients, Recipient{Recipient: a, Diagnostic: "feedback report: " + fb.Type})
	}
}

// statusCode is the enhanced code at the start of a Status field
// ("5.1.1 (user unknown)" gives 5.1.1), or "" when it holds none.
func statusCode(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexAny(v, " \t("); i >= 0 {
		v = v[:i]
	}
	if _, _, _, err := ParseEnhanced(v); err != nil {
		return ""
	}
	return v
}

// capText cuts s to at most n bytes.
func capText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// fromDaemon tells whether the message comes from a mail system rather
// than a person: a null Return-Path (RFC 5321 §4.5.5) or a MAILER-DAEMON or
// postmaster sender.
func (m *message) fromDaemon() bool {
	if rp := strings.TrimSpace(m.header.Get("Return-Path")); rp == "<>" {
		return true
	}
	from := strings.ToLower(m.header.Get("From"))
	return strings.Contains(from, "mailer-daemon") || strings.Contains(from, "postmaster@") || strings.Contains(from, "mail delivery")
}
