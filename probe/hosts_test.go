package probe_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/miekg/dns"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

const hostsZone = `$ORIGIN hosts.test.
@      300 IN SOA ns.hosts.test. admin.hosts.test. 1 3600 600 86400 60
@      300 IN NS  ns.hosts.test.
ns     300 IN A   127.0.0.1
mail   300 IN MX  20 mx2.hosts.test.
mail   300 IN MX  10 mx1.hosts.test.
mx1    300 IN A   127.0.0.2
mx2    300 IN A   127.0.0.3
plain  300 IN A   127.0.0.4
nomail 300 IN MX  0 .
`

func TestResolveHosts(t *testing.T) {
	srv := resolvertest.Start(t, hostsZone)
	dnsServers := []string{srv.Addr()}
	for _, tc := range []struct {
		target string
		port   int
		want   []probe.MailHost
	}{
		{"127.0.0.1:2525", 0, []probe.MailHost{{Addr: "127.0.0.1:2525"}}},
		{"[::1]:2525", 25, []probe.MailHost{{Addr: "[::1]:2525"}}},
		{"127.0.0.1", 0, []probe.MailHost{{Addr: "127.0.0.1:25"}}},
		{"localhost:2526", 0, []probe.MailHost{{Addr: "127.0.0.1:2526", Name: "localhost"}, {Addr: "[::1]:2526", Name: "localhost"}}},
		// a host target's name is resolved with the DNS servers given, never the system resolver
		{"mx1.hosts.test:2525", 0, []probe.MailHost{{Addr: "127.0.0.2:2525", Name: "mx1.hosts.test"}}},
		{"mail.hosts.test", 2525, []probe.MailHost{{Addr: "127.0.0.2:2525", Name: "mx1.hosts.test"}, {Addr: "127.0.0.3:2525", Name: "mx2.hosts.test"}}},
		{"user@mail.hosts.test", 0, []probe.MailHost{{Addr: "127.0.0.2:25", Name: "mx1.hosts.test"}, {Addr: "127.0.0.3:25", Name: "mx2.hosts.test"}}},
		{"plain.hosts.test", 0, []probe.MailHost{{Addr: "127.0.0.4:25", Name: "plain.hosts.test"}}},
	} {
		tg, err := probe.ParseTarget(tc.target)
		if err != nil {
			t.Fatal(err)
		}
		got, mx, err := probe.ResolveHosts(context.Background(), tg, dnsServers, tc.port, 0)
		if err != nil {
			t.Errorf("%s: %v", tc.target, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.target, got, tc.want)
		}
		if (mx == nil) != tg.Direct() {
			t.Errorf("%s: MX result %v for a direct=%v target", tc.target, mx, tg.Direct())
		}
	}

	tg, _ := probe.ParseTarget("nomail.hosts.test")
	if _, mx, err := probe.ResolveHosts(context.Background(), tg, dnsServers, 0, 0); !errors.Is(err, probe.ErrNoMailHost) || mx == nil || mx.Kind != "null" {
		t.Errorf("null MX: %v %+v", err, mx)
	}
	bad := resolvertest.StartBehavior(t, hostsZone, resolvertest.Behavior{Rcode: dns.RcodeServerFailure})
	tg, _ = probe.ParseTarget("mail.hosts.test")
	if _, _, err := probe.ResolveHosts(context.Background(), tg, []string{bad.Addr()}, 0, 0); !errors.Is(err, probe.ErrDNS) {
		t.Errorf("SERVFAIL: %v", err)
	}
	tg, _ = probe.ParseTarget("mx1.hosts.test:25")
	if _, _, err := probe.ResolveHosts(context.Background(), tg, []string{bad.Addr()}, 0, 0); !errors.Is(err, probe.ErrDNS) {
		t.Errorf("SERVFAIL for a host target: %v; want ErrDNS", err)
	}
	tg, _ = probe.ParseTarget("nope.hosts.test:25")
	if _, _, err := probe.ResolveHosts(context.Background(), tg, dnsServers, 0, 0); !errors.Is(err, probe.ErrNoMailHost) {
		t.Errorf("a host without address: %v; want ErrNoMailHost", err)
	}
}

// probe.Run resolves a host target's name with the DNS servers given, and
// a DNS failure is ErrDNS (exit 3), not a connection failure.
func TestRunHostTargetUsesDNS(t *testing.T) {
	bad := resolvertest.StartBehavior(t, hostsZone, resolvertest.Behavior{Rcode: dns.RcodeServerFailure})
	tg, _ := probe.ParseTarget("mx1.hosts.test:2525")
	_, err := probe.Run(context.Background(), probe.Options{Target: tg, DNS: []string{bad.Addr()}, HELO: "client.test", From: "a@client.test"})
	if !errors.Is(err, probe.ErrDNS) {
		t.Errorf("Run with SERVFAIL for the host's name: %v; want ErrDNS", err)
	}
}
