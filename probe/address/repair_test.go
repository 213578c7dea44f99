package address

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEnvelopeLineRoundTrip(t *testing.T) {
	lines := []string{
		"MAIL FROM:<a@b>",
		"MAIL FROM: <a@b>",
		"mail from:a@b",
		"MAIL FROM :<a@b>",
		"MAIL FROM <a@b>",
		"MAIL  FROM:<a@b>  BODY=8BITMIME SIZE=10  ",
		"RCPT TO:<\"john smith\"@example.com> NOTIFY=NEVER",
		"RCPT TO:<@r1,@r2:u@d>",
		"MAIL FROM:<>",
		"MAIL FROM:",
		"MAIL FROM:<a@b",
		"MAIL FROM:<<a@b>>",
		"MAIL FROM: <Jörg@Exämple.com> BODY=8BITMIME",
	}
	for _, line := range lines {
		l, err := parseEnvelopeLine(line)
		if err != nil {
			t.Errorf("parse %q: %v", line, err)
			continue
		}
		if got := l.String(); got != line {
			t.Errorf("round trip %q gave %q", line, got)
		}
	}
}

func TestParseEnvelopeLinePieces(t *testing.T) {
	l, err := parseEnvelopeLine("MAIL FROM: <a b@c> BODY=8BITMIME  SMTPUTF8 ")
	if err != nil {
		t.Fatal(err)
	}
	if l.postColon != " " || l.path != "<a b@c>" || strings.Join(l.params, ",") != "BODY=8BITMIME,SMTPUTF8" || l.trailing != " " {
		t.Errorf("pieces: %+v", l)
	}
	l, _ = parseEnvelopeLine("MAIL FROM:<a@b SIZE=1")
	if l.path != "<a@b" || len(l.params) != 1 {
		t.Errorf("unbalanced path: %+v", l)
	}
}

func TestParseEnvelopeLineRefuses(t *testing.T) {
	for _, tc := range []struct {
		line string
		pos  int
	}{
		{"HELO x", 1},
		{"MAIL TO:<a@b>", 6},
		{"RCPT FROM:<a@b>", 6},
		{"MAIL FROM:<a@b>\r\nDATA", 16},
		{"MAIL FROM:<a\n@b>", 13},
		{"MAIL FROM:<a\x00@b>", 13},
	} {
		_, err := parseEnvelopeLine(tc.line)
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("%q: want a LineError, got %v", tc.line, err)
			continue
		}
		if le.Pos != tc.pos {
			t.Errorf("%q: position %d, want %d (%v)", tc.line, le.Pos, tc.pos, err)
		}
	}
}

