package explain

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Recognition is what a recognizer knows about a reply text from a known
// receiver or MTA: who sends it, what they mean by it, and what to do.
type Recognition struct {
	Source string `json:"source"` // e.g. "Postfix", "Gmail", "Microsoft 365", "Spamhaus"
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
	Ref    string `json:"ref,omitempty"` // the provider's documentation or RFC
	// IANAMeaning is set when the provider uses a registered enhanced code
	// for something else: the registry's meaning, shown as such.
	IANAMeaning string `json:"iana_meaning,omitempty"`
	// Via names the MTA whose stock wording carried the verdict, when the
	// verdict itself came from elsewhere: "Postfix" for a Spamhaus listing
	// reported through Postfix's reject_rbl_client text.
	Via string `json:"via,omitempty"`
	// Template is the source's reply template the text matched, "{...}"
	// marking its variable parts; Knob the configuration setting that
	// produces or changes the reply; File the source file it is sent from.
	Template string `json:"template,omitempty"`
	Knob     string `json:"knob,omitempty"`
	File     string `json:"source_file,omitempty"`
	// Candidates are every server that sends this text, when more than
	// one does (Source then names them all, "Postfix or Sendmail").
	Candidates []SourceCandidate `json:"candidates,omitempty"`
}

// recognizer is one row of the recognizer table: the shape of a reply and
// what it means. A row matches when every field it sets matches; an empty
// field matches anything.
type recognizer struct {
	source string
	// codes is a space-separated set of basic codes ("550", "450 550") or
	// classes ("5xx"); empty matches any code.
	codes string
	// enhanced is a space-separated set of enhanced codes: exact ("5.7.26"),
	// either class ("x.7.26", for providers that send 4.7.26 and 5.7.26), or a
	// detail range ("5.7.606-649"). Empty matches any enhanced code, or none.
	enhanced string
	// words are case-insensitive regular expressions joined by " && ": each
	// part must match somewhere in the text. They name the stable words of a
	// wording, not a whole sentence, so rewordings still match.
	words string
	// reason, fix, ref: what the sender of the reply means, what to do, where
	// it is documented.
	reason, fix, ref string
	// iana is the registry's meaning of the enhanced code when the source
	// uses a registered code for something else.
	iana string
	// template marks a wording that only carries someone else's verdict
	// (an MTA's stock text for a DNS blocklist hit, Yahoo's [BLnn]) or only
	// says who is speaking (a provider's "- gsmtp" mark). Any row naming
	// the verdict itself wins, and the best template's source is Via.
	template bool

	// Catalogue rows (explain/catalogue/*.tsv) match the whole text
	// against a reply template instead of words.
	text   string    // the template, "{...}" marking a variable part
	knob   string    // the configuration setting that produces or changes it
	stages []Command // the commands it answers, none for any
	// noEnhanced: the server sends no enhanced code with this text, so a
	// reply that carries one is someone else's.
	noEnhanced bool
	file       string // the source file of the MTA it comes from
}

// compiled is a recognizer ready to match.
type compiled struct {
	id    int // index in the recognizer set
	row   recognizer
	codes []codePattern
	enh   []enhancedPattern
	words *lazyWords
	tmpl  *template
	spec  specificity
}

// lazyWords compiles a row's word patterns the first time the row's code
// and enhanced code match a reply, so start-up compiles nothing.
type lazyWords struct {
	once sync.Once
	src  []string
	res  []*regexp.Regexp
}

func (l *lazyWords) get() []*regexp.Regexp {
	l.once.Do(func() {
		for _, w := range l.src {
			// Patterns are checked by TestRecognizerTableCompiles.
			l.res = append(l.res, regexp.MustCompile(w))
		}
	})
	return l.res
}

type codePattern struct {
	code  int // exact code, or 0 when only the class is set
	class int
}

type enhancedPattern struct {
	class              int // 0 for either class
	subject            int
	detailLo, detailHi int
}

