package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/explain"
)

// The golden files of explain live in the repository's testdata/explain.
const explainTestdata = "../../testdata/explain"

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
			checkGolden(t, filepath.Join(explainTestdata, tt.golden), out)
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
			// A whole message is read per recipient unless --replies
			// asks for the line annotator (see TestExplainBounceGolden).
			code, out, errs := runExplainTest(t, string(in), nil, "--replies", "-")
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			checkGolden(t, filepath.Join(explainTestdata, sample+".golden"), out)
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
	checkGolden(t, filepath.Join(explainTestdata, "postfix.log.json.golden"), out)
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

	code, out, _ = runExplainTest(t, "", nil, "--json", "252", "5.1.1", "501")
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
		// The input is echoed as typed.
		{[]string{"099"}, []string{"099: ", "first digit must be 2-5"}},
		{[]string{"--", "-5"}, []string{"explain: -5: not a reply code"}},
		{[]string{"+50"}, []string{"+50: not a reply code"}},
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

// fakeScanner hands out fixed lines, so the annotator is checked on its
// own.
type fakeScanner struct {
	lines []explain.Line
	cur   explain.Line
	err   error
}

func (f *fakeScanner) Scan() bool {
	if len(f.lines) == 0 {
		return false
	}
	f.cur, f.lines = f.lines[0], f.lines[1:]
	return true
}
func (f *fakeScanner) Line() explain.Line { return f.cur }
func (f *fakeScanner) Err() error         { return f.err }

func useFakeScanner(t *testing.T, lines []explain.Line, err error) {
	saved := newLineScanner
	t.Cleanup(func() { newLineScanner = saved })
	newLineScanner = func(io.Reader) lineScanner {
		return &fakeScanner{lines: append([]explain.Line(nil), lines...), err: err}
	}
}

// TestExplainAnnotatorPlacement checks the annotator alone, with a scanner
// that reports fixed replies: each annotation follows the line its reply
// ends on (after the last piece of a long line), every line is echoed
// escaped, and the JSON keeps the offsets.
func TestExplainAnnotatorPlacement(t *testing.T) {
	lines := []explain.Line{
		{Number: 1, Text: "Nov 28 mx1 postfix/smtp: queued"},
		{Number: 2, Text: "S: 550-5.1.1 first line"},
		{Number: 3, Text: "S: 550 5.1.1 bad\x1b[31m user", Replies: []explain.Found{
			{Start: 35, End: 80, Code: 550, Enhanced: "5.1.1", Text: "first line bad user", Context: explain.RCPT, Raw: "550-5.1.1 first line\r\nS: 550 5.1.1 bad"}}},
		{Number: 4, Text: "C: QUIT"},
		{Number: 5, Text: "S: 221 2.0.0", Continued: true, Replies: []explain.Found{
			{Start: 90, End: 100, Code: 221, Enhanced: "2.0.0", Text: "Bye", Context: explain.QUIT, Raw: "221 2.0.0 Bye"}}},
		{Number: 5, Text: " Bye"},
	}
	useFakeScanner(t, lines, nil)
	code, out, errs := runExplainTest(t, "", nil, "-")
	if code != exitOK {
		t.Fatalf("exit %d, %q", code, errs)
	}
	got := strings.Split(out, "\n")
	want := []string{
		"Nov 28 mx1 postfix/smtp: queued",
		"S: 550-5.1.1 first line",
		`S: 550 5.1.1 bad\x1b[31m user`,
		"  => 550 5.1.1 after RCPT: recipient refused",
	}
	for i, w := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], w) {
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

	code, out, _ = runExplainTest(t, "", nil, "--json", "-")
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
		t.Fatalf("%v in %s", err, out)
	}
	if doc.SchemaVersion != 1 || len(doc.Replies) != 2 {
		t.Fatalf("document %s", out)
	}
	r := doc.Replies[0]
	if r.Code != 550 || r.Line != 3 || r.Start != 35 || r.End != 80 || r.Reply != "550-5.1.1 first line\r\nS: 550 5.1.1 bad" || r.Context != "rcpt" || r.Brief == "" {
		t.Errorf("first reply %+v", r)
	}
	if doc.Replies[1].Line != 5 {
		t.Errorf("221 on line %d, want 5", doc.Replies[1].Line)
	}
}

