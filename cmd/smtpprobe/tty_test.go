package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// ttyEnv is the environment of a child on a terminal: no COLUMNS (the
// width comes from the terminal itself), TERM set, and whatever extra
// the case adds.
func ttyEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "COLUMNS" && k != "TERM" && k != "NO_COLOR" {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runTTY runs the real binary with stdout on a pseudo-terminal of the
// given width; stderr goes elsewhere. It returns what the terminal
// received, line breaks as \n.
func runTTY(t *testing.T, cols int, env []string, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("smtpprobe", args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdin = strings.NewReader(stdin)
	// stdin is a pipe: the terminal (the child's stdout, fd 1) becomes
	// its controlling terminal
	attrs := &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
	ptmx, err := pty.StartWithAttrs(cmd, &pty.Winsize{Cols: uint16(cols), Rows: 40}, attrs)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminal: %v", err)
		}
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var out bytes.Buffer
	io.Copy(&out, ptmx) // ends with EIO once the child has gone
	code := 0
	var ee *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), code
}

// longestLine is the display width of the widest line of s.
func longestLine(s string) (int, string) {
	n, widest := 0, ""
	for _, l := range strings.Split(s, "\n") {
		if w := render.Width(l); w > n {
			n, widest = w, l
		}
	}
	return n, widest
}

var ttyPortRE = regexp.MustCompile(`\b127\.0\.0\.[0-9]:\d{4,5}\b`)

// Every subcommand's report on a terminal of 60, 80 and 120 columns: no
// line wider than the terminal, and the layout as the golden files under
// testdata/tty have it.
func TestTerminalWidths(t *testing.T) {
	lab := startDemoTestLab(t, net.Listen)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := probetest.NewPolicyServer(l, scriptPolicy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dns, err := resolvertest.NewServer(outputZone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() })
	_, srvPort, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"demo", "", append([]string{"probe"}, lab.probeArgs()...)},
		{"all-mx", "", append([]string{"probe", "--all-mx", "--suite", "vrfy"}, lab.probeArgs()...)},
		{"vrfy", "", []string{"vrfy", "--server", srv.Addr(), "--tls", "none", "alice@example.test", "nobody@example.test", "a.rather.long.mailbox.name.for.the.column@example.test"}},
		{"why", "", []string{"why", "--server", srv.Addr(), "--tls", "none", "MAIL FROM: <alice@example.test> BODY=8BITMIME SMTPUTF8"}},
		{"address", "", []string{"address", "very.long.local.part.with..dots.and.more.text.here@例え.テスト"}},
		{"mx", "", []string{"mx", "--dns", dns.Addr(), "out.test"}},
		{"tls", "", []string{"tls", "--dns", dns.Addr(), "--port", srvPort, "--helo", "client.test", "out.test"}},
		{"explain", "", []string{"explain", "--context", "rcpt", "550 5.1.1"}},
		{"explain-stdin", "Dec  2 10:00:00 mx postfix/smtp[1]: 0A1B2C: to=<bob@example.org>, relay=mx.example.org[192.0.2.1]:25, status=bounced (host mx.example.org said: 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table)\n", []string{"explain", "-"}},
	}
	for _, tc := range cases {
		for _, cols := range []int{60, 80, 120} {
			t.Run(fmt.Sprintf("%s-%d", tc.name, cols), func(t *testing.T) {
				out, code := runTTY(t, cols, ttyEnv("TERM=xterm", "NO_COLOR=1"), tc.stdin, tc.args...)
				if code == exitUsage {
					t.Fatalf("usage error:\n%s", out)
				}
				if n, l := longestLine(out); n > cols {
					t.Errorf("a line is %d columns on a %d-column terminal: %q", n, cols, l)
				}
				if strings.Contains(out, "\x1b[") {
					t.Errorf("NO_COLOR is set, yet the output has colour escapes")
				}
				got := ttyPortRE.ReplaceAllStringFunc(normaliseDemoText(out), func(s string) string {
					host, _, _ := strings.Cut(s, ":")
					return host + ":PORT"
				})
				if tc.name == "mx" {
					// the queries' round-trip times change the layout from run to run
					got, _, _ = strings.Cut(got, "\nQueries (")
				}
				checkGolden(t, filepath.Join("testdata", "tty", tc.name+"-"+strconv.Itoa(cols)+".txt"), got)
			})
		}
	}
}

// On a terminal, reply codes are coloured unless TERM is dumb or unset, or
// NO_COLOR is set; --color always wins over all of them.
func TestTerminalColour(t *testing.T) {
	for _, tc := range []struct {
		env    []string
		args   []string
		colour bool
	}{
		{ttyEnv("TERM=xterm"), nil, true},
		{ttyEnv("TERM=dumb"), nil, false},
		{ttyEnv(), nil, false},
		{ttyEnv("TERM=xterm", "NO_COLOR=1"), nil, false},
		{ttyEnv("TERM=dumb"), []string{"--color", "always"}, true},
		{ttyEnv("TERM=xterm"), []string{"--color", "never"}, false},
	} {
		args := append([]string{"explain", "550"}, tc.args...)
		out, _ := runTTY(t, 80, tc.env, "", args...)
		if got := strings.Contains(out, "\x1b[31m550"); got != tc.colour {
			t.Errorf("env %v, args %v: coloured %v, want %v:\n%s", tc.env[len(tc.env)-1:], tc.args, got, tc.colour, out)
		}
	}
}

// COLUMNS, when set, is the width, terminal or not.
func TestColumnsHonoured(t *testing.T) {
	out, _ := runTTY(t, 120, ttyEnv("TERM=xterm", "NO_COLOR=1", "COLUMNS=50"), "", "explain", "--context", "vrfy", "252")
	if n, l := longestLine(out); n > 50 {
		t.Errorf("COLUMNS=50, yet a line is %d columns: %q", n, l)
	}
	var b bytes.Buffer
	code := runEnv(t.Context(), []string{"explain", "--context", "vrfy", "252"}, &env{stdout: &b, stderr: io.Discard, getenv: func(k string) string {
		if k == "COLUMNS" {
			return "50"
		}
		return ""
	}})
	if n, l := longestLine(b.String()); code != exitOK || n > 50 {
		t.Errorf("COLUMNS=50 on a pipe: exit %d, a line of %d columns: %q", code, n, l)
	}
}
