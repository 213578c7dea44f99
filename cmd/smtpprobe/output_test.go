package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

const outputZone = `$ORIGIN out.test.
$TTL 300
@   IN SOA ns.out.test. hostmaster.out.test. 1 3600 600 86400 300
@   IN MX  10 mx.out.test.
mx  IN A   127.0.0.1
`

// runChild runs the real binary as a child process with stdout going to
// the file at path, and returns its exit code and stderr.
func runChild(t *testing.T, stdoutPath, stdin string, args ...string) (int, string) {
	t.Helper()
	out, err := os.OpenFile(stdoutPath, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("%s: %v", stdoutPath, err)
	}
	defer out.Close()
	cmd := exec.Command("smtpprobe", args...)
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = strings.NewReader(stdin)
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// Every subcommand, with stdout on a full disk (/dev/full), fails with
// exit 1 and says so in one line on stderr, whatever it found.
func TestStdoutFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	dns, err := resolvertest.NewServer(outputZone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() })
	_, port, err := net.SplitHostPort(srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"probe", "", []string{"probe", "--tls", "none", "--suite", "vrfy", "--domain", "cli.test", srv.addr()}},
		{"probe-json", "", []string{"probe", "--tls", "none", "--suite", "vrfy", "--domain", "cli.test", "--json", srv.addr()}},
		{"probe-quiet", "", []string{"probe", "--tls", "none", "--suite", "vrfy", "-q", srv.addr()}}, // no --domain: the warning is silenced too
		{"vrfy", "", []string{"vrfy", "--tls", "none", "--server", srv.addr(), "alice@cli.test"}},
		{"vrfy-ndjson", "", []string{"vrfy", "--tls", "none", "--server", srv.addr(), "--format", "ndjson", "alice@cli.test"}},
		{"why", "", []string{"why", "--tls", "none", "--server", srv.addr(), "MAIL FROM:<a@cli.test>"}},
		{"address", "", []string{"address", "alice@example.com"}},
		{"address-invalid", "", []string{"address", "a..b@example.com"}},
		{"mx", "", []string{"mx", "--dns", dns.Addr(), "out.test"}},
		{"mx-json", "", []string{"mx", "--dns", dns.Addr(), "--json", "out.test"}},
		{"explain", "", []string{"explain", "550"}},
		{"explain-compare", "", []string{"explain", "--json", "252", "550"}},
		{"explain-stdin", "host said: 550 5.1.1 no such user\n", []string{"explain", "-"}},
		{"explain-stdin-json", "host said: 550 5.1.1 no such user\n", []string{"explain", "--json", "-"}},
		{"explain-bounce", "", []string{"explain", bounceFixtures + "/postfix-dsn.eml"}},
		{"explain-bounces-json", "", []string{"explain", "--json", bounceFixtures + "/postfix-dsn.eml", bounceFixtures + "/gmail.eml"}},
		{"tls", "", []string{"tls", "--dns", dns.Addr(), "--port", port, "out.test"}},
		{"tls-quiet", "", []string{"tls", "--dns", dns.Addr(), "--port", port, "-q", "out.test"}},
		{"tls-ndjson", "", []string{"tls", "--dns", dns.Addr(), "--port", port, "--format", "ndjson", "out.test"}},
		{"demo", "", []string{"demo"}},
		{"demo-quiet", "", []string{"demo", "-q"}},
		{"version", "", []string{"version"}},
		{"version-json", "", []string{"version", "--json"}},
		{"completion", "", []string{"completion", "bash"}},
		{"completion-zsh", "", []string{"completion", "zsh"}},
		{"completion-fish", "", []string{"completion", "fish"}},
		{"man", "", []string{"man"}},
		{"help", "", []string{"help"}},
		{"help-topic", "", []string{"help", "exit-codes"}},
		{"subcommand-help", "", []string{"probe", "--help"}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.args[0]] = true
	}
	for _, c := range commands {
		if !covered[c.name] {
			t.Errorf("no case writes %s's output to a full disk", c.name)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runChild(t, "/dev/full", tc.stdin, tc.args...)
			if code != exitCheck {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitCheck, stderr)
			}
			var errs []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !strings.HasPrefix(l, "smtpprobe: ") && !strings.Contains(l, "served on loopback") { // progress lines
					errs = append(errs, l)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], "writing the output failed: ") || !strings.Contains(errs[0], "no space left on device") {
				t.Errorf("want one line saying the write failed; stderr:\n%s", stderr)
			}
		})
	}
}
