package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe"
)

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonKeys collects the JSON keys of t and of every struct it holds.
func jsonKeys(t reflect.Type, seen map[reflect.Type]bool, keys map[string]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() == "time" {
		return
	}
	seen[t] = true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			jsonKeys(f.Type, seen, keys)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := keys[name]; !ok {
			keys[name] = t.String()
		}
		jsonKeys(f.Type, seen, keys)
	}
}

// Every key of the probe, vrfy and version documents is named in
// docs/json.md (those of the DANE, MTA-STS and TLS-RPT objects in
// docs/tls.md), so the contract cannot gain a field the pages do not
// describe.
func TestDocsJSONFields(t *testing.T) {
	doc := readDoc(t, "json.md")
	keys := map[string]string{}
	seen := map[reflect.Type]bool{}
	for _, v := range []any{render.Probe{}, render.VRFY{}, render.Version{}} {
		jsonKeys(reflect.TypeOf(v), seen, keys)
	}
	// the transport-security objects have their own page
	tlsDoc, tlsErr := os.ReadFile(filepath.Join("..", "..", "docs", "tls.md"))
	var missing []string
	for k, owner := range keys {
		in := doc
		if strings.HasPrefix(owner, "dane.") || strings.HasPrefix(owner, "mtasts.") || strings.HasPrefix(owner, "tlsrpt.") {
			if tlsErr != nil {
				continue // docs/tls.md is checked once it exists
			}
			in = string(tlsDoc)
		}
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(k) + `\b`).MatchString(in) {
			missing = append(missing, fmt.Sprintf("%s (%s)", k, owner))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/json.md does not name %d keys:\n%s", len(missing), strings.Join(missing, "\n"))
	}
}

// Every verdict key and every value a verdict or a step's conformance can
// take is defined in docs/verdicts.md.
func TestDocsVerdicts(t *testing.T) {
	doc := readDoc(t, "verdicts.md")
	keys := map[string]string{}
	jsonKeys(reflect.TypeOf(probe.Verdicts{}), map[reflect.Type]bool{}, keys)
	words := []string{
		probe.PolicyReveals, probe.PolicyAcceptsAll, probe.PolicyLeaks, probe.PolicyHides, probe.PolicyDisabled, probe.PolicyRefuses, probe.PolicyUnknown,
		probe.SyntaxStrict, probe.SyntaxLenient, probe.SyntaxMixed, probe.SyntaxUnknown,
		string(probe.Conforms), string(probe.Lenient), string(probe.TooStrict), string(probe.Policy), string(probe.WrongCode),
		string(probe.Undecided), string(probe.Transient), string(probe.Informative), string(probe.NotJudged),
	}
	for k := range keys {
		words = append(words, k)
	}
	for _, w := range words {
		if !strings.Contains(doc, "`"+w+"`") {
			t.Errorf("docs/verdicts.md does not define `%s`", w)
		}
	}
}

// docs/cases.md is the probe plan as the code builds it (go test -run
// TestDocsCases -update rewrites it): every case, its suite, the line
// sent, what RFC 5321 expects and the section it relies on.
func TestDocsCases(t *testing.T) {
	steps := probe.Plan(probe.PlanInput{
		Domain: "example.org", User: "alice", From: "postmaster@client.example", Random: "smtpprobe-0123456789",
		Literal4: "192.0.2.25", Literal6: "2001:db8::25", VRFY: []string{"bob@example.org"}, RCPT: []string{"carol@example.org"},
		RCPTRaw: []string{"<dave..e@example.org>"},
	})
	var b strings.Builder
	b.WriteString(`# The probe plan

<!-- Generated from probe.Plan by: go test ./cmd/smtpprobe -run TestDocsCases -update -->

Every case ` + "`smtpprobe probe`" + ` sends, in the order sent, for the target
` + "`alice@example.org`" + ` with ` + "`--vrfy bob@example.org --rcpt carol@example.org`" + `
` + "`--rcpt-raw '<dave..e@example.org>'`" + `. *expect* is
what the RFC asks of the server: ` + "`accept`" + ` (must be accepted), ` + "`valid`" + ` (valid syntax the
server may still refuse for policy), ` + "`reject`" + ` (must be refused, with *codes* when the
RFC names them, the first preferred), ` + "`either`" + ` or ` + "`info`" + ` (judged by comparison, see
[verdicts.md](verdicts.md); a ` + "`--rcpt-raw`" + ` line is judged against nothing). Lines are sent
exactly as shown; the random mailbox changes every run.

| case | suite | what it tries | line sent | expect | codes | ref |
|---|---|---|---|---|---|---|
`)
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	n := 0
	for _, s := range steps {
		if s.Setup {
			continue
		}
		n++
		var codes []string
		for _, c := range s.Codes {
			codes = append(codes, fmt.Sprint(c))
		}
		line := render.Truncate(s.Line, 70)
		what := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(cell(s.Case))
		fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` | %s | %s | %s |\n", s.Name, s.Suite, what, cell(line), s.Expect, strings.Join(codes, ", "), s.Ref)
	}
	if n < 30 {
		t.Fatalf("only %d cases in the plan", n)
	}
	checkGolden(t, filepath.Join("..", "..", "docs", "cases.md"), b.String())
}

// The README stays short enough to read in five minutes, and every page
// it links to exists.
func TestReadme(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if n := strings.Count(readme, "\n"); n > 250 {
		t.Errorf("README.md is %d lines; keep it under 250 and move reference to docs/", n)
	}
	for _, m := range regexp.MustCompile(`\]\((docs/[^)#]+)`).FindAllStringSubmatch(readme, -1) {
		if _, err := os.Stat(filepath.Join("..", "..", m[1])); err != nil {
			t.Errorf("README links to %s: %v", m[1], err)
		}
	}
	for _, want := range []string{"go install github.com/smtpprobe/smtpprobe/cmd/smtpprobe@latest", "go run ./cmd/smtpprobe demo", "go test -race ./...", "Go 1.26"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
	gomod, _ := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod)); m == nil || !strings.Contains(readme, "Go "+m[1]+" or later") {
		t.Errorf("README's Go version does not match go.mod's %v", m)
	}
}
