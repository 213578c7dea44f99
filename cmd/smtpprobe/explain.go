package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/explain"
)

const explainSynopsis = `smtpprobe explain [flags] ARG...
       smtpprobe explain [flags] -
       smtpprobe explain [flags] FILE|DIR...

Explain SMTP reply codes: what they mean, when you see them and how to fix
them, in the context of the command that drew them. ARG is a basic code
(252), an enhanced code (5.1.1), both ("550 5.1.1"), or a whole reply line
in quotes; 550 5.1.1 unquoted is one reply too. Two or more ARGs compare
the codes. "-" reads any text from stdin, of any size (a transcript, a
bounce, Postfix, Exim or OpenSMTPD log lines), finds every reply in it
and annotates each in place. When the input is a whole message, an mbox
or Amazon SES JSON, each message is read as a report instead: a bounce
(RFC 3464 or the text of Postfix, Exim, Sendmail, qmail, Exchange, Gmail,
Yahoo, Amazon SES) per recipient, with reason, cause, who must act and
the fix; a feedback report (RFC 5965) or an automatic reply (RFC 3834)
as what it is. FILE is read the same way; DIR is every file under it
(a maildir, a folder of .eml files, mbox files).

Only the headings are translated by --lang; the explanations are English.`

const explainExamples = `  smtpprobe explain 252                      # general meaning, and how it changes per command
  smtpprobe explain --context vrfy 252       # 252 after VRFY: the server declines to confirm
  smtpprobe explain --context mail 501       # 501 after MAIL FROM: address syntax
  smtpprobe explain 5.1.1                    # an enhanced status code alone
  smtpprobe explain "550 5.1.1"              # both layers: basic code refined by the enhanced one
  smtpprobe explain "550-5.7.26 Unauthenticated email from example.com is not accepted"
  smtpprobe explain 252 501                  # compare: key differences, when you meet which
  smtpprobe explain --lang tr 252 501        # Turkish headings
  smtpprobe explain --json 250 252 550       # VRFY policy codes side by side, as JSON
  grep status=bounced /var/log/mail.log | smtpprobe explain -
  smtpprobe explain bounce.eml               # a bounce: per recipient, verdict first
  smtpprobe explain --json ~/Maildir/new     # every message of a maildir folder, as JSON
`

// lineScanner hands out the lines of "explain -" input with the replies
// found on them (explain.ReplyScanner).
type lineScanner interface {
	Scan() bool
	Line() explain.Line
	Err() error
}

// newLineScanner finds the replies in "explain -" input; tests replace it
// to check the annotator on its own.
var newLineScanner = func(r io.Reader) lineScanner { return explain.NewReplyScanner(r) }

// wrapWidth is the text width when the output is not a terminal.
const wrapWidth = 78

func runExplain(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("explain", explainSynopsis, explainExamples)
	ctxName := fs.StringP("context", "c", "", "the command that drew the reply: greeting, ehlo, helo, starttls, auth, vrfy, expn, mail, rcpt, data, bdat, rset, noop, help, quit, unknown")
	lang := fs.String("lang", "", "language of the headings: "+strings.Join(explain.LanguageTags(), ", ")+" (default from LC_ALL or LANG, else en)")
	asJSON := fs.Bool("json", false, "write one JSON document (schema_version 1) instead of text")
	replies := fs.Bool("replies", false, "read the input as text with replies in it even when it is a whole message (a bounce is otherwise read per recipient)")
	color := addColorFlag(fs, "the codes by class")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	mode := *color
	h, err := explainHeadings(*lang, e.getenv)
	if err != nil {
		return usageError(e, "explain", err.Error())
	}
	var cmd explain.Command
	if *ctxName != "" {
		c, ok := explain.ParseCommand(*ctxName)
		if !ok {
			return usageError(e, "explain", fmt.Sprintf("unknown --context %q (one of greeting, ehlo, helo, starttls, auth, vrfy, expn, mail, rcpt, data, bdat, rset, noop, help, quit, unknown)", *ctxName))
		}
		cmd = c
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError(e, "explain", "give a code, an enhanced code, a reply line, or - to read stdin")
	}
	out := &explainOutput{w: e.stdout, h: h, color: useColor(mode, e.stdout, e.getenv), json: *asJSON, width: wrapWidth}
	if w := terminalWidth(e.stdout); w > 20 {
		out.width = min(w-2, 100)
	}
	if len(rest) == 1 && rest[0] == "-" {
		if e.stdin == nil {
			return usageError(e, "explain", "no standard input")
		}
		return explainInput(e, out, cmd, "-", e.stdin, *replies)
	}
	for _, a := range rest {
		if a == "-" {
			return usageError(e, "explain", `"-" (read stdin) cannot be combined with other arguments`)
		}
	}
	if paths, err := pathArgs(rest); err != nil {
		return usageError(e, "explain", err.Error())
	} else if len(paths) > 0 {
		return explainPaths(e, out, cmd, paths, *replies)
	}
	var items []explain.Explanation
	var inputs []string
	for _, a := range joinCodeArgs(rest) {
		x, err := explainArg(a, cmd)
		if err != nil {
			return explainFailed(e, out, a, err)
		}
		items = append(items, x)
		inputs = append(inputs, a)
	}
	if len(items) == 1 {
		return out.single(items[0], inputs[0], cmd == "")
	}
	return out.comparison(explain.Compare(items))
}

