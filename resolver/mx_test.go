package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/miekg/dns"
	"github.com/smtpprobe/smtpprobe/resolver"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// labDNS is the independent DNS server .ci/services/dns.sh starts with the
// same zone files.
const labDNS = "127.0.0.1:10053"

func zoneText(t testing.TB) string {
	t.Helper()
	z, err := resolvertest.ReadZoneDir("../testdata/zones")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// mxCase is one name of testdata/zones and what LookupMX must make of it.
type mxCase struct {
	domain   string
	kind     string // Result.Kind; empty when an error is expected
	code     string
	rcode    string
	errKind  string   // Error.Kind expected
	hosts    []string // host names in display order (first few are enough)
	nhosts   int      // when non-zero, the number of hosts
	usable   bool
	warnings []string // substrings of the domain warnings
	hostWarn map[string]string
	check    func(t *testing.T, r resolver.Result)
}

var mxCases = []mxCase{
	{domain: "explicit.mx.test", kind: "explicit", code: "explicit", rcode: "NOERROR", usable: true,
		hosts: []string{"mx1.explicit.mx.test", "mx2.explicit.mx.test", "mx3.explicit.mx.test"},
		check: func(t *testing.T, r resolver.Result) {
			h := r.Hosts[0]
			want := []netip.Addr{netip.MustParseAddr("127.0.0.11"), netip.MustParseAddr("::1")}
			if got := addrs(h); !slices.Equal(got, want) {
				t.Errorf("mx1 addresses %v, want %v", got, want)
			}
			if h.Preference != 10 || r.Hosts[2].Preference != 20 {
				t.Errorf("preferences %d, %d", h.Preference, r.Hosts[2].Preference)
			}
			if r.TTL != 300 || h.Addresses[0].TTL != 300 || r.Hosts[2].Addresses[0].TTL != 600 {
				t.Errorf("TTLs: MX %d, mx1 A %d, mx3 A %d", r.TTL, h.Addresses[0].TTL, r.Hosts[2].Addresses[0].TTL)
			}
			if len(r.Warnings) != 0 || len(h.Warnings) != 0 {
				t.Errorf("unexpected warnings %q %q", r.Warnings, h.Warnings)
			}
		}},
	{domain: "implicit.mx.test", kind: "implicit", code: "implicit", rcode: "NOERROR", usable: true,
		hosts: []string{"implicit.mx.test"},
		check: func(t *testing.T, r resolver.Result) {
			if h := r.Hosts[0]; !h.Implicit || h.Preference != 0 || len(h.Addresses) != 2 {
				t.Errorf("implicit host %+v", h)
			}
		}},
	{domain: "nodata.mx.test", kind: "none", code: "nodata", rcode: "NOERROR", nhosts: -1},
	{domain: "nxdomain.mx.test", kind: "none", code: "nxdomain", rcode: "NXDOMAIN", nhosts: -1},
	{domain: "null.mx.test", kind: "null", code: "null", rcode: "NOERROR", nhosts: -1},
	{domain: "nullmixed.mx.test", kind: "explicit", code: "null-mixed", rcode: "NOERROR", usable: true,
		hosts: []string{"mx1.explicit.mx.test"}, nhosts: 1, warnings: []string{"null MX (MX 0 .) published together"}},
	{domain: "cnamedomain.mx.test", kind: "explicit", code: "explicit", rcode: "NOERROR", usable: true,
		hosts: []string{"mx1.explicit.mx.test", "mx2.explicit.mx.test", "mx3.explicit.mx.test"},
		check: func(t *testing.T, r resolver.Result) {
			if !slices.Equal(r.CNAMEs, []string{"explicit.mx.test"}) || len(r.Warnings) != 0 {
				t.Errorf("CNAMEs %q warnings %q", r.CNAMEs, r.Warnings)
			}
		}},
	{domain: "cnametarget.mx.test", kind: "explicit", code: "mx-cname", usable: true,
		hosts:    []string{"alias.cnametarget.mx.test"},
		hostWarn: map[string]string{"alias.cnametarget.mx.test": "alias (CNAME) for real.cnametarget.mx.test"},
		check: func(t *testing.T, r resolver.Result) {
			if got := addrs(r.Hosts[0]); len(got) != 1 || got[0] != netip.MustParseAddr("127.0.0.30") {
				t.Errorf("addresses through the CNAME: %v", got)
			}
		}},
	{domain: "loop.mx.test", errKind: "cname-loop"},
	{domain: "looptarget.mx.test", kind: "explicit", code: "no-address", hosts: []string{"loop.mx.test"},
		warnings: []string{"no MX host has an address, so mail to this domain cannot be delivered: loop.mx.test has CNAMEs that loop"},
		check: func(t *testing.T, r resolver.Result) {
			// a CNAME loop is the zone's data: the server answered
			if r.Hosts[0].ErrorKind != "cname-loop" || !r.DNSFailed() || r.Unanswered() {
				t.Errorf("host error %q (%s)", r.Hosts[0].Error, r.Hosts[0].ErrorKind)
			}
		}},
	{domain: "chain8.mx.test", kind: "explicit", code: "explicit", usable: true, nhosts: 3,
		check: func(t *testing.T, r resolver.Result) {
			if len(r.CNAMEs) != 8 || r.CNAMEs[7] != "explicit.mx.test" {
				t.Errorf("CNAMEs %q", r.CNAMEs)
			}
		}},
	{domain: "chain10.mx.test", errKind: "cname-chain-too-long"},
	{domain: "iptarget.mx.test", kind: "explicit", code: "no-address", hosts: []string{"127.0.0.1"},
		hostWarn: map[string]string{"127.0.0.1": "IP address written as a name"},
		warnings: []string{"no MX host has an address"}},
	{domain: "noaddr.mx.test", kind: "explicit", code: "no-address",
		hosts:    []string{"missing.noaddr.mx.test", "empty.noaddr.mx.test"},
		warnings: []string{"no MX host has an address, so mail to this domain cannot be delivered: missing.noaddr.mx.test does not exist (NXDOMAIN); empty.noaddr.mx.test has no A or AAAA record"},
		hostWarn: map[string]string{"missing.noaddr.mx.test": "does not exist (NXDOMAIN)", "empty.noaddr.mx.test": "has no A or AAAA"}},
	{domain: "partial.mx.test", kind: "explicit", code: "partial", usable: true,
		hosts:    []string{"missing.partial.mx.test", "mx1.explicit.mx.test"},
		hostWarn: map[string]string{"missing.partial.mx.test": "senders skip it"}},
	{domain: "bücher.mx.test", kind: "explicit", code: "explicit", usable: true, hosts: []string{"mx1.explicit.mx.test"},
		check: func(t *testing.T, r resolver.Result) {
			if r.Domain != "xn--bcher-kva.mx.test" {
				t.Errorf("Domain %q, want the A-label", r.Domain)
			}
		}},
	{domain: "Explicit.MX.test.", kind: "explicit", code: "explicit", usable: true, nhosts: 3},
	{domain: "big.mx.test", kind: "explicit", code: "mx-warnings", usable: true, nhosts: 32,
		warnings: []string{"40 MX records; only the first 32"},
		check: func(t *testing.T, r resolver.Result) {
			if r.TruncatedHosts != 8 {
				t.Errorf("TruncatedHosts %d", r.TruncatedHosts)
			}
			if !slices.ContainsFunc(r.Queries, func(q resolver.Query) bool { return q.Type == "MX" && q.Transport == "tcp" && q.Outcome == "answer" }) {
				t.Errorf("no MX query over TCP: %+v", r.Queries)
			}
			if !slices.ContainsFunc(r.Queries, func(q resolver.Query) bool { return q.Type == "MX" && q.Transport == "udp" && q.Truncated }) {
				t.Errorf("no truncated UDP MX answer")
			}
		}},
	{domain: "wide.mx.test", kind: "explicit", code: "mx-warnings", usable: true, nhosts: 2,
		hostWarn: map[string]string{"a.wide.mx.test": "100 addresses; only 32 kept"},
		check: func(t *testing.T, r resolver.Result) {
			for _, h := range r.Hosts {
				if len(h.Addresses) != 32 || h.TruncatedAddresses != 68 {
					t.Errorf("%s: %d addresses, %d truncated", h.Name, len(h.Addresses), h.TruncatedAddresses)
				}
			}
		}},
	{domain: "many.mx.test", kind: "explicit", code: "mx-warnings", usable: true, nhosts: 32,
		hosts: []string{"h0000.many.mx.test", "h0001.many.mx.test"},
		check: func(t *testing.T, r resolver.Result) {
			if r.TruncatedHosts != 968 {
				t.Errorf("TruncatedHosts %d", r.TruncatedHosts)
			}
			// bounded work: one MX answer plus A and AAAA for 32 hosts
			if n := len(r.Queries); n > 2+2*32*2 {
				t.Errorf("%d queries", n)
			}
		}},
	{domain: "[127.0.0.1]", kind: "literal", code: "literal", usable: true, hosts: []string{"[127.0.0.1]"},
		check: func(t *testing.T, r resolver.Result) {
			if len(r.Queries) != 0 {
				t.Errorf("an address literal made %d queries", len(r.Queries))
			}
		}},
	{domain: "[IPv6:::1]", kind: "literal", code: "literal", usable: true, hosts: []string{"[IPv6:::1]"}},
}

func addrs(h resolver.Host) []netip.Addr {
	var out []netip.Addr
	for _, a := range h.Addresses {
		out = append(out, a.IP)
	}
	return out
}

// runMXCases checks every case of the zone against the server at addr.
func runMXCases(t *testing.T, addr string) {
	c := resolver.New([]string{addr})
	for _, tc := range mxCases {
		t.Run(tc.domain, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r, err := c.LookupMX(ctx, tc.domain)
			if tc.errKind != "" {
				var e *resolver.Error
				if !errors.As(err, &e) || e.Kind != tc.errKind {
					t.Fatalf("error %v, want kind %s", err, tc.errKind)
				}
				if e.Finding().Meaning == "" {
					t.Errorf("no explanation for %s", e.Kind)
				}
				if r.Kind != "unresolved" || r.Code != tc.errKind || r.Finding.Code != tc.errKind || len(r.Queries) == 0 {
					t.Errorf("partial result: kind %q code %q finding %q, %d queries", r.Kind, r.Code, r.Finding.Code, len(r.Queries))
				}
				return
			}
			if err != nil {
				t.Fatalf("LookupMX: %v", err)
			}
			if r.Kind != tc.kind || r.Code != tc.code {
				t.Fatalf("kind %s code %s, want %s %s (hosts %+v)", r.Kind, r.Code, tc.kind, tc.code, r.Hosts)
			}
			if tc.rcode != "" && r.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", r.Rcode, tc.rcode)
			}
			if r.Finding.Meaning == "" || r.Finding.Code != r.Code {
				t.Errorf("finding %+v", r.Finding)
			}
			if r.Kind != "literal" && (r.Server != addr || len(r.Queries) == 0) {
				t.Errorf("server %q, %d queries", r.Server, len(r.Queries))
			}
			for _, q := range r.Queries {
				if q.RTT <= 0 || q.Server != addr {
					t.Errorf("query %+v", q)
				}
			}
			switch {
			case tc.nhosts < 0 && len(r.Hosts) != 0:
				t.Errorf("hosts %+v, want none", r.Hosts)
			case tc.nhosts > 0 && len(r.Hosts) != tc.nhosts:
				t.Errorf("%d hosts, want %d", len(r.Hosts), tc.nhosts)
			}
			for i, want := range tc.hosts {
				if i >= len(r.Hosts) || r.Hosts[i].Name != want {
					t.Errorf("host %d: want %s, hosts %v", i, want, hostNames(r))
				}
			}
			if r.Usable() != tc.usable {
				t.Errorf("Usable %v, want %v", r.Usable(), tc.usable)
			}
			for _, w := range tc.warnings {
				if !slices.ContainsFunc(r.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no warning %q in %q", w, r.Warnings)
				}
			}
			for host, w := range tc.hostWarn {
				i := slices.IndexFunc(r.Hosts, func(h resolver.Host) bool { return h.Name == host })
				if i < 0 || !slices.ContainsFunc(r.Hosts[i].Warnings, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("host %s: no warning %q in %+v", host, w, r.Hosts)
				}
			}
			if hasWarnings(r) && strings.HasPrefix(r.Finding.Fix, "Nothing to fix") {
				t.Errorf("finding %s says %q under warnings %q", r.Code, r.Finding.Fix, r.Warnings)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func hasWarnings(r resolver.Result) bool {
	return len(r.Warnings) > 0 || slices.ContainsFunc(r.Hosts, func(h resolver.Host) bool { return len(h.Warnings) > 0 })
}

func hostNames(r resolver.Result) []string {
	var n []string
	for _, h := range r.Hosts {
		n = append(n, h.Name)
	}
	return n
}

func TestLookupMX(t *testing.T) {
	s := resolvertest.Start(t, zoneText(t))
	runMXCases(t, s.Addr())
}

// TestLookupMXLab runs the same cases against an independent server
// (NSD, started by .ci/services/dns.sh) serving the same zone files.
func TestLookupMXLab(t *testing.T) {
	requireLabDNS(t)
	runMXCases(t, labDNS)
}

func requireLabDNS(t *testing.T) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("mx.test.", dns.TypeSOA)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, labDNS)
	if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("lab DNS server on %s is not serving mx.test (%v); .ci/services/dns.sh should have started it", labDNS, err)
	}
	t.Skipf("lab DNS server on %s not running (%v); run .ci/services/dns.sh", labDNS, err)
}

func TestCheckPTR(t *testing.T) {
	s := resolvertest.Start(t, zoneText(t))
	c := resolver.New([]string{s.Addr()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := c.LookupMX(ctx, "ptr.mx.test")
	if err != nil {
		t.Fatal(err)
	}
	n := len(r.Queries)
	c.CheckPTR(ctx, &r)
	if len(r.Queries) <= n {
		t.Errorf("CheckPTR recorded no queries")
	}
	want := map[string]struct {
		names     string
		confirmed bool
		warning   string
	}{
		"good.ptr.mx.test": {"good.ptr.mx.test", true, ""},
		"bad.ptr.mx.test":  {"elsewhere.mx.test", false, "not forward-confirmed"},
		"none.ptr.mx.test": {"", false, "no PTR record"},
	}
	for _, h := range r.Hosts {
		w := want[h.Name]
		p := h.Addresses[0].PTR
		if p == nil {
			t.Fatalf("%s: no PTR result", h.Name)
		}
		if strings.Join(p.Names, ",") != w.names || p.Confirmed != w.confirmed {
			t.Errorf("%s: PTR %q confirmed %v, want %q %v", h.Name, p.Names, p.Confirmed, w.names, w.confirmed)
		}
		if w.warning != "" && !slices.ContainsFunc(p.Warnings, func(s string) bool { return strings.Contains(s, w.warning) }) {
			t.Errorf("%s: warnings %q, want %q", h.Name, p.Warnings, w.warning)
		}
		if w.warning == "" && len(p.Warnings) != 0 {
			t.Errorf("%s: unexpected warnings %q", h.Name, p.Warnings)
		}
	}
}

func TestDeliveryOrder(t *testing.T) {
	s := resolvertest.Start(t, zoneText(t))
	c := resolver.New([]string{s.Addr()})
	r, err := c.LookupMX(context.Background(), "explicit.mx.test")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	first := map[string]int{}
	for range 200 {
		order := r.DeliveryOrder(rng)
		if len(order) != 3 || order[2].Name != "mx3.explicit.mx.test" {
			t.Fatalf("order %v: the preference-20 host must come last", order)
		}
		first[order[0].Name]++
	}
	if first["mx1.explicit.mx.test"] < 50 || first["mx2.explicit.mx.test"] < 50 {
		t.Errorf("equal-preference hosts not randomised: %v", first)
	}
	if hostNames(r)[0] != "mx1.explicit.mx.test" {
		t.Errorf("DeliveryOrder changed the Result's own order: %v", hostNames(r))
	}
}

// TestQueryOrder: the queries are listed in the order they were planned
// (MX, then A and AAAA host by host, then PTR address by address), the
// same on every run although the lookups run concurrently.
func TestQueryOrder(t *testing.T) {
	s := resolvertest.Start(t, zoneText(t))
	c := resolver.New([]string{s.Addr()})
	want := []string{"MX explicit.mx.test.",
		"A mx1.explicit.mx.test.", "AAAA mx1.explicit.mx.test.",
		"A mx2.explicit.mx.test.", "AAAA mx2.explicit.mx.test.",
		"A mx3.explicit.mx.test.", "AAAA mx3.explicit.mx.test.",
		"PTR 11.0.0.127.in-addr.arpa."}
	for range 20 {
		r, err := c.LookupMX(context.Background(), "explicit.mx.test")
		if err != nil {
			t.Fatal(err)
		}
		c.CheckPTR(context.Background(), &r)
		var got []string
		for _, q := range r.Queries {
			got = append(got, q.Type+" "+q.Name)
		}
		if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
			t.Fatalf("queries in order %q, want them to start %q", got, want)
		}
	}
}

func TestParseDomain(t *testing.T) {
	good := map[string]string{
		"example.com":     "example.com",
		"Example.COM.":    "example.com",
		"bücher.example":  "xn--bcher-kva.example",
		"xn--bcher-kva.x": "xn--bcher-kva.x",
	}
	for in, want := range good {
		d, err := resolver.ParseDomain(in)
		if err != nil || d.Name != want {
			t.Errorf("ParseDomain(%q) = %q, %v; want %q", in, d.Name, err, want)
		}
	}
	lits := map[string]string{"[192.0.2.1]": "192.0.2.1", "[IPv6:2001:db8::1]": "2001:db8::1", "[ipv6:::1]": "::1"}
	for in, want := range lits {
		d, err := resolver.ParseDomain(in)
		if err != nil || d.Literal.String() != want {
			t.Errorf("ParseDomain(%q) = %v, %v; want literal %s", in, d.Literal, err, want)
		}
	}
	bad := []string{"", ".", "..", "192.0.2.1", "::1", "a..b", ".a", "a b", "a\r\nb", "a\x00b", "[192.0.2.1", "[2001:db8::1]", "[IPv6:192.0.2.1]",
		"[300.1.1.1]", "under_score.example", "-lead.example", "user@example.com", "ab\u202ec.example", "\u0301a.example", "a\\b.example", strings.Repeat("a", 64) + ".example", strings.Repeat("a.", 130) + "x"}
	for _, in := range bad {
		if d, err := resolver.ParseDomain(in); err == nil {
			t.Errorf("ParseDomain(%q) = %+v, want an error", in, d)
		} else if strings.ContainsFunc(err.Error(), func(r rune) bool { return !unicode.IsPrint(r) }) || strings.Contains(err.Error(), "idna") {
			t.Errorf("ParseDomain(%q): error %q carries a character that does not print, or library wording", in, err)
		}
	}
	// The error names what is wrong and where, in plain words, with no
	// backslash escapes that a terminal escaper would double.
	messages := map[string]string{
		"x\x1by.test":           "domain contains a control character (U+001B) at position 2",
		"a b":                   "domain contains a space at position 2",
		"under_score.example":   `"under_score.example" is not a valid domain name: the character '_' (U+005F) at position 6 cannot appear in a domain name; use letters, digits and hyphens`,
		"ab\u202ec.example":     `"ab<U+202E>c.example" is not a valid domain name: the character U+202E at position 3 cannot appear in a domain name; use letters, digits and hyphens`,
		"user@explicit.mx.test": `"user@explicit.mx.test" is not a valid domain name: it is an address (with @); did you mean explicit.mx.test?`,
		"user@":                 `"user@" is not a valid domain name: it holds an @, as an address does`,
		"-lead.example":         `"-lead.example" is not a valid domain name: the label "-lead" starts or ends with a hyphen`,
		"xn--zz.example":        `"xn--zz.example" is not a valid domain name: the label "xn--zz" is not valid punycode`,
		`[IPv6:z"z]`:            `"[IPv6:z"z]" is not a valid IPv6 address literal`,
	}
	for in, want := range messages {
		if _, err := resolver.ParseDomain(in); err == nil || err.Error() != want {
			t.Errorf("ParseDomain(%q): error %v, want %q", in, err, want)
		}
	}
}

func TestServerAddr(t *testing.T) {
	good := map[string]string{"127.0.0.1": "127.0.0.1:53", "127.0.0.1:5353": "127.0.0.1:5353", "::1": "[::1]:53", "[::1]:5353": "[::1]:5353", "[::1]": "[::1]:53"}
	for in, want := range good {
		if got, err := resolver.ServerAddr(in); err != nil || got != want {
			t.Errorf("ServerAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:x", ":53", "a b"} {
		if got, err := resolver.ServerAddr(in); err == nil {
			t.Errorf("ServerAddr(%q) = %q, want an error", in, got)
		}
	}
}

func TestFindingsComplete(t *testing.T) {
	for _, f := range resolver.Findings() {
		if f.Code == "" || f.Meaning == "" || f.Fix == "" {
			t.Errorf("finding %+v is incomplete", f)
		}
	}
	for _, code := range []string{"explicit", "implicit", "null", "nxdomain", "nodata", "servfail", "refused", "timeout", "malformed", "truncated-no-tcp", "cname-loop", "cname-chain-too-long", "literal", "input", "no-address", "hosts-unanswered", "null-mixed", "partial", "mx-cname", "mx-warnings"} {
		if resolver.Explain(code).Meaning == "" {
			t.Errorf("no finding for %s", code)
		}
	}
}

// TestFindingRemedies: the outcomes the asker can work around carry the
// remedy as a fact, and only those; every remedy names a known kind.
func TestFindingRemedies(t *testing.T) {
	want := map[string][]resolver.Remedy{
		"hosts-unanswered": {resolver.RemedyOtherServer},
		"refused":          {resolver.RemedyOtherServer},
		"timeout":          {resolver.RemedyLongerTimeout, resolver.RemedyOtherServer},
		"config":           {resolver.RemedyOtherServer},
	}
	for _, f := range resolver.Findings() {
		if fmt.Sprint(f.Remedies) != fmt.Sprint(want[f.Code]) {
			t.Errorf("%s: remedies %v; want %v", f.Code, f.Remedies, want[f.Code])
		}
	}
	if got := resolver.Explain("timeout").Remedies; len(got) != 2 {
		t.Errorf("Explain(timeout).Remedies = %v", got)
	}
}
