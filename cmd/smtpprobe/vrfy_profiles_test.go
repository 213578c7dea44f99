package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// plainMTA is a plain ESMTP server; a case's rows give it the refusal
// under test.
var plainMTA = probetest.MTA{Name: "plain", Banner: "220 rules.test ESMTP"}

// vrfyProfiles are the servers `smtpprobe vrfy` is held to: the stock
// MTA profiles, and plain servers refusing for a reason that is not the
// mailbox.
var vrfyProfiles = []struct {
	name string
	mta  probetest.MTA
	exit int
	// each address's answer and the cause word its line must carry
	answers map[string][2]string
	failed  string // the baseline the text must lead with, if any
}{
	{"sendmail", probetest.Sendmail.Steady(), exitCheck,
		map[string][2]string{"alice@rules.test": {"exists", ""}, "bob@rules.test": {"does-not-exist", "unknown-mailbox"}}, ""},
	{"exim", probetest.Exim, exitCheck,
		map[string][2]string{"alice@rules.test": {"exists", ""}, "bob@rules.test": {"does-not-exist", "unknown-mailbox"}}, ""},
	{"opensmtpd", probetest.OpenSMTPD, exitOK,
		map[string][2]string{"alice@rules.test": {"unknown", "not-implemented"}, "bob@rules.test": {"unknown", "not-implemented"}}, ""},
	{"blocklisted", plainMTA.With(probetest.Rule{Match: `^VRFY`, Reply: "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1"}), exitOK,
		map[string][2]string{"alice@rules.test": {"unknown", "blocklisted"}, "bob@rules.test": {"unknown", "blocklisted"}}, ""},
	{"greylisted", plainMTA.With(probetest.Rule{Match: `^VRFY`, Reply: "450 4.7.1 Greylisted, see http://postgrey.schweikert.ch/help/rules.test.html"}), exitOK,
		map[string][2]string{"alice@rules.test": {"unknown", "greylisted"}, "bob@rules.test": {"unknown", "greylisted"}}, ""},
	{"helo-refused", plainMTA.With(probetest.Rule{Match: `^(EHLO|HELO)`, Reply: "550 5.7.1 <client.test>: Helo command rejected: Host not found"},
		probetest.Rule{Match: `^VRFY`, Reply: "503 5.5.1 Error: send HELO/EHLO first"}), exitOK,
		map[string][2]string{"alice@rules.test": {"unknown", "helo-rejected"}, "bob@rules.test": {"unknown", "helo-rejected"}}, "helo"},
}

// `smtpprobe vrfy` gives each address its answer first, then why, with
// the cause of a refusal; a refusal that is about the prober (a
// blocklist, greylisting, its EHLO name) is never read as an answer about
// the mailbox, and a failed baseline leads the output, with what to
// change, before the answers it withholds.
func TestVRFYRefusalCauses(t *testing.T) {
	var golden strings.Builder
	for _, tc := range vrfyProfiles {
		srv := probetest.StartMTA(t, tc.mta)
		args := []string{"vrfy", "--tls", "none", "--color", "never", "--server", srv.Addr(), "--helo", "client.test", "--from", "probe@client.test", "alice@rules.test", "bob@rules.test"}
		out, errs, code := runCLI(t, args...)
		if code != tc.exit {
			t.Errorf("%s: exit %d; want %d (%s)", tc.name, code, tc.exit, errs)
		}
		fmt.Fprintf(&golden, "== %s (exit %d)\n%s", tc.name, code, out)
		lines := strings.Split(out, "\n")
		first := 0
		if tc.failed != "" {
			if !strings.HasPrefix(lines[0], "127.0.0.1: FAILED "+tc.failed+" baseline: ") || !strings.HasPrefix(lines[1], "127.0.0.1: change: give --helo") {
				t.Errorf("%s: the output does not lead with the failed %s baseline and what to change:\n%s", tc.name, tc.failed, out)
			}
			first = 2
		}
		for i, addr := range []string{"alice@rules.test", "bob@rules.test"} {
			want := tc.answers[addr]
			line := lines[first+i]
			if !strings.HasPrefix(line, addr+": "+want[0]+" — ") {
				t.Errorf("%s: line %q; want %s first", tc.name, line, want[0])
			}
			if want[1] != "" && !strings.Contains(line, "(cause "+want[1]+")") {
				t.Errorf("%s: line %q does not name the cause %s", tc.name, line, want[1])
			}
			if want[1] == "" && strings.Contains(line, "(cause ") {
				t.Errorf("%s: line %q names a cause for an acceptance", tc.name, line)
			}
			if (tc.failed != "") != strings.Contains(line, " — withheld: ") {
				t.Errorf("%s: line %q: withheld must be said exactly when a baseline failed", tc.name, line)
			}
		}

		out, _, _ = runCLI(t, append(args, "--json")...)
		var doc render.VRFY
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		for _, a := range doc.Addresses {
			want := tc.answers[a.Address]
			if a.Answer != want[0] || string(a.Cause) != want[1] || (a.Withheld != "") != (tc.failed != "") {
				t.Errorf("%s --json: %s: answer %q cause %q withheld %q; want %q, %q", tc.name, a.Address, a.Answer, a.Cause, a.Withheld, want[0], want[1])
			}
		}
	}
	checkGolden(t, filepath.Join("testdata", "golden", "vrfy-profiles.txt"), normalize(golden.String()))
}

// probe against the Exim and Sendmail profiles: the report names each
// MTA's own knobs, and the refusals by their causes.
func TestProbeProfilesGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		mta  probetest.MTA
		want []string
	}{
		{"exim", probetest.Exim, []string{"Exim: allow_domain_literals = true", "Exim: leave acl_smtp_vrfy unset"}},
		{"sendmail", probetest.Sendmail.Steady(), []string{"Sendmail: PrivacyOptions=novrfy"}},
		{"opensmtpd", probetest.OpenSMTPD, []string{"OpenSMTPD: does not implement VRFY", "does not advertise PIPELINING"}},
	} {
		srv := probetest.StartMTA(t, tc.mta)
		// One connection: the golden file keeps one order of steps.
		out, errs, code := runCLI(t, "probe", "--tls", "none", "--color", "never", "--connections", "1", "--helo", "client.test",
			"--from", "probe@client.test", "--domain", "rules.test", "--user", "alice", srv.Addr())
		if code != exitOK {
			t.Errorf("%s: exit %d (%s)", tc.name, code, errs)
		}
		flat := strings.Join(strings.Fields(out), " ")
		for _, w := range tc.want {
			if !strings.Contains(flat, w) {
				t.Errorf("%s: the report lacks %q", tc.name, w)
			}
		}
		for _, w := range []string{"Postfix", "strict_rfc821_envelopes", "disable_vrfy_command"} {
			if strings.Contains(flat, w) {
				t.Errorf("%s: the report names %q", tc.name, w)
			}
		}
		// The schedule's figures belong to the scheduler's own tests.
		out = regexp.MustCompile(`\d+ groups?, \d+ round trips?`).ReplaceAllString(out, "N groups, N round trips")
		checkGolden(t, filepath.Join("testdata", "golden", "probe-"+tc.name+".txt"), normalize(out))
	}
}
