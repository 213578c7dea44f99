//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchMessages is how many messages the bounce benchmarks read a run.
const benchMessages = 10000

// benchBounces writes benchMessages messages, made from the message
// fixtures in turn (each with a header of its own), as files of a
// directory and as one mbox, and returns both paths.
func benchBounces(b *testing.B) (dir, mbox string) {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(bounceFixtures, "*.eml"))
	var msgs [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
	}
	root := b.TempDir()
	dir = filepath.Join(root, "maildir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	var box bytes.Buffer
	for i := range benchMessages {
		m := append([]byte(fmt.Sprintf("X-Bench-Serial: %d\n", i)), msgs[i%len(msgs)]...)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d.eml", i)), m, 0o644); err != nil {
			b.Fatal(err)
		}
		box.WriteString("From MAILER-DAEMON Tue Dec  1 10:00:00 2026\n")
		box.Write(bytes.ReplaceAll(m, []byte("\nFrom "), []byte("\n>From ")))
		box.WriteString("\n")
	}
	mbox = filepath.Join(root, "bounces.mbox")
	if err := os.WriteFile(mbox, box.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir, mbox
}

// BenchmarkExplainBounces reads 10,000 bounces (and the feedback reports,
// automatic replies and plain mail among the fixtures) from a directory
// and from an mbox, the whole of `smtpprobe explain --json`: reading,
// classifying, explaining and writing. msg/s is messages a second of
// wall time, msg/cpu-s a second of the process's CPU time (the figure to
// trust on a shared machine); run on one core:
//
//	go test -run '^$' -bench ExplainBounces -cpu 1 ./cmd/smtpprobe
func BenchmarkExplainBounces(b *testing.B) {
	dir, mbox := benchBounces(b)
	for _, bc := range []struct{ name, path string }{{"dir", dir}, {"mbox", mbox}} {
		for _, format := range []string{"json", "text"} {
			b.Run(bc.name+"/"+format, func(b *testing.B) {
				e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if code := runEnv(context.Background(), []string{"explain", "--format", format, bc.path}, e); code != exitOK {
						b.Fatalf("exit %d", code)
					}
				}
				msgs := float64(benchMessages) * float64(b.N)
				b.ReportMetric(msgs/b.Elapsed().Seconds(), "msg/s")
				b.ReportMetric(msgs/(cpuTime()-cpu0).Seconds(), "msg/cpu-s")
			})
		}
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
