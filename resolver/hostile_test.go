package resolver_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/smtpprobe/smtpprobe/resolver"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// budget is the --timeout of the misbehaving-DNS cases: each must end
// within it (plus scheduling slack), with a clear finding.
const budget = 3 * time.Second

// hostileCase is one misbehaving server setup: the servers asked, in
// order, and what LookupMX must report.
type hostileCase struct {
	name     string
	servers  []resolvertest.Behavior
	domain   string
	errKind  string // expected Error.Kind; empty when the lookup must succeed
	kind     string // expected Result.Kind on success
	answerer int    // index of the server that must have answered
	// rcode, when set, is Result.Rcode expected after an error: the last
	// response code seen; "none" when no server responded.
	rcode string
}

var hostileCases = []hostileCase{
	{name: "servfail-then-good", servers: []resolvertest.Behavior{{Rcode: dns.RcodeServerFailure}, {}}, domain: "explicit.mx.test", kind: "explicit", answerer: 1},
	{name: "refused-then-good", servers: []resolvertest.Behavior{{Rcode: dns.RcodeRefused}, {}}, domain: "explicit.mx.test", kind: "explicit", answerer: 1},
	{name: "silent-then-good", servers: []resolvertest.Behavior{{Silent: true}, {}}, domain: "explicit.mx.test", kind: "explicit", answerer: 1},
	{name: "malformed-then-good", servers: []resolvertest.Behavior{{Malformed: true}, {}}, domain: "explicit.mx.test", kind: "explicit", answerer: 1},
	{name: "silent", servers: []resolvertest.Behavior{{Silent: true}}, domain: "explicit.mx.test", errKind: "timeout", rcode: "none"},
	{name: "slow", servers: []resolvertest.Behavior{{Delay: 10 * time.Second}}, domain: "explicit.mx.test", errKind: "timeout"},
	{name: "two-silent", servers: []resolvertest.Behavior{{Silent: true}, {Silent: true}}, domain: "explicit.mx.test", errKind: "timeout"},
	{name: "servfail", servers: []resolvertest.Behavior{{Rcode: dns.RcodeServerFailure}}, domain: "explicit.mx.test", errKind: "servfail", rcode: "SERVFAIL"},
	{name: "refused", servers: []resolvertest.Behavior{{Rcode: dns.RcodeRefused}}, domain: "explicit.mx.test", errKind: "refused", rcode: "REFUSED"},
	{name: "malformed", servers: []resolvertest.Behavior{{Malformed: true}}, domain: "explicit.mx.test", errKind: "malformed"},
	{name: "truncated-no-tcp", servers: []resolvertest.Behavior{{Truncate: true, NoTCP: true}}, domain: "explicit.mx.test", errKind: "truncated-no-tcp"},
	{name: "truncated-silent-tcp", servers: []resolvertest.Behavior{{Truncate: true, SilentTCP: true}}, domain: "explicit.mx.test", errKind: "timeout"},
	{name: "big-no-tcp", servers: []resolvertest.Behavior{{NoTCP: true}}, domain: "big.mx.test", errKind: "truncated-no-tcp"},
	{name: "cname-loop", servers: []resolvertest.Behavior{{}}, domain: "loop.mx.test", errKind: "cname-loop", rcode: "NOERROR"},
	{name: "1000-mx", servers: []resolvertest.Behavior{{}}, domain: "many.mx.test", kind: "explicit"},
	{name: "100-addresses", servers: []resolvertest.Behavior{{}}, domain: "wide.mx.test", kind: "explicit"},
}

func TestMisbehavingDNS(t *testing.T) {
	zone := zoneText(t)
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var addrs []string
			for _, b := range tc.servers {
				addrs = append(addrs, resolvertest.StartBehavior(t, zone, b).Addr())
			}
			c := resolver.New(addrs)
			ctx, cancel := context.WithTimeout(context.Background(), budget)
			defer cancel()
			start := time.Now()
			r, err := c.LookupMX(ctx, tc.domain)
			elapsed := time.Since(start)
			t.Logf("%s: %v (%s), %d queries", tc.name, elapsed.Round(time.Millisecond), errOr(err, r.Kind), len(r.Queries))
			// Ending on time is the behaviour under test, not a speed
			// target: the slack only absorbs a loaded machine.
			if elapsed > budget+2*time.Second {
				t.Errorf("took %v, budget %v", elapsed, budget)
			}
			if len(r.Queries) == 0 {
				t.Errorf("no queries recorded")
			}
			if tc.errKind != "" {
				var e *resolver.Error
				if !errors.As(err, &e) || e.Kind != tc.errKind {
					t.Fatalf("error %v, want kind %s", err, tc.errKind)
				}
				if f := e.Finding(); f.Meaning == "" || f.Fix == "" {
					t.Errorf("no explanation for %s", e.Kind)
				}
				if want := strings.TrimPrefix(tc.rcode, "none"); tc.rcode != "" && r.Rcode != want {
					t.Errorf("rcode %q, want %q", r.Rcode, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("LookupMX: %v", err)
			}
			if r.Kind != tc.kind || !r.Usable() {
				t.Fatalf("kind %s usable %v", r.Kind, r.Usable())
			}
			if r.Server != addrs[tc.answerer] {
				t.Errorf("answered by %s, want %s", r.Server, addrs[tc.answerer])
			}
			if tc.answerer > 0 && !slices.ContainsFunc(r.Queries, func(q resolver.Query) bool { return q.Server == addrs[0] && q.Outcome != "answer" }) {
				t.Errorf("the failing first server is not in the queries: %+v", r.Queries)
			}
		})
	}
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// TestDeadServerCostsOneTimeout checks that after a server times out the
// other lookups of the same LookupMX go to the good server first.
func TestDeadServerCostsOneTimeout(t *testing.T) {
	zone := zoneText(t)
	dead := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{Silent: true})
	good := resolvertest.Start(t, zone)
	c := resolver.New([]string{dead.Addr(), good.Addr()})
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	r, err := c.LookupMX(ctx, "explicit.mx.test")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range r.Queries {
		if q.Server == dead.Addr() {
			n++
		}
	}
	if n != 1 {
		t.Errorf("asked the dead server %d times, want 1", n)
	}
}