// TestExplainStdinReadError: a failing stdin is a check failure (exit 1),
// after what was read has been annotated.
func TestExplainStdinReadError(t *testing.T) {
	useFakeScanner(t, []explain.Line{{Number: 1, Text: "said: 550 x", Replies: []explain.Found{{Start: 6, End: 11, Code: 550, Text: "x", Raw: "550 x"}}}}, errors.New("disk on fire"))
	code, out, errs := runExplainTest(t, "", nil, "-")
	if code != exitCheck || !strings.Contains(errs, "reading stdin: disk on fire") || !strings.Contains(out, "=> 550") {
		t.Errorf("exit %d, out %q, stderr %q", code, out, errs)
	}
}

// TestExplainStdinLarge: more than 2 MiB of real log lines are read to the
// end and the last reply, at the very end, is annotated.
func TestExplainStdinLarge(t *testing.T) {
	filler := "Nov 28 10:00:00 mx postfix/qmgr[123]: 4F2A1: removed\n"
	var sb strings.Builder
	for sb.Len() < 3<<20 {
		sb.WriteString(filler)
	}
	sb.WriteString("Nov 28 10:00:01 mx postfix/smtp[77]: 4F2A1: to=<a@example.net>, status=bounced (host mx.example.net[192.0.2.7] said: 550 5.1.1 <a@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))\n")
	code, out, errs := runExplainTest(t, sb.String(), nil, "-")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.HasPrefix(out, filler) || strings.Count(out, "\n  => ") != 1 {
		t.Fatalf("want the input echoed with one annotation, got %d", strings.Count(out, "\n  => "))
	}
	tail := out[strings.LastIndex(out, "status=bounced"):]
	if !strings.Contains(tail, "=> 550 5.1.1 after RCPT") {
		t.Errorf("last reply not annotated:\n%s", tail)
	}
	code, out, _ = runExplainTest(t, sb.String(), nil, "--json", "-")
	var doc struct {
		Replies []struct{ Line, Code int } `json:"replies"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != exitOK || err != nil || len(doc.Replies) != 1 || doc.Replies[0].Line != strings.Count(sb.String(), "\n") {
		t.Errorf("--json: exit %d, err %v, %+v", code, err, doc.Replies)
	}
}

func TestExplainStdinContextFallback(t *testing.T) {
	input := "said: 501 5.1.7 Bad sender address syntax\n"
	_, out, _ := runExplainTest(t, input, nil, "--context", "mail", "-")
	if !strings.Contains(out, "=> 501 5.1.7 after MAIL: ") {
		t.Errorf("--context not applied to a reply without one:\n%s", out)
	}
	_, out, _ = runExplainTest(t, input, nil, "-")
	if strings.Contains(out, "after MAIL") {
		t.Errorf("context invented without --context:\n%s", out)
	}
}

// TestExplainProviderFirst: when a provider reuses a registered enhanced
// code, its reading comes first, the code's own readings follow labelled,
// and the JSON meaning and fix are the provider's.
func TestExplainProviderFirst(t *testing.T) {
	for _, c := range []struct{ reply, source, reason string }{
		{"550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "Microsoft 365", "directory"},
		{"550-5.7.27 The sender's domain does not pass SPF checks", "Gmail", ""},
		{"550-5.7.30 Your email has been blocked because DKIM checks failed", "Gmail", ""},
		{"421-4.7.29 Your email has been rate limited because the sending IP does not use TLS", "Gmail", ""},
		{"550 5.2.2 Submission quota exceeded", "Microsoft 365", ""},
	} {
		code, out, errs := runExplainTest(t, "", nil, c.reply)
		if code != exitOK {
			t.Fatalf("%s: exit %d %s", c.reply, code, errs)
		}
		rec := strings.Index(out, "Recognised: "+c.source)
		desc := strings.Index(out, "\nDescription\n")
		basic := strings.Index(out, "\nBasic code ")
		iana := strings.Index(out, "IANA registry meaning (not what "+c.source+" means here)")
		if rec < 0 || basic < rec || desc < basic || iana < desc {
			t.Errorf("%s: order recognised %d, basic %d, description %d, IANA %d:\n%s", c.reply, rec, basic, desc, iana, out)
		}
		_, out, _ = runExplainTest(t, "", nil, "--json", c.reply)
		var doc struct {
			Meaning, Fix   string
			GenericMeaning string `json:"generic_meaning"`
			GenericFix     string `json:"generic_fix"`
			Recognized     struct{ Source, Reason, Fix string }
		}
		_ = json.Unmarshal([]byte(out), &doc)
		if doc.Recognized.Source != c.source || doc.Meaning != doc.Recognized.Reason || doc.GenericMeaning == "" || doc.GenericMeaning == doc.Meaning ||
			(doc.Recognized.Fix != "" && (doc.Fix != doc.Recognized.Fix || doc.GenericFix == "")) || !strings.Contains(doc.Meaning, c.reason) {
			t.Errorf("%s: JSON %+v", c.reply, doc)
		}
	}
}

// TestExplainArgsJoinAndCompare: a basic and an enhanced code typed
// without quotes are one reply; repeated arguments are dropped; replies
// with the same basic code are told apart by their enhanced codes; no
// heading is printed over an empty list.
func TestExplainArgsJoinAndCompare(t *testing.T) {
	_, joined, _ := runExplainTest(t, "", nil, "550", "5.1.1")
	_, quoted, _ := runExplainTest(t, "", nil, "550 5.1.1")
	if joined != quoted || strings.Contains(joined, "Comparison") {
		t.Errorf("550 5.1.1 unquoted differs from quoted:\n%s", joined)
	}
	_, twice, _ := runExplainTest(t, "", nil, "252", "252")
	_, once, _ := runExplainTest(t, "", nil, "252")
	if twice != once {
		t.Errorf("252 252 is not 252 alone:\n%s", twice)
	}
	_, out, _ := runExplainTest(t, "", nil, "550", "5.1.1", "550", "5.7.1")
	for _, s := range []string{"Comparison: 550 5.1.1 vs 550 5.7.1", "only the enhanced codes tell", "Addressing Status", "Security or Policy Status", "Do not retry unchanged"} {
		if !strings.Contains(out, s) {
			t.Errorf("comparison lacks %q:\n%s", s, out)
		}
	}
	if strings.Count(out, "550 after EHLO") > 1 {
		t.Errorf("a difference line repeats itself:\n%s", out)
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if (l == "Key differences" || l == "When to use which") && (i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "  - ")) {
			t.Errorf("empty section %q:\n%s", l, out)
		}
	}
}

// TestExplainAnnotatorEnhancedFix: a registered enhanced code more precise
// than the basic code gives the fix (4.2.2 mailbox full, not 452's "too
// many recipients").
func TestExplainAnnotatorEnhancedFix(t *testing.T) {
	in := "status=deferred (host mx.example.net[192.0.2.7] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command))\n"
	_, out, _ := runExplainTest(t, in, nil, "-")
	st, _ := explain.LookupEnhanced("4.2.2")
	fix := strings.Join(strings.Fields(out[strings.Index(out, "How to fix it:")+len("How to fix it:"):]), " ")
	if !strings.HasPrefix(fix, st.Fix) {
		t.Errorf("fix %q, want the 4.2.2 fix %q", fix, st.Fix)
	}
}

// TestExplainHeadlineOneSpace: the first line is the code, one space, the
// code's name, with or without an enhanced code.
func TestExplainHeadlineOneSpace(t *testing.T) {
	for _, q := range []string{"550", "550 5.1.1"} {
		_, out, _ := runExplainTest(t, "", nil, q)
		first, _, _ := strings.Cut(out, "\n")
		if want := q + " Requested action not taken"; !strings.HasPrefix(first, want) {
			t.Errorf("explain %s: first line %q, want it to start %q", q, first, want)
		}
	}
}
