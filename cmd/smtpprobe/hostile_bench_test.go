package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// BenchmarkHostile measures a whole probe run against each server that
// misbehaves: time and memory per run, from dial to the JSON document.
// Cases that end on the 3 s deadline take 3 s an iteration by design.
//
//	go test -run '^$' -bench Hostile -benchmem ./cmd/smtpprobe
func BenchmarkHostile(b *testing.B) {
	for _, tc := range hostileCases() {
		b.Run(tc.name, func(b *testing.B) {
			target := tc.serve(b)
			args := append(append([]string{"probe", "--timeout", hostileTimeout, "--helo", "client.test"}, tc.args...), "--json", target)
			e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
			b.ReportAllocs()
			for b.Loop() {
				if code := runEnv(context.Background(), args, e); code != tc.exit {
					b.Fatalf("exit %d, want %d", code, tc.exit)
				}
			}
		})
	}
}
