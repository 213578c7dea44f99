package explain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sampleValue fills a template variable with a value of its kind.
func sampleValue(name string) string {
	n, typ, _ := strings.Cut(name, ":")
	switch {
	case typ == "hex":
		return "1a2b3c4d"
	case typ == "digits", n == "n", n == "count", n == "size", n == "max", n == "chunk":
		return "42"
	case strings.Contains(n, "address"), n == "sender":
		return "alice@example.org"
	case n == "host", n == "domain":
		return "mx.example.org"
	case n == "ip":
		return "192.0.2.1"
	case n == "zone":
		return "bl.example.net"
	}
	return "some words"
}

// fill turns a template into a text the server could send.
func fill(tmpl string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		b.WriteString(tmpl[:i])
		b.WriteString(sampleValue(tmpl[i+1 : i+j]))
		tmpl = tmpl[i+j+1:]
	}
}

// sampleCodes picks a basic and an enhanced code a row's server sends.
func sampleCodes(r CatalogueRow) (int, string) {
	c := strings.Fields(r.Codes)[0]
	if strings.HasSuffix(c, "xx") {
		c = c[:1] + "50"
	}
	code, _ := strconv.Atoi(c)
	enh := ""
	if f := strings.Fields(r.Enhanced); len(f) > 0 {
		enh = f[0]
	}
	switch {
	case enh == "*":
		enh = ""
	case strings.HasPrefix(enh, "x."):
		enh = strconv.Itoa(code/100) + enh[1:]
	}
	if lo, _, ok := strings.Cut(enh, "-"); ok {
		enh = lo
	}
	return code, enh
}

// namesOf lists every server a recognition names.
func namesOf(r *Recognition) []string {
	names := []string{r.Source, r.Via}
	for _, c := range r.Candidates {
		names = append(names, c.Source)
	}
	return names
}

// TestCatalogueRowsRecognised: every row, its variables filled in, is
// recognised, and attributed to its own MTA alone or to the servers that
// send the same text, every one of them named.
func TestCatalogueRowsRecognised(t *testing.T) {
	rows := Catalogue()
	perMTA := map[string]int{}
	shared := 0
	for _, row := range rows {
		perMTA[row.MTA]++
		code, enh := sampleCodes(row)
		text := fill(row.Text)
		where := fmt.Sprintf("%s:%d %d %s %q", row.File, row.Line, code, enh, text)
		r := Recognize(code, enh, text)
		if r == nil {
			t.Errorf("%s: not recognised", where)
			continue
		}
		names := namesOf(r)
		if !slices.Contains(names, row.MTA) && !strings.Contains(r.Source, row.MTA) {
			t.Errorf("%s: attributed to %q (via %q, candidates %+v), not %s", where, r.Source, r.Via, r.Candidates, row.MTA)
			continue
		}
		if len(r.Candidates) > 0 {
			shared++
			// A shared text names every candidate whose template matched.
			for _, c := range r.Candidates {
				if c.Template != "" && !strings.Contains(r.Source, c.Source) && r.Via == "" && isServer(r.Source) {
					t.Errorf("%s: source %q leaves out candidate %s", where, r.Source, c.Source)
				}
			}
		}
	}
	t.Logf("%d catalogue rows (%v), %d recognised with more than one candidate", len(rows), perMTA, shared)
	for _, mta := range []string{srcPostfix, srcExim, srcSendmail, srcOpenSMTPD, srcQmail, srcChasquid, srcHaraka, srcMaddy, srcMox, srcM365, srcGmail, srcCourier, srcExchange} {
		if perMTA[mta] == 0 {
			t.Errorf("no catalogue rows for %s", mta)
		}
	}
	if perMTA[srcPostfix] < 70 {
		t.Errorf("%d Postfix rows, want about 70 or more", perMTA[srcPostfix])
	}
}

