package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/explain"
)

const explainSynopsis = `smtpprobe explain [flags] ARG...
       smtpprobe explain [flags] -

Explain SMTP reply codes: what they mean, when you see them and how to fix
them, in the context of the command that drew them. ARG is a basic code
(252), an enhanced code (5.1.1), both ("550 5.1.1"), or a whole reply line
in quotes. Two or more ARGs compare the codes. "-" reads any text from
stdin (a transcript, a bounce, Postfix or Exim log lines), finds every
reply in it and annotates each in place.

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
`

// maxExplainInput caps what "explain -" reads, so a runaway pipe cannot
// exhaust memory.
const maxExplainInput = 16 << 20

// findReplies finds the replies in "explain -" input; tests replace it to
// check the annotator on its own.
var findReplies = explain.FindReplies

// wrapWidth is the text width when the output is not a terminal.
const wrapWidth = 78

func runExplain(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("explain", explainSynopsis, explainExamples)
	ctxName := fs.StringP("context", "c", "", "the command that drew the reply: greeting, ehlo, helo, starttls, auth, vrfy, expn, mail, rcpt, data, bdat, rset, noop, help, quit, unknown")
	lang := fs.String("lang", "", "language of the headings: "+strings.Join(explain.LanguageTags(), ", ")+" (default from LC_ALL or LANG, else en)")
	asJSON := fs.Bool("json", false, "write one JSON document (schema_version 1) instead of text")
	color := fs.String("color", "auto", "colour the codes by class: auto, always or never")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	mode, err := parseColorMode(*color)
	if err != nil {
		return usageError(e, "explain", err.Error())
	}
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
		return explainStdin(e, out, cmd)
	}
	for _, a := range rest {
		if a == "-" {
			return usageError(e, "explain", `"-" (read stdin) cannot be combined with other arguments`)
		}
	}
	var items []explain.Explanation
	var inputs []string
	for _, a := range rest {
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
	fmt.Fprintf(o.w, "\n%s\n", o.h.KeyDifferences)
	for _, d := range c.Differences {
		o.item("-", d)
	}
	fmt.Fprintf(o.w, "\n%s\n", o.h.WhenWhich)
	for _, d := range c.WhenWhich {
		o.item("-", d)
	}
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
	if input != "" && input != fmt.Sprint(x.Code) && input != x.Enhanced {
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
	if x.Context != "" {
		o.item(o.h.Context+":", strings.ToUpper(string(x.Context))+" — "+x.Summary)
	} else if x.Code != 0 {
		o.item(o.h.Context+":", o.h.General+" — "+x.Summary)
	}
	o.section(o.h.Meaning, x.Meaning)
	o.section(o.h.When, x.When)
	o.section(o.h.Fix, x.Fix)
	if st := x.EnhancedStatus; st != nil && x.Code != 0 {
		reg := "IANA registry"
		if !st.Registered {
			reg = "not in the IANA registry; read by its " + st.Level
		} else if r := x.Recognized; r != nil && r.IANAMeaning != "" {
			reg = "IANA registry meaning, shown as such: " + r.Source + " uses this code for something else"
		}
		fmt.Fprintf(o.w, "%s %s — %s (%s)\n", o.h.Enhanced, paint(o.color, st.Class*100, st.Code), st.Title, reg)
		o.para(st.Meaning)
		o.para(st.Fix)
	}
	if r := x.Recognized; r != nil {
		fmt.Fprintf(o.w, "%s: %s\n", o.h.Recognized, r.Source)
		o.para(r.Reason)
		if r.Fix != "" {
			o.para(r.Fix)
		}
		if r.IANAMeaning != "" {
			o.para(o.h.IANAMeaning + ": " + r.IANAMeaning)
		}
		if r.Ref != "" {
			o.para(r.Ref)
		}
	}
	if len(x.Warnings) > 0 {
		fmt.Fprintf(o.w, "%s\n", o.h.Warnings)
		for _, w := range x.Warnings {
			o.item("!", w)
		}
	}
	fmt.Fprintf(o.w, "%s: %s · %s: %s\n", o.h.Actor, x.Actor, o.h.Refs, explain.CompactRefs(x.Refs))
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

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
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

// stdinDoc is the JSON document for "explain -".
type stdinDoc struct {
	SchemaVersion int              `json:"schema_version"`
	Replies       []annotatedReply `json:"replies"`
}

// explainStdin reads text from stdin, finds every reply in it and writes
// the text back, each line escaped, with each reply's annotation after the
// line it ends on. cmd, from --context, is used for replies whose command
// the text does not tell.
func explainStdin(e *env, out *explainOutput, cmd explain.Command) int {
	if e.stdin == nil {
		return usageError(e, "explain", "no standard input")
	}
	data, err := io.ReadAll(io.LimitReader(e.stdin, maxExplainInput+1))
	if err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe explain: reading stdin: %v\n", err)
		return exitUsage
	}
	if len(data) > maxExplainInput {
		return usageError(e, "explain", fmt.Sprintf("input larger than %d MiB", maxExplainInput>>20))
	}
	text := string(data)
	if len(text) > explain.MaxFindInput {
		fmt.Fprintf(e.stderr, "smtpprobe explain: only the first %d KiB of the input are searched for replies\n", explain.MaxFindInput>>10)
	}
	found := findReplies(text)
	sort.SliceStable(found, func(i, j int) bool { return found[i].Start < found[j].Start })
	lineStarts := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' && i+1 < len(text) {
			lineStarts = append(lineStarts, i+1)
		}
	}
	lineOf := func(off int) int { // 0-based line holding byte off
		return sort.Search(len(lineStarts), func(i int) bool { return lineStarts[i] > off }) - 1
	}
	byLine := map[int][]int{}
	doc := stdinDoc{SchemaVersion: 1}
	doc.Replies = []annotatedReply{}
	for i, f := range found {
		end := f.End
		if end > f.Start {
			end--
		}
		end = max(0, min(end, len(text)-1))
		ln := lineOf(end)
		byLine[ln] = append(byLine[ln], i)
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
		raw := ""
		if f.Start >= 0 && f.End <= len(text) && f.Start <= f.End {
			raw = text[f.Start:f.End]
		}
		doc.Replies = append(doc.Replies, annotatedReply{Line: ln + 1, Start: f.Start, End: f.End, Reply: raw, Inferred: f.Inferred, Explanation: x, Brief: x.Brief()})
	}
	if len(found) == 0 {
		if out.json {
			writeJSON(out.w, doc)
		}
		fmt.Fprintln(e.stderr, "smtpprobe explain: no SMTP reply found in the input")
		return exitCheck
	}
	if out.json {
		writeJSON(out.w, doc)
		return exitOK
	}
	for ln, start := range lineStarts {
		end := len(text)
		if ln+1 < len(lineStarts) {
			end = lineStarts[ln+1]
		}
		line := strings.TrimRight(text[start:end], "\r\n")
		fmt.Fprintln(out.w, escapeUntrusted(line))
		for _, i := range byLine[ln] {
			out.annotate(doc.Replies[i])
		}
	}
	return exitOK
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
	for _, l := range wrapText(o.h.Fix+": "+fixFor(r.Explanation), o.width-6) {
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

// fixFor is the most specific fix known: the recognizer's, then the
// enhanced code's (when it names a specific detail), then the basic code's.
func fixFor(x explain.Explanation) string {
	if r := x.Recognized; r != nil && r.Fix != "" {
		return r.Fix
	}
	// An X.Y.0 detail and the protocol subject X.5.Z are vaguer than the
	// reading of the basic code after its command.
	// A success needs no fix whatever its detail says, and for a transient
	// failure the basic code's "retry" reading is the first thing to do.
	if st := x.EnhancedStatus; st != nil && st.Level == "detail" && st.Class == x.Class && x.Class == 5 &&
		!strings.HasSuffix(st.Code, ".0") && !strings.HasPrefix(st.Code[1:], ".5.") {
		return st.Fix
	}
	return x.Fix
}
