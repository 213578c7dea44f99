package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// tarpit accepts connections, greets, reads the EHLO and never answers
// it; every accepted connection is announced on the channel.
func tarpit(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ehlo := make(chan struct{}, 16)
	l := probetest.Serve(t, func(c net.Conn, _ int) {
		c.Write([]byte("220 tarpit.test ESMTP\r\n"))
		// Only an EHLO or HELO counts: the session that tests commands
		// before the greeting's answer runs alongside and sends other
		// lines first.
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if v := strings.ToUpper(strings.TrimSpace(line)); strings.HasPrefix(v, "EHLO") || strings.HasPrefix(v, "HELO") {
				ehlo <- struct{}{}
				break
			}
		}
		// no answer: the client waits on its --timeout
		io.Copy(io.Discard, br)
	})
	return l.Addr().String(), ehlo
}

// SIGINT, SIGTERM and SIGHUP sent to a real child process stuck waiting
// on a server each end the run with the partial report on stdout and
// exit 128 + the signal's number.
func TestStopSignals(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		args []string
	}{
		{syscall.SIGINT, 130, nil},
		{syscall.SIGTERM, 143, nil},
		{syscall.SIGHUP, 129, nil},
		{syscall.SIGTERM, 143, []string{"--json"}},
	} {
		t.Run(signalName(tc.sig)+strings.Join(tc.args, ""), func(t *testing.T) {
			addr, ehlo := tarpit(t)
			args := append([]string{"probe", "--tls", "none", "--domain", "tarpit.test", "--timeout", "60s", addr}, tc.args...)
			cmd := exec.Command("smtpprobe", args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-ehlo:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("the probe never sent EHLO")
			}
			start := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("wait: %v; stderr:\n%s", err, stderr.String())
			}
			if ee.ExitCode() != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", ee.ExitCode(), tc.code, stderr.String())
			}
			if d := time.Since(start); d > signalGrace {
				t.Errorf("took %s after the signal", d)
			}
			out := stdout.String()
			if tc.args == nil && (!strings.Contains(out, "\n  incomplete  interrupted: ") || !strings.Contains(out, "\n  banner      220 tarpit.test ESMTP\n")) {
				t.Errorf("no partial report on stdout:\n%s", out)
			}
			if tc.args != nil && (!strings.Contains(out, `"incomplete": true`) || !strings.Contains(out, `"incomplete_reason": "interrupted"`)) {
				t.Errorf("the JSON is not marked interrupted:\n%s", out)
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say the run was interrupted:\n%s", stderr.String())
			}
		})
	}
}

// A signal during a read of standard input that no context reaches
// still ends the run, within the grace period.
func TestStopSignalBlockedStdin(t *testing.T) {
	cmd := exec.Command("smtpprobe", "explain", "-")
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("550 5.1.1 no such user\n"))
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 143 {
			t.Errorf("wait: %v, want exit 143; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(signalGrace + 10*time.Second):
		cmd.Process.Kill()
		t.Fatal("explain - did not end after SIGTERM")
	}
}
