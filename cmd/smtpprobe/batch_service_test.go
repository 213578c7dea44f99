package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// The lab of .ci/services/batch.sh and dns.sh: smtp-sink on
// 127.0.14.10-19:25, the batch.test zone on NSD.
const (
	batchSinkAddr = "127.0.14.10:25"
	labDNS        = "127.0.0.1:10053"
)

// needBatchLab skips when the batch lab is not running, and fails under
// CI=true, where .ci/run must have started it.
func needBatchLab(t *testing.T) {
	t.Helper()
	var why string
	if c, err := net.DialTimeout("tcp", batchSinkAddr, 2*time.Second); err != nil {
		why = fmt.Sprintf("smtp-sink is not answering on %s: %v", batchSinkAddr, err)
	} else {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		res, err := resolver.New([]string{labDNS}).LookupMX(ctx, "d1.1.batch.test")
		if err != nil || len(res.Hosts) != 1 || len(res.Hosts[0].Addresses) != 1 || res.Hosts[0].Addresses[0].IP.String() != "127.0.14.11" {
			why = fmt.Sprintf("the DNS lab on %s does not serve batch.test (%v)", labDNS, err)
		}
	}
	probetest.NeedService(t, why, "bash .ci/services/dns.sh start; bash .ci/services/batch.sh start")
}

// connCounters reads the nftables counters batch.sh set up: connections
// that found N or more already open to the same sink address.
func connCounters(t *testing.T) (map[string]int, bool) {
	out, err := exec.Command("nft", "-j", "list", "counters", "table", "inet", "smtpprobe_batch").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the connection counters of batch.sh cannot be read under CI=true: %v", err)
		}
		t.Logf("no connection counters (nft: %v): the per-IP cap is not measured at the server", err)
		return nil, false
	}
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, o := range doc.Nftables {
		if raw, ok := o["counter"]; ok {
			var c struct {
				Name    string
				Packets int
			}
			json.Unmarshal(raw, &c)
			got[c.Name] = c.Packets
		}
	}
	return got, len(got) > 0
}

// 10,000 mailboxes over 1,000 domains on ten real SMTP servers: every
// target gets exactly one line, each mail host's facts are probed once,
// no server address ever has more than --per-ip connections from the run
// (counted by the kernel where the servers listen), and the process stays
// under 100 MB. Throughput and CPU are measured by scripts/batch-bench.
//
// Under the race detector (as CI runs the tests), which slows the run
// tenfold and multiplies its memory, the batch is 1,000 mailboxes over
// 100 domains, ten mailboxes to a connection, so each host still sees
// more than two connections at once and the cap is still tested; the
// 10,000 stay in this test without -race and in scripts/batch-bench.
func TestBatchTenThousandAtSmtpSink(t *testing.T) {
	needBatchLab(t)
	domains, perConn := 1000, 100
	if raceOn {
		domains, perConn = 100, 10
	}
	dir := t.TempDir()
	var b strings.Builder
	want := map[string]bool{}
	for d := range domains {
		for u := range 10 {
			l := fmt.Sprintf("user%d@d%d.%d.batch.test", u, d, d%10)
			want[l] = true
			b.WriteString(l + "\n")
		}
	}
	targets := filepath.Join(dir, "targets.txt")
	if err := os.WriteFile(targets, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	before, counted := connCounters(t)
	const perIP = 4
	cmd := exec.Command("smtpprobe", "probe", "--targets", targets, "--format", "ndjson", "--dns", labDNS,
		"--per-ip", fmt.Sprint(perIP), "--per-minute", "0", "--workers", "64", "--per-conn", fmt.Sprint(perConn),
		"--timeout", "20s", "--helo", "client.test")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	got := map[string]outcome{}
	readLines(t, stdout.Bytes(), got)
	if len(got) != len(want) {
		t.Errorf("%d lines for %d targets", len(got), len(want))
	}
	rcpt250 := 0
	for l := range want {
		o, ok := got[l]
		if !ok || o.kind != "ok" {
			t.Errorf("%s: %+v", l, o)
		}
		if o.rcpt == "250" {
			rcpt250++
		}
	}
	if rcpt250 != len(want) {
		t.Errorf("%d of %d mailboxes have their RCPT TO answered 250", rcpt250, len(want))
	}
	if !strings.Contains(stderr.String(), "10 full probes") {
		t.Errorf("the server facts were not probed once per mail host: %s", stderr.String())
	}
	if counted {
		after, _ := connCounters(t)
		if n := after[fmt.Sprintf("over_%d", perIP)] - before[fmt.Sprintf("over_%d", perIP)]; n != 0 {
			t.Errorf("%d connections found %d or more already open to the same server", n, perIP)
		}
		if n := after["over_2"] - before["over_2"]; n == 0 {
			t.Errorf("no server ever had more than 2 connections at once: the run was not concurrent, so the cap proves nothing")
		}
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && !raceOn {
		if mb := ru.Maxrss / 1024; mb > 100 {
			t.Errorf("peak RSS %d MB, over 100 MB", mb)
		}
	}
}