// specificity orders matching rows; the most specific row wins. Fields are
// compared in order:
//  0. exact: 1 for a catalogue template that matched the whole text;
//  1. enhanced: 2 for an exact enhanced code (x.7.26 counts as exact, the
//     class is the basic code's), 1 for a detail range, 0 when unset;
//  2. code: 3 for one exact basic code, 2 for a set of codes, 1 for a class
//     only, 0 when unset;
//  3. groups: how many word groups the text must contain;
//  4. length: the total length of the word patterns (a longer phrase is
//     rarer).
//
// Equal rows keep table order: the first one wins.
type specificity struct{ exact, enhanced, code, groups, length int }

func (s specificity) less(t specificity) bool {
	switch {
	case s.exact != t.exact:
		return s.exact < t.exact
	case s.enhanced != t.enhanced:
		return s.enhanced < t.enhanced
	case s.code != t.code:
		return s.code < t.code
	case s.groups != t.groups:
		return s.groups < t.groups
	}
	return s.length < t.length
}

// recognizerTables lists every table, one per source family. A new
// recognizer is one more row in one of them.
var recognizerTables = [][]recognizer{
	gmailRecognizers,
	microsoftRecognizers,
	yahooRecognizers,
	blocklistRecognizers,
	postfixRecognizers,
	eximRecognizers,
	sendmailRecognizers,
	opensmtpdRecognizers,
	qmailRecognizers,
}

// recognizerSet is every row, the tables' and the catalogue's, built on
// first use: a run that recognizes nothing pays nothing.
var recognizerSet = sync.OnceValue(func() *rowSet {
	rows := mustCompileRecognizers(append(slices.Clone(recognizerTables), catalogueRows()))
	return &rowSet{all: rows, byClass: bucketByClass(rows)}
})

// rowSet holds the compiled rows and, for each reply class 2-5, the rows
// that can match it (their codes include the class, or they set no code);
// index 0 holds the rows for a code outside the grammar. Matching walks
// only one.
type rowSet struct {
	all     []compiled
	byClass [6][]*compiled
}

func bucketByClass(rows []compiled) (b [6][]*compiled) {
	for i := range rows {
		c := &rows[i]
		for class := 2; class <= 5; class++ {
			ok := len(c.codes) == 0
			for _, p := range c.codes {
				ok = ok || p.class == class
			}
			if ok {
				b[class] = append(b[class], c)
			}
		}
		if len(c.codes) == 0 {
			b[0] = append(b[0], c)
		}
	}
	return b
}

func mustCompileRecognizers(tables [][]recognizer) []compiled {
	out, err := compileRecognizers(tables)
	if err != nil {
		// The tables are constant data; a bad row is a build error that
		// TestRecognizerTableCompiles reports.
		panic(err)
	}
	return out
}

func compileRecognizers(tables [][]recognizer) ([]compiled, error) {
	n := 0
	for _, t := range tables {
		n += len(t)
	}
	out := make([]compiled, 0, n)
	for _, t := range tables {
		for _, r := range t {
			c, err := compileRecognizer(r)
			if err != nil {
				return nil, fmt.Errorf("recognizer %s %q %q: %w", r.source, r.codes, r.words, err)
			}
			c.id = len(out)
			out = append(out, c)
		}
	}
	return out, nil
}

