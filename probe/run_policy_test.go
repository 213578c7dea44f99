package probe_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

const policyZone = `$ORIGIN policy.test.
$TTL 300
@      SOA  ns.policy.test. hostmaster.policy.test. 1 3600 600 86400 60
@      NS   ns
ns     A    127.0.0.1
@      MX   10 mx1
@      MX   20 mx2
mx1    A    127.0.0.1
mx2    A    127.0.0.1
`

// startPolicyLab is a go-smtp server with a realistic policy, and a DNS
// server whose policy.test MX hosts both point at it.
func startPolicyLab(t *testing.T) (*probetest.PolicyServer, *resolvertest.Server) {
	t.Helper()
	srv := probetest.StartPolicy(t, probetest.Policy{Domain: "policy.test", Hostname: "mx1.policy.test",
		Mailboxes: []string{"alice"}, Greylisted: []string{"grey"}, OverQuota: []string{"full"}, MaxMessageBytes: 1 << 20})
	return srv, resolvertest.Start(t, policyZone)
}

func runPolicy(t *testing.T, srv *probetest.PolicyServer, dns *resolvertest.Server, target string, mutate func(*probe.Options)) *probe.Report {
	t.Helper()
	tg, err := probe.ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	_, port := splitHostPort(t, srv.Addr())
	o := probe.Options{Target: tg, Port: port, DNS: []string{dns.Addr()}, HELO: "client.test", Timeout: 5 * time.Second}
	if mutate != nil {
		mutate(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := probe.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if srv.DataSeen() {
		t.Fatal("the probe sent DATA")
	}
	return rep
}

func TestRunPolicyServerDomain(t *testing.T) {
	srv, dns := startPolicyLab(t)
	rep := runPolicy(t, srv, dns, "policy.test", nil)
	if rep.MX == nil || len(rep.MX.Hosts) != 2 {
		t.Fatalf("mx: %+v", rep.MX)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Host != "mx1.policy.test" {
		t.Fatalf("without --all-mx only the first reachable host is probed: %+v", rep.Hosts)
	}
	h := rep.Hosts[0]
	v := h.Verdicts
	if v == nil {
		t.Fatalf("not probed: %s %s", h.Status, h.Error)
	}
	// go-smtp answers every VRFY with 252 and has no EXPN.
	if v.VRFYPolicy.Policy != probe.PolicyHides || v.EXPNPolicy.Policy != probe.PolicyNotImplemented {
		t.Errorf("vrfy %+v expn %+v", v.VRFYPolicy, v.EXPNPolicy)
	}
	if v.CatchAll == nil || *v.CatchAll {
		t.Errorf("catch_all = %v; unknown users get 550 5.1.1", v.CatchAll)
	}
	if !v.STARTTLS || h.TLS == nil || h.TLS.Verified {
		t.Errorf("starttls %v tls %+v; want a self-signed STARTTLS session", v.STARTTLS, h.TLS)
	}
	for _, s := range h.Steps {
		if s.Outcome == probe.NoReply {
			t.Errorf("%s: no reply (%s)", s.Name, s.Error)
		}
	}
	if rep.Verdicts != v {
		t.Error("the report's verdicts are not the probed host's")
	}
}

func TestRunPolicyServerAllMXAndAddresses(t *testing.T) {
	srv, dns := startPolicyLab(t)
	rep := runPolicy(t, srv, dns, "grey@policy.test", func(o *probe.Options) {
		o.AllMX = true
		o.Suites = []string{"syntax"}
		o.RCPT = []string{"full@policy.test"}
	})
	if len(rep.Hosts) != 2 {
		t.Fatalf("--all-mx probed %d hosts; want 2", len(rep.Hosts))
	}
	for _, h := range rep.Hosts {
		steps := stepsByName(h)
		if r := steps["rcpt-well-formed"].Reply; r == nil || r.Code != 450 || r.Enhanced != "4.2.0" {
			t.Errorf("%s: RCPT of the greylisted user: %+v", h.Host, r)
		}
		if r := steps["rcpt-given-1"].Reply; r == nil || r.Code != 452 {
			t.Errorf("%s: RCPT of the full mailbox: %+v", h.Host, r)
		}
		if s := steps["rcpt-well-formed"]; s.Outcome != probe.Deferred || s.Conformance != probe.Transient {
			t.Errorf("greylisting judged %s/%s", s.Outcome, s.Conformance)
		}
		if h.Verdicts.CatchAll != nil {
			t.Errorf("catch_all = %v when the real mailbox was only deferred", *h.Verdicts.CatchAll)
		}
	}
}

func TestRunDNSFailure(t *testing.T) {
	dns := resolvertest.StartBehavior(t, policyZone, resolvertest.Behavior{Rcode: 2}) // SERVFAIL
	tg, _ := probe.ParseTarget("policy.test")
	_, err := probe.Run(context.Background(), probe.Options{Target: tg, DNS: []string{dns.Addr()}, HELO: "client.test", Timeout: time.Second})
	if !errors.Is(err, probe.ErrDNS) {
		t.Errorf("Run with a dead DNS server: %v; want ErrDNS", err)
	}
}

func TestRunNullMX(t *testing.T) {
	dns := resolvertest.Start(t, `$ORIGIN null.test.
@ 300 SOA ns.null.test. h.null.test. 1 3600 600 86400 60
@ 300 MX 0 .
`)
	tg, _ := probe.ParseTarget("null.test")
	rep, err := probe.Run(context.Background(), probe.Options{Target: tg, DNS: []string{dns.Addr()}, HELO: "client.test", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 0 || len(rep.Warnings) == 0 || rep.MX == nil || rep.MX.Kind != "null" {
		t.Errorf("null MX: hosts %+v warnings %v", rep.Hosts, rep.Warnings)
	}
}

func splitHostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	tg, err := probe.ParseTarget(addr)
	if err != nil || tg.Port == 0 {
		t.Fatalf("address %q: %v", addr, err)
	}
	return tg.Host, tg.Port
}
