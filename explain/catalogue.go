package explain

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
)

// The reply catalogue: one tab-separated file per MTA under catalogue/,
// a row per reply template its source sends. docs/knowledge.md describes
// the format; scripts/catalogue derives and checks the rows.
//
//go:embed catalogue/*.tsv
var catalogueFS embed.FS

// catalogueColumns are the columns of every catalogue file, in order.
var catalogueColumns = []string{"code", "enhanced", "text", "stage", "meaning", "fix", "knob", "source", "kind"}

// CatalogueRow is one reply template of one MTA.
type CatalogueRow struct {
	MTA      string    // from the file's "# mta:" line
	File     string    // the catalogue file, e.g. "postfix.tsv"
	Line     int       // 1-based line in that file
	Codes    string    // "550", "450 550" or "5xx"
	Enhanced string    // "5.1.1", "x.1.1", or empty when the MTA sends none
	Text     string    // the template: "{...}" marks a variable part
	Stages   []Command // the commands it answers; none for any
	Meaning  string
	Fix      string
	Knob     string // the setting that produces or changes it
	Source   string // the MTA source file it is sent from
	// Wrapper is set for a template that only carries someone else's
	// verdict (a blocklist's, a policy server's): that source wins and
	// the MTA is Via.
	Wrapper bool
}

// Catalogue returns every catalogue row, in file and line order; it panics
// on a malformed file (the files are build-time data, checked by tests).
func Catalogue() []CatalogueRow { return catalogue() }

var catalogue = sync.OnceValue(func() []CatalogueRow {
	rows, err := parseCatalogue()
	if err != nil {
		panic(err)
	}
	return rows
})

func parseCatalogue() ([]CatalogueRow, error) {
	entries, err := catalogueFS.ReadDir("catalogue")
	if err != nil {
		return nil, err
	}
	out := make([]CatalogueRow, 0, 512)
	for _, e := range entries {
		data, err := catalogueFS.ReadFile(path.Join("catalogue", e.Name()))
		if err != nil {
			return nil, err
		}
		rows, err := ParseCatalogueFile(e.Name(), string(data))
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// ParseCatalogueFile reads one catalogue file: "#" lines are comments,
// one of them "# mta: NAME"; the first other line is the header, naming
// the columns in catalogueColumns' order; every further line is a row.
func ParseCatalogueFile(name, data string) ([]CatalogueRow, error) {
	out := make([]CatalogueRow, 0, strings.Count(data, "\n"))
	mta := ""
	header := false
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if v, ok := strings.CutPrefix(line, "# mta:"); ok {
				mta = strings.TrimSpace(v)
			}
			continue
		}
		f := strings.Split(line, "\t")
		if !header {
			if strings.Join(f, ",") != strings.Join(catalogueColumns, ",") {
				return nil, fmt.Errorf("%s:%d: header %q, want %q", name, i+1, f, catalogueColumns)
			}
			header = true
			continue
		}
		if len(f) != len(catalogueColumns) {
			return nil, fmt.Errorf("%s:%d: %d columns, want %d", name, i+1, len(f), len(catalogueColumns))
		}
		if mta == "" {
			return nil, fmt.Errorf("%s: no \"# mta:\" line before the rows", name)
		}
		r := CatalogueRow{MTA: mta, File: name, Line: i + 1, Codes: f[0], Enhanced: f[1], Text: f[2],
			Meaning: f[4], Fix: f[5], Knob: f[6], Source: f[7]}
		for _, st := range strings.Fields(f[3]) {
			if !slices.Contains(Commands, Command(st)) {
				return nil, fmt.Errorf("%s:%d: stage %q is not a command", name, i+1, st)
			}
			r.Stages = append(r.Stages, Command(st))
		}
		switch f[8] {
		case "reply":
		case "wrapper":
			r.Wrapper = true
		default:
			return nil, fmt.Errorf("%s:%d: kind %q, want reply or wrapper", name, i+1, f[8])
		}
		if r.Text == "" || r.Meaning == "" || r.Codes == "" {
			return nil, fmt.Errorf("%s:%d: code, text and meaning are required", name, i+1)
		}
		if _, err := parseTemplate(r.Text); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		out = append(out, r)
	}
	if !header {
		return nil, fmt.Errorf("%s: no header line", name)
	}
	return out, nil
}

