package render

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// RecipientDoc is one entry of the bounce JSON document's "recipients":
// the recipient's report with the facts of the message it came in.
type RecipientDoc struct {
	Message           int    `json:"message"` // 1-based, in input order
	Source            string `json:"source"`  // "-" for stdin, else the file; "#N" for the Nth message of an mbox
	Kind              string `json:"kind"`
	Format            string `json:"format"`
	Generator         string `json:"generator,omitempty"`
	ReportingMTA      string `json:"reporting_mta,omitempty"`
	Subject           string `json:"subject,omitempty"`
	OriginalMessageID string `json:"original_message_id,omitempty"`
	Truncated         bool   `json:"truncated,omitempty"`
	explain.Recipient
	Feedback  *explain.Feedback  `json:"feedback,omitempty"`
	AutoReply *explain.AutoReply `json:"auto_reply,omitempty"`
}

// BounceSummary ends the JSON document: how many messages of each kind.
type BounceSummary struct {
	Messages   int            `json:"messages"`
	Recipients int            `json:"recipients"`
	Kinds      map[string]int `json:"kinds"`   // bounce, delay, delivery, feedback, auto-reply, none
	Reasons    map[string]int `json:"reasons"` // recipients per reason word
}

// BounceStream writes the reports of the messages `explain` reads, as
// they come, holding none: in text a heading per message and per
// recipient the verdict line, then the explanation, the fix and the
// evidence; with --quiet the verdict lines alone; in json one document,
// {"schema_version": 1, "recipients": [...], "summary": {...}}; in ndjson
// one recipient a line.
type BounceStream struct {
	bw      *bufio.Writer
	ew      *errWriter
	o       Options
	out     *explainOutput
	started bool
	n       int // recipients written to JSON
	sum     BounceSummary
}

// NewBounceStream starts the output on w.
func NewBounceStream(w io.Writer, o Options) *BounceStream {
	ew := &errWriter{w: w}
	bw := bufio.NewWriter(ew)
	b := &BounceStream{bw: bw, ew: ew, o: o, sum: BounceSummary{Kinds: map[string]int{}, Reasons: map[string]int{}}}
	b.out = newExplainOutput(NewPrinter(bw, o), explain.Languages["en"])
	return b
}

// Err is the first error writing the output so far; once set, nothing
// more is written, and the caller may stop reading.
func (b *BounceStream) Err() error { return b.ew.err }

// Summary is the count of what was written so far.
func (b *BounceStream) Summary() BounceSummary { return b.sum }

// Add writes one message's report; source names where it came from.
func (b *BounceStream) Add(source string, rep explain.Report) {
	b.sum.Messages++
	b.sum.Kinds[rep.Kind]++
	number := b.sum.Messages
	for _, r := range rep.Recipients {
		b.sum.Recipients++
		b.sum.Reasons[r.Reason]++
	}
	switch {
	case b.o.Format == JSON:
		b.addJSON(number, source, rep)
	case b.o.Format == NDJSON:
		for _, r := range rep.Recipients {
			WriteNDJSON(b.bw, bounceRecord{SchemaVersion: 1, RecipientDoc: newRecipientDoc(number, source, rep, r)})
		}
	case b.o.Quiet:
		for _, r := range rep.Recipients {
			fmt.Fprintf(b.bw, "%s: %s\n", escapeUntrusted(source), verdictLine(rep, r, false))
		}
	default:
		b.addText(number, source, rep)
	}
}

// bounceRecord is one ndjson line.
type bounceRecord struct {
	SchemaVersion int `json:"schema_version"`
	RecipientDoc
}

func newRecipientDoc(number int, source string, rep explain.Report, r explain.Recipient) RecipientDoc {
	return RecipientDoc{Message: number, Source: source, Kind: rep.Kind, Format: rep.Format, Generator: rep.Generator,
		ReportingMTA: rep.ReportingMTA, Subject: rep.Subject, OriginalMessageID: rep.OriginalMessageID,
		Truncated: rep.Truncated, Recipient: r, Feedback: rep.Feedback, AutoReply: rep.AutoReply}
}