func compileRecognizer(r recognizer) (compiled, error) {
	c := compiled{row: r}
	if r.source == "" || r.reason == "" {
		return c, fmt.Errorf("source and reason are required")
	}
	if r.text != "" {
		if r.words != "" {
			return c, fmt.Errorf("a row has words or a template, not both")
		}
		t, err := parseTemplate(r.text)
		if err != nil {
			return c, err
		}
		c.tmpl = t
		c.spec.exact = 1
		c.spec.groups = len(t.parts)
		c.spec.length = t.literal
	}
	if r.codes == "" && r.enhanced == "" && r.words == "" && r.text == "" {
		return c, fmt.Errorf("a row must constrain something")
	}
	for _, f := range strings.Fields(r.codes) {
		p, err := parseCodePattern(f)
		if err != nil {
			return c, err
		}
		c.codes = append(c.codes, p)
	}
	switch {
	case len(c.codes) == 1 && c.codes[0].code != 0:
		c.spec.code = 3
	case len(c.codes) > 0 && c.codes[0].code != 0:
		c.spec.code = 2
	case len(c.codes) > 0:
		c.spec.code = 1
	}
	for _, f := range strings.Fields(r.enhanced) {
		p, err := parseEnhancedPattern(f)
		if err != nil {
			return c, err
		}
		c.enh = append(c.enh, p)
		level := 2
		if p.detailLo != p.detailHi {
			level = 1
		}
		if c.spec.enhanced == 0 || level < c.spec.enhanced {
			c.spec.enhanced = level
		}
	}
	if r.words != "" {
		c.words = &lazyWords{}
		for _, w := range strings.Split(r.words, " && ") {
			// Patterns are matched against the lower-cased text, which is
			// much cheaper than (?i) folding; escapes whose meaning
			// changes with case are refused.
			if hasUpperEscape(w) {
				return c, fmt.Errorf("pattern %q: upper-case escapes are not allowed", w)
			}
			c.words.src = append(c.words.src, strings.ToLower(w))
			c.spec.length += len(w)
		}
		c.spec.groups = len(c.words.src)
	}
	return c, nil
}

// hasUpperEscape finds escapes such as \D or \S that lower-casing a
// pattern would turn into their opposites.
func hasUpperEscape(w string) bool {
	for i := 0; i+1 < len(w); i++ {
		if w[i] == '\\' {
			if w[i+1] >= 'A' && w[i+1] <= 'Z' {
				return true
			}
			i++
		}
	}
	return false
}

// parseCodePattern reads "550" or "5xx".
func parseCodePattern(s string) (codePattern, error) {
	if len(s) == 3 && s[1:] == "xx" && s[0] >= '2' && s[0] <= '5' {
		return codePattern{class: int(s[0] - '0')}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 200 || n > 599 {
		return codePattern{}, fmt.Errorf("bad code %q", s)
	}
	return codePattern{code: n, class: n / 100}, nil
}

// parseEnhancedPattern reads "5.7.26", "x.7.26" or "5.7.606-649".
func parseEnhancedPattern(s string) (enhancedPattern, error) {
	var p enhancedPattern
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return p, fmt.Errorf("bad enhanced code %q", s)
	}
	if parts[0] != "x" {
		n, err := strconv.Atoi(parts[0])
		if err != nil || (n != 2 && n != 4 && n != 5) {
			return p, fmt.Errorf("bad enhanced class in %q", s)
		}
		p.class = n
	}
	var err error
	if p.subject, err = strconv.Atoi(parts[1]); err != nil {
		return p, fmt.Errorf("bad enhanced subject in %q", s)
	}
	lo, hi, isRange := strings.Cut(parts[2], "-")
	if p.detailLo, err = strconv.Atoi(lo); err != nil {
		return p, fmt.Errorf("bad enhanced detail in %q", s)
	}
	p.detailHi = p.detailLo
	if isRange {
		if p.detailHi, err = strconv.Atoi(hi); err != nil || p.detailHi < p.detailLo {
			return p, fmt.Errorf("bad enhanced range in %q", s)
		}
	}
	return p, nil
}

// enhancedCode is a parsed class.subject.detail (RFC 3463 §2).
type enhancedCode struct{ class, subject, detail int }

// parseEnhanced reads an enhanced status code; ok is false when s is not one.
func parseEnhanced(s string) (e enhancedCode, ok bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 3 {
		return e, false
	}
	var n [3]int
	for i, p := range parts {
		if len(p) == 0 || len(p) > 3 {
			return e, false
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return e, false
		}
		n[i] = v
	}
	return enhancedCode{n[0], n[1], n[2]}, true
}

