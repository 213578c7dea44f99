package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The SOCKS5 lab of .ci/services/socks.sh: microsocks, and smtp-sink
// behind it, which a direct connection cannot reach.
const (
	socksProxy     = "127.0.14.41:1080"
	socksURL       = "socks5://probe:probe-pass@" + socksProxy
	socksServer    = "127.0.14.40:25"
	socksTarget    = "alice@d7.socks.batch.test"
	socksProxyName = "socks5://probe@" + socksProxy
)

// needSocksLab skips when the proxy lab is not running, and fails under
// CI=true. It also checks the direct path is blocked, or the test would
// prove nothing about the proxy.
func needSocksLab(t *testing.T) {
	t.Helper()
	const start = "bash .ci/services/dns.sh start; bash .ci/services/socks.sh start, as root"
	probetest.NeedTCP(t, "the SOCKS5 proxy", socksProxy, start)
	if c, err := net.DialTimeout("tcp", socksServer, 2*time.Second); err == nil {
		c.Close()
		probetest.NeedService(t, fmt.Sprintf("%s can be reached directly: the nftables rule of socks.sh is missing", socksServer), start)
	}
	needBatchLab(t) // the DNS zone
}

// probeJSON is the part of a probe document these tests read.
type probeJSON struct {
	Proxy *struct{ URL, DNS string } `json:"proxy"`
	MX    *struct {
		Queries []struct{ Transport string }
	} `json:"mx"`
	Hosts []struct {
		Status, Error string
		Verdicts      json.RawMessage
	} `json:"hosts"`
}

