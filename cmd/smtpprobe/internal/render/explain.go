package render

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/explain"
)

func firstNonEmptyString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// explainOutput writes explanations as text, under translated headings.
type explainOutput struct {
	w     io.Writer
	h     explain.Headings
	color bool
	width int
}

// explainWidth is the width explanations are folded to: the terminal's
// less a margin, at most 100 columns; 78 when it is not known.
func explainWidth(o Options) int {
	if o.Width > 20 {
		return min(o.Width-2, 100)
	}
	if o.Width > 0 {
		return o.Width
	}
	return 78
}

func newExplainOutput(p *Printer, h explain.Headings) *explainOutput {
	return &explainOutput{w: p.w, h: h, color: p.o.Color, width: explainWidth(p.o)}
}

// ExplainCode is the document of `smtpprobe explain CODE`: one code or
// reply explained, with its readings per command when no --context was
// given.
type ExplainCode struct {
	SchemaVersion int    `json:"schema_version"`
	Input         string `json:"input"`
	explain.Explanation
	Variants []explain.Variant `json:"variants,omitempty"`

	h explain.Headings
}

// NewExplainCode is the document of one explanation; general is true
// when no --context was given.
func NewExplainCode(x explain.Explanation, input string, general bool, h explain.Headings) *ExplainCode {
	d := &ExplainCode{SchemaVersion: 1, Input: input, Explanation: x, h: h}
	if general && x.Code != 0 {
		d.Variants = explain.Variants(x.Code)
	}
	return d
}

// Text writes the explanation under the headings.
func (d *ExplainCode) Text(p *Printer) {
	o := newExplainOutput(p, d.h)
	o.writeExplanation(d.Explanation, d.Input)
	if len(d.Variants) > 0 {
		fmt.Fprintf(o.w, "\n%s\n", o.h.PerCommand)
		for _, v := range d.Variants {
			o.item(fmt.Sprintf("%-9s", strings.ToUpper(string(v.Command))), v.Brief+" ("+explain.CompactRefs(v.Refs)+")")
		}
	}
}

// Quiet writes the code and its one-line meaning.
func (d *ExplainCode) Quiet(p *Printer) { p.line(quietExplanation(p, d.Explanation)) }

// quietExplanation is "550 5.1.1 brief" on one line.
func quietExplanation(p *Printer, x explain.Explanation) string {
	o := &explainOutput{color: p.o.Color}
	return o.codeLabel(x) + " " + x.Brief()
}

// Records is the document as one record.
func (d *ExplainCode) Records() []any { return []any{d} }

// ExplainComparison is the document of `smtpprobe explain CODE CODE...`.
type ExplainComparison struct {
	SchemaVersion int `json:"schema_version"`
	explain.Comparison

	h explain.Headings
}

// NewExplainComparison is the document of a comparison.
func NewExplainComparison(c explain.Comparison, h explain.Headings) *ExplainComparison {
	return &ExplainComparison{SchemaVersion: 1, Comparison: c, h: h}
}

// Text writes each explanation, then the differences and when to expect
// which.
func (d *ExplainComparison) Text(p *Printer) {
	o := newExplainOutput(p, d.h)
	var names []string
	for _, x := range d.Items {
		names = append(names, o.codeLabel(x))
	}
	fmt.Fprintf(o.w, "%s: %s\n", o.h.Comparison, strings.Join(names, " vs "))
	for _, x := range d.Items {
		fmt.Fprintln(o.w)
		o.writeExplanation(x, "")
	}
	o.list(o.h.KeyDifferences, d.Differences)
	o.list(o.h.WhenWhich, d.WhenWhich)
}

// Quiet writes one line per code.
func (d *ExplainComparison) Quiet(p *Printer) {
	for _, x := range d.Items {
		p.line(quietExplanation(p, x))
	}
}

// Records is the document as one record.
func (d *ExplainComparison) Records() []any { return []any{d} }