func (c compiled) matches(code int, enh enhancedCode, hasEnh bool, text string) bool {
	if len(c.codes) > 0 {
		ok := false
		for _, p := range c.codes {
			if (p.code != 0 && p.code == code) || (p.code == 0 && p.class == code/100) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if c.row.noEnhanced && hasEnh {
		return false
	}
	if len(c.enh) > 0 {
		if !hasEnh {
			return false
		}
		ok := false
		for _, p := range c.enh {
			if (p.class == 0 || p.class == enh.class) && p.subject == enh.subject &&
				enh.detail >= p.detailLo && enh.detail <= p.detailHi {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if c.tmpl != nil {
		return c.tmpl.match(text)
	}
	if c.words != nil {
		if text == "" {
			return false
		}
		for _, re := range c.words.get() {
			if !re.MatchString(text) {
				return false
			}
		}
	}
	return true
}

// ranksBelow tells whether a loses to b when both match. A template row
// (an MTA's wording for someone else's verdict) ranks below every row that
// names the verdict's source; otherwise the more specific row wins.
func ranksBelow(a, b *compiled) bool {
	if a.row.template != b.row.template {
		return a.row.template
	}
	if a.row.source == b.row.source && (a.tmpl == nil) != (b.tmpl == nil) {
		// Within one source the hand-written row, which reads the
		// wording more closely, keeps the reason; the template adds its
		// knob (Recognize).
		return a.tmpl != nil
	}
	return a.spec.less(b.spec)
}

// trailingEnhanced finds qmail's habit of putting the enhanced code at the
// end of the text, "(#5.7.1)", instead of after the basic code.
var trailingEnhanced = lazyRegexp(`\(#([245]\.\d{1,3}\.\d{1,3})\)`)

// maxRecognizeText bounds the text examined: a reply line is at most 512
// octets (RFC 5321 §4.5.3.1.5) and a folded multi-line reply a few
// kilobytes; anything after this is not looked at.
const maxRecognizeText = 4 << 10

// Recognize returns what is known about a reply from its code, enhanced
// code and text, or nil when no recognizer matches. Matching is on the
// reply's shape: the basic code, the enhanced code, and either the stable
// words of the text or, for a catalogue row, the whole text against the
// MTA's reply template, case-insensitively. When several rows match, a row
// naming the source of a verdict beats an MTA's stock wording for
// reporting it (which becomes Via); a whole-template match beats a match
// on words; and otherwise the most specific row wins (see specificity).
// A text that several servers send alike names them all ("Postfix or
// Sendmail") and lists each in Candidates with a confidence: it is never
// pinned on one by guess. When enhanced is empty and the text carries a
// trailing qmail-style "(#5.7.1)", that code is used. Only the first 4 KiB
// of text are examined.
func Recognize(code int, enhanced, text string) *Recognition {
	return RecognizeAt(code, enhanced, text, "")
}

// RecognizeAt is Recognize for a reply to cmd: a row that names the
// commands it answers (a catalogue row's stage) is used only for those,
// and beats a row that names none. An empty cmd matches every row.
func RecognizeAt(code int, enhanced, text string, cmd Command) *Recognition {
	if enhanced == "" && strings.TrimSpace(text) == "" {
		// Every row names an enhanced code or words (TestRecognizerTableCompiles):
		// a bare code matches none, and need not build the table.
		return nil
	}
	m := matchReply(code, enhanced, text, cmd)
	best := m.best
	if best == nil {
		return nil
	}
	r := &Recognition{
		Source:      best.row.source,
		Reason:      best.row.reason,
		Fix:         best.row.fix,
		Ref:         best.row.ref,
		IANAMeaning: best.row.iana,
	}
	if t := m.templateOf(best.row.source, cmd); t != nil {
		r.Template, r.Knob, r.File = t.row.text, t.row.knob, t.row.file
	}
	if m.via != nil && m.via.id != best.id && m.via.row.source != best.row.source {
		r.Via = m.via.row.source
	}
	r.Candidates = m.candidates()
	if shared := m.sharedSources(); len(shared) > 1 && isServer(best.row.source) && slices.Contains(shared, best.row.source) {
		r.Source = joinOr(shared)
	}
	return r
}

// joinOr writes "A", "A or B", "A, B or C".
func joinOr(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// SourceCandidate is one server that sends a recognised text, and how
// sure the attribution is: "high" when only its template matches the
// whole text, "medium" when two servers' templates do, "low" when more
// do or only its words match.
type SourceCandidate struct {
	Source     string `json:"source"`
	Confidence string `json:"confidence"`
	Template   string `json:"template,omitempty"` // its catalogue template, when that matched
}

// replyMatch is every row that matched one reply.
type replyMatch struct {
	best, via *compiled
	rows      []*compiled // every matching row, in table order
}

// matchReply matches a reply against every row of its class.
func matchReply(code int, enhanced, text string, cmd Command) replyMatch {
	if len(text) > maxRecognizeText {
		text = text[:maxRecognizeText]
	}
	enh, hasEnh := parseEnhanced(enhanced)
	if !hasEnh {
		// A caller may leave the enhanced code in the text ("5.1.1 <a>:
		// …"), or the server put it last, qmail-style ("(#5.7.1)").
		if m := leadingEnhanced().FindStringSubmatch(text); m != nil && (code < 200 || code > 599 || int(m[1][0]-'0') == code/100) {
			enh, hasEnh = parseEnhanced(m[1])
			text = strings.TrimSpace(text[len(m[0]):])
		} else if m := trailingEnhanced().FindStringSubmatch(text); m != nil {
			enh, hasEnh = parseEnhanced(m[1])
		}
	}
	set := recognizerSet()
	rows := set.byClass[0]
	if code >= 200 && code <= 599 {
		rows = set.byClass[code/100]
	}
	m := matchRows(rows, code, enh, hasEnh, strings.ToLower(foldContinuations(text)), cmd)
	if shared := m.sharedSources(); len(shared) > 1 && m.best != nil && m.best.tmpl != nil && !m.best.row.template {
		// A shared text: a hand-written row of one of the servers that
		// send it reads it more closely than a template does.
		for _, c := range m.rows {
			if c.tmpl == nil && !c.row.template && slices.Contains(shared, c.row.source) && (m.best.tmpl != nil || m.best.spec.less(c.spec)) {
				m.best = c
			}
		}
	}
	return m
}

// recognize returns the winning row and the best-matching MTA template row.
func recognize(code int, enhanced, text string) (best, via *compiled) {
	m := matchReply(code, enhanced, text, "")
	return m.best, m.via
}

// matchRows finds every matching row of rows for a reply whose text is
// already folded and lower-cased, the winner, and the best MTA template
// row among them.
func matchRows(rows []*compiled, code int, enh enhancedCode, hasEnh bool, text string, cmd Command) replyMatch {
	var m replyMatch
	for _, c := range rows {
		if stageFit(c, cmd) == 0 || !c.matches(code, enh, hasEnh, text) {
			continue
		}
		m.rows = append(m.rows, c)
		if c.row.template && c.row.source != srcDNSBL {
			if m.via == nil || m.via.spec.less(c.spec) {
				m.via = c
			}
		}
		if m.best == nil || ranksBelowAt(m.best, c, cmd) {
			m.best = c
		}
	}
	return m
}

// stageFit is how well row c fits a reply to cmd: 3 when it names cmd
// among the commands it answers, 2 when it names none, 1 when it names
// some and cmd is not known (usable, below a general row), 0 when it
// names others only.
func stageFit(c *compiled, cmd Command) int {
	switch {
	case len(c.row.stages) == 0:
		return 2
	case cmd == "":
		return 1
	case slices.Contains(c.row.stages, cmd):
		return 3
	}
	return 0
}

// ranksBelowAt is ranksBelow for a reply to cmd: of two rows of one
// source and of one kind (both hand-written, or both catalogue
// templates), one written for that command beats one written for any.
func ranksBelowAt(a, b *compiled, cmd Command) bool {
	if a.row.template == b.row.template && a.row.source == b.row.source && (a.tmpl == nil) == (b.tmpl == nil) {
		if fa, fb := stageFit(a, cmd), stageFit(b, cmd); fa != fb {
			return fa < fb
		}
	}
	return ranksBelow(a, b)
}

// bestOf picks the winning row of rows and the best MTA template row.
func bestOf(rows []compiled, code int, enh enhancedCode, hasEnh bool, text string) (best, via *compiled) {
	ptrs := make([]*compiled, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	m := matchRows(ptrs, code, enh, hasEnh, text, "")
	return m.best, m.via
}

// templateOf is the most specific catalogue row of source that matched.
func (m replyMatch) templateOf(source string, cmd Command) *compiled {
	var t *compiled
	for _, c := range m.rows {
		if c.tmpl != nil && c.row.source == source && (t == nil || cmd == "" && t.spec.less(c.spec) || cmd != "" && ranksBelowAt(t, c, cmd)) {
			t = c
		}
	}
	return t
}

// sharedSources are the servers whose templates match the whole text, in
// table order, when there are any.
func (m replyMatch) sharedSources() []string {
	var out []string
	for _, c := range m.rows {
		if c.tmpl != nil && isServer(c.row.source) && !c.row.template && !slices.Contains(out, c.row.source) {
			out = append(out, c.row.source)
		}
	}
	return out
}

// candidates lists every server with a matching row, when there is more
// than one, with how sure each attribution is.
func (m replyMatch) candidates() []SourceCandidate {
	exact := m.sharedSources()
	var out []SourceCandidate
	seen := map[string]bool{}
	for _, s := range exact {
		conf := "high"
		switch {
		case len(exact) == 2:
			conf = "medium"
		case len(exact) > 2:
			conf = "low"
		}
		seen[s] = true
		out = append(out, SourceCandidate{Source: s, Confidence: conf, Template: m.templateOf(s, "").row.text})
	}
	for _, c := range m.rows {
		if s := c.row.source; !seen[s] && isServer(s) && !c.row.template {
			seen[s] = true
			conf := "low"
			if len(exact) == 0 {
				conf = "medium"
			}
			out = append(out, SourceCandidate{Source: s, Confidence: conf})
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// continuationPrefix matches the "550-5.7.26 " that relays such as Postfix
// leave inside the text when they fold a multi-line reply into one log
// line (RFC 5321 §4.2.1: every line carries the code).
var continuationPrefix = lazyRegexp(`(^|\s)[2-5][0-5][0-9][- ](?:[245]\.\d{1,3}\.\d{1,3}\s+)?`)

// foldContinuations removes embedded reply-code prefixes and collapses
// runs of white space, so words split across reply lines still match.
func foldContinuations(text string) string {
	if strings.IndexFunc(text, func(r rune) bool { return r >= '2' && r <= '5' }) >= 0 {
		text = continuationPrefix().ReplaceAllString(text, " ")
	}
	return strings.Join(strings.Fields(text), " ")
}

// RecognizerSources lists the sources the recognizers know, in table
// order, each once: for documentation and "what does this tool know" output.
func RecognizerSources() []string {
	var out []string
	seen := make(map[string]bool)
	for _, c := range recognizerSet().all {
		if !seen[c.row.source] {
			seen[c.row.source] = true
			out = append(out, c.row.source)
		}
	}
	return out
}

// lazyRegexp compiles a pattern the first time it is used, so a run that
// never needs it (most subcommands, most replies) pays nothing at start-up.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
