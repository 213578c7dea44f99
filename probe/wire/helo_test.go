package wire

import (
	"context"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// A session opened with no EHLO name announces this machine's FQDN or the
// address literal of the local address toward the server, never
// localhost, and the server receives exactly that.
func TestDialDefaultHELO(t *testing.T) {
	srv := probetest.StartPolicy(t, probetest.Policy{Domain: "lab.test", Hostname: "mx.lab.test", NoSTARTTLS: true})
	want := FQDNHostname()
	if want == "" {
		want = "[127.0.0.1]"
	}
	if got, _ := HELOToward(srv.Addr()); got != want {
		t.Errorf("HELOToward(%s) = %q; want %q", srv.Addr(), got, want)
	}
	s, err := Dial(context.Background(), Config{Addr: srv.Addr(), TLS: TLSNone})
	if err != nil {
		t.Fatal(err)
	}
	s.Quit(context.Background())
	s.Close()
	var ehlo []string
	for _, c := range srv.Commands() {
		if strings.HasPrefix(c, "EHLO ") || strings.HasPrefix(c, "HELO ") {
			ehlo = append(ehlo, c)
		}
	}
	if len(ehlo) != 1 || ehlo[0] != "EHLO "+want {
		t.Errorf("the server received %q; want EHLO %s", ehlo, want)
	}
}

// The address literal names the local address, in RFC 5321 §4.1.3 form,
// and a host name is never looked up for it.
func TestLocalLiteral(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.10.25:25": "[127.0.0.1]",
		"[::1]:25":       "[IPv6:::1]",
		"mx.lab.test:25": "",
		"garbage":        "",
	} {
		got := LocalLiteral(addr)
		if addr == "[::1]:25" && got == "" {
			continue // no IPv6 loopback on this machine
		}
		if got != want {
			t.Errorf("LocalLiteral(%q) = %q; want %q", addr, got, want)
		}
	}
}
