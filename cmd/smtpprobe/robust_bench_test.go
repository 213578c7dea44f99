package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// nearCapServer answers every command but EHLO and QUIT with a reply just
// under the per-reply caps (60 lines of 4000 bytes) and hangs up, so every
// step costs a session of its own.
func nearCapServer(b testing.TB) string {
	var big strings.Builder
	for i := 0; i < 60; i++ {
		sep := "-"
		if i == 59 {
			sep = " "
		}
		big.WriteString("250" + sep + strings.Repeat("x", 4000) + "\r\n")
	}
	reply := big.String()
	return probetest.StartLineServer(b, "220 big.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO":
			return probetest.LineReply{Out: "250 big.test\r\n"}
		case "QUIT":
			return probetest.LineReply{Out: "221 bye\r\n", Close: true}
		}
		return probetest.LineReply{Out: reply, Close: true}
	}).Addr()
}

// vmHWM is the process's peak resident set size in bytes (Linux), 0 when
// unknown.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkNearCapSessions is the run-wide memory bound: one probe of a
// host whose every reply is just under the per-reply caps, some 50
// sessions, with --json and as text. peak-heap-MB is the most heap in use
// at any moment of the run (sampled every 5 ms); peak-rss-MB the
// process's peak RSS, the in-process server included; out-MB the size of
// the output. The README's run-wide figure is this benchmark's.
func BenchmarkNearCapSessions(b *testing.B) {
	target := nearCapServer(b)
	args := []string{"probe", "--tls", "none", "--helo", "client.test", "--domain", "big.test"}
	for i := 0; i < 20; i++ {
		args = append(args, "--vrfy", fmt.Sprintf("user%d@big.test", i))
	}
	for _, format := range []string{"json", "text"} {
		b.Run(format, func(b *testing.B) {
			a := append([]string(nil), args...)
			if format == "json" {
				a = append(a, "--json")
			}
			a = append(a, target)
			var peak atomic.Uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var m runtime.MemStats
				for {
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
			var out int
			for b.Loop() {
				var w countWriter
				e := &env{stdin: strings.NewReader(""), stdout: &w, stderr: io.Discard, getenv: func(string) string { return "" }}
				if code := runEnv(context.Background(), a, e); code != exitOK && code != exitCheck {
					b.Fatalf("exit %d", code)
				}
				out = w.n
			}
			close(stop)
			<-done
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(vmHWM())/(1<<20), "peak-rss-MB")
			b.ReportMetric(float64(out)/(1<<20), "out-MB")
		})
	}
}

// countWriter counts what is written to it and keeps nothing.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkDNSDeadline is the time a DNS server that never answers, or
// sets TC=1 and then never answers over TCP, costs probe: the
// --dns-timeout (default 5 s), then exit 3. ns/op is that time.
func BenchmarkDNSDeadline(b *testing.B) {
	zone, err := resolvertest.ReadZoneDir("../../testdata/zones")
	if err != nil {
		b.Fatal(err)
	}
	for name, beh := range map[string]resolvertest.Behavior{
		"silent":             {Silent: true},
		"tc-then-silent-tcp": {Truncate: true, SilentTCP: true},
	} {
		dns := resolvertest.StartBehavior(b, zone, beh).Addr()
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
				if code := runEnv(context.Background(), []string{"probe", "--dns", dns, "--helo", "client.test", "explicit.mx.test"}, e); code != exitDNS {
					b.Fatalf("exit %d, want %d", code, exitDNS)
				}
			}
		})
	}
}