// TestSingleRepairs checks, for one malformed line each, which single
// repairs apply, in order, and what the first one yields.
func TestSingleRepairs(t *testing.T) {
	covered := map[string]bool{}
	defer func() {
		// Every row of the table has a case here.
		for _, d := range repairTable {
			if !covered[d.name] {
				t.Errorf("repair %s has no case in this table", d.name)
			}
		}
	}()
	for _, tc := range []struct {
		line      string
		rc        RepairContext
		names     []string
		firstLine string
	}{
		{"MAIL FROM: <a@b>", RepairContext{}, []string{"remove-space-after-colon"}, "MAIL FROM:<a@b>"},
		{"MAIL FROM:  <a@b>", RepairContext{}, []string{"remove-space-after-colon"}, "MAIL FROM:<a@b>"},
		{"MAIL FROM :<a@b>", RepairContext{}, []string{"remove-space-before-colon"}, "MAIL FROM:<a@b>"},
		{"MAIL FROM <a@b>", RepairContext{}, []string{"add-colon"}, "MAIL FROM:<a@b>"},
		{"MAIL FROM:a@b", RepairContext{}, []string{"add-angle-brackets"}, "MAIL FROM:<a@b>"},
		{"RCPT TO:<a@b", RepairContext{}, []string{"balance-angle-brackets"}, "RCPT TO:<a@b>"},
		{"RCPT TO:a@b>", RepairContext{}, []string{"balance-angle-brackets"}, "RCPT TO:<a@b>"},
		{"RCPT TO:<<a@b>>", RepairContext{}, []string{"remove-stray-brackets"}, "RCPT TO:<a@b>"},
		{"mail from:<a@b>", RepairContext{}, []string{"upper-case-verb"}, "MAIL FROM:<a@b>"},
		{"MAIL  FROM:<a@b>", RepairContext{}, []string{"single-space-after-verb"}, "MAIL FROM:<a@b>"},
		{"MAIL FROM:<a@b>  ", RepairContext{}, []string{"remove-trailing-space"}, "MAIL FROM:<a@b>"},
		{"MAIL FROM:<a@b.example.>", RepairContext{}, []string{"remove-trailing-dot"}, "MAIL FROM:<a@b.example>"},
		{`MAIL FROM:<"john"@b>`, RepairContext{}, []string{"unquote-local-part"}, "MAIL FROM:<john@b>"},
		{"MAIL FROM:<john smith@b>", RepairContext{}, []string{"quote-local-part"}, `MAIL FROM:<"john smith"@b>`},
		{"MAIL FROM:<a..b@c>", RepairContext{}, []string{"quote-local-part"}, `MAIL FROM:<"a..b"@c>`},
		{"MAIL FROM:<a@b> BODY=8BITMIME SIZE=100", RepairContext{}, []string{"drop-parameter-body", "drop-parameter-size"}, "MAIL FROM:<a@b> SIZE=100"},
		{"MAIL FROM:<a@exämple.com>", RepairContext{}, []string{"domain-to-a-label"}, "MAIL FROM:<a@xn--exmple-cua.com>"},
		{"MAIL FROM:<a@exämple.com>", RepairContext{SMTPUTF8: true}, []string{"add-smtputf8", "domain-to-a-label"}, "MAIL FROM:<a@exämple.com> SMTPUTF8"},
		{"MAIL FROM:<jörg@b> SMTPUTF8", RepairContext{SMTPUTF8: true}, []string{"drop-parameter-smtputf8"}, "MAIL FROM:<jörg@b>"},
		{"MAIL FROM:<a@b>", RepairContext{SMTPUTF8: true}, nil, ""},
		{"MAIL FROM:<>", RepairContext{}, nil, ""},
		{"MAIL FROM:<@r1,@r2:u@d.>", RepairContext{}, []string{"remove-trailing-dot"}, "MAIL FROM:<@r1,@r2:u@d>"},
		{"MAIL FROM: <Jörg@Exämple.com> BODY=8BITMIME", RepairContext{}, []string{"remove-space-after-colon", "domain-to-a-label", "drop-parameter-body"}, "MAIL FROM:<Jörg@Exämple.com> BODY=8BITMIME"},
	} {
		for _, n := range tc.names {
			if strings.HasPrefix(n, "drop-parameter-") {
				n = "drop-parameter"
			}
			covered[n] = true
		}
		c, err := RepairCandidates(tc.line, tc.rc, 1, 0)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		var names []string
		for _, x := range c {
			names = append(names, x.Names())
		}
		if strings.Join(names, " ") != strings.Join(tc.names, " ") {
			t.Errorf("%q: repairs %v, want %v", tc.line, names, tc.names)
			continue
		}
		if len(c) > 0 && c[0].Line != tc.firstLine {
			t.Errorf("%q: first repair gives %q, want %q", tc.line, c[0].Line, tc.firstLine)
		}
		for _, x := range c {
			for _, r := range x.Repairs {
				if r.Ref == "" || r.Rule == "" || r.Change == "" {
					t.Errorf("%q: repair %s lacks its rule, reference or description", tc.line, r.Name)
				}
			}
		}
	}
}

