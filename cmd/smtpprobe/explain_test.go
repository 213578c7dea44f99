package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/explain"
)

// The golden files of explain live in the repository's testdata/explain.
const explainTestdata = "../../testdata/explain"

func init() {
	// Other tests of this package may define -update too; register it only
	// once, after every package-level flag exists.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

// updateGoldens reports whether the test run was given -update.
func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// runExplainTest runs `smtpprobe explain args...` with the given stdin and
// environment, and returns the exit code, stdout and stderr.
func runExplainTest(t *testing.T, stdin string, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return environ[k] },
	}
	code := runEnv(context.Background(), append([]string{"explain"}, args...), e)
	return code, out.String(), errb.String()
}

// checkGolden compares got with testdata/explain/name, or rewrites it
// under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(explainTestdata, name)
	if updateGoldens() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestExplainGoldens(t *testing.T) {
	tests := []struct {
		golden string
		env    map[string]string
		args   []string
	}{
		{"252-501.golden", nil, []string{"252", "501"}},
		{"252-501.tr.golden", nil, []string{"--lang", "tr", "252", "501"}},
		{"252-501.tr.golden", map[string]string{"LANG": "tr_TR.UTF-8"}, []string{"252", "501"}},
		{"252-501.tr.golden", map[string]string{"LC_ALL": "tr_TR.UTF-8", "LANG": "en_US.UTF-8"}, []string{"252", "501"}},
		{"252-501.golden", map[string]string{"LC_ALL": "en_US.UTF-8", "LANG": "tr_TR.UTF-8"}, []string{"252", "501"}},
		{"252-501.json.golden", nil, []string{"--json", "252", "501"}},
		{"252-vrfy.golden", nil, []string{"--context", "vrfy", "252"}},
		{"501.golden", nil, []string{"501"}},
		{"550-5.1.1-rcpt.json.golden", nil, []string{"--json", "-c", "rcpt", "550 5.1.1 <a@example.net>: Recipient address rejected: User unknown"}},
		{"vrfy-policy.golden", nil, []string{"-c", "vrfy", "250", "252", "550", "502"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			code, out, errs := runExplainTest(t, "", tt.env, tt.args...)
			if code != exitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			checkGolden(t, tt.golden, out)
		})
	}
}

