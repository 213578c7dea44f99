package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// aboutLine matches the explanation line, which must not be empty.
var aboutLine = regexp.MustCompile(`(?m)^About that reply: \S.*$`)

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
			checkGolden(t, path, got)
		})
	}
}