// ExplainError is the document of a code explain cannot explain (exit 1):
// in JSON the input and the error; in text nothing on stdout, the error
// being said on stderr.
type ExplainError struct {
	SchemaVersion int    `json:"schema_version"`
	Input         string `json:"input"`
	Error         string `json:"error"`
	Class         int    `json:"class,omitempty"`
}

// Text writes nothing: the error goes to stderr.
func (d *ExplainError) Text(p *Printer) {}

// Quiet writes nothing.
func (d *ExplainError) Quiet(p *Printer) {}

// Records is the document as one record.
func (d *ExplainError) Records() []any { return []any{d} }

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
	fmt.Fprintf(o.w, "%s %s\n", o.codeLabel(x), x.ShortText)
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
		if len(r.Candidates) > 0 {
			var cs []string
			for _, c := range r.Candidates {
				cs = append(cs, c.Source+" ("+c.Confidence+")")
			}
			o.para("Sent alike by: " + strings.Join(cs, ", ") + ".")
		}
		if r.Via != "" {
			o.para("In " + r.Via + "'s words.")
		}
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
	for _, l := range Wrap(body, o.width-2) {
		fmt.Fprintf(o.w, "  %s\n", l)
	}
}

// item writes a bulleted, wrapped entry with a hanging indent.
func (o *explainOutput) item(bullet, body string) {
	n := utf8.RuneCountInString(bullet)
	lines := Wrap(body, o.width-3-n)
	pad := strings.Repeat(" ", n+1)
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintf(o.w, "  %s %s\n", bullet, l)
		} else {
			fmt.Fprintf(o.w, "  %s%s\n", pad, l)
		}
	}
}