// joinCodeArgs joins a basic code followed by an enhanced code, typed
// without quotes (explain 550 5.1.1), into one reply, and drops repeated
// arguments, so that neither is compared with itself.
func joinCodeArgs(args []string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := strings.TrimSpace(args[i])
		next := ""
		if i+1 < len(args) {
			next = strings.TrimSpace(args[i+1])
		}
		// The classes must agree (RFC 3463 §2): "252 5.1.1" stays a
		// comparison of two codes.
		if bareBasicCode.MatchString(a) && bareEnhancedCode.MatchString(next) && a[0] == next[0] {
			a += " " + next
			i++
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	return out
}

var (
	bareBasicCode    = regexp.MustCompile(`^[0-9]{3}$`)
	bareEnhancedCode = regexp.MustCompile(`^[0-9]\.[0-9]{1,3}\.[0-9]{1,3}$`)
)

// explainHeadings picks the headings: --lang first, then LC_ALL, then LANG
// (POSIX precedence). An unknown --lang is a usage error; an unknown
// locale in the environment falls back to English.
func explainHeadings(flag string, getenv func(string) string) (explain.Headings, error) {
	if flag != "" {
		h, ok := explain.LookupLanguage(flag)
		if !ok {
			return h, fmt.Errorf("no headings for language %q (available: %s)", flag, strings.Join(explain.LanguageTags(), ", "))
		}
		return h, nil
	}
	for _, v := range []string{"LC_ALL", "LANG"} {
		if s := getenv(v); s != "" {
			if h, ok := explain.LookupLanguage(s); ok {
				return h, nil
			}
			break
		}
	}
	return explain.Languages["en"], nil
}

// explainArg explains one command-line argument.
func explainArg(arg string, cmd explain.Command) (explain.Explanation, error) {
	q, err := explain.ParseQuery(arg)
	if err != nil {
		return explain.Explanation{}, err
	}
	if q.Code == 0 {
		st, err := explain.LookupEnhanced(q.Enhanced)
		if err != nil {
			return explain.Explanation{}, err
		}
		if st.Level == "class" {
			return explain.Explanation{}, &explain.CodeError{Input: q.Enhanced, Class: st.Class,
				Reason: fmt.Sprintf("not a registered enhanced status code: subject %s is not defined (RFC 3463 §3 defines 0-7)", strings.Split(q.Enhanced, ".")[1]),
				Said:   fmt.Sprintf("Its class says: %s (%s).", st.ClassName, strings.TrimSuffix(st.Meaning, "."))}
		}
	}
	return explain.Explain(q.Code, q.Enhanced, q.Text, cmd), nil
}

// explainFailed reports a code that cannot be explained, with what can be
// said about it, and returns exitCheck.
func explainFailed(e *env, out *explainOutput, arg string, err error) int {
	msg := err.Error()
	var ce *explain.CodeError
	if out.json {
		doc := map[string]any{"schema_version": 1, "input": arg, "error": msg}
		if errors.As(err, &ce) && ce.Class != 0 {
			doc["class"] = ce.Class
		}
		writeJSON(e.stdout, doc)
	}
	fmt.Fprintf(e.stderr, "smtpprobe explain: %s\n", escapeUntrusted(msg))
	return exitCheck
}

func firstNonEmptyString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// explainOutput renders explanations as text or JSON.
type explainOutput struct {
	w     io.Writer
	h     explain.Headings
	color bool
	json  bool
	width int
}

// singleDoc is the JSON document for one code.
type singleDoc struct {
	SchemaVersion int    `json:"schema_version"`
	Input         string `json:"input"`
	explain.Explanation
	Variants []explain.Variant `json:"variants,omitempty"`
}

// comparisonDoc is the JSON document for two or more codes.
type comparisonDoc struct {
	SchemaVersion int `json:"schema_version"`
	explain.Comparison
}

func (o *explainOutput) single(x explain.Explanation, input string, general bool) int {
	var variants []explain.Variant
	if general && x.Code != 0 {
		variants = explain.Variants(x.Code)
	}
	if o.json {
		writeJSON(o.w, singleDoc{SchemaVersion: 1, Input: input, Explanation: x, Variants: variants})
		return exitOK
	}
	o.writeExplanation(x, input)
	if len(variants) > 0 {
		fmt.Fprintf(o.w, "\n%s\n", o.h.PerCommand)
		for _, v := range variants {
			o.item(fmt.Sprintf("%-9s", strings.ToUpper(string(v.Command))), v.Brief+" ("+explain.CompactRefs(v.Refs)+")")
		}
	}
	return exitOK
}

func (o *explainOutput) comparison(c explain.Comparison) int {
	if o.json {
		writeJSON(o.w, comparisonDoc{SchemaVersion: 1, Comparison: c})
		return exitOK
	}
	var names []string
	for _, x := range c.Items {
		names = append(names, o.codeLabel(x))
	}
	fmt.Fprintf(o.w, "%s: %s\n", o.h.Comparison, strings.Join(names, " vs "))
	for _, x := range c.Items {
		fmt.Fprintln(o.w)
		o.writeExplanation(x, "")
	}
	o.list(o.h.KeyDifferences, c.Differences)
	o.list(o.h.WhenWhich, c.WhenWhich)
	return exitOK
}

// codeLabel is "550 5.1.1", coloured by class.
func (o *explainOutput) codeLabel(x explain.Explanation) string {
	s := fmt.Sprint(x.Code)
	if x.Code == 0 {
		return paint(o.color, x.Class*100, x.Enhanced)
	}
	if x.Enhanced != "" {
		s += " " + x.Enhanced
	}
	return paint(o.color, x.Code, s)
}

// writeExplanation writes one explanation under the headings.
func (o *explainOutput) writeExplanation(x explain.Explanation, input string) {
	fmt.Fprintf(o.w, "%s  %s\n", o.codeLabel(x), x.ShortText)
	if input != "" && input != fmt.Sprint(x.Code) && input != x.Enhanced && input != fmt.Sprint(x.Code)+" "+x.Enhanced {
		fmt.Fprintf(o.w, "  %s: %s\n", o.h.Reply, escapeUntrusted(input))
	}
	class := fmt.Sprintf("%dyz %s", x.Class, x.ClassName)
	cat := ""
	if x.Code != 0 {
		cat = fmt.Sprintf(" · %s: x%dz %s", o.h.Category, (x.Code/10)%10, x.Category)
	} else {
		class = fmt.Sprintf("%d.X.X %s", x.Class, x.ClassName)
		cat = fmt.Sprintf(" · %s: %s", o.h.Category, x.Category)
	}
	fmt.Fprintf(o.w, "  %s: %s%s\n", o.h.Class, class, cat)
	r := x.Recognized
	meaning, fix := x.Meaning, x.Fix
	if r != nil && r.Reason != "" {
		// The recognised sender's reading comes first: it says what this
		// server meant; the code's own readings follow, labelled.
		fmt.Fprintf(o.w, "%s: %s\n", o.h.Recognized, r.Source)
		o.para(r.Reason)
		if r.Fix != "" {
			o.section(o.h.Fix, r.Fix)
		}
		if r.Ref != "" {
			o.para(r.Ref)
		}
		meaning = firstNonEmptyString(x.GenericMeaning, x.Meaning)
		fix = firstNonEmptyString(x.GenericFix, x.Fix)
		if x.Code != 0 {
			fmt.Fprintf(o.w, "%s %d (%s)\n", o.h.BasicCode, x.Code, "not specific to "+r.Source)
		}
	}
	if x.Context != "" {
		o.item(o.h.Context+":", strings.ToUpper(string(x.Context))+" — "+x.Summary)
	} else if x.Code != 0 {
		o.item(o.h.Context+":", o.h.General+" — "+x.Summary)
	}
	o.section(o.h.Meaning, meaning)
	o.section(o.h.When, x.When)
	o.section(o.h.Fix, fix)
	if st := x.EnhancedStatus; st != nil && x.Code != 0 {
		reg := "IANA registry"
		if !st.Registered {
			reg = "not in the IANA registry; read by its " + st.Level
		} else if r != nil && r.IANAMeaning != "" {
			reg = "IANA registry meaning (not what " + r.Source + " means here)"
		}
		fmt.Fprintf(o.w, "%s %s — %s (%s)\n", o.h.Enhanced, paint(o.color, st.Class*100, st.Code), st.Title, reg)
		o.para(st.Meaning)
		o.para(st.Fix)
	} else if r != nil && r.IANAMeaning != "" {
		o.para(o.h.IANAMeaning + ": " + r.IANAMeaning)
	}
	if len(x.Warnings) > 0 {
		fmt.Fprintf(o.w, "%s\n", o.h.Warnings)
		for _, w := range x.Warnings {
			o.item("!", w)
		}
	}
	if len(x.Notes) > 0 {
		fmt.Fprintf(o.w, "%s\n", o.h.Notes)
		for _, n := range x.Notes {
			o.item("·", n)
		}
	}
	fmt.Fprintf(o.w, "%s: %s · %s: %s\n", o.h.Actor, x.Actor, o.h.Refs, explain.CompactRefs(x.Refs))
}

// list writes a titled list; nothing at all when it is empty.
func (o *explainOutput) list(title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(o.w, "\n%s\n", title)
	for _, d := range items {
		o.item("-", d)
	}
}

func (o *explainOutput) section(title, body string) {
	fmt.Fprintln(o.w, title)
	o.para(body)
}

// para writes body indented and wrapped.
func (o *explainOutput) para(body string) {
	for _, l := range wrapText(body, o.width-2) {
		fmt.Fprintf(o.w, "  %s\n", l)
	}
}

// item writes a bulleted, wrapped entry with a hanging indent.
func (o *explainOutput) item(bullet, body string) {
	n := utf8.RuneCountInString(bullet)
	lines := wrapText(body, o.width-3-n)
	pad := strings.Repeat(" ", n+1)
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintf(o.w, "  %s %s\n", bullet, l)
		} else {
			fmt.Fprintf(o.w, "  %s%s\n", pad, l)
		}
	}
}