func TestCanceledContext(t *testing.T) {
	s := resolvertest.StartBehavior(t, zoneText(t), resolvertest.Behavior{Silent: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := resolver.New([]string{s.Addr()}).LookupMX(ctx, "explicit.mx.test")
	var e *resolver.Error
	if !errors.As(err, &e) || e.Kind != "canceled" {
		t.Fatalf("error %v, want canceled", err)
	}
}

// TestClientTimeout checks that Client.Timeout bounds a lookup whose
// context has no deadline.
func TestClientTimeout(t *testing.T) {
	s := resolvertest.StartBehavior(t, zoneText(t), resolvertest.Behavior{Silent: true})
	c := resolver.New([]string{s.Addr()})
	c.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := c.LookupMX(context.Background(), "explicit.mx.test")
	var e *resolver.Error
	if !errors.As(err, &e) || e.Kind != "timeout" {
		t.Fatalf("error %v, want timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with Timeout 300ms", d)
	}
}

// TestAddressLookupFailures: the MX answer is fine but address lookups
// fail; the host carries the error and, with no address anywhere, so
// does the lookup of an implicit MX.
func TestAddressLookupFailures(t *testing.T) {
	s := resolvertest.StartBehavior(t, zoneText(t), resolvertest.Behavior{Rcode: dns.RcodeServerFailure, Types: []uint16{dns.TypeA, dns.TypeAAAA}})
	c := resolver.New([]string{s.Addr()})
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	r, err := c.LookupMX(ctx, "explicit.mx.test")
	if err != nil {
		t.Fatal(err)
	}
	if r.Usable() || !r.DNSFailed() || !r.Unanswered() || r.Hosts[0].ErrorKind != "servfail" {
		t.Errorf("usable %v, DNS failed %v, unanswered %v, host error %q", r.Usable(), r.DNSFailed(), r.Unanswered(), r.Hosts[0].ErrorKind)
	}
	if r.Code != "hosts-unanswered" || !slices.ContainsFunc(r.Warnings, func(w string) bool {
		return strings.Contains(w, "DNS did not answer for the address of any MX host") && strings.Contains(w, "mx3.explicit.mx.test got no answer")
	}) {
		t.Errorf("code %s, warnings %q", r.Code, r.Warnings)
	}
	_, err = c.LookupMX(ctx, "implicit.mx.test")
	var e *resolver.Error
	if !errors.As(err, &e) || e.Kind != "servfail" {
		t.Errorf("implicit MX with failing address lookups: %v, want a servfail Error", err)
	}
}

// TestSlowServerWithinBudget: a server slower than the per-query limit
// (2s) is asked again with the time left, and its answer is used.
func TestSlowServerWithinBudget(t *testing.T) {
	t.Parallel()
	s := resolvertest.StartBehavior(t, zoneText(t), resolvertest.Behavior{Delay: 2500 * time.Millisecond, Types: []uint16{dns.TypeMX}})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	r, err := resolver.New([]string{s.Addr()}).LookupMX(ctx, "explicit.mx.test")
	if err != nil {
		t.Fatalf("LookupMX: %v", err)
	}
	if !r.Usable() || r.Queries[0].Outcome != "timeout" || r.Queries[1].Outcome != "answer" {
		t.Errorf("usable %v, queries %+v", r.Usable(), r.Queries[:2])
	}
}

func TestADBit(t *testing.T) {
	s := resolvertest.StartBehavior(t, zoneText(t), resolvertest.Behavior{AD: true})
	r, err := resolver.New([]string{s.Addr()}).LookupMX(context.Background(), "explicit.mx.test")
	if err != nil {
		t.Fatal(err)
	}
	if !r.AD || !r.Queries[0].AD {
		t.Errorf("AD %v, first query AD %v", r.AD, r.Queries[0].AD)
	}
	plain := resolvertest.Start(t, zoneText(t))
	if r, _ := resolver.New([]string{plain.Addr()}).LookupMX(context.Background(), "explicit.mx.test"); r.AD {
		t.Errorf("AD set without the server setting it")
	}
}

// TestNewFromResolvConf reads the system's servers without asking them.
func TestNewFromResolvConf(t *testing.T) {
	if _, err := os.Stat("/etc/resolv.conf"); err != nil {
		t.Skip("no /etc/resolv.conf")
	}
	c := resolver.New(nil)
	if c.ConfigErr != nil {
		t.Skipf("resolv.conf unusable here: %v", c.ConfigErr)
	}
	for _, s := range c.Servers {
		if got, err := resolver.ServerAddr(s); err != nil || got != s {
			t.Errorf("server %q from resolv.conf: %q, %v", s, got, err)
		}
	}
	if len(c.Servers) == 0 {
		t.Error("no servers and no ConfigErr")
	}
}
