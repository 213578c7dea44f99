package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// bounceSource is one input of "explain" that holds messages: stdin, a
// file, or a file found in a directory.
type bounceSource struct {
	name string // shown in the output: "-", the path
	r    io.Reader
}

// recipientDoc is one entry of the bounce JSON document's "recipients":
// the recipient's report with the facts of the message it came in.
type recipientDoc struct {
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

// bounceSummary ends the JSON document: how many messages of each kind.
type bounceSummary struct {
	Messages   int            `json:"messages"`
	Recipients int            `json:"recipients"`
	Kinds      map[string]int `json:"kinds"`   // bounce, delay, delivery, feedback, auto-reply, none
	Reasons    map[string]int `json:"reasons"` // recipients per reason word
}

// bounceWriter renders the reports of messages, as text or as one JSON
// document written as the reports come.
type bounceWriter struct {
	o       *explainOutput
	errw    io.Writer
	started bool
	n       int // recipients written to JSON
	sum     bounceSummary
}

func newBounceWriter(o *explainOutput, errw io.Writer) *bounceWriter {
	return &bounceWriter{o: o, errw: errw, sum: bounceSummary{Kinds: map[string]int{}, Reasons: map[string]int{}}}
}

// add renders one message's report.
func (b *bounceWriter) add(source string, rep explain.Report) {
	b.sum.Messages++
	b.sum.Kinds[rep.Kind]++
	number := b.sum.Messages
	if rep.Kind == "none" {
		fmt.Fprintf(b.errw, "smtpprobe explain: %s: no delivery report, feedback report or automatic reply found\n", escapeUntrusted(source))
	}
	for _, r := range rep.Recipients {
		b.sum.Recipients++
		b.sum.Reasons[r.Reason]++
	}
	if b.o.json {
		b.addJSON(number, source, rep)
		return
	}
	b.addText(number, source, rep)
}

func (b *bounceWriter) addJSON(number int, source string, rep explain.Report) {
	w := b.o.w
	if !b.started {
		fmt.Fprint(w, "{\n  \"schema_version\": 1,\n  \"recipients\": [")
		b.started = true
	}
	for _, r := range rep.Recipients {
		d := recipientDoc{Message: number, Source: source, Kind: rep.Kind, Format: rep.Format, Generator: rep.Generator,
			ReportingMTA: rep.ReportingMTA, Subject: rep.Subject, OriginalMessageID: rep.OriginalMessageID,
			Truncated: rep.Truncated, Recipient: r, Feedback: rep.Feedback, AutoReply: rep.AutoReply}
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
		fmt.Fprint(jsonSafe{w}, strings.TrimSuffix(sb.String(), "\n"))
	}
}

// close ends the output: the JSON document's summary, or the text's.
func (b *bounceWriter) close() {
	w := b.o.w
	if b.o.json {
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
		return
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
func (b *bounceWriter) addText(number int, source string, rep explain.Report) {
	o := b.o
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
func (b *bounceWriter) recipientText(rep explain.Report, r explain.Recipient) {
	o := b.o
	rcpt := escapeUntrusted(r.Recipient)
	if rcpt == "" {
		rcpt = "(recipient not given)"
	}
	switch rep.Kind {
	case "feedback":
		fmt.Fprintf(o.w, "\n  %s: feedback report (%s), not a bounce; reason %s, cause %s; %s must act\n",
			rcpt, escapeUntrusted(rep.Feedback.Type), r.Reason, r.Cause, r.Actor)
	case "auto-reply":
		fmt.Fprintf(o.w, "\n  %s: automatic reply, not a bounce; reason %s; %s must act\n", rcpt, r.Reason, r.Actor)
	default:
		label := strings.ToUpper(r.Action)
		code := r.ReplyCode
		if code == 0 && r.Status != "" {
			code = int(r.Status[0]-'0') * 100
		}
		fmt.Fprintf(o.w, "\n  %s: %s — reason %s, cause %s; %s must act\n", rcpt, paint(o.color, code, label), r.Reason, r.Cause, r.Actor)
	}
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
			st += " " + title
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

// explainMessages reads every message of the sources and reports each,
// streaming: one message at a time is held, whatever the input's size.
func explainMessages(e *env, out *explainOutput, sources []bounceSource) int {
	bw := bufio.NewWriter(out.w)
	o := *out
	o.w = bw
	w := newBounceWriter(&o, e.stderr)
	failed := false
	for _, src := range sources {
		sc := explain.NewMessageScanner(src.r)
		mbox := sc.Kind() == explain.InputMbox
		for sc.Scan() {
			name := src.name
			if mbox || sc.Number() > 1 {
				name = fmt.Sprintf("%s#%d", src.name, sc.Number())
			}
			w.add(name, sc.Report())
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(e.stderr, "smtpprobe explain: reading %s: %v\n", escapeUntrusted(src.name), err)
			failed = true
		}
		if c, ok := src.r.(io.Closer); ok {
			c.Close()
		}
	}
	w.close()
	if err := bw.Flush(); err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe explain: writing output: %v\n", err)
		return exitCheck
	}
	if failed || w.sum.Messages == 0 || w.sum.Kinds["none"] == w.sum.Messages {
		if w.sum.Messages == 0 {
			fmt.Fprintln(e.stderr, "smtpprobe explain: no message found in the input")
		}
		return exitCheck
	}
	return exitOK
}

// pathSources opens the files named: a file as itself, a directory as
// every regular file under it, in name order, skipping dot files.
func pathSources(paths []string) ([]bounceSource, error) {
	var out []bounceSource
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, bounceSource{name: p, r: &lazyFile{path: p}})
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, bounceSource{name: f, r: &lazyFile{path: f}})
		}
	}
	return out, nil
}