// wrapText breaks s into lines of at most width runes, at spaces.
func wrapText(s string, width int) []string {
	if width < 20 {
		width = 20
	}
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(w) > width {
			lines = append(lines, string(cur))
			cur = cur[:0]
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, w...)
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

// annotatedReply is one reply found in stdin, for the JSON document.
type annotatedReply struct {
	Line  int    `json:"line"` // 1-based line of the input where the reply ends
	Start int    `json:"start"`
	End   int    `json:"end"`
	Reply string `json:"reply"` // the reply as it appeared in the input
	// Inferred is set when the input held only an enhanced status code
	// (a DSN Status: field, a dsn= log field); code is then 0.
	Inferred bool `json:"inferred,omitempty"`
	explain.Explanation
	Brief string `json:"brief"`
}

// explainStdin reads text from stdin as a stream, finds every reply in it
// and writes the text back, each line escaped, with each reply's
// annotation after the line it ends on; --json writes the replies as they
// are found. Input of any size is read in bounded memory. cmd, from
// --context, is used for replies whose command the text does not tell.
func explainStdin(e *env, out *explainOutput, cmd explain.Command, in io.Reader) int {
	sc := newLineScanner(in)
	// Buffered: the input is echoed line by line, and may be large.
	bw := bufio.NewWriter(out.w)
	defer bw.Flush()
	o := *out
	o.w = bw
	out = &o
	var js *replyStream
	if out.json {
		js = newReplyStream(out.w)
	}
	n := 0
	var pending []annotatedReply // replies ending on a line not yet finished
	dropped := 0                 // replies on that line past maxLineAnnotations
	cache := newExplainCache()
	flushPending := func() {
		for _, r := range pending {
			out.annotate(r)
		}
		if dropped > 0 {
			fmt.Fprintf(out.w, "  => … and %d more replies on this line, not annotated (at most %d per line)\n", dropped, maxLineAnnotations)
		}
		pending, dropped = pending[:0], 0
	}
	for sc.Scan() {
		ln := sc.Line()
		for _, f := range ln.Replies {
			n++
			if js != nil {
				js.add(cache.annotated(f, ln.Number, cmd))
			} else if len(pending) < maxLineAnnotations {
				pending = append(pending, cache.annotated(f, ln.Number, cmd))
			} else {
				dropped++
			}
		}
		if js != nil {
			continue
		}
		fmt.Fprint(out.w, escapeUntrusted(ln.Text))
		if ln.Continued {
			continue
		}
		fmt.Fprintln(out.w)
		flushPending()
	}
	if js == nil && (len(pending) > 0 || dropped > 0) {
		fmt.Fprintln(out.w)
		flushPending()
	}
	if js != nil {
		js.close()
	}
	bw.Flush()
	if err := sc.Err(); err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe explain: reading stdin: %v\n", err)
		return exitCheck
	}
	if n == 0 {
		fmt.Fprintln(e.stderr, "smtpprobe explain: no SMTP reply found in the input")
		return exitCheck
	}
	return exitOK
}

