package resolvertest_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

const zone = `$ORIGIN demo.test.
$TTL 60
@      SOA   ns hostmaster 1 60 60 60 60
@      MX    10 mail
mail   A     127.0.0.1
alias  CNAME mail
`

func ask(t *testing.T, addr, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	r, _, err := (&dns.Client{Net: network, Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
	}
	return r
}

func TestServerAnswers(t *testing.T) {
	s := resolvertest.Start(t, zone)
	if host, _, err := net.SplitHostPort(s.Addr()); err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr %q", s.Addr())
	}
	for _, network := range []string{"udp", "tcp"} {
		r := ask(t, s.Addr(), network, "demo.test.", dns.TypeMX)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
			t.Errorf("%s MX: %v", network, r)
		}
		r = ask(t, s.Addr(), network, "alias.demo.test.", dns.TypeA)
		if len(r.Answer) != 2 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || r.Answer[1].(*dns.A).A.String() != "127.0.0.1" {
			t.Errorf("%s CNAME chase: %v", network, r.Answer)
		}
	}
	if r := ask(t, s.Addr(), "udp", "nope.demo.test.", dns.TypeA); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
		t.Errorf("missing name: rcode %d, authority %v", r.Rcode, r.Ns)
	}
	if r := ask(t, s.Addr(), "udp", "mail.demo.test.", dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("NODATA: rcode %d, answer %v", r.Rcode, r.Answer)
	}
	if r := ask(t, s.Addr(), "udp", "example.com.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("outside the zone: rcode %d, want REFUSED", r.Rcode)
	}
}

func TestServerWithoutSOAAnswersEverything(t *testing.T) {
	s := resolvertest.Start(t, "mail.demo.test. 60 A 127.0.0.1\n")
	if r := ask(t, s.Addr(), "udp", "other.test.", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("rcode %d, want NXDOMAIN", r.Rcode)
	}
}

func TestServerTruncatesOverUDP(t *testing.T) {
	text := "$ORIGIN big.test.\n$TTL 60\n"
	for i := range 100 {
		text += fmt.Sprintf("@ A 127.0.1.%d\n", i+1)
	}
	s := resolvertest.Start(t, text)
	if r := ask(t, s.Addr(), "udp", "big.test.", dns.TypeA); !r.Truncated {
		t.Errorf("a 100-record answer over UDP is not truncated (%d records)", len(r.Answer))
	}
	if r := ask(t, s.Addr(), "tcp", "big.test.", dns.TypeA); r.Truncated || len(r.Answer) != 100 {
		t.Errorf("over TCP: truncated %v, %d records", r.Truncated, len(r.Answer))
	}
}

func TestBehaviors(t *testing.T) {
	rc := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{Rcode: dns.RcodeServerFailure})
	if r := ask(t, rc.Addr(), "udp", "demo.test.", dns.TypeMX); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("Rcode behaviour: %d", r.Rcode)
	}
	tr := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{Truncate: true, NoTCP: true})
	if r := ask(t, tr.Addr(), "udp", "demo.test.", dns.TypeMX); !r.Truncated {
		t.Errorf("Truncate behaviour: TC not set")
	}
	if c, err := net.DialTimeout("tcp", tr.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("NoTCP behaviour: TCP connection accepted")
	}
	silent := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{Silent: true})
	m := new(dns.Msg)
	m.SetQuestion("demo.test.", dns.TypeMX)
	if _, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, silent.Addr()); err == nil {
		t.Errorf("Silent behaviour: got an answer")
	}
	bad := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{Malformed: true})
	if _, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, bad.Addr()); err == nil {
		t.Errorf("Malformed behaviour: the answer parsed")
	}
}

func TestBadZone(t *testing.T) {
	if _, err := resolvertest.NewServer("@ IN MX not-a-number\n"); err == nil {
		t.Error("a broken zone was accepted")
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := resolvertest.NewServer(zone)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	silent, err := resolvertest.NewServerBehavior(zone, resolvertest.Behavior{Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := silent.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