// TestCatalogueStockTexts are stock texts the hand-written tables did not
// know, each of which must be put on the right server.
func TestCatalogueStockTexts(t *testing.T) {
	for _, c := range []struct {
		code       int
		enh, text  string
		want       string // Source
		notAlso    string // a server that must not be named at all
		candidates int    // how many candidates, 0 for a single attribution
	}{
		{554, "5.5.1", "Error: no valid recipients", srcPostfix, "", 0},
		{503, "", "sender not yet given", srcExim, srcChasquid, 0},
		{500, "5.5.1", "Command unrecognized", srcSendmail, "", 0},
		{553, "5.1.0", "Sender address syntax error", srcOpenSMTPD, "", 0},
		{252, "", "send some mail, i'll try my best", srcQmail, "", 0},
		{502, "", "unimplemented (#5.5.1)", srcQmail, "", 0},
		// Sendmail's and mox's words, not Gmail's: Gmail's carries its
		// help link and "- gsmtp".
		{530, "5.7.0", "Authentication required", "mox or Sendmail", srcGmail, 2},
		{530, "5.7.0", "Authentication Required. For more information, go to https://support.google.com/mail/?p=WantAuthError a1b2 - gsmtp", srcGmail, srcSendmail, 0},
		// An OpenSMTPD queue id is eight hex digits; Sendmail's is not.
		{250, "2.0.0", "5AR1x2Yz012345 Message accepted for delivery", srcSendmail, srcOpenSMTPD, 0},
		{250, "2.0.0", "1a2b3c4d Message accepted for delivery", "OpenSMTPD or Sendmail", "", 2},
		{221, "2.0.0", "Bye", "OpenSMTPD or Postfix", "", 2},
		{500, "5.5.2", "Error: bad syntax", srcPostfix, "", 0},
		{550, "5.1.1", "<bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table", srcPostfix, "", 0},
	} {
		r := Recognize(c.code, c.enh, c.text)
		if r == nil {
			t.Errorf("Recognize(%d, %q, %q) = nil, want %s", c.code, c.enh, c.text, c.want)
			continue
		}
		if r.Source != c.want {
			t.Errorf("Recognize(%d, %q, %q).Source = %q, want %q (candidates %+v)", c.code, c.enh, c.text, r.Source, c.want, r.Candidates)
		}
		if c.notAlso != "" && slices.Contains(namesOf(r), c.notAlso) {
			t.Errorf("Recognize(%d, %q, %q) names %s: %+v", c.code, c.enh, c.text, c.notAlso, r)
		}
		if c.candidates > 0 && len(r.Candidates) != c.candidates {
			t.Errorf("Recognize(%d, %q, %q) candidates = %+v, want %d", c.code, c.enh, c.text, r.Candidates, c.candidates)
		}
		for _, cand := range r.Candidates {
			if cand.Confidence == "" {
				t.Errorf("candidate %+v without a confidence", cand)
			}
		}
	}
}

func TestTemplateMatch(t *testing.T) {
	for _, c := range []struct {
		tmpl, text string
		want       bool
	}{
		{"Bye", "bye", true},
		{"Bye", "bye now", false},
		{"<{address}>: Relay access denied", "<a@b>: relay access denied", true},
		{"<{address}>: Relay access denied", "x <a@b>: relay access denied", false},
		{"{}Unbalanced '<'", "<a... unbalanced '<'", true},
		{"Command unrecognized{}", "command unrecognized: \"foo\"", true},
		{"{id:hex} Message accepted", "1a2b message accepted", true},
		{"{id:hex} Message accepted", "1a2z message accepted", false},
		{"{id:hex} Message accepted", " message accepted", false},
		{"a {x} b {y} c", "a 1 b 2 c", true},
		{"a {x} b {y} c", "a 1 c", false},
		{"ok {n:digits}", "ok 12", true},
		{"ok {n:digits}", "ok 12a", false},
	} {
		tm, err := parseTemplate(c.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if got := tm.match(strings.ToLower(c.text)); got != c.want {
			t.Errorf("%q ~ %q = %v, want %v", c.tmpl, c.text, got, c.want)
		}
	}
	for _, bad := range []string{"{a}{b} x", "x {a", "{only}", "ab {n:weird}"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("parseTemplate(%q) accepted", bad)
		}
	}
}

func TestParseCatalogueFileRejects(t *testing.T) {
	head := "# mta: X\n" + strings.Join(catalogueColumns, "\t") + "\n"
	for _, bad := range []string{
		"", // no header
		strings.Join(catalogueColumns, "\t") + "\n550\t\tx y\t\tm\tf\tk\ts\treply\n", // no mta line
		head + "550\t\tx y\t\tm\tf\tk\ts\n",                                          // a column short
		head + "550\t\tx y\tbogus\tm\tf\tk\ts\treply\n",                              // bad stage
		head + "550\t\tx y\t\tm\tf\tk\ts\tmaybe\n",                                   // bad kind
		head + "550\t\t\t\tm\tf\tk\ts\treply\n",                                      // no text
		head + "550\t\t{a}{b} c\t\tm\tf\tk\ts\treply\n",                              // bad template
	} {
		if _, err := ParseCatalogueFile("t.tsv", bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