// maxLineAnnotations caps the annotations written after one input line:
// the replies of a line are held until the line ends, and a line may be
// of any length, and each reply holds its text. The rest are counted, not
// explained. A variable so that tests can lower it.
var maxLineAnnotations = 100

// explainCache remembers the explanations of recent replies: logs and
// transcripts repeat the same reply many times, and explaining is the
// costly part of annotating.
type explainCache struct {
	m map[explainKey]explain.Explanation
}

type explainKey struct {
	code     int
	enhanced string
	text     string
	cmd      explain.Command
}

// explainCacheSize bounds the cache; when full it starts over.
const explainCacheSize = 512

func newExplainCache() *explainCache {
	return &explainCache{m: make(map[explainKey]explain.Explanation)}
}

// annotated is annotatedFor through the cache.
func (c *explainCache) annotated(f explain.Found, number int, cmd explain.Command) annotatedReply {
	if f.Context == "" {
		f.Context = cmd
	}
	code := f.Code
	if f.Inferred {
		code = 0
	}
	k := explainKey{code, f.Enhanced, f.Text, f.Context}
	x, ok := c.m[k]
	if !ok {
		if len(c.m) >= explainCacheSize {
			clear(c.m)
		}
		x = explain.Explain(code, f.Enhanced, f.Text, f.Context)
		c.m[k] = x
	}
	return annotatedReply{Line: number, Start: f.Start, End: f.End, Reply: f.Raw, Inferred: f.Inferred, Explanation: x, Brief: x.Brief()}
}

