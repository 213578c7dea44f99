package probe_test

import (
	"context"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// sameFindingsRun probes addr with the whole default suite, as each
// scheduling mode does, and returns the host's report.
func sameFindingsRun(t *testing.T, addr, domain string, mutate func(*probe.Options)) probe.HostReport {
	t.Helper()
	target, err := probe.ParseTarget(addr)
	if err != nil {
		t.Fatal(err)
	}
	o := probe.Options{Target: target, Domain: domain, User: "alice", HELO: "client.test",
		From: "probe@client.test", Timeout: 10 * time.Second, TLS: "none"}
	mutate(&o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := probe.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Verdicts == nil {
		t.Fatalf("%s: not probed: %+v", addr, rep.Hosts)
	}
	return rep.Hosts[0]
}

// The modes a plan can run in; each must find what lock-step finds.
var sameFindingsModes = []struct {
	name   string
	mutate func(*probe.Options)
}{
	{"default", func(*probe.Options) {}},
	{"one connection", func(o *probe.Options) { o.Connections = 1 }},
	// Five at once meet Exim's limit of 4 errors on more sessions, and a
	// VRFY closing a group behind the error that ends one is sent again.
	{"five connections", func(o *probe.Options) { o.Connections = 5 }},
}

// TestProfilesSameFindingsInEveryMode: against every stand-in server the
// tests use (the Sendmail, Exim and OpenSMTPD profiles, the strictness
// profiles of why, and the go-smtp policy server), pipelined groups over
// one or several connections find the verdicts, step outcomes and
// annotations that one command per round trip finds (issue 11, item 5).
func TestProfilesSameFindingsInEveryMode(t *testing.T) {
	type server struct {
		name, addr, domain string
		pipelining         bool
	}
	var servers []server
	for _, m := range probetest.MTAs {
		// The slowdown is measured, and depends on how many commands share
		// a connection: TestThrottlingMeasured covers it.
		s := probetest.StartMTA(t, m.Steady())
		servers = append(servers, server{m.Name, s.Addr(), "rules.test", m.Name != "opensmtpd"})
	}
	for _, p := range probetest.Profiles {
		s := probetest.StartProfile(t, p)
		pipe := false
		for _, e := range p.Extensions {
			pipe = pipe || e == "PIPELINING"
		}
		servers = append(servers, server{"profile " + p.Name, s.Addr(), "profile.test", pipe})
	}
	pol := probetest.StartPolicy(t, probetest.Policy{Domain: "policy.test", Hostname: "mx.policy.test", Mailboxes: []string{"alice"}, Greylisted: []string{"grey"}})
	servers = append(servers, server{"go-smtp policy", pol.Addr(), "policy.test", true})

	for _, srv := range servers {
		lock := sameFindingsRun(t, srv.addr, srv.domain, func(o *probe.Options) { o.LockStep = true })
		if lock.Schedule == nil || lock.Schedule.Mode != probe.ModeLockStep {
			t.Fatalf("%s: lock-step ran as %+v", srv.name, lock.Schedule)
		}
		lv, ls := findings(t, lock)
		for _, mode := range sameFindingsModes {
			h := sameFindingsRun(t, srv.addr, srv.domain, mode.mutate)
			if h.Schedule == nil || h.Schedule.Pipelining != srv.pipelining {
				t.Errorf("%s, %s: schedule %+v; pipelining should be %v", srv.name, mode.name, h.Schedule, srv.pipelining)
			}
			v, s := findings(t, h)
			if v != lv {
				t.Errorf("%s, %s: verdicts\n%s\nlock-step:\n%s", srv.name, mode.name, v, lv)
			}
			for name, want := range ls {
				if s[name] != want {
					t.Errorf("%s, %s: %s = %q; lock-step %q", srv.name, mode.name, name, s[name], want)
				}
			}
			if len(s) != len(ls) {
				t.Errorf("%s, %s: %d steps; lock-step %d", srv.name, mode.name, len(s), len(ls))
			}
		}
	}
}

// TestSendmailThrottleNotMet: Sendmail slows VRFY and EXPN from the 6th
// on one connection (the profile's stock slowdown, 1 s and growing); the
// default schedule spreads them so no connection carries more than 5, so
// the run never meets the slowdown, and finds what a steady Sendmail
// gives lock-step.
func TestSendmailThrottleNotMet(t *testing.T) {
	srv := probetest.StartMTA(t, probetest.Sendmail)
	h := sameFindingsRun(t, srv.Addr(), "rules.test", func(*probe.Options) {})
	perConn := map[int]int{}
	for _, s := range h.Steps {
		if s.Reply != nil && (s.Command == explain.VRFY || s.Command == explain.EXPN) {
			perConn[s.Connection]++
		}
	}
	if len(perConn) < 2 {
		t.Errorf("VRFY/EXPN on %d connections; want them spread", len(perConn))
	}
	for c, n := range perConn {
		if n > 5 {
			t.Errorf("connection %d carried %d VRFY/EXPN; Sendmail slows the 6th on", c, n)
		}
	}
	if h.Verdicts.Throttling != nil {
		t.Errorf("throttling %+v: the default schedule met Sendmail's slowdown", h.Verdicts.Throttling)
	}
	steady := probetest.StartMTA(t, probetest.Sendmail.Steady())
	lv, ls := findings(t, sameFindingsRun(t, steady.Addr(), "rules.test", func(o *probe.Options) { o.LockStep = true }))
	v, s := findings(t, h)
	if v != lv {
		t.Errorf("verdicts\n%s\nlock-step on a steady Sendmail:\n%s", v, lv)
	}
	for name, want := range ls {
		if s[name] != want {
			t.Errorf("%s = %q; lock-step %q", name, s[name], want)
		}
	}
}
