package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe"
)

// Folding keeps every line within the width, breaks at spaces, hangs
// continuations under the value after a label, counts wide characters
// as two columns and passes lines that fit untouched.
func TestFoldLine(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{"short  line", 20, "short  line\n"},
		{"Line:      MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8", 30, "Line:      MAIL FROM:<a@b>\n           BODY=8BITMIME\n           SMTPUTF8\n"},
		{"  no label here at all, just words", 16, "  no label here\n      at all,\n      just words\n"},
		{"日本語日本語日本語 日本語", 12, "日本語日本語\n    日本語\n    日本語\n"},
		{"abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij\n    klmnop\n    qrstuv\n    wxyz\n"},
	} {
		got := foldLine(tc.in, tc.width)
		if got != tc.want {
			t.Errorf("foldLine(%q, %d) =\n%s\nwant\n%s", tc.in, tc.width, got, tc.want)
		}
		for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			if Width(l) > tc.width {
				t.Errorf("%q is wider than %d", l, tc.width)
			}
		}
	}
}

// An endless line through a foldWriter is written as it comes, not held.
func TestFoldWriterBounded(t *testing.T) {
	var b bytes.Buffer
	f := newFoldWriter(&b, 40)
	chunk := []byte(strings.Repeat("word ", 1000))
	for range 100 {
		f.Write(chunk)
		if len(f.buf) > foldHold+len(chunk) {
			t.Fatalf("holds %d bytes", len(f.buf))
		}
	}
	f.Flush()
	for _, l := range strings.Split(b.String(), "\n") {
		if Width(l) > 40 {
			t.Fatalf("line of %d columns", Width(l))
		}
	}
}

// Display width: wide characters take two columns, combining marks and
// colour escapes none.
func TestWidth(t *testing.T) {
	for s, want := range map[string]int{
		"abc": 3, "日本": 4, "e\u0301": 1, "\x1b[31m550\x1b[0m": 3, "👍🏽": 2,
	} {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
	if got := Truncate("日本語テキスト", 7); got != "日本語…" {
		t.Errorf("Truncate = %q", got)
	}
}

// Hosts that disagree: the roll-up marks the rows, the table shows both
// hosts side by side and says how many verdicts differ.
func TestComparison(t *testing.T) {
	yes, no := true, false
	r := &probe.Report{Target: probe.Target{Input: "x.test", Kind: probe.TargetDomain, Domain: "x.test"}, Hosts: []probe.HostReport{
		{Host: "mx1.x.test", Status: "ok", Connections: 1, Verdicts: &probe.Verdicts{CatchAll: &yes, STARTTLS: true,
			VRFYPolicy: &probe.PolicyVerdict{Policy: "hides"}}},
		{Host: "mx2.x.test", Status: "ok", Connections: 1, Verdicts: &probe.Verdicts{CatchAll: &no, STARTTLS: true,
			VRFYPolicy: &probe.PolicyVerdict{Policy: "leaks"}}},
		{Host: "mx3.x.test", Status: "connection-refused"},
	}}
	d := NewProbe(r)
	if d.Rollup == nil || d.Rollup.Disagree != 3 {
		t.Fatalf("rollup: %+v", d.Rollup)
	}
	for _, row := range d.Rollup.Rows {
		if row.Key == "starttls" && (!row.Agree || row.Values[2] != "") {
			t.Errorf("starttls row: %+v (mx3 has no verdicts)", row)
		}
		if row.Key == "vrfy_policy" && (row.Agree || row.Values[0] != "hides" || row.Values[1] != "leaks") {
			t.Errorf("vrfy_policy row: %+v", row)
		}
	}
	var b bytes.Buffer
	if err := Render(&b, d, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"\nHosts compared\n",
		"\n  verdict              mx1.x.test      mx2.x.test      mx3.x.test\n",
		"\n  vrfy_policy          hides           leaks           -                   *\n",
		"\n  starttls             offered         offered         -\n",
		"the hosts disagree on 3 verdicts",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// on a narrow terminal the hosts that do not fit come in a block below
	b.Reset()
	Render(&b, d, Options{Width: 60})
	if !strings.Contains(b.String(), "\n\n  verdict              mx3.x.test\n") {
		t.Errorf("at 60 columns the third host is not in a block of its own:\n%s", b.String())
	}
}