// lazyFile opens its file on the first Read, so that a directory of
// thousands of files holds one open at a time.
type lazyFile struct {
	path string
	f    *os.File
	err  error
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		l.f, l.err = os.Open(l.path)
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Read(p)
}

func (l *lazyFile) Close() error {
	if l.f != nil {
		return l.f.Close()
	}
	return nil
}

// sniffSize is how much of an input is looked at to tell a message from
// reply lines.
const sniffSize = 4 << 10

// explainInput reads one input: a message, an mbox or SES JSON is read as
// reports; anything else, or any input with --replies, goes to the reply
// annotator.
func explainInput(e *env, out *explainOutput, cmd explain.Command, name string, r io.Reader, replies bool) int {
	br := bufio.NewReaderSize(r, sniffSize)
	head, _ := br.Peek(sniffSize)
	if replies || explain.SniffInput(head) == explain.InputText {
		return explainStdin(e, out, cmd, br)
	}
	return explainMessages(e, out, []bounceSource{{name: name, r: br}})
}

// explainPaths reads the files and directories named: one file alone
// goes the way stdin does (see explainInput); files in a directory and
// several files are read as messages.
func explainPaths(e *env, out *explainOutput, cmd explain.Command, paths []string, replies bool) int {
	if len(paths) == 1 {
		if st, err := os.Stat(paths[0]); err == nil && !st.IsDir() {
			f, err := os.Open(paths[0])
			if err != nil {
				return usageError(e, "explain", err.Error())
			}
			defer f.Close()
			return explainInput(e, out, cmd, paths[0], f, replies)
		}
	}
	sources, err := pathSources(paths)
	if err != nil {
		return usageError(e, "explain", err.Error())
	}
	if len(sources) == 0 {
		return usageError(e, "explain", "no files in "+strings.Join(paths, ", "))
	}
	return explainMessages(e, out, sources)
}

// pathArgs tells whether the arguments name files: an argument that is
// not a code or reply and names an existing file or directory. It
// returns nil when none does, and an error when files and codes are mixed.
func pathArgs(args []string) ([]string, error) {
	var paths []string
	codes := 0
	for _, a := range args {
		if _, err := explain.ParseQuery(a); err == nil {
			codes++
			continue
		}
		if _, err := os.Stat(a); err == nil {
			paths = append(paths, a)
		} else if strings.ContainsRune(a, os.PathSeparator) && !strings.ContainsRune(a, ' ') {
			return nil, fmt.Errorf("cannot read %s: %v", a, errors.Unwrap(err))
		} else {
			codes++
		}
	}
	if len(paths) > 0 && codes > 0 {
		return nil, errors.New("give either codes and replies or files, not both")
	}
	return paths, nil
}
