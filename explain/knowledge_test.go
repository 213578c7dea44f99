package explain

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// referenceDirs are where the shared reference copy may sit relative to
// this package: beside the repository (/work/main → /work/shared) or one
// level further up for a checkout inside a work directory.
var referenceDirs = []string{"../../shared/reference", "../../../shared/reference"}

// readLines returns the non-comment lines of a file, split on tabs.
func readLines(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		rows = append(rows, strings.Split(l, "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sharedReference returns the path of a file in the shared reference
// copy, or "" when it is absent (a CI clone without it still runs the
// checks against the checked-in copy under testdata/).
func sharedReference(name string) string {
	for _, d := range referenceDirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// enhancedRows is every enumerated registry row: from the shared TSV when
// present (columns code, table, text, associated), and always from the
// checked-in copy.
func enhancedRows(t *testing.T) map[string][2]string {
	rows := map[string][2]string{}
	for _, r := range readLines(t, "testdata/enhanced-codes.txt") {
		rows[r[0]] = [2]string{r[1], r[2]}
	}
	if p := sharedReference("enhanced-codes.tsv"); p != "" {
		for i, r := range readLines(t, p) {
			if i == 0 || len(r) < 4 || r[1] != "enumerated" {
				continue
			}
			if _, ok := rows[r[0]]; !ok {
				t.Errorf("%s is in %s but not in testdata/enhanced-codes.txt: refresh the copy", r[0], p)
			}
			rows[r[0]] = [2]string{r[2], r[3]}
		}
	}
	return rows
}

func TestEveryIANAEnhancedCodeHasAnEntry(t *testing.T) {
	rows := enhancedRows(t)
	if len(rows) < 80 {
		t.Fatalf("only %d registry rows read; the registry has 81", len(rows))
	}
	for code, row := range rows {
		ec, ok := enhancedCodes[strings.TrimPrefix(code, "X.")]
		if !ok {
			t.Errorf("%s (%s) has no entry", code, row[0])
			continue
		}
		if row[0] != "" && ec.Title != row[0] {
			t.Errorf("%s: title %q, registry says %q", code, ec.Title, row[0])
		}
		if ec.Associated != row[1] {
			t.Errorf("%s: associated basic codes %q, registry says %q", code, ec.Associated, row[1])
		}
	}
	for key := range enhancedCodes {
		if _, ok := rows["X."+key]; !ok {
			t.Errorf("X.%s has an entry but is not in the registry", key)
		}
	}
}

func TestEveryEnhancedEntryIsComplete(t *testing.T) {
	for key, ec := range enhancedCodes {
		if ec.Meaning == "" || ec.Fix == "" || ec.Title == "" || ec.Ref == "" {
			t.Errorf("X.%s: meaning, fix, title and reference must all be set: %+v", key, ec)
		}
		for _, class := range []string{"2", "4", "5"} {
			if _, _, _, err := ParseEnhanced(class + "." + key); err != nil {
				t.Errorf("%s.%s does not parse: %v", class, key, err)
			}
		}
	}
	for n, s := range enhancedSubjects {
		if s.Title == "" || s.Meaning == "" || s.Fix == "" || n < 0 || n > 7 {
			t.Errorf("subject %d incomplete", n)
		}
	}
}

func TestEveryRegisteredBasicCodeHasAnEntry(t *testing.T) {
	codes := map[int]bool{}
	for _, r := range readLines(t, "testdata/basic-codes.txt") {
		n, err := strconv.Atoi(r[0])
		if err != nil {
			t.Fatalf("bad line %q", r[0])
		}
		codes[n] = true
	}
	if p := sharedReference("basic-codes.tsv"); p != "" {
		for i, r := range readLines(t, p) {
			if i == 0 {
				continue
			}
			n, err := strconv.Atoi(r[0])
			if err != nil {
				t.Fatalf("%s: bad code %q", p, r[0])
			}
			codes[n] = true
		}
	}
	// The codes the RFCs name, whatever the reference files hold.
	for _, n := range []int{211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555, 521, 556, 235, 334, 432, 454, 530, 534, 535, 538} {
		codes[n] = true
	}
	for n := range codes {
		if _, ok := basicCodes[n]; !ok {
			t.Errorf("%d has no entry", n)
		}
	}
}

func TestEveryBasicEntryIsCompleteAndGrammatical(t *testing.T) {
	for code, b := range basicCodes {
		s := strconv.Itoa(code)
		if len(s) != 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' {
			t.Errorf("%d does not match the RFC 5321 reply-code grammar", code)
		}
		if !ValidCode(code) {
			t.Errorf("ValidCode(%d) = false", code)
		}
		if b.ShortText == "" || b.Brief == "" || b.Meaning == "" || b.When == "" || b.Fix == "" || b.Actor == "" || len(b.Refs) == 0 {
			t.Errorf("%d: every field must be set: %+v", code, b)
		}
		e := Explain(code, "", "", "")
		if e.ClassName == "" || e.Category == "" || e.Class != code/100 {
			t.Errorf("%d: class %d %q category %q", code, e.Class, e.ClassName, e.Category)
		}
	}
	for k, n := range contextNotes {
		if _, ok := basicCodes[k.Code]; !ok {
			t.Errorf("context note for unknown code %d", k.Code)
		}
		if !isCommand(k.Cmd) {
			t.Errorf("context note %d under unknown command %q", k.Code, k.Cmd)
		}
		if n.Brief == "" || len(n.Refs) == 0 {
			t.Errorf("context note %d/%s needs a brief and a reference", k.Code, k.Cmd)
		}
	}
}

func isCommand(c Command) bool {
	for _, x := range Commands {
		if x == c {
			return true
		}
	}
	return false
}

func TestValidCodeGrammar(t *testing.T) {
	for code := 0; code < 1000; code++ {
		want := code >= 200 && code <= 599 && (code/10)%10 <= 5
		if got := ValidCode(code); got != want {
			t.Errorf("ValidCode(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestEveryCommandHasContextNotes(t *testing.T) {
	for _, c := range []Command{Greeting, EHLO, STARTTLS, AUTH, VRFY, EXPN, MAIL, RCPT, DATA, RSET, NOOP, QUIT, Unknown} {
		n := 0
		for k := range contextNotes {
			if k.Cmd == c {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no context note for %s", c)
		}
	}
}

func TestEveryLanguageHasEveryHeading(t *testing.T) {
	for tag, h := range Languages {
		v := reflect.ValueOf(h)
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).String() == "" {
				t.Errorf("%s: heading %s is empty", tag, v.Type().Field(i).Name)
			}
		}
	}
	tr, ok := LookupLanguage("tr_TR.UTF-8")
	if !ok {
		t.Fatal("tr_TR.UTF-8 not found")
	}
	for got, want := range map[string]string{tr.Meaning: "Açıklama", tr.When: "Gördüğünüzde", tr.Fix: "Nasıl Düzeltilir", tr.KeyDifferences: "Temel Farklar", tr.WhenWhich: "Hangisini Ne Zaman Kullanmalı"} {
		if got != want {
			t.Errorf("Turkish heading %q, want %q", got, want)
		}
	}
	for _, tag := range []string{"", "C", "POSIX", "en_US.UTF-8", "en-GB"} {
		if h, ok := LookupLanguage(tag); !ok || h.Meaning != "Description" {
			t.Errorf("LookupLanguage(%q) = %q, %v; want English", tag, h.Meaning, ok)
		}
	}
	if _, ok := LookupLanguage("xx"); ok {
		t.Error("LookupLanguage(xx) found headings")
	}
}
