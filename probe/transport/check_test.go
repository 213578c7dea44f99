package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/dane"
	"github.com/smtpprobe/smtpprobe/probe/mtasts"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/probe/tlsrpt"
	"github.com/smtpprobe/smtpprobe/probe/tlstest"
	"github.com/smtpprobe/smtpprobe/probe/wire"
	"github.com/smtpprobe/smtpprobe/resolver"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// lab is a domain with MX hosts on in-process servers, DNS from an
// in-process server that sets the AD bit as a validating resolver would,
// and a policy server.
type lab struct {
	ca     *tlstest.CA
	dns    *resolvertest.Server
	route  map[string]string // address in DNS -> where the test server listens
	policy string
	opts   Options
}

func spki(c *tlstest.CA) string {
	s := sha256.Sum256(c.Cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(s[:])
}

// newLab serves zone (with %s markers filled by the caller) and routes
// each 127.0.10.N:25 to the server given.
func newLab(t *testing.T, ca *tlstest.CA, zone string, b resolvertest.Behavior, route map[string]string, policy string) *lab {
	l := &lab{ca: ca, route: route, policy: policy}
	l.dns = resolvertest.StartBehavior(t, zone, b)
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := route[addr]
		if !ok {
			return nil, fmt.Errorf("test: no server for %s", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
	l.opts = Options{Domain: "lab.test", DNS: resolver.New([]string{l.dns.Addr()}), RootCAs: ca.Pool(), Dialer: wire.DialFunc(dialer),
		Timeout: 5 * time.Second, HELO: "client.test", From: "postmaster@client.test"}
	if policy != "" {
		leaf := ca.Leaf(t, tlstest.Options{DNSNames: []string{"mta-sts.lab.test"}})
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, policy)
		}))
		srv.TLS = tlstest.TLSConfig(leaf)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		l.opts.PolicyDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		}
	}
	return l
}

func mxServer(t *testing.T, ca *tlstest.CA, name string, noTLS bool) (*probetest.PolicyServer, *tlstest.CA) {
	leaf := ca.Leaf(t, tlstest.Options{CommonName: name, DNSNames: []string{name}})
	p := probetest.Policy{Domain: "lab.test", Hostname: name, NoSTARTTLS: noTLS}
	if !noTLS {
		p.TLS = tlstest.TLSConfig(leaf, ca)
	}
	return probetest.StartPolicy(t, p), leaf
}

const labHead = `$ORIGIN lab.test.
@ 300 IN SOA ns.lab.test. h.lab.test. 1 3600 600 86400 300
@ 300 IN MX 10 mx1.lab.test.
@ 300 IN MX 20 mx2.lab.test.
mx1 300 IN A 127.0.10.1
mx2 300 IN A 127.0.10.2
`

