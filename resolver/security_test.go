package resolver_test

import (
	"context"
	"testing"

	"github.com/miekg/dns"
	"github.com/smtpprobe/smtpprobe/resolver"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

const secZone = `$ORIGIN sec.test.
@ 300 IN SOA ns.sec.test. h.sec.test. 1 3600 600 86400 300
@ 300 IN MX 10 mx.sec.test.
@ 300 IN MX 20 mx.insec.test.
@ 300 IN MX 30 mx.bogus.test.
mx 300 IN A 127.0.10.1
alias 300 IN CNAME mx.sec.test.
_25._tcp.mx 300 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
$ORIGIN insec.test.
@ 300 IN SOA ns.insec.test. h.insec.test. 1 3600 600 86400 300
mx 300 IN A 127.0.10.2
$ORIGIN bogus.test.
@ 300 IN SOA ns.bogus.test. h.bogus.test. 1 3600 600 86400 300
@ 300 IN MX 10 mx.bogus.test.
mx 300 IN A 127.0.10.3
`

func secClient(t *testing.T) *resolver.Client {
	srv := resolvertest.StartBehavior(t, secZone, resolvertest.Behavior{AD: true, Insecure: []string{"insec.test"}, Bogus: []string{"bogus.test"}})
	return resolver.New([]string{srv.Addr()})
}

func TestLookupMXSecurity(t *testing.T) {
	c := secClient(t)
	r, err := c.LookupMX(context.Background(), "sec.test")
	if err != nil {
		t.Fatal(err)
	}
	if r.Security != resolver.Secure {
		t.Errorf("MX security %s, want secure", r.Security)
	}
	want := map[string]resolver.Security{"mx.sec.test": resolver.Secure, "mx.insec.test": resolver.Insecure, "mx.bogus.test": resolver.Bogus}
	for _, h := range r.Hosts {
		if h.Security != want[h.Name] {
			t.Errorf("%s address security %s, want %s", h.Name, h.Security, want[h.Name])
		}
	}
	r, err = c.LookupMX(context.Background(), "bogus.test")
	if err == nil || r.Security != resolver.Bogus {
		t.Errorf("bogus MX: security %s, error %v; want bogus and an error", r.Security, err)
	}
}

func TestLookupSecurity(t *testing.T) {
	c := secClient(t)
	cases := []struct {
		name    string
		qtype   uint16
		sec     resolver.Security
		records int
		rcode   string
		target  string
	}{
		{"_25._tcp.mx.sec.test", dns.TypeTLSA, resolver.Secure, 1, "NOERROR", "_25._tcp.mx.sec.test"},
		{"_25._tcp.nothere.sec.test", dns.TypeTLSA, resolver.Secure, 0, "NXDOMAIN", "_25._tcp.nothere.sec.test"},
		{"mx.sec.test", dns.TypeTLSA, resolver.Secure, 0, "NOERROR", "mx.sec.test"},
		{"alias.sec.test", dns.TypeA, resolver.Secure, 1, "NOERROR", "mx.sec.test"},
		{"mx.insec.test", dns.TypeA, resolver.Insecure, 1, "NOERROR", "mx.insec.test"},
		{"_25._tcp.mx.bogus.test", dns.TypeTLSA, resolver.Bogus, 0, "SERVFAIL", "_25._tcp.mx.bogus.test"},
	}
	for _, k := range cases {
		a, err := c.Lookup(context.Background(), k.name, k.qtype)
		if a.Security != k.sec || len(a.Records) != k.records || a.Rcode != k.rcode || a.Target() != k.target {
			t.Errorf("Lookup(%s %s) = %s, %d records, %s, target %s (err %v); want %s, %d, %s, %s",
				k.name, dns.TypeToString[k.qtype], a.Security, len(a.Records), a.Rcode, a.Target(), err, k.sec, k.records, k.rcode, k.target)
		}
		if (k.sec == resolver.Bogus) != (err != nil) {
			t.Errorf("Lookup(%s): error %v", k.name, err)
		}
	}
}

func TestServfailIsBogusNeverAbsent(t *testing.T) {
	srv := resolvertest.StartBehavior(t, secZone, resolvertest.Behavior{Rcode: dns.RcodeServerFailure})
	c := resolver.New([]string{srv.Addr()})
	a, err := c.Lookup(context.Background(), "_25._tcp.mx.sec.test", dns.TypeTLSA)
	if err == nil || a.Security != resolver.Bogus || a.NXDomain() || a.Rcode != "SERVFAIL" {
		t.Fatalf("SERVFAIL read as %s rcode %s nxdomain %v err %v", a.Security, a.Rcode, a.NXDomain(), err)
	}
	refused := resolvertest.StartBehavior(t, secZone, resolvertest.Behavior{Rcode: dns.RcodeRefused})
	a, _ = resolver.New([]string{refused.Addr()}).Lookup(context.Background(), "mx.sec.test", dns.TypeA)
	if a.Security != resolver.Indeterminate {
		t.Fatalf("REFUSED read as %s, want indeterminate", a.Security)
	}
}