// annotatedFor explains one reply found on input line number.
func annotatedFor(f explain.Found, number int, cmd explain.Command) annotatedReply {
	if f.Context == "" {
		f.Context = cmd
	}
	code := f.Code
	if f.Inferred {
		// Only an enhanced code was in the text; the basic code was
		// made up from its class, so explain the enhanced code alone.
		code = 0
	}
	x := explain.Explain(code, f.Enhanced, f.Text, f.Context)
	return annotatedReply{Line: number, Start: f.Start, End: f.End, Reply: f.Raw, Inferred: f.Inferred, Explanation: x, Brief: x.Brief()}
}

// replyStream writes the "explain -" JSON document, {"schema_version": 1,
// "replies": [annotatedReply...]}, one reply at a time, laid out as
// writeJSON lays out a whole document.
type replyStream struct {
	w io.Writer
	n int
}

func newReplyStream(w io.Writer) *replyStream {
	fmt.Fprint(w, "{\n  \"schema_version\": 1,\n  \"replies\": [")
	return &replyStream{w: w}
}

func (s *replyStream) add(r annotatedReply) {
	if s.n > 0 {
		fmt.Fprint(s.w, ",")
	}
	fmt.Fprint(s.w, "\n    ")
	s.n++
	// Encode ends the value with a line break; the separator follows it.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r)
	fmt.Fprint(jsonSafe{s.w}, strings.TrimSuffix(b.String(), "\n"))
}

func (s *replyStream) close() {
	if s.n > 0 {
		fmt.Fprint(s.w, "\n  ]\n}\n")
		return
	}
	fmt.Fprint(s.w, "]\n}\n")
}

// annotate writes the annotation of one reply found in the input.
func (o *explainOutput) annotate(r annotatedReply) {
	label := o.codeLabel(r.Explanation)
	ctx := ""
	if r.Context != "" && r.Context != explain.Unknown {
		ctx = " after " + strings.ToUpper(string(r.Context))
	}
	lines := wrapText(r.Brief, o.width-6)
	fmt.Fprintf(o.w, "  => %s%s: %s\n", label, ctx, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(o.w, "     %s\n", l)
	}
	for _, l := range wrapText(o.h.Fix+": "+r.SpecificFix(), o.width-6) {
		fmt.Fprintf(o.w, "     %s\n", l)
	}
	for _, w := range r.Warnings {
		for i, l := range wrapText(w, o.width-8) {
			if i == 0 {
				fmt.Fprintf(o.w, "     ! %s\n", l)
			} else {
				fmt.Fprintf(o.w, "       %s\n", l)
			}
		}
	}
}