// catalogueRows turns the catalogue into recognizer rows.
func catalogueRows() []recognizer {
	rows := catalogue()
	out := make([]recognizer, 0, len(rows))
	for _, c := range rows {
		fix := c.Fix
		if c.Knob != "" {
			fix = strings.TrimSpace(fix + " Setting: " + c.Knob + ".")
		}
		enh, none := c.Enhanced, c.Enhanced == ""
		if enh == "*" {
			enh = ""
		}
		ref := c.MTA + " source: " + c.Source
		if r, ok := strings.CutPrefix(c.Source, "reference: "); ok {
			ref = r
		}
		out = append(out, recognizer{source: c.MTA, codes: c.Codes, enhanced: enh, noEnhanced: none,
			text: c.Text, reason: c.Meaning, fix: fix, ref: ref, knob: c.Knob, stages: c.Stages,
			file: c.Source, template: c.Wrapper})
	}
	return out
}

// template is a reply text with variable parts: the literal pieces, in
// order, lower-cased. A match is the whole text: the first piece at the
// start, the last at the end (unless a variable part leads or trails), the
// others in order between.
type template struct {
	parts            []string
	gaps             []string // gaps[i]: the type of the variable before parts[i], "" for any text
	leadVar, tailVar bool
	tailType         string
	literal          int // total length of the pieces
}

// varTypes are the kinds a variable may be narrowed to, "{id:hex}":
// a variable of a type matches only a non-empty run of its characters.
var varTypes = map[string]func(byte) bool{
	"hex":    func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' },
	"digits": func(c byte) bool { return c >= '0' && c <= '9' },
}

// fits tells whether s is a value of the variable type typ.
func fits(typ, s string) bool {
	if typ == "" {
		return true
	}
	if s == "" {
		return false
	}
	ok := varTypes[typ]
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// parseTemplate reads "<{address}>: Recipient address rejected: {reason}".
func parseTemplate(s string) (*template, error) {
	t := &template{}
	rest := strings.ToLower(strings.Join(strings.Fields(s), " "))
	first := true
	gap := "" // the type of the variable just read
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			t.parts = append(t.parts, rest)
			t.gaps = append(t.gaps, gap)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("template %q: unclosed {", s)
		}
		if i > 0 {
			t.parts = append(t.parts, rest[:i])
			t.gaps = append(t.gaps, gap)
		} else if first {
			t.leadVar = true
		} else {
			return nil, fmt.Errorf("template %q: two variables in a row", s)
		}
		gap = ""
		if _, typ, ok := strings.Cut(rest[i+1:i+j], ":"); ok {
			if varTypes[typ] == nil {
				return nil, fmt.Errorf("template %q: unknown variable type %q", s, typ)
			}
			gap = typ
		}
		rest = rest[i+j+1:]
		first = false
		if rest == "" {
			t.tailVar, t.tailType = true, gap
		}
	}
	for _, p := range t.parts {
		t.literal += len(p)
	}
	if t.literal < 2 {
		return nil, fmt.Errorf("template %q: too little fixed text to match on", s)
	}
	return t, nil
}

// match reports whether the folded, lower-cased text is an instance of t.
func (t *template) match(text string) bool {
	parts, gaps := t.parts, t.gaps
	if len(parts) == 0 {
		return false
	}
	if !t.leadVar {
		if !strings.HasPrefix(text, parts[0]) {
			return false
		}
		text = text[len(parts[0]):]
		parts, gaps = parts[1:], gaps[1:]
		if len(parts) == 0 {
			return t.tailVar && fits(t.tailType, text) || !t.tailVar && text == ""
		}
	}
	last, lastGap := "", ""
	if !t.tailVar {
		last, lastGap = parts[len(parts)-1], gaps[len(gaps)-1]
		parts, gaps = parts[:len(parts)-1], gaps[:len(gaps)-1]
	}
	for k, p := range parts {
		i := strings.Index(text, p)
		if i < 0 || !fits(gaps[k], text[:i]) {
			return false
		}
		text = text[i+len(p):]
	}
	if t.tailVar {
		return fits(t.tailType, text)
	}
	return strings.HasSuffix(text, last) && fits(lastGap, text[:len(text)-len(last)])
}
