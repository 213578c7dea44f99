package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
