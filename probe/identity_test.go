package probe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// With no EHLO name given, the prober announces this machine's FQDN or
// the address literal of its local address, never a silent localhost,
// and says what the server will see.
func TestIdentityNeverLocalhost(t *testing.T) {
	srv := probetest.StartMTA(t, plain)
	target, _ := probe.ParseTarget(srv.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := probe.Run(ctx, probe.Options{Target: target, Domain: "rules.test", TLS: "none", Suites: []string{"vrfy"}})
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Identity
	if id == nil {
		t.Fatal("no identity in the report")
	}
	want := probe.FQDNHostname()
	if want == "" {
		want = "[127.0.0.1]"
	}
	if id.HELO != want || rep.Hosts[0].HELOName != want {
		t.Errorf("EHLO %q (host saw %q); want %q", id.HELO, rep.Hosts[0].HELOName, want)
	}
	if id.From != "postmaster@"+want || id.FromSource != "default" {
		t.Errorf("from %q (%s); want postmaster@%s", id.From, id.FromSource, want)
	}
	if id.FromDomain.Status != "not-checked" && id.FromDomain.Status != "literal" {
		t.Errorf("from domain %+v: an IP target with no --dns asks no DNS", id.FromDomain)
	}
	if !strings.Contains(string(srvLines(srv)), "EHLO "+want) {
		t.Errorf("the server did not see EHLO %s", want)
	}
}

func srvLines(s interface{ Received() []byte }) []byte { return s.Received() }

// The sender's domain is looked up with the DNS servers given: one with no
// MX or address is a problem stated before connecting.
func TestIdentityFromDomainChecked(t *testing.T) {
	dns := resolvertest.Start(t, hostsZone)
	srv := probetest.StartMTA(t, plain)
	for _, tc := range []struct {
		from, status string
		problem      bool
	}{
		{"probe@mail.hosts.test", "mx", false},
		{"probe@plain.hosts.test", "address", false},
		{"probe@nope.hosts.test", "none", true},
		{"probe@nomail.hosts.test", "null-mx", true},
	} {
		target, _ := probe.ParseTarget(srv.Addr())
		rep, err := probe.Run(context.Background(), probe.Options{Target: target, Domain: "rules.test", TLS: "none", Suites: []string{"vrfy"},
			HELO: "client.test", From: tc.from, DNS: []string{dns.Addr()}})
		if err != nil {
			t.Fatal(err)
		}
		id := rep.Identity
		if id.FromDomain.Status != tc.status || (len(id.Problems) > 0) != tc.problem {
			t.Errorf("%s: from_domain %+v, problems %q; want %s, problem %v", tc.from, id.FromDomain, id.Problems, tc.status, tc.problem)
		}
	}
}

// A non-FQDN EHLO name given on purpose is sent, and flagged.
func TestIdentityHELONotFQDN(t *testing.T) {
	srv := probetest.StartMTA(t, plain)
	target, _ := probe.ParseTarget(srv.Addr())
	rep, err := probe.Run(context.Background(), probe.Options{Target: target, Domain: "rules.test", TLS: "none", Suites: []string{"vrfy"}, HELO: "localhost", From: "a@client.test"})
	if err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(rep.Identity.Problems, "; "); !strings.Contains(p, "not a fully-qualified domain name") {
		t.Errorf("problems %q; want the EHLO name flagged", p)
	}
}

// For a mail domain resolved through its MX records, with no EHLO name
// given, the MX host receives this machine's FQDN or the address literal
// toward it, never localhost, and every session of the probe says it.
func TestIdentityMXDomainNeverLocalhost(t *testing.T) {
	srv, dns := startPolicyLab(t)
	rep := runPolicy(t, srv, dns, "policy.test", func(o *probe.Options) { o.HELO = ""; o.Suites = []string{"vrfy"} })
	want := probe.FQDNHostname()
	if want == "" {
		want = "[127.0.0.1]"
	}
	if rep.Identity == nil || rep.Identity.HELO != want || len(rep.Hosts) == 0 || rep.Hosts[0].HELOName != want {
		t.Fatalf("identity %+v, hosts %d; want EHLO %s", rep.Identity, len(rep.Hosts), want)
	}
	n := 0
	for _, c := range srv.Commands() {
		if strings.HasPrefix(c, "EHLO ") || strings.HasPrefix(c, "HELO ") {
			n++
			if c != "EHLO "+want {
				t.Errorf("the server received %q; want EHLO %s", c, want)
			}
		}
	}
	if n == 0 {
		t.Error("the server received no EHLO")
	}
}
