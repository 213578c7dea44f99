package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// vrfy and address --targets write one line a target in their own
// --json schema, with target and batch; bad batch flags are usage errors.
func TestBatchVRFYAndAddressLines(t *testing.T) {
	f := newBatchFixture(t, 3, 2, 0)
	out, err := exec.Command("smtpprobe", "vrfy", "--targets", f.targets, "--format", "ndjson", "--dns", f.dns, "--port", f.port,
		"--tls", "none", "--helo", "client.test", "--per-minute", "0").Output()
	if err != nil {
		t.Fatalf("vrfy --targets: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		n++
		var v struct {
			SchemaVersion int    `json:"schema_version"`
			Target        string `json:"target"`
			Addresses     []struct{ Address, Answer string }
			Batch         struct{ Kind string }
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%v: %.200s", err, sc.Text())
		}
		if v.SchemaVersion != 1 || len(v.Addresses) != 1 || v.Addresses[0].Address != v.Target {
			t.Errorf("vrfy line: %+v", v)
		}
		if strings.HasPrefix(v.Target, "user") && (v.Batch.Kind != "ok" || v.Addresses[0].Answer == "") {
			t.Errorf("vrfy line of %s: %+v", v.Target, v)
		}
	}
	if n != len(f.lines) {
		t.Errorf("vrfy: %d lines for %d targets", n, len(f.lines))
	}

	list := filepath.Join(f.dir, "addrs.txt")
	os.WriteFile(list, []byte("alice@example.com\na..b@example.com\n"), 0o644)
	out, err = exec.Command("smtpprobe", "address", "--targets", list, "--format", "ndjson").Output()
	if err != nil {
		t.Fatalf("address --targets: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"target":"alice@example.com"`) || !strings.Contains(lines[1], `"kind":"invalid-address"`) {
		t.Errorf("address lines: %s", out)
	}

	for _, args := range [][]string{
		{"probe", "--targets", f.targets, "--shard", "4/4"},
		{"probe", "--targets", f.targets, "--format", "json"},
		{"probe", "--targets", f.targets, "example.com"},
		{"probe", "--resume", "x.ndjson", "example.com"},
		{"probe", "--targets", f.targets, "--per-ip", "0"},
		{"probe", "--targets", filepath.Join(f.dir, "missing.txt")},
		{"vrfy", "--targets", f.targets, "--server", "127.0.0.1:25"},
		{"probe", "--targets", f.targets, "--proxy", "http://127.0.0.1:3128"},
		{"probe", "--targets", f.targets, "-4", "-6"},
		{"probe", "--targets", f.targets, "--source", "not-an-ip"},
	} {
		var stderr bytes.Buffer
		c := exec.Command("smtpprobe", args...)
		c.Stderr = &stderr
		err := c.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || strings.Count(strings.TrimSpace(stderr.String()), "\n") > 1 {
			t.Errorf("%v: %v, want exit 2 with one line and a hint: %s", args, err, stderr.String())
		}
	}
}

// With --targets, --max-time bounds each run at a server, counted from
// when the politeness limits let it connect, not the batch: two servers
// on one IP that greet and then answer nothing, one connection at a time
// to that IP (--per-ip 1), are each greeted and each cut off by their
// own budget (each is connected to, counted where it listens); the lines
// say so (incomplete, budget-spent) and the batch itself ends normally,
// exit 0.
func TestBatchMaxTimePerServerRun(t *testing.T) {
	var targets []string
	accepted := make([]atomic.Int32, 2)
	for i := range 2 {
		ln := probetest.Serve(t, func(c net.Conn, _ int) {
			accepted[i].Add(1)
			c.Write([]byte("220 stall.test ESMTP\r\n"))
			io.Copy(io.Discard, c)
		})
		targets = append(targets, ln.Addr().String())
	}
	file := filepath.Join(t.TempDir(), "targets.txt")
	os.WriteFile(file, []byte(strings.Join(targets, "\n")+"\n"), 0o644)
	// The sender's domain answers at once, so each budget goes to its server.
	dns := resolvertest.Start(t, "$ORIGIN client.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ A 127.0.0.1\n")
	out, errs, code := runCLI(t, "probe", "--targets", file, "--format", "ndjson", "--tls", "none", "--helo", "client.test",
		"--dns", dns.Addr(), "--domain", "stall.test", "--no-transport", "--per-ip", "1", "--per-minute", "0", "--timeout", "30s", "--max-time", "700ms")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 targets:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var doc struct {
			Target           struct{ Input string }
			Incomplete       bool   `json:"incomplete"`
			IncompleteReason string `json:"incomplete_reason"`
		}
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("%v: %.200s", err, l)
		}
		if !doc.Incomplete || doc.IncompleteReason != "budget-spent" {
			t.Errorf("%s: incomplete %v (%q), want budget-spent", doc.Target.Input, doc.Incomplete, doc.IncompleteReason)
		}
	}
	for i := range accepted {
		if accepted[i].Load() == 0 {
			t.Errorf("%s was never connected to: its budget ran while it waited its turn at the IP", targets[i])
		}
	}
}
