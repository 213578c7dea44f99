package wire

import (
	"bufio"
	"context"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

const benchEHLO = "250-mx.example.com Hello client.example.net [192.0.2.1]\r\n250-SIZE 35882577\r\n" +
	"250-8BITMIME\r\n250-AUTH LOGIN PLAIN XOAUTH2\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n" +
	"250-CHUNKING\r\n250 SMTPUTF8\r\n"

func BenchmarkReadReply(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"one-line", "250 2.1.5 <alice@example.com>... Recipient ok\r\n"},
		{"ehlo-8-lines", benchEHLO},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sr := strings.NewReader(bc.in)
			br := bufio.NewReader(sr)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				sr.Reset(bc.in)
				br.Reset(sr)
				if _, err := ReadReply(br, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadReply10MBLine feeds a 10 MB line without CRLF: the reader
// must stop at the reply byte cap with bounded memory. alloc-bytes/op is
// what one such reply costs.
func BenchmarkReadReply10MBLine(b *testing.B) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		src := io.MultiReader(strings.NewReader("250 "), io.LimitReader(neverEnding('a'), 10<<20))
		if _, err := ReadReply(bufio.NewReader(src), Limits{}); err == nil {
			b.Fatal("no error for a 10 MB line")
		}
		n++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "alloc-bytes/op")
}

// BenchmarkSessionFlood10MB dials a server that answers the greeting
// with a 10 MB line over loopback: the session, its transcript included,
// must end with a protocol error and bounded memory.
func BenchmarkSessionFlood10MB(b *testing.B) {
	srv := probetest.NewScripted(b, send("220 "), probetest.Flood("a", 10<<20))
	cfg := config(srv.Addr())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		s, err := Dial(context.Background(), cfg)
		if Status(err) != StatusProtocolError {
			b.Fatal(err)
		}
		s.Close()
		n++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(n), "alloc-bytes/op")
}
