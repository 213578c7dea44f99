package wire

import (
	"context"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// BenchmarkParseExtensions60kAUTH is the CPU one hostile EHLO costs: 60,000
// distinct AUTH mechanisms over 80 lines, the most the reply caps let
// through. The README's "CPU per EHLO" bound is this figure.
func BenchmarkParseExtensions60kAUTH(b *testing.B) {
	lines, _ := manyAUTH(60000, 750)
	b.ReportAllocs()
	for b.Loop() {
		if e := ParseExtensions(lines); len(e.Params("AUTH")) != 60000 {
			b.Fatal("mechanisms lost")
		}
	}
}

// BenchmarkSessionEHLO60kAUTH is the same EHLO over a loopback session:
// reading, recording and parsing it.
func BenchmarkSessionEHLO60kAUTH(b *testing.B) {
	lines, _ := manyAUTH(60000, 750)
	srv := probetest.NewScripted(b, script(banner, expect("EHLO client.test"), send(ehloReply(lines)), quitOK)...)
	cfg := config(srv.Addr())
	b.ReportAllocs()
	for b.Loop() {
		s, err := Dial(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Extensions().Params("AUTH")) != 60000 {
			b.Fatal("mechanisms lost")
		}
		s.Quit(context.Background())
	}
}