// TestExplainAnnotatesLogs runs "explain -" over the realistic samples in
// testdata/explain and compares with their goldens.
func TestExplainAnnotatesLogs(t *testing.T) {
	for _, sample := range []string{"postfix.log", "exim.log", "transcript.txt", "bounce.eml"} {
		t.Run(sample, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(explainTestdata, sample))
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := runExplainTest(t, string(in), nil, "-")
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			checkGolden(t, sample+".golden", out)
			// Every input line is echoed, in order.
			for _, l := range strings.Split(strings.TrimRight(string(in), "\n"), "\n") {
				if !strings.Contains(out, escapeUntrusted(l)+"\n") {
					t.Errorf("input line %q not echoed", l)
				}
			}
			if !strings.Contains(out, "  => ") {
				t.Error("no annotation written")
			}
		})
	}
	in, err := os.ReadFile(filepath.Join(explainTestdata, "postfix.log"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runExplainTest(t, string(in), nil, "--json", "-")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	checkGolden(t, "postfix.log.json.golden", out)
}

func TestExplainJSONFields(t *testing.T) {
	code, out, _ := runExplainTest(t, "", nil, "--json", "550 5.1.1")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "code", "class", "class_name", "meaning", "when", "fix", "refs", "enhanced", "enhanced_status", "variants"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("field %q missing from %s", k, out)
		}
	}
	if doc["schema_version"] != 1.0 || doc["code"] != 550.0 || doc["enhanced"] != "5.1.1" || doc["class"] != 5.0 {
		t.Errorf("document %s", out)
	}

	code, out, _ = runExplainTest(t, "", nil, "--json", "252", "501", "5.1.1")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var cmp struct {
		SchemaVersion int               `json:"schema_version"`
		Items         []json.RawMessage `json:"items"`
		Differences   []string          `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out), &cmp); err != nil {
		t.Fatal(err)
	}
	if cmp.SchemaVersion != 1 || len(cmp.Items) != 3 || len(cmp.Differences) < 3 {
		t.Errorf("comparison %s", out)
	}
}

func TestExplainUnknownCodes(t *testing.T) {
	tests := []struct {
		args []string
		says []string
	}{
		{[]string{"259"}, []string{"not a registered reply code", "2yz (Positive Completion)"}},
		{[]string{"600"}, []string{"first digit must be 2-5"}},
		{[]string{"199"}, []string{"Positive Preliminary"}},
		{[]string{"470"}, []string{"second digit must be 0-5", "Transient"}},
		{[]string{"5.9.1"}, []string{"subject 9 is not defined", "Permanent Failure"}},
		{[]string{"hello"}, []string{"not a reply code"}},
		{[]string{"252", "600"}, []string{"600"}},
	}
	for _, tt := range tests {
		code, out, errs := runExplainTest(t, "", nil, tt.args...)
		if code != exitCheck || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want exit 1 and no stdout", tt.args, code, out)
		}
		for _, s := range tt.says {
			if !strings.Contains(errs, s) {
				t.Errorf("%v: stderr %q lacks %q", tt.args, errs, s)
			}
		}
		if strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: want one line on stderr, got %q", tt.args, errs)
		}
	}
	code, out, _ := runExplainTest(t, "", nil, "--json", "259")
	var doc map[string]any
	if code != exitCheck || json.Unmarshal([]byte(out), &doc) != nil || doc["schema_version"] != 1.0 || doc["class"] != 2.0 || doc["error"] == nil {
		t.Errorf("--json 259: exit %d, %s", code, out)
	}
	// An unregistered detail is explained by its subject: not an error.
	code, out, _ = runExplainTest(t, "", nil, "5.7.606")
	if code != exitOK || !strings.Contains(out, "Security or Policy Status") {
		t.Errorf("5.7.606: exit %d, %s", code, out)
	}
}

func TestExplainUsage(t *testing.T) {
	tests := [][]string{
		{},
		{"--bogus", "252"},
		{"--context", "teleport", "252"},
		{"--lang", "xx", "252"},
		{"--color", "sometimes", "252"},
		{"-", "252"},
	}
	for _, args := range tests {
		code, out, errs := runExplainTest(t, "", nil, args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, "smtpprobe explain --help") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 with a hint", args, code, out, errs)
		}
	}
	code, out, _ := runExplainTest(t, "", nil, "--help")
	if code != exitOK || !strings.Contains(out, "smtpprobe explain 252 501") || !strings.Contains(out, "--context") || !strings.Contains(out, "Only the headings are translated") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	code, _, errs := runExplainTest(t, "nothing to see here\n", nil, "-")
	if code != exitCheck || !strings.Contains(errs, "no SMTP reply found") {
		t.Errorf("stdin without replies: exit %d, %q", code, errs)
	}
}

func TestExplainEscapesUntrustedText(t *testing.T) {
	code, out, _ := runExplainTest(t, "", nil, "550 5.1.1 evil\x1b[2Jtext")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if strings.ContainsRune(out, 0x1b) || !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("escape sequence not neutralised:\n%q", out)
	}
	code, out, _ = runExplainTest(t, "S: 550 5.1.1 bad\x1b]0;title\x07 user\n", nil, "-")
	if code == exitOK && (strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07)) {
		t.Errorf("stdin echo not escaped:\n%q", out)
	}
}

func TestExplainColor(t *testing.T) {
	_, out, _ := runExplainTest(t, "", nil, "--color", "always", "550")
	if !strings.Contains(out, "\x1b[31m550\x1b[0m") {
		t.Errorf("--color always did not colour 550 red:\n%q", out[:min(len(out), 80)])
	}
	_, out, _ = runExplainTest(t, "", map[string]string{"NO_COLOR": "1"}, "550")
	if strings.ContainsRune(out, 0x1b) {
		t.Error("colour written with NO_COLOR")
	}
}

func TestExplainContextChangesOutput(t *testing.T) {
	_, mail, _ := runExplainTest(t, "", nil, "--context", "mail", "501")
	_, vrfy, _ := runExplainTest(t, "", nil, "--context", "VRFY", "501")
	if !strings.Contains(mail, "angle brackets") || !strings.Contains(vrfy, "VRFY alice") || mail == vrfy {
		t.Errorf("501 after MAIL and VRFY should differ:\n%s\n%s", mail, vrfy)
	}
	if strings.Contains(mail, "How it changes per command") {
		t.Error("with --context the per-command list should not be shown")
	}
	_, general, _ := runExplainTest(t, "", nil, "501")
	for _, c := range []string{"EHLO", "MAIL", "RCPT", "VRFY", "STARTTLS", "QUIT"} {
		if !strings.Contains(general, "\n  "+c) {
			t.Errorf("general 501 does not list %s", c)
		}
	}
}

// TestExplainAnnotatorPlacement checks the annotator alone, with a finder
// that reports fixed offsets: each annotation follows the line its reply
// ends on, every line is echoed escaped, and the JSON offsets are kept.
func TestExplainAnnotatorPlacement(t *testing.T) {
	input := "Nov 28 mx1 postfix/smtp: queued\n" +
		"S: 550-5.1.1 first line\r\n" +
		"S: 550 5.1.1 bad\x1b[31m user\r\n" +
		"C: QUIT\n" +
		"S: 221 2.0.0 Bye"
	first := strings.Index(input, "550-")
	last := strings.Index(input, "user") + len("user")
	bye := strings.Index(input, "221")
	saved := findReplies
	t.Cleanup(func() { findReplies = saved })
	findReplies = func(text string) []explain.Found {
		if text != input {
			t.Errorf("finder got %q", text)
		}
		return []explain.Found{
			{Start: bye, End: len(input), Code: 221, Enhanced: "2.0.0", Text: "Bye", Context: explain.QUIT},
			{Start: first, End: last, Code: 550, Enhanced: "5.1.1", Text: "first line bad user", Context: explain.RCPT},
		}
	}
	code, out, errs := runExplainTest(t, input, nil, "-")
	if code != exitOK {
		t.Fatalf("exit %d, %q", code, errs)
	}
	lines := strings.Split(out, "\n")
	want := []string{
		"Nov 28 mx1 postfix/smtp: queued",
		"S: 550-5.1.1 first line",
		`S: 550 5.1.1 bad\x1b[31m user`,
		"  => 550 5.1.1 after RCPT: recipient refused",
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Fatalf("line %d: want prefix %q, output:\n%s", i, w, out)
		}
	}
	if strings.ContainsRune(out, 0x1b) || strings.Contains(out, "\r") {
		t.Errorf("control characters reached the output: %q", out)
	}
	quit := strings.Index(out, "C: QUIT\n")
	ann := strings.Index(out, "=> 221 2.0.0 after QUIT")
	if quit < 0 || ann < quit || !strings.Contains(out[quit:ann], "S: 221 2.0.0 Bye\n") {
		t.Errorf("221 annotation misplaced:\n%s", out)
	}

	code, out, _ = runExplainTest(t, input, nil, "--json", "-")
	if code != exitOK {
		t.Fatalf("--json exit %d", code)
	}
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Replies       []struct {
			Line, Start, End int
			Reply, Brief     string
			Code             int
			Context          string
		} `json:"replies"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != 1 || len(doc.Replies) != 2 {
		t.Fatalf("document %s", out)
	}
	r := doc.Replies[0] // sorted by position
	if r.Code != 550 || r.Line != 3 || r.Start != first || r.End != last || r.Reply != input[first:last] || r.Context != "rcpt" || r.Brief == "" {
		t.Errorf("first reply %+v", r)
	}
	if doc.Replies[1].Line != 5 {
		t.Errorf("221 on line %d, want 5", doc.Replies[1].Line)
	}
}

func TestExplainStdinContextFallback(t *testing.T) {
	input := "said: 501 5.1.7 Bad sender address syntax\n"
	saved := findReplies
	t.Cleanup(func() { findReplies = saved })
	findReplies = func(text string) []explain.Found {
		return []explain.Found{{Start: 6, End: len(input) - 1, Code: 501, Enhanced: "5.1.7", Text: "Bad sender address syntax"}}
	}
	_, out, _ := runExplainTest(t, input, nil, "--context", "mail", "-")
	if !strings.Contains(out, "=> 501 5.1.7 after MAIL: ") {
		t.Errorf("--context not applied to a reply without one:\n%s", out)
	}
	_, out, _ = runExplainTest(t, input, nil, "-")
	if strings.Contains(out, "after MAIL") {
		t.Errorf("context invented without --context:\n%s", out)
	}
}
