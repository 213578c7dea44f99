package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// batchSink is an SMTP server on loopback that takes every mailbox but
// nobody@, answers VRFY 252, and waits delay before each RCPT answer so a
// batch run lasts long enough to be interrupted.
func batchSink(t *testing.T, delay time.Duration) *probetest.LineServer {
	return probetest.StartLineServer(t, "220 sink.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		up := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(up, "EHLO"):
			return probetest.LineReply{Out: "250-sink.test\r\n250 8BITMIME\r\n"}
		case strings.HasPrefix(up, "MAIL FROM:<") && !strings.Contains(up[10:], " "):
			return probetest.LineReply{Out: "250 2.1.0 ok\r\n"}
		case strings.HasPrefix(up, "RCPT TO:<NOBODY"):
			return probetest.LineReply{Out: "550 5.1.1 unknown\r\n"}
		case strings.HasPrefix(up, "RCPT TO:<"):
			time.Sleep(delay)
			return probetest.LineReply{Out: "250 2.1.5 ok\r\n"}
		case strings.HasPrefix(up, "VRFY "):
			return probetest.LineReply{Out: "252 2.0.0 maybe\r\n"}
		case up == "RSET":
			return probetest.LineReply{Out: "250 ok\r\n"}
		case up == "QUIT":
			return probetest.LineReply{Out: "221 bye\r\n", Close: true}
		}
		return probetest.LineReply{Out: "501 5.5.4 no\r\n"}
	})
}

// batchFixture is a DNS zone of n domains with mail at 127.0.0.1, a sink
// there, and a targets file of users mailboxes at each domain, plus a
// domain that does not exist and a line that is no target.
type batchFixture struct {
	dir, targets, dns, port string
	lines                   []string
}

