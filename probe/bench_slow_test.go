package probe_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// benchProbe runs the full default suite against addr and returns the
// host's report and the wall time.
func benchProbe(b *testing.B, addr string) (probe.HostReport, time.Duration) {
	b.Helper()
	target, err := probe.ParseTarget(addr)
	if err != nil {
		b.Fatal(err)
	}
	o := probe.Options{Target: target, Domain: "rules.test", User: "alice", HELO: "client.test",
		From: "probe@client.test", TLS: "none", Timeout: 5 * time.Minute}
	start := time.Now()
	rep, err := probe.Run(context.Background(), o)
	wall := time.Since(start)
	if err != nil || len(rep.Hosts) == 0 || rep.Hosts[0].Schedule == nil {
		b.Fatalf("%v: %+v", err, rep)
	}
	return rep.Hosts[0], wall
}

// BenchmarkSendmailFullProbe: the full probe of a Sendmail-like server
// that slows every VRFY/EXPN from the 6th on one connection by 1, 2, then
// 4 s. No connection carries more than five, so the probe pays none of
// it (target: under 0.5 s on loopback).
func BenchmarkSendmailFullProbe(b *testing.B) {
	srv := probetest.StartMTA(b, probetest.Sendmail)
	for b.Loop() {
		h, wall := benchProbe(b, srv.Addr())
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(h.Connections), "connections")
	}
}

// tarpitScale divides the delays of the tarpit benchmark (Courier's 8 s
// doubling per error in a session), so it ends in seconds, not minutes;
// the first delay stays above what the runner takes for a tarpit's.
const tarpitScale = 20

// BenchmarkCourierTarpit: a server that delays the error replies within
// one session by 8, 16, 32 s ... (Courier's defaults), scaled down by
// tarpitScale. The floor at the connection cap is every error on a
// session of its own, the cap's worth at once: ceil(errors / cap) × 8 s.
// It reports the wall, the floor and their ratio (target ≤ 1.3).
func BenchmarkCourierTarpit(b *testing.B) {
	first := 8 * time.Second / tarpitScale
	// Courier's parser is strict: every malformed path draws a 5yz.
	courier := probetest.Exim.With(
		probetest.Rule{Match: `^(MAIL FROM|RCPT TO):([^<]|<[^>]*$|<[^>]* >|.*@@|<[^@>]*>$)`, Reply: "517 Syntax error."},
		probetest.Rule{Match: `^(MAIL FROM|RCPT TO):<[^>]*> +XSMTPPROBE`, Reply: "555 Unsupported option."},
		probetest.Rule{Match: `^(MAIL FROM|RCPT TO):<[^>]*[^\x00-\x7f]`, Reply: "553 Invalid address."},
	)
	courier.Name, courier.Banner = "courier", "220 mx.courier.test ESMTP"
	courier.Slow = probetest.Slowdown{From: 1, Delay: first, Max: time.Hour}
	srv := probetest.StartMTA(b, courier)
	for b.Loop() {
		h, wall := benchProbe(b, srv.Addr())
		errs := 0
		for _, s := range h.Steps {
			if s.Reply != nil && s.Reply.Code >= 400 && s.Reply.Code != 421 {
				errs++
			}
		}
		floor := time.Duration(math.Ceil(float64(errs)/float64(probe.DefaultConnections))) * first
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(float64(wall)/float64(floor), "x-floor")
		b.ReportMetric(float64(errs), "errors")
		b.ReportMetric(float64(h.Connections), "connections")
		if !h.Schedule.Tarpit {
			b.Errorf("the tarpit was not detected: %+v", *h.Schedule)
		}
	}
}