func TestCheckTwoHosts(t *testing.T) {
	ca := tlstest.NewCA(t, "Lab CA")
	s1, leaf1 := mxServer(t, ca, "mx1.lab.test", false)
	s2, _ := mxServer(t, ca, "mx2.lab.test", false)
	stranger := tlstest.NewCA(t, "Stranger")
	zone := labHead + fmt.Sprintf(`_25._tcp.mx1 300 IN TLSA 3 1 1 %s
_25._tcp.mx2 300 IN TLSA 3 1 1 %s
_mta-sts 300 IN TXT "v=STSv1; " "id=20260101"
_smtp._tls 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@lab.test"
`, spki(leaf1), spki(stranger))
	l := newLab(t, ca, zone, resolvertest.Behavior{AD: true},
		map[string]string{"127.0.10.1:25": s1.Addr(), "127.0.10.2:25": s2.Addr()},
		"version: STSv1\nmode: enforce\nmx: mx1.lab.test\nmax_age: 86400\n")
	rep, err := Check(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MXSecurity != resolver.Secure || len(rep.Hosts) != 2 || !strings.Contains(rep.Trust, "AD bit") {
		t.Fatalf("report %+v", rep)
	}
	h1, h2 := rep.Hosts[0], rep.Hosts[1]
	for _, h := range rep.Hosts {
		if h.STARTTLS.Status != Offered || h.Handshake.Status != OK || h.PKIX.Status != Valid || h.Name.Status != Match {
			t.Errorf("%s layers %+v %+v %+v %+v", h.Host, h.STARTTLS, h.Handshake, h.PKIX, h.Name)
		}
		if h.Enforcement == nil || h.Enforcement.Status != NotRequired {
			t.Errorf("%s enforcement %+v", h.Host, h.Enforcement)
		}
	}
	if h1.DANE.Verdict != dane.Pass || h2.DANE.Verdict != dane.FailMismatch || rep.DANE.Verdict != dane.FailMismatch {
		t.Errorf("DANE %s / %s / domain %s (%s)", h1.DANE.Verdict, h2.DANE.Verdict, rep.DANE.Verdict, rep.DANE.Reason)
	}
	if want := dane.EERecord(leaf1.Cert).String(); h2.DANE.Suggested == "" || h1.DANE.Suggested != "" || !strings.HasPrefix(want, "3 1 1 ") {
		t.Errorf("suggested %q / %q", h1.DANE.Suggested, h2.DANE.Suggested)
	}
	if rep.MTASTS.Verdict != mtasts.EnforceMXNotCovered || h1.MTASTS == nil || h1.MTASTS.Verdict != mtasts.MXPass || h2.MTASTS.Verdict != mtasts.MXFailNotCovered {
		t.Errorf("MTA-STS %s (%s), hosts %+v %+v", rep.MTASTS.Verdict, rep.MTASTS.Reason, h1.MTASTS, h2.MTASTS)
	}
	if rep.MTASTS.TXT == nil || rep.MTASTS.TXT.ID != "20260101" {
		t.Errorf("the TXT strings were not concatenated: %+v", rep.MTASTS.TXT)
	}
	if rep.TLSRPT.Verdict != tlsrpt.Valid {
		t.Errorf("TLS-RPT %+v", rep.TLSRPT)
	}
	if !strings.Contains(rep.Enforcement, "accept MAIL FROM before STARTTLS") {
		t.Errorf("enforcement note %q", rep.Enforcement)
	}
	var sawTLSA bool
	for _, a := range rep.Lookups {
		if a.Type == "TLSA" && a.Security == resolver.Secure {
			sawTLSA = true
		}
	}
	if !sawTLSA {
		t.Errorf("lookups %+v", rep.Lookups)
	}
}

func TestCheckInsecureZoneLooksUpNoTLSA(t *testing.T) {
	ca := tlstest.NewCA(t, "Lab CA")
	s1, leaf1 := mxServer(t, ca, "mx1.lab.test", false)
	zone := labHead + fmt.Sprintf("_25._tcp.mx1 300 IN TLSA 3 1 1 %s\n", spki(leaf1))
	l := newLab(t, ca, zone, resolvertest.Behavior{}, map[string]string{"127.0.10.1:25": s1.Addr(), "127.0.10.2:25": s1.Addr()}, "")
	rep, _ := Check(context.Background(), l.opts)
	if rep.DANE.Verdict != dane.NotApplicableInsecure || rep.Hosts[0].TLSA != nil {
		t.Fatalf("DANE %s, TLSA lookup %+v: TLSA must not be looked up without DNSSEC", rep.DANE.Verdict, rep.Hosts[0].TLSA)
	}
	if rep.MTASTS.Verdict != mtasts.NoPolicy || rep.TLSRPT.Verdict != tlsrpt.None {
		t.Errorf("MTA-STS %s TLS-RPT %s", rep.MTASTS.Verdict, rep.TLSRPT.Verdict)
	}
	for _, a := range rep.Lookups {
		if a.Type == "TLSA" {
			t.Errorf("TLSA asked in an unsigned zone: %+v", a)
		}
	}
}

func TestCheckDowngradeAndRateLimit(t *testing.T) {
	ca := tlstest.NewCA(t, "Lab CA")
	plain, _ := mxServer(t, ca, "mx1.lab.test", true)
	busy := probetest.NewScripted(t, probetest.Send("421 4.7.0 mx2.lab.test Too many connections, try again later\r\n"), probetest.Close())
	zone := labHead + `_25._tcp.mx1 300 IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
_25._tcp.mx2 300 IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
`
	l := newLab(t, ca, zone, resolvertest.Behavior{AD: true}, map[string]string{"127.0.10.1:25": plain.Addr(), "127.0.10.2:25": busy.Addr()}, "")
	rep, _ := Check(context.Background(), l.opts)
	h1, h2 := rep.Hosts[0], rep.Hosts[1]
	if h1.STARTTLS.Status != NotOffered || h1.DANE.Verdict != dane.FailDowngrade {
		t.Errorf("plain host: %+v, DANE %s", h1.STARTTLS, h1.DANE.Verdict)
	}
	if h2.STARTTLS.Status != Unknown || !strings.Contains(h2.STARTTLS.Detail, "421") || h2.DANE.Verdict != dane.Unknown {
		t.Errorf("a 421 must not read as no STARTTLS: %+v, DANE %s (%s)", h2.STARTTLS, h2.DANE.Verdict, h2.DANE.Reason)
	}
	if h2.Enforcement != nil {
		t.Errorf("enforcement checked on a host that refused: %+v", h2.Enforcement)
	}
	if rep.DANE.Verdict != dane.FailDowngrade {
		t.Errorf("domain DANE %s", rep.DANE.Verdict)
	}
}

func TestCheckBogus(t *testing.T) {
	ca := tlstest.NewCA(t, "Lab CA")
	s1, _ := mxServer(t, ca, "mx1.lab.test", false)
	route := map[string]string{"127.0.10.1:25": s1.Addr(), "127.0.10.2:25": s1.Addr()}
	t.Run("TLSA", func(t *testing.T) {
		l := newLab(t, ca, labHead, resolvertest.Behavior{AD: true, Bogus: []string{"_25._tcp.mx1.lab.test"}}, route, "")
		rep, _ := Check(context.Background(), l.opts)
		if rep.Hosts[0].DANE.Verdict != dane.UnusableBogus || rep.Hosts[1].DANE.Verdict != dane.NotApplicableNoTLSA || rep.DANE.Verdict != dane.UnusableBogus {
			t.Errorf("DANE %s %s domain %s", rep.Hosts[0].DANE.Verdict, rep.Hosts[1].DANE.Verdict, rep.DANE.Verdict)
		}
	})
	t.Run("MX", func(t *testing.T) {
		l := newLab(t, ca, labHead, resolvertest.Behavior{AD: true, Bogus: []string{"lab.test"}}, route, "")
		rep, _ := Check(context.Background(), l.opts)
		if rep.DANE.Verdict != dane.DNSBogus || rep.MXSecurity != resolver.Bogus || rep.MXError == "" {
			t.Errorf("DANE %s MX %s %q", rep.DANE.Verdict, rep.MXSecurity, rep.MXError)
		}
		if rep.MTASTS.Verdict != mtasts.FetchFailed {
			t.Errorf("MTA-STS %s: a SERVFAIL for the TXT record is not 'no policy'", rep.MTASTS.Verdict)
		}
	})
}

func TestCheckTLSAOfCNAMETarget(t *testing.T) {
	// RFC 7672 §2.2.3: mx1 is an alias of real.lab.test; the TLSA
	// records are looked up at the expanded name first, then at the
	// original.
	ca := tlstest.NewCA(t, "Lab CA")
	leaf := ca.Leaf(t, tlstest.Options{DNSNames: []string{"real.lab.test"}})
	srv := probetest.StartPolicy(t, probetest.Policy{Domain: "lab.test", Hostname: "real.lab.test", TLS: tlstest.TLSConfig(leaf, ca)})
	taOfCA := sha256.Sum256(ca.Cert.RawSubjectPublicKeyInfo)
	zone := `$ORIGIN lab.test.
@ 300 IN SOA ns.lab.test. h.lab.test. 1 3600 600 86400 300
@ 300 IN MX 10 mx1.lab.test.
mx1 300 IN CNAME real.lab.test.
real 300 IN A 127.0.10.1
_25._tcp.real 300 IN TLSA 2 1 1 ` + hex.EncodeToString(taOfCA[:]) + `
`
	l := newLab(t, ca, zone, resolvertest.Behavior{AD: true}, map[string]string{"127.0.10.1:25": srv.Addr()}, "")
	rep, _ := Check(context.Background(), l.opts)
	h := rep.Hosts[0]
	if h.TLSA == nil || h.TLSA.Name != "_25._tcp.real.lab.test" || h.DANE.Verdict != dane.Pass {
		t.Fatalf("TLSA %+v DANE %s (%s)", h.TLSA, h.DANE.Verdict, h.DANE.Reason)
	}
	if !strings.Contains(h.DANE.Reason, "names real.lab.test") {
		t.Errorf("DANE-TA must accept the TLSA base name: %s", h.DANE.Reason)
	}
}

// With no EHLO name given, each MX host of the domain receives this
// machine's FQDN or the address literal of the local address toward it
// (127.0.10.N is reached from 127.0.0.1), never localhost; the sender is
// postmaster@ that name, and the report records both per host.
func TestCheckEHLONamePerHost(t *testing.T) {
	ca := tlstest.NewCA(t, "Lab CA")
	s1, _ := mxServer(t, ca, "mx1.lab.test", false)
	s2, _ := mxServer(t, ca, "mx2.lab.test", true)
	l := newLab(t, ca, labHead, resolvertest.Behavior{}, map[string]string{"127.0.10.1:25": s1.Addr(), "127.0.10.2:25": s2.Addr()}, "")
	l.opts.HELO, l.opts.From = "", ""
	want, source := wire.FQDNHostname(), wire.HELOHostname
	if want == "" {
		want, source = "[127.0.0.1]", wire.HELOAddressLiteral
	}
	rep, err := Check(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 2 {
		t.Fatalf("hosts %+v", rep.Hosts)
	}
	for i, s := range []*probetest.PolicyServer{s1, s2} {
		h := rep.Hosts[i]
		if h.HELOName != want || h.HELOSource != source || h.From != "postmaster@"+want {
			t.Errorf("%s: helo %q (%s), from %q; want %s (%s), postmaster@%s", h.Host, h.HELOName, h.HELOSource, h.From, want, source, want)
		}
		var ehlo, mail []string
		for _, c := range s.Commands() {
			if strings.HasPrefix(c, "EHLO ") {
				ehlo = append(ehlo, c)
			}
			if strings.HasPrefix(c, "MAIL ") {
				mail = append(mail, c)
			}
		}
		if len(ehlo) == 0 || len(mail) != 1 || mail[0] != "MAIL FROM:<postmaster@"+want+">" {
			t.Errorf("%s received EHLO %q, MAIL %q", h.Host, ehlo, mail)
		}
		for _, c := range ehlo {
			if c != "EHLO "+want {
				t.Errorf("%s received %q; want EHLO %s", h.Host, c, want)
			}
		}
	}

	l.opts.NoEnforcement = true
	before := len(s1.Commands())
	rep, err = Check(context.Background(), l.opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s1.Commands()[before:] {
		if strings.HasPrefix(c, "MAIL ") {
			t.Errorf("NoEnforcement still sent %q", c)
		}
	}
	if h := rep.Hosts[0]; h.Enforcement != nil || h.From != "" || h.HELOName != want {
		t.Errorf("NoEnforcement: host %+v", h)
	}
}