func newBatchFixture(t *testing.T, domains, users int, delay time.Duration) *batchFixture {
	t.Helper()
	if _, err := exec.LookPath("smtpprobe"); err != nil {
		t.Skip("the smtpprobe command is not on PATH (TestMain provides it)")
	}
	var zone strings.Builder
	zone.WriteString("$ORIGIN r.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\nmx A 127.0.0.1\n")
	f := &batchFixture{dir: t.TempDir()}
	var lines []string
	for d := range domains {
		fmt.Fprintf(&zone, "d%d MX 10 mx\n", d)
		for u := range users {
			lines = append(lines, fmt.Sprintf("user%d@d%d.r.test", u, d))
		}
	}
	lines = append(lines, "x@missing.r.test", "not a target")
	f.lines = lines
	f.targets = filepath.Join(f.dir, "targets.txt")
	if err := os.WriteFile(f.targets, []byte("# batch\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.dns = resolvertest.Start(t, zone.String()).Addr()
	_, f.port, _ = net.SplitHostPort(batchSink(t, delay).Addr())
	return f
}

func (f *batchFixture) cmd(extra ...string) *exec.Cmd {
	args := append([]string{"probe", "--targets", f.targets, "--format", "ndjson", "--dns", f.dns, "--port", f.port,
		"--tls", "none", "--helo", "client.test", "--timeout", "10s", "--per-minute", "0"}, extra...)
	return exec.Command("smtpprobe", args...)
}

// outcome is what a line says of its target: its kind and, for a
// mailbox, the RCPT answer.
type outcome struct{ kind, rcpt string }

// readLines parses NDJSON output into target → outcome, failing on a
// line that does not parse or a target seen twice.
func readLines(t *testing.T, out []byte, into map[string]outcome) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var v struct {
			Target struct{ Input, User string } `json:"target"`
			Batch  struct{ Kind string }        `json:"batch"`
			Hosts  []struct {
				Steps []struct {
					Address string
					Sent    string
					Reply   *struct{ Code int }
				}
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("a line does not parse: %v: %.200s", err, sc.Text())
		}
		o := outcome{kind: v.Batch.Kind}
		for _, h := range v.Hosts {
			for _, s := range h.Steps {
				if s.Reply != nil && strings.HasPrefix(s.Sent, "RCPT TO:<"+v.Target.Input+">") {
					o.rcpt = fmt.Sprint(s.Reply.Code)
				}
			}
		}
		if _, dup := into[v.Target.Input]; dup {
			t.Errorf("%s has two lines", v.Target.Input)
		}
		into[v.Target.Input] = o
	}
}

// A run stopped by SIGTERM writes only whole lines and exits 143; run
// again with --resume it does the rest, and the two together say the same
// of every target as one run that was not interrupted.
func TestBatchResumeAfterSIGTERM(t *testing.T) {
	f := newBatchFixture(t, 20, 10, 3*time.Millisecond)
	whole := map[string]outcome{}
	out, err := f.cmd("--per-conn", "10").Output()
	if err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}
	readLines(t, out, whole)
	if len(whole) != len(f.lines) {
		t.Fatalf("uninterrupted run: %d lines for %d targets", len(whole), len(f.lines))
	}

	part := filepath.Join(f.dir, "part.ndjson")
	pf, err := os.Create(part)
	if err != nil {
		t.Fatal(err)
	}
	c := f.cmd("--per-conn", "10", "--per-ip", "1")
	c.Stdout = pf
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		b, _ := os.ReadFile(part)
		if bytes.Count(b, []byte("\n")) >= 15 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run wrote fewer than 15 lines in 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Process.Signal(syscall.SIGTERM)
	err = c.Wait()
	pf.Close()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Fatalf("after SIGTERM: %v, want exit status 143", err)
	}
	b, _ := os.ReadFile(part)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Error("the interrupted run left a cut-off line")
	}
	got := map[string]outcome{}
	readLines(t, b, got)
	if len(got) == 0 || len(got) >= len(f.lines) {
		t.Fatalf("the interrupted run wrote %d of %d targets; the test needs it stopped midway", len(got), len(f.lines))
	}
	first := len(got)

	out, err = f.cmd("--per-conn", "10", "--resume", part).Output()
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	rest := map[string]outcome{}
	readLines(t, out, rest)
	for k, v := range rest {
		if _, dup := got[k]; dup {
			t.Errorf("%s done twice: before the interruption and after --resume", k)
		}
		got[k] = v
	}
	if len(got) != len(whole) {
		t.Fatalf("interrupted + resumed: %d targets (%d + %d), uninterrupted: %d", len(got), first, len(rest), len(whole))
	}
	for k, v := range whole {
		if got[k] != v {
			t.Errorf("%s: interrupted + resumed say %v, uninterrupted %v", k, got[k], v)
		}
	}
	if whole["user3@d4.r.test"] != (outcome{"ok", "250"}) || whole["x@missing.r.test"].kind != "no-mail-host" || whole["not a target"].kind != "invalid-input" {
		t.Errorf("outcomes: %v %v %v", whole["user3@d4.r.test"], whole["x@missing.r.test"], whole["not a target"])
	}
}

// N shards of one targets file together hold every target exactly once,
// and every domain's targets are in one shard.
func TestBatchShardsCoverOnce(t *testing.T) {
	f := newBatchFixture(t, 30, 3, 0)
	const n = 4
	all := map[string]outcome{}
	domainShard := map[string]int{}
	for k := range n {
		out, err := f.cmd("--shard", fmt.Sprintf("%d/%d", k, n)).Output()
		if err != nil {
			t.Fatalf("shard %d/%d: %v", k, n, err)
		}
		got := map[string]outcome{}
		readLines(t, out, got)
		if len(got) == 0 || len(got) == len(f.lines) {
			t.Errorf("shard %d/%d holds %d of %d targets", k, n, len(got), len(f.lines))
		}
		for target, o := range got {
			if _, dup := all[target]; dup {
				t.Errorf("%s is in two shards", target)
			}
			all[target] = o
			d := targetDomain(target)
			if s, seen := domainShard[d]; seen && s != k {
				t.Errorf("domain %s is split over shards %d and %d", d, s, k)
			}
			domainShard[d] = k
		}
	}
	var missing []string
	for _, l := range f.lines {
		if _, ok := all[l]; !ok {
			missing = append(missing, l)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(all) != len(f.lines) {
		t.Errorf("%d targets in no shard: %v", len(missing), missing)
	}
}