// AnnotatedReply is one reply found in the text `explain -` reads.
type AnnotatedReply struct {
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

// ExplainStream writes what `explain -` finds, as it finds it, in bounded
// memory: in text the input echoed line by line, escaped, each reply's
// annotation under the line it ends on; in json one document,
// {"schema_version": 1, "replies": [...]}, laid out as WriteJSON lays out
// a whole document; in ndjson one reply a line; with --quiet one line per
// reply, "LINE: CODE brief".
type ExplainStream struct {
	bw      *bufio.Writer
	ew      *errWriter
	tw      io.Writer // ew, or a foldWriter over it
	o       Options
	out     *explainOutput
	n       int
	pending []AnnotatedReply // replies ending on a line not yet finished
	skipped int              // replies of that line left unannotated (Skip)
	memo    map[annotationKey]string
}

// NewExplainStream starts the output of `explain -` on w.
func NewExplainStream(w io.Writer, o Options, h explain.Headings) *ExplainStream {
	ew := &errWriter{w: w}
	var tw io.Writer = ew
	if o.Width > 0 && o.Format == Text {
		tw = newFoldWriter(ew, o.Width) // holds at most one line
	}
	bw := bufio.NewWriter(tw) // the input is echoed line by line, and may be large
	s := &ExplainStream{bw: bw, ew: ew, tw: tw, o: o}
	s.out = newExplainOutput(NewPrinter(bw, o), h)
	if o.Format == JSON {
		fmt.Fprint(bw, "{\n  \"schema_version\": 1,\n  \"replies\": [")
	}
	return s
}

// Line takes one line of the input (or the part of it read so far, when
// continued) and the replies that end on it.
func (s *ExplainStream) Line(text string, continued bool, replies []AnnotatedReply) {
	for _, r := range replies {
		s.n++
		switch {
		case s.o.Format == JSON:
			s.addJSON(r)
		case s.o.Format == NDJSON:
			WriteNDJSON(s.bw, explainRecord{SchemaVersion: 1, AnnotatedReply: r})
		case s.o.Quiet:
			fmt.Fprintf(s.bw, "%d: %s\n", r.Line, quietExplanation(&Printer{o: s.o}, r.Explanation))
		default:
			s.pending = append(s.pending, r)
		}
	}
	if s.o.Format != Text || s.o.Quiet {
		return
	}
	fmt.Fprint(s.bw, escapeUntrusted(text))
	if continued {
		return
	}
	fmt.Fprintln(s.bw)
	s.flushPending()
}

func (s *ExplainStream) flushPending() {
	for _, r := range s.pending {
		s.annotate(r)
	}
	if s.skipped > 0 {
		fmt.Fprintf(s.bw, "  => … and %d more replies on this line, not annotated\n", s.skipped)
	}
	s.pending, s.skipped = s.pending[:0], 0
}

// annotationKey is what an annotation's text depends on.
type annotationKey struct {
	code              int
	enhanced, context string
	brief, fix        string
	warnings          string
}

// annotate writes r's annotation, from the memo when the same reading
// was written before: logs repeat the same reply many times, and folding
// the text to the width is a good part of the cost.
func (s *ExplainStream) annotate(r AnnotatedReply) {
	k := annotationKey{r.Code, r.Enhanced, string(r.Context), r.Brief, r.SpecificFix(), strings.Join(r.Warnings, "\x00")}
	if b, ok := s.memo[k]; ok {
		s.bw.WriteString(b)
		return
	}
	var sb strings.Builder
	o := *s.out
	o.w = &sb
	o.annotate(r)
	if s.memo == nil || len(s.memo) >= 512 {
		s.memo = make(map[annotationKey]string)
	}
	s.memo[k] = sb.String()
	s.bw.WriteString(sb.String())
}

// Skip counts n replies found on the current line that the caller left
// unannotated, to bound what is held for a line of any length; the text
// output says how many after the line.
func (s *ExplainStream) Skip(n int) {
	s.n += n
	s.skipped += n
}

// explainRecord is one ndjson line of `explain -`.
type explainRecord struct {
	SchemaVersion int `json:"schema_version"`
	AnnotatedReply
}

func (s *ExplainStream) addJSON(r AnnotatedReply) {
	if s.n > 1 {
		fmt.Fprint(s.bw, ",")
	}
	fmt.Fprint(s.bw, "\n    ")
	// Encode ends the value with a line break; the separator follows it.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r)
	fmt.Fprint(SafeJSON(s.bw), strings.TrimSuffix(b.String(), "\n"))
}

// Replies is how many replies were found so far.
func (s *ExplainStream) Replies() int { return s.n }

// Close ends the output and returns the first error writing it.
func (s *ExplainStream) Close() error {
	if len(s.pending) > 0 || s.skipped > 0 {
		fmt.Fprintln(s.bw)
		s.flushPending()
	}
	if s.o.Format == JSON {
		if s.n > 0 {
			fmt.Fprint(s.bw, "\n  ]\n}\n")
		} else {
			fmt.Fprint(s.bw, "]\n}\n")
		}
	}
	s.bw.Flush()
	if fw, ok := s.tw.(*foldWriter); ok {
		fw.Flush()
	}
	return s.ew.err
}

// annotate writes the annotation of one reply found in the input.
func (o *explainOutput) annotate(r AnnotatedReply) {
	label := o.codeLabel(r.Explanation)
	ctx := ""
	if r.Context != "" && r.Context != explain.Unknown {
		ctx = " after " + strings.ToUpper(string(r.Context))
	}
	lines := Wrap(r.Brief, o.width-6)
	fmt.Fprintf(o.w, "  => %s%s: %s\n", label, ctx, lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(o.w, "     %s\n", l)
	}
	for _, l := range Wrap(o.h.Fix+": "+r.SpecificFix(), o.width-6) {
		fmt.Fprintf(o.w, "     %s\n", l)
	}
	for _, w := range r.Warnings {
		for i, l := range Wrap(w, o.width-8) {
			if i == 0 {
				fmt.Fprintf(o.w, "     ! %s\n", l)
			} else {
				fmt.Fprintf(o.w, "       %s\n", l)
			}
		}
	}
}