func TestRCPTNeedsSMTPUTF8OnPrelude(t *testing.T) {
	c, err := RepairCandidates("RCPT TO:<jörg@b>", RepairContext{SMTPUTF8: true}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 1 || c[0].Line != "RCPT TO:<jörg@b>" || strings.Join(c[0].PreludeParams, " ") != "SMTPUTF8" {
		t.Fatalf("got %+v", c)
	}
}

func TestRepairCombinations(t *testing.T) {
	line := "mail from: a@b BODY=8BITMIME"
	c, err := RepairCandidates(line, RepairContext{}, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 4 singles: space, brackets, verb, body.
	if len(c) < 4 || len(c[0].Repairs) != 1 || len(c[3].Repairs) != 1 || len(c[4].Repairs) != 2 {
		t.Fatalf("singles must come before pairs: %v", c)
	}
	if c[4].Names() != "remove-space-after-colon+add-angle-brackets" || c[4].Line != "mail from:<a@b> BODY=8BITMIME" {
		t.Errorf("first pair %s gives %q", c[4].Names(), c[4].Line)
	}
	last := c[len(c)-1]
	if len(last.Repairs) != 3 {
		t.Errorf("last candidate has %d repairs, want 3", len(last.Repairs))
	}
	seen := map[string]bool{line: true}
	for _, x := range c {
		if seen[x.Line] {
			t.Errorf("line %q listed twice", x.Line)
		}
		seen[x.Line] = true
	}
	// 4 singles, 6 pairs, 4 triples.
	if len(c) != 14 {
		t.Errorf("%d candidates, want 14", len(c))
	}
	// The limit cuts the list, keeping the order.
	short, _ := RepairCandidates(line, RepairContext{}, 3, 5)
	if len(short) != 5 || short[4].Names() != c[4].Names() {
		t.Errorf("limited list: %v", short)
	}
	again, _ := RepairCandidates(line, RepairContext{}, 3, 0)
	for i := range c {
		if again[i].Line != c[i].Line {
			t.Fatalf("order is not deterministic at %d", i)
		}
	}
}

func TestConflictingRepairsAreSkipped(t *testing.T) {
	// add-colon leaves nothing for remove-space-* to do, so no pair
	// containing both is listed.
	c, _ := RepairCandidates("MAIL FROM <a@b> ", RepairContext{}, 2, 0)
	for _, x := range c {
		if strings.Contains(x.Names(), "add-colon+remove-space") {
			t.Errorf("conflicting pair listed: %s", x.Names())
		}
	}
}

func TestLineFindings(t *testing.T) {
	long := strings.Repeat("x", 65)
	f := LineFindings("MAIL FROM:<" + long + "@b>")
	if len(f) != 1 || f[0].Kind != "local-part-too-long" || f[0].Ref != "RFC 5321 §4.5.3.1.1" || !strings.Contains(f[0].Detail, "65") {
		t.Errorf("got %+v", f)
	}
	if f := LineFindings("MAIL FROM:<" + strings.Repeat("x", 64) + "@b>"); len(f) != 0 {
		t.Errorf("64 octets is within the limit: %+v", f)
	}
	f = LineFindings("MAIL FROM:<a@b> X=" + strings.Repeat("y", 500))
	if len(f) != 1 || f[0].Kind != "line-too-long" || f[0].Ref != "RFC 5321 §4.5.3.1.4" {
		t.Errorf("long line: %+v", f)
	}
	c, _ := RepairCandidates("MAIL FROM:<"+long+"@b>", RepairContext{}, 3, 0)
	if len(c) != 0 {
		t.Errorf("an over-long local part must not be repaired: %v", c)
	}
}

func TestViolations(t *testing.T) {
	v := Violations("MAIL FROM: <a@b> BODY=8BITMIME")
	if len(v) != 1 || v[0].Name != "remove-space-after-colon" {
		t.Errorf("got %+v", v)
	}
	if v := Violations("mail from:<a@b>"); len(v) != 0 {
		t.Errorf("lower case is allowed by RFC 5321 §2.4: %+v", v)
	}
}

func FuzzRepairCandidates(f *testing.F) {
	for _, s := range []string{"MAIL FROM: <a@b> BODY=8BITMIME", "RCPT TO:<\"x\\\"y\"@b", "MAIL FROM:<<@a:b@c.>>", "mail from :a@exämple.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		l, err := parseEnvelopeLine(line)
		if err != nil {
			return
		}
		if l.String() != line {
			t.Fatalf("round trip %q gave %q", line, l.String())
		}
		c, err := RepairCandidates(line, RepairContext{SMTPUTF8: true}, 2, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range c {
			if x.Line == line && len(x.PreludeParams) == 0 {
				t.Fatalf("candidate %s does not change %q", x.Names(), line)
			}
			if checkLineBytes(x.Line) != nil {
				t.Fatalf("candidate %q cannot be sent", x.Line)
			}
		}
	})
}

func TestStrictLine(t *testing.T) {
	for in, want := range map[string]string{
		// The verb keeps its case: RFC 5321 §2.4 makes it case-insensitive.
		"mail from: a@b": "mail from:<a@b>",
		// A control character cannot be quoted into a valid local part.
		"MAIL FROM:<a\x01@b>":                "MAIL FROM:<a\x01@b>",
		"MAIL FROM :<\"john\"@b.example.>  ": "MAIL FROM:<john@b.example>",
		"MAIL FROM:<a@b> BODY=8BITMIME":      "MAIL FROM:<a@b> BODY=8BITMIME",
		"RCPT TO:<<x@exämple.com>>":          "RCPT TO:<x@exämple.com>",
		"MAIL  FROM <john smith@b>":          `MAIL FROM:<"john smith"@b>`,
		"HELO x":                             "HELO x",
	} {
		if got := StrictLine(in); got != want {
			t.Errorf("StrictLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDropParameterRuleFollowsEHLO(t *testing.T) {
	rc := RepairContext{Advertised: []string{"SIZE", "8BITMIME"}}
	c, err := RepairCandidates("MAIL FROM:<a@b> SIZE=999999999 FOO=1", rc, 1, 0)
	if err != nil || len(c) != 2 {
		t.Fatalf("%v %v", c, err)
	}
	if !strings.Contains(c[0].Repairs[0].Rule, "advertised SIZE") {
		t.Errorf("SIZE was advertised: %s", c[0].Repairs[0].Rule)
	}
	if !strings.Contains(c[1].Repairs[0].Rule, "did not advertise") {
		t.Errorf("FOO was not: %s", c[1].Repairs[0].Rule)
	}
}

func TestRepairTableRows(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range repairTable {
		if d.name == "" || d.ref == "" || d.change == nil || d.edit == nil || (d.rule == "" && d.ruleFor == nil) {
			t.Errorf("row %q lacks a name, reference, description, edit or rule", d.name)
		}
		if seen[d.name] {
			t.Errorf("row %q twice", d.name)
		}
		seen[d.name] = true
		if !strings.HasPrefix(d.ref, "RFC ") {
			t.Errorf("row %q: reference %q cites no RFC", d.name, d.ref)
		}
	}
}

func BenchmarkRepairCandidates(b *testing.B) {
	line := "mail  from : <<jörg smith@exämple.com.> BODY=8BITMIME SIZE=100 SMTPUTF8 "
	rc := RepairContext{SMTPUTF8: true, Advertised: []string{"SIZE", "8BITMIME", "SMTPUTF8"}}
	b.ReportAllocs()
	for b.Loop() {
		// The why search's defaults: 3 repairs combined, 24 attempts.
		if _, err := RepairCandidates(line, rc, 3, 24); err != nil {
			b.Fatal(err)
		}
	}
}

// TestControlCharacterIsNeverQuoted: qtextSMTP and quoted-pairSMTP are
// printable (RFC 5321 §4.1.2), so quoting cannot mend a control character;
// the line gets a finding instead.
func TestControlCharacterIsNeverQuoted(t *testing.T) {
	for _, line := range []string{"MAIL FROM:<a\x01@b>", "MAIL FROM:<a b\x7f@b>", "RCPT TO:<\x1b[2J@b>"} {
		cands, err := RepairCandidates(line, RepairContext{SMTPUTF8: true}, 3, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cands {
			if strings.Contains(c.Names(), "quote-local-part") {
				t.Errorf("%q: offered %q", line, c.Line)
			}
		}
		if vs := Violations(line); len(vs) != 0 {
			t.Errorf("%q: violations %+v", line, vs)
		}
		fs := LineFindings(line)
		if len(fs) != 1 || fs[0].Kind != "control-character" || fs[0].Ref != "RFC 5321 §4.1.2" {
			t.Errorf("%q: findings %+v", line, fs)
		}
	}
	// A space alone is still quoted.
	if got := StrictLine("MAIL FROM:<a b@c>"); got != `MAIL FROM:<"a b"@c>` {
		t.Errorf("StrictLine = %q", got)
	}
}

// TestRepairNamesTheBlank: a tab after the colon is called a tab, since it
// looks like spaces on screen.
func TestRepairNamesTheBlank(t *testing.T) {
	for line, want := range map[string]string{
		"MAIL FROM: <a@b>":     "remove the space after `FROM:`",
		"MAIL FROM:\t<a@b>":    "remove the tab after `FROM:`",
		"RCPT TO:   <a@b>":     "remove the 3 spaces after `TO:`",
		"MAIL FROM:\t <a@b>":   "remove a tab and a space after `FROM:`",
		"MAIL FROM\t:<a@b>":    "remove the tab between `FROM` and the colon",
		"MAIL FROM \t\t:<a@b>": "remove 2 tabs and a space between `FROM` and the colon",
	} {
		c, err := RepairCandidates(line, RepairContext{}, 1, 0)
		if err != nil || len(c) == 0 || len(c[0].Repairs) == 0 {
			t.Errorf("%q: no repair (%v)", line, err)
			continue
		}
		if got := c[0].Repairs[0].Change; got != want {
			t.Errorf("%q: change %q, want %q", line, got, want)
		}
	}
}
