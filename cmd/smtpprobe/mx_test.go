package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// labDNSAddr is the independent server .ci/services/dns.sh starts (NSD)
// with the zones of testdata/zones.
const labDNSAddr = "127.0.0.1:10053"

func runMXCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = runEnv(context.Background(), append([]string{"mx"}, args...), e)
	return code, out.String(), errb.String()
}

func mxZone(t *testing.T) string {
	t.Helper()
	z, err := resolvertest.ReadZoneDir("../../testdata/zones")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// mxCLICases is every name of testdata/zones with the exit code, JSON kind
// and a line of the text output `smtpprobe mx` must give.
var mxCLICases = []struct {
	domain string
	code   int
	kind   string
	text   string
}{
	{"explicit.mx.test", exitOK, "explicit", "mx1.explicit.mx.test  127.0.0.11"},
	{"implicit.mx.test", exitOK, "implicit", "(implicit MX)"},
	{"nodata.mx.test", exitCheck, "none", "no MX and no address (NODATA)"},
	{"nxdomain.mx.test", exitCheck, "none", "does not exist (NXDOMAIN)"},
	{"null.mx.test", exitOK, "null", "null MX: the domain accepts no mail"},
	{"nullmixed.mx.test", exitOK, "explicit", "Fix: Decide whether the domain takes mail"},
	{"cnamedomain.mx.test", exitOK, "explicit", "via CNAME: explicit.mx.test"},
	{"cnametarget.mx.test", exitOK, "explicit", "alias (CNAME) for real.cnametarget.mx.test"},
	{"loop.mx.test", exitDNS, "unresolved", "CNAME loop"},
	{"looptarget.mx.test", exitCheck, "explicit", "cannot be delivered: loop.mx.test has CNAMEs that loop"},
	{"chain8.mx.test", exitOK, "explicit", "d7.chain8.mx.test → explicit.mx.test"},
	{"chain10.mx.test", exitDNS, "unresolved", "more than 8 CNAMEs"},
	{"iptarget.mx.test", exitCheck, "explicit", "IP address written as a name"},
	{"noaddr.mx.test", exitCheck, "explicit", "missing.noaddr.mx.test does not exist (NXDOMAIN); empty.noaddr.mx.test has no A or AAAA record"},
	{"partial.mx.test", exitOK, "explicit", "Fix: Give the hosts named in the warnings A or AAAA records"},
	{"bücher.mx.test", exitOK, "explicit", "xn--bcher-kva.mx.test (bücher.mx.test)"},
	{"EXPLICIT.mx.test.", exitOK, "explicit", "mx3.explicit.mx.test  127.0.0.13"},
	{"big.mx.test", exitOK, "explicit", "8 more MX hosts not resolved"},
	{"wide.mx.test", exitOK, "explicit", "100 addresses; only 32 kept"},
	{"many.mx.test", exitOK, "explicit", "968 more MX hosts not resolved"},
	{"ptr.mx.test", exitOK, "explicit", "good.ptr.mx.test  127.0.0.40"},
	{"[127.0.0.1]", exitOK, "literal", "address literal: no DNS involved"},
}

func runMXCLICases(t *testing.T, server string) {
	for _, tc := range mxCLICases {
		t.Run(tc.domain, func(t *testing.T) {
			code, out, errOut := runMXCmd(t, "--dns", server, "--timeout", "5s", tc.domain)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out, tc.text) {
				t.Errorf("output lacks %q:\n%s", tc.text, out)
			}
			if errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
			if strings.Contains(out, "\nWarnings:") && strings.Contains(out, "Nothing to fix") {
				t.Errorf("\"Nothing to fix\" under warnings:\n%s", out)
			}
			code, out, _ = runMXCmd(t, "--dns", server, "--timeout", "5s", "--json", tc.domain)
			if code != tc.code {
				t.Errorf("--json: exit %d, want %d", code, tc.code)
			}
			var doc struct {
				SchemaVersion int    `json:"schema_version"`
				Domain        string `json:"domain"`
				Kind          string `json:"kind"`
				Rcode         string `json:"rcode"`
				Hosts         []struct {
					Host       string            `json:"host"`
					Preference *int              `json:"preference"`
					Addresses  []json.RawMessage `json:"addresses"`
					Warnings   []string          `json:"warnings"`
				} `json:"hosts"`
				Warnings []string          `json:"warnings"`
				Queries  []json.RawMessage `json:"queries"`
				Error    *struct {
					Kind    string `json:"kind"`
					Finding struct {
						Meaning string `json:"meaning"`
					} `json:"finding"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("JSON: %v\n%s", err, out)
			}
			if doc.SchemaVersion != 1 || doc.Kind != tc.kind || doc.Warnings == nil || doc.Hosts == nil {
				t.Errorf("JSON: schema %d kind %q (want %q), warnings %v, hosts %v", doc.SchemaVersion, doc.Kind, tc.kind, doc.Warnings, doc.Hosts)
			}
			for _, h := range doc.Hosts {
				if h.Host == "" || h.Preference == nil || h.Addresses == nil || h.Warnings == nil {
					t.Errorf("JSON host %+v lacks a field", h)
				}
			}
			if (code == exitDNS) != (doc.Error != nil && doc.Error.Finding.Meaning != "") && tc.kind == "unresolved" {
				t.Errorf("JSON error %+v for exit %d", doc.Error, code)
			}
			if tc.kind != "literal" && len(doc.Queries) == 0 {
				t.Errorf("JSON has no queries")
			}
			if tc.kind != "literal" && doc.Rcode == "" { // every server here answers
				t.Errorf("JSON rcode is empty")
			}
		})
	}
}

func TestMXCommand(t *testing.T) {
	s := resolvertest.Start(t, mxZone(t))
	runMXCLICases(t, s.Addr())
}

// TestMXCommandLab runs every case against NSD (.ci/services/dns.sh).
func TestMXCommandLab(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("mx.test.", dns.TypeSOA)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, labDNSAddr)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		if os.Getenv("CI") == "true" {
			t.Fatalf("lab DNS server on %s not serving mx.test (%v); .ci/services/dns.sh should have started it", labDNSAddr, err)
		}
		t.Skipf("lab DNS server on %s not running (%v); run .ci/services/dns.sh", labDNSAddr, err)
	}
	runMXCLICases(t, labDNSAddr)
}

func TestMXPTR(t *testing.T) {
	s := resolvertest.Start(t, mxZone(t))
	code, out, _ := runMXCmd(t, "--dns", s.Addr(), "--ptr", "ptr.mx.test")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"PTR good.ptr.mx.test (FCrDNS ok)", "PTR elsewhere.mx.test (not confirmed)", "127.0.0.42  no PTR"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = runMXCmd(t, "--dns", s.Addr(), "--ptr", "--json", "ptr.mx.test")
	if !strings.Contains(out, `"confirmed": true`) || !strings.Contains(out, `"confirmed": false`) {
		t.Errorf("JSON lacks the PTR results:\n%s", out)
	}
}

func TestMXUsage(t *testing.T) {
	cases := [][]string{
		{},
		{"a.example", "b.example"},
		{"--bogus", "a.example"},
		{"--timeout", "0s", "a.example"},
		{"--timeout", "1ns", "a.example"},
		{"--timeout", "24h", "a.example"},
		{"--timeout", "soon", "a.example"},
		{"--dns", "", "a.example"},
		{"--dns", "127.0.0.1:99999", "a.example"},
		{"--dns", "127.0.0.1:x", "a.example"},
		{"--color", "sometimes", "a.example"},
		{"a..example"},
		{""},
		{"a\r\nb.example"},
		{"a\x00b"},
		{"a\x1b[31mb"},
		{"under_score.example"},
		{"user@explicit.mx.test"},
		{"x\u202ey.example"},
		{"[192.0.2.1"},
		{"[IPv6:zz]"},
		{strings.Repeat("a", 64) + ".example"},
	}
	for _, args := range cases {
		code, out, errOut := runMXCmd(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
		if out != "" {
			t.Errorf("%q: stdout %q", args, out)
		}
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "smtpprobe mx: ") || strings.ContainsAny(errOut, "\x00\x1b\r") {
			t.Errorf("%q: stderr %q, want one error line and a hint", args, errOut)
		}
	}
	// The first stderr line, word for word: plain, escaped once, no
	// library wording.
	firstLines := map[string]string{
		"x\x1by.test":           "smtpprobe mx: domain contains a control character (U+001B) at position 2",
		"user@explicit.mx.test": "smtpprobe mx: an address was given; mx takes a domain — did you mean explicit.mx.test?",
		"user@bad_domain.test":  "smtpprobe mx: an address was given; mx takes a domain",
		"under_score.mx.test":   `smtpprobe mx: "under_score.mx.test" is not a valid domain name: the character '_' (U+005F) at position 6 cannot appear in a domain name; use letters, digits and hyphens`,
		`back\slash.test`:       `smtpprobe mx: "back\slash.test" is not a valid domain name: the character '\' (U+005C) at position 5 cannot appear in a domain name; use letters, digits and hyphens`,
	}
	for arg, want := range firstLines {
		code, out, errOut := runMXCmd(t, "--dns", "127.0.0.1:1", arg)
		if first, _, _ := strings.Cut(errOut, "\n"); code != exitUsage || out != "" || first != want {
			t.Errorf("%q: exit %d, stderr %q, want %q", arg, code, first, want)
		}
	}
	if code, out, _ := runMXCmd(t, "--help"); code != exitOK || !strings.Contains(out, "smtpprobe mx [flags] DOMAIN") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

// TestMXDNSFailures checks exit 3 and the explanation for servers that do
// not answer, each within its --timeout.
func TestMXDNSFailures(t *testing.T) {
	zone := mxZone(t)
	cases := []struct {
		name string
		b    resolvertest.Behavior
		text string
	}{
		{"silent", resolvertest.Behavior{Silent: true}, "No DNS server answered in time"},
		{"servfail", resolvertest.Behavior{Rcode: dns.RcodeServerFailure}, "SERVFAIL"},
		{"refused", resolvertest.Behavior{Rcode: dns.RcodeRefused}, "REFUSED"},
		{"malformed", resolvertest.Behavior{Malformed: true}, "does not parse"},
		{"truncated-no-tcp", resolvertest.Behavior{Truncate: true, NoTCP: true}, "does not answer over TCP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := resolvertest.StartBehavior(t, zone, tc.b)
			start := time.Now()
			code, out, _ := runMXCmd(t, "--dns", s.Addr(), "--timeout", "1s", "explicit.mx.test")
			elapsed := time.Since(start)
			t.Logf("%s: exit %d in %v", tc.name, code, elapsed.Round(time.Millisecond))
			if code != exitDNS {
				t.Errorf("exit %d, want %d\n%s", code, exitDNS, out)
			}
			if !strings.Contains(out, "DNS could not answer") || !strings.Contains(out, tc.text) || !strings.Contains(out, "Fix: ") {
				t.Errorf("output lacks the finding %q:\n%s", tc.text, out)
			}
			if elapsed > 3*time.Second { // --timeout plus slack for a loaded machine
				t.Errorf("took %v with --timeout 1s", elapsed)
			}
		})
	}
}

// TestMXHostsUnanswered: the MX answer is fine but every address lookup
// gets SERVFAIL. Nothing is known of the hosts, so that is DNS failing
// (exit 3), not a domain without a mail host (exit 1).
func TestMXHostsUnanswered(t *testing.T) {
	s := resolvertest.StartBehavior(t, mxZone(t), resolvertest.Behavior{Rcode: dns.RcodeServerFailure, Types: []uint16{dns.TypeA, dns.TypeAAAA}})
	code, out, _ := runMXCmd(t, "--dns", s.Addr(), "--timeout", "5s", "explicit.mx.test")
	if code != exitDNS {
		t.Errorf("exit %d, want %d\n%s", code, exitDNS, out)
	}
	for _, want := range []string{"DNS did not answer for any MX host's address", "mx1.explicit.mx.test got no answer for its address from any DNS server (servfail)", "Fix: Check that the zones of the MX hosts"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestMXEscapesDNSText checks that bytes from DNS never reach the
// terminal raw: a name holding ESC and CR is shown escaped.
func TestMXEscapesDNSText(t *testing.T) {
	zone := `$ORIGIN evil.test.
$TTL 60
@ SOA ns hostmaster 1 60 60 60 60
@ MX 10 bad\027[31m\013name
bad\027[31m\013name A 127.0.0.1
`
	s := resolvertest.Start(t, zone)
	for _, args := range [][]string{{"evil.test"}, {"--json", "evil.test"}, {"--ptr", "evil.test"}} {
		code, out, _ := runMXCmd(t, append([]string{"--dns", s.Addr()}, args...)...)
		if code != exitOK {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
		if strings.ContainsAny(out, "\x1b\r\v") {
			t.Errorf("%v: raw control byte in output: %q", args, out)
		}
		if !strings.Contains(out, "bad") || !strings.Contains(out, "not a valid host name") {
			t.Errorf("%v: host missing:\n%s", args, out)
		}
	}
}

// TestMXSecondServer: with two --dns servers, the first answering
// SERVFAIL, the second's answer is used and shown; an AD bit is shown.
func TestMXSecondServer(t *testing.T) {
	zone := mxZone(t)
	bad := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{Rcode: dns.RcodeServerFailure})
	good := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{AD: true})
	code, out, _ := runMXCmd(t, "--dns", bad.Addr(), "--dns", good.Addr(), "explicit.mx.test")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"rcode NOERROR from " + good.Addr() + ", DNSSEC-validated (AD) yes", bad.Addr() + "/udp  SERVFAIL"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