func (b *BounceStream) addJSON(number int, source string, rep explain.Report) {
	w := b.bw
	if !b.started {
		fmt.Fprint(w, "{\n  \"schema_version\": 1,\n  \"recipients\": [")
		b.started = true
	}
	for _, r := range rep.Recipients {
		d := newRecipientDoc(number, source, rep, r)
		if b.n > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprint(w, "\n    ")
		b.n++
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		enc.SetIndent("    ", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(d)
		fmt.Fprint(SafeJSON(w), strings.TrimSuffix(sb.String(), "\n"))
	}
}

// Close ends the output, the JSON document's summary or the text's, and
// returns the first error writing it.
func (b *BounceStream) Close() error {
	defer b.bw.Flush()
	w := b.bw
	switch {
	case b.o.Format == NDJSON || b.o.Quiet && b.o.Format == Text:
		b.bw.Flush()
		return b.ew.err
	case b.o.Format == JSON:
		if !b.started {
			fmt.Fprint(w, "{\n  \"schema_version\": 1,\n  \"recipients\": [")
		}
		if b.n > 0 {
			fmt.Fprint(w, "\n  ")
		}
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		enc.SetIndent("  ", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(b.sum)
		fmt.Fprintf(w, "],\n  \"summary\": %s\n}\n", strings.TrimSuffix(sb.String(), "\n"))
		b.bw.Flush()
		return b.ew.err
	}
	if b.sum.Messages > 1 {
		var kinds []string
		for _, k := range []string{"bounce", "delay", "delivery", "feedback", "auto-reply", "none"} {
			if n := b.sum.Kinds[k]; n > 0 {
				kinds = append(kinds, fmt.Sprintf("%d %s", n, kindWords[k]))
			}
		}
		fmt.Fprintf(w, "\n%d messages: %s; %d recipients.\n", b.sum.Messages, strings.Join(kinds, ", "), b.sum.Recipients)
	}
	b.bw.Flush()
	return b.ew.err
}

// kindWords names a report kind in the text summary.
var kindWords = map[string]string{
	"bounce": "bounced", "delay": "delayed", "delivery": "delivery notices", "feedback": "feedback reports",
	"auto-reply": "automatic replies", "none": "without a report",
}

// formatWords describes a report's format in the text heading.
var formatWords = map[string]string{
	"rfc3464": "delivery status notification (RFC 3464)", "arf": "feedback report (RFC 5965)",
	"rfc3834": "automatic reply (RFC 3834)", "amazon-ses-json": "Amazon SES notification (JSON)",
	"none": "no delivery report",
}

// addText writes one message: a heading, then per recipient the verdict
// line first and the evidence under it.
func (b *BounceStream) addText(number int, source string, rep explain.Report) {
	o := b.out
	if number > 1 {
		fmt.Fprintln(o.w)
	}
	what := formatWords[rep.Format]
	if what == "" {
		what = rep.Format + " bounce text"
	}
	by := ""
	if rep.Generator != "" {
		by = " from " + rep.Generator
	}
	if rep.ReportingMTA != "" {
		by += " at " + escapeUntrusted(rep.ReportingMTA)
	}
	fmt.Fprintf(o.w, "Message %d (%s): %s%s\n", number, escapeUntrusted(source), what, by)
	if rep.Subject != "" {
		o.item("subject:", escapeUntrusted(rep.Subject))
	}
	if rep.OriginalSubject != "" || rep.OriginalMessageID != "" {
		o.item("about:", strings.TrimSpace(escapeUntrusted(rep.OriginalSubject)+" "+escapeUntrusted(rep.OriginalMessageID)))
	}
	if rep.Truncated {
		o.item("!", fmt.Sprintf("only the first %d KiB of the message were read (lines cut at %d KiB)", explain.MaxMessageBytes>>10, explain.MaxMessageLine>>10))
	}
	for _, r := range rep.Recipients {
		b.recipientText(rep, r)
	}
}

// recipientText writes one recipient: verdict, explanation and fix, then
// the evidence fields.
func (b *BounceStream) recipientText(rep explain.Report, r explain.Recipient) {
	o := b.out
	rcpt := escapeUntrusted(r.Recipient)
	if rcpt == "" {
		rcpt = "(recipient not given)"
	}
	_ = rcpt
	fmt.Fprintf(o.w, "\n  %s\n", verdictLine(rep, r, o.color))
	if r.Explanation != "" {
		o.item("   ", escapeUntrusted(r.Explanation))
	}
	if r.Fix != "" {
		o.item("    fix:", escapeUntrusted(r.Fix))
	}
	field := func(name, v string) {
		if v != "" {
			o.item(fmt.Sprintf("    %-11s", name), escapeUntrusted(v))
		}
	}
	if r.OriginalRecipient != "" {
		field("original", r.OriginalRecipient)
	}
	field("action", r.Action)
	st := r.Status
	if st != "" {
		if title, ok := explain.RegistryTitle(st); ok {
			if r.StatusReused {
				st += fmt.Sprintf(" (%s's own meaning; the registry's %q does not apply)", r.Source, title)
			} else {
				st += " " + title
			}
		}
	}
	field("status", st)
	if r.ReplyCode != 0 {
		reply := fmt.Sprint(r.ReplyCode)
		if r.Context != "" && r.Context != explain.Unknown {
			reply += " after " + strings.ToUpper(string(r.Context))
		}
		field("reply", reply)
	}
	field("remote mta", r.RemoteMTA)
	field("diagnostic", r.Diagnostic)
	if rep.Feedback != nil {
		fb := rep.Feedback
		field("mail from", fb.OriginalMailFrom)
		field("source ip", fb.SourceIP)
		field("reporter", fb.UserAgent)
	}
	if rep.AutoReply != nil {
		field("signal", rep.AutoReply.Signal)
	}
}

// verdictLine is a recipient's verdict: who, what happened, the reason
// and cause words and who must act.
func verdictLine(rep explain.Report, r explain.Recipient, color bool) string {
	rcpt := escapeUntrusted(r.Recipient)
	if rcpt == "" {
		rcpt = "(recipient not given)"
	}
	switch rep.Kind {
	case "feedback":
		typ := "other"
		if rep.Feedback != nil {
			typ = escapeUntrusted(rep.Feedback.Type)
		}
		return fmt.Sprintf("%s: feedback report (%s), not a bounce; reason %s, cause %s; %s must act", rcpt, typ, r.Reason, r.Cause, r.Actor)
	case "auto-reply":
		return fmt.Sprintf("%s: automatic reply, not a bounce; reason %s; %s must act", rcpt, r.Reason, r.Actor)
	}
	label := strings.ToUpper(escapeUntrusted(r.Action))
	code := r.ReplyCode
	if code == 0 && r.Status != "" {
		code = int(r.Status[0]-'0') * 100
	}
	return fmt.Sprintf("%s: %s — reason %s, cause %s; %s must act", rcpt, paint(color, code, label), r.Reason, r.Cause, r.Actor)
}