func runJSON(t *testing.T, args ...string) (probeJSON, int, string) {
	t.Helper()
	cmd := exec.Command("smtpprobe", args...)
	cmd.Env = append(os.Environ(), "SOCKS5_PROXY=", "ALL_PROXY=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var doc probeJSON
	if json.Unmarshal(stdout.Bytes(), &doc) != nil && strings.Contains(args[0], "probe") {
		t.Fatalf("%v: output does not parse: %s\n%s", args, stdout.String(), stderr.String())
	}
	return doc, code, stderr.String()
}

// Only the proxy path reaches the server: through microsocks the probe
// succeeds and names the proxy; directly it is refused; a wrong password
// is the proxy refusing; DNS goes direct unless asked, then over TCP
// through the proxy.
func TestSOCKS5Lab(t *testing.T) {
	needSocksLab(t)
	base := []string{"probe", "--format", "json", "--dns", labDNS, "--helo", "client.test", "--timeout", "10s"}
	doc, code, stderr := runJSON(t, append(base, "--proxy", socksURL, socksTarget)...)
	if code != 0 || len(doc.Hosts) == 0 || doc.Hosts[0].Status != "ok" || string(doc.Hosts[0].Verdicts) == "null" {
		t.Fatalf("through the proxy: exit %d, %+v\n%s", code, doc.Hosts, stderr)
	}
	if doc.Proxy == nil || doc.Proxy.URL != socksProxyName || doc.Proxy.DNS != "direct" {
		t.Errorf("the report does not name the proxy: %+v", doc.Proxy)
	}
	if strings.Contains(doc.Proxy.URL, "probe-pass") || strings.Contains(stderr, "probe-pass") {
		t.Error("the proxy password is shown")
	}
	if !strings.Contains(stderr, "DNS queries go straight to "+labDNS) {
		t.Errorf("stderr does not say where DNS goes: %s", stderr)
	}

	doc, code, _ = runJSON(t, append(base, socksTarget)...)
	if code != exitConnection || doc.Hosts[0].Status != "connection-refused" {
		t.Errorf("direct: exit %d, %+v; the lab's direct path should be refused", code, doc.Hosts)
	}

	doc, code, _ = runJSON(t, append(base, "--proxy", "socks5://probe:wrong@"+socksProxy, socksTarget)...)
	if code != exitConnection || doc.Hosts[0].Status != "proxy-refused" || !strings.Contains(doc.Hosts[0].Error, "RFC 1929") {
		t.Errorf("wrong password: exit %d, %+v", code, doc.Hosts)
	}

	doc, code, stderr = runJSON(t, append(base, "--proxy", socksURL, "--dns-via-proxy", socksTarget)...)
	if code != 0 || doc.Proxy == nil || doc.Proxy.DNS != "proxy" {
		t.Fatalf("DNS via the proxy: exit %d, %+v\n%s", code, doc.Proxy, stderr)
	}
	for _, q := range doc.MX.Queries {
		if q.Transport != "tcp" {
			t.Errorf("a DNS query went over %s with --dns-via-proxy", q.Transport)
		}
	}

	// The environment names the proxy when no flag does.
	cmd := exec.Command("smtpprobe", append(base, socksTarget)...)
	cmd.Env = append(os.Environ(), "SOCKS5_PROXY=", "ALL_PROXY="+socksURL)
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"url": "`+socksProxyName+`"`) {
		t.Errorf("ALL_PROXY: %v: %.300s", err, out)
	}

	// vrfy, why and a batch go through it too.
	if _, code, stderr := runJSON(t, "vrfy", "--format", "json", "--dns", labDNS, "--proxy", socksURL, socksTarget); code != 0 {
		t.Errorf("vrfy through the proxy: exit %d: %s", code, stderr)
	}
	if _, code, stderr := runJSON(t, "why", "--format", "json", "--dns", labDNS, "--proxy", socksURL, "--server", "d7.socks.batch.test", "MAIL FROM:<a@example.com>"); code != 0 {
		t.Errorf("why through the proxy: exit %d: %s", code, stderr)
	}
	dir := t.TempDir()
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("u%d@d%d.socks.batch.test", i, i%5))
	}
	targets := filepath.Join(dir, "t.txt")
	os.WriteFile(targets, []byte(strings.Join(lines, "\n")), 0o644)
	bout, err := exec.Command("smtpprobe", "probe", "--targets", targets, "--format", "ndjson", "--dns", labDNS, "--proxy", socksURL, "--per-minute", "0").Output()
	if err != nil {
		t.Fatalf("batch through the proxy: %v", err)
	}
	got := map[string]outcome{}
	readLines(t, bout, got)
	for _, l := range lines {
		if got[l].kind != "ok" {
			t.Errorf("batch through the proxy: %s: %+v", l, got[l])
		}
	}
}

// scriptedProxy is a SOCKS5 proxy on loopback that misbehaves as told.
func scriptedProxy(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// A proxy that refuses, one that hangs and one that lies each get their
// own status word in the report, not connection-failed, and exit 4.
func TestProxyRefusesHangsLies(t *testing.T) {
	greet := func(c net.Conn) {
		io.ReadFull(c, make([]byte, 3))
		c.Write([]byte{5, 0})
		io.ReadFull(c, make([]byte, 10))
	}
	cases := []struct {
		name, want string
		serve      func(net.Conn)
	}{
		{"refuses", "proxy-refused", func(c net.Conn) { greet(c); c.Write([]byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}) }},
		{"hangs", "proxy-timeout", func(c net.Conn) { io.ReadFull(c, make([]byte, 3)); time.Sleep(2 * time.Second) }},
		{"lies", "proxy-bad-reply", func(c net.Conn) { io.ReadFull(c, make([]byte, 3)); c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }},
	}
	for _, tc := range cases {
		addr := scriptedProxy(t, tc.serve)
		start := time.Now()
		doc, code, stderr := runJSON(t, "probe", "--format", "json", "--timeout", "1s", "--proxy", "socks5://"+addr, "--domain", "example.com", "[127.0.14.30]:25")
		if code != exitConnection || len(doc.Hosts) != 1 || doc.Hosts[0].Status != tc.want {
			t.Errorf("a proxy that %s: exit %d, %+v, want status %s\n%s", tc.name, code, doc.Hosts, tc.want, stderr)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("a proxy that %s held the run %s", tc.name, d)
		}
	}
}
