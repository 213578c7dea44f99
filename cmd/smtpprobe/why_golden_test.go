package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

func init() {
	// Other tests of this package may define -update too; register it only
	// once, after every package-level flag exists.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

// aboutLine matches the explanation line, which must not be empty.
var aboutLine = regexp.MustCompile(`(?m)^About that reply: \S.*$`)

func whyUpdateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestWhyGolden pins the whole text output for one run per conclusion,
// against profile servers; the server's port is replaced by PORT.
func TestWhyGolden(t *testing.T) {
	policy, _ := probetest.ProfileByName("postfix-strict")
	policy.MailReply = "550 5.7.1 Sender rejected by local policy"
	relay, _ := probetest.ProfileByName("postfix-strict")
	relay.RcptReply = "554 5.7.1 <x@example.net>: Relay access denied"
	postfix, _ := probetest.ProfileByName("postfix-strict")
	literal, _ := probetest.ProfileByName("rfc-literal")
	for _, tc := range []struct {
		name    string
		profile probetest.Profile
		args    []string
	}{
		{"repaired", postfix, []string{"MAIL FROM:a@b"}},
		{"repaired-combination", literal, []string{"mail from: a@b"}},
		{"accepted-lenient", postfix, []string{"MAIL FROM: <a@b>"}},
		{"syntax-fixed", policy, []string{"MAIL FROM:a@b"}},
		{"other-cause-rcpt", relay, []string{"--as", "rcpt", "x@example.net"}},
		{"kept-progress", postfix, []string{`MAIL FROM : <"jörg"@exämple.com.> XFOO=1 BAR=2 BODY=8BITMIME`}},
		{"partial", postfix, []string{"--max-attempts", "7", `MAIL FROM : <"jörg"@exämple.com.> XFOO=1 BAR=2 BODY=8BITMIME`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := probetest.StartProfile(t, tc.profile)
			args := append([]string{"--server", s.Addr(), "--tls", "none", "--color", "never"}, tc.args...)
			code, out, errOut := runWhyCLI(t, "", args...)
			if errOut != "" {
				t.Errorf("stderr: %q", errOut)
			}
			got := strings.ReplaceAll(out, s.Addr(), "127.0.0.1:PORT")
			// The explanation belongs to the knowledge base, which has its
			// own goldens; here only its place is pinned.
			got = aboutLine.ReplaceAllString(got, "About that reply: EXPLANATION")
			got = "exit " + string(rune('0'+code)) + "\n" + got
			path := filepath.Join("testdata", "why", tc.name+".golden")
			if whyUpdateGoldens() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}
