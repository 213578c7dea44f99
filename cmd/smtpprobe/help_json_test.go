package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// helpJSONBlock is the part of `help json` about the subcommand name: every
// block whose unindented heading names it.
func helpJSONBlock(name string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(jsonFieldsHelp, "\n") {
		if l != "" && l[0] != ' ' {
			head, _, _ := strings.Cut(l, " (")
			in = false
			for _, w := range strings.FieldsFunc(head, func(r rune) bool { return r == ',' || r == ' ' }) {
				in = in || w == name
			}
			continue
		}
		if in {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Every top-level key of every subcommand's real --json document is named
// in that subcommand's block of `smtpprobe help json`.
func TestHelpJSONNamesEveryField(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	dns := resolvertest.Start(t, mxZone(t))
	tests := []struct {
		sub   string
		stdin string
		args  []string
	}{
		{"probe", "", []string{"--tls", "none", "--json", srv.addr()}},
		{"probe", "", []string{"--tls", "none", "--json", "--dns", dns.Addr(), "nodata.mx.test"}},
		{"demo", "", []string{"--json"}},
		{"vrfy", "", []string{"--tls", "none", "--json", "--server", srv.addr(), "alice@cli.test"}},
		{"why", "", []string{"--json", "--server", srv.addr(), "RCPT TO:<alice@cli.test>"}},
		{"address", "", []string{"--json", `"a b"@[IPv6:2001:db8::1]`}},
		{"address", "", []string{"--json", "<@r.test:bücher@bücher.test>"}},
		{"mx", "", []string{"--json", "--dns", dns.Addr(), "cnamedomain.mx.test"}},
		{"mx", "", []string{"--json", "--dns", dns.Addr(), "loop.mx.test"}},
		{"tls", "", []string{"--json", "--timeout", "2s", "--no-plaintext-check", "--dns", dns.Addr(), "loop.mx.test"}},
		{"explain", "", []string{"--json", "550"}},
		{"explain", "", []string{"--json", "--context", "rcpt", "550 5.1.1 <a@b.test>: Recipient address rejected: User unknown"}},
		{"explain", "", []string{"--json", "550", "450"}},
		{"explain", "", []string{"--json", "999"}},
		{"explain", "x 550 5.1.1 no such user\n", []string{"--json", "-"}},
	}
	for _, tc := range tests {
		block := helpJSONBlock(tc.sub)
		if block == "" {
			t.Errorf("help json has no block for %s", tc.sub)
			continue
		}
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(tc.stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		code := runEnv(context.Background(), append([]string{tc.sub}, tc.args...), e)
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Errorf("%s %v (exit %d): not one JSON object: %v\n%s%s", tc.sub, tc.args, code, err, out.String(), errb.String())
			continue
		}
		if string(doc["schema_version"]) != "1" {
			t.Errorf("%s %v: schema_version = %s", tc.sub, tc.args, doc["schema_version"])
		}
		for k := range doc {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(k) + `\b`).MatchString(block) {
				t.Errorf("%s %v: top-level field %q is not named in `help json`", tc.sub, tc.args, k)
			}
		}
	}
}
