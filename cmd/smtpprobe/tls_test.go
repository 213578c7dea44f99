package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/probe/tlstest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// tlsLab is one MX host on 127.0.0.1 with a certificate from a test CA,
// in a zone a DNS server serves with the AD bit set.
func tlsLab(t *testing.T, extra string, ad bool, server func(ca, leaf *tlstest.CA) string) (dnsAddr, port, caFile string) {
	t.Helper()
	ca := tlstest.NewCA(t, "Lab CA")
	leaf := ca.Leaf(t, tlstest.Options{CommonName: "mx.lab.test", DNSNames: []string{"mx.lab.test"}})
	addr := server(ca, leaf)
	_, port, _ = net.SplitHostPort(addr)
	sum := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	zone := `$ORIGIN lab.test.
@ 300 IN SOA ns.lab.test. h.lab.test. 1 3600 600 86400 300
@ 300 IN MX 10 mx.lab.test.
mx 300 IN A 127.0.0.1
_25._tcp.mx 300 IN TLSA 3 1 1 ` + hex.EncodeToString(sum[:]) + "\n" + extra
	dns := resolvertest.StartBehavior(t, zone, resolvertest.Behavior{AD: ad})
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dns.Addr(), port, caFile
}

func goodMX(t *testing.T) func(ca, leaf *tlstest.CA) string {
	return func(ca, leaf *tlstest.CA) string {
		return probetest.StartPolicy(t, probetest.Policy{Domain: "lab.test", Hostname: "mx.lab.test", TLS: tlstest.TLSConfig(leaf, ca)}).Addr()
	}
}

func TestTLSCommand(t *testing.T) {
	dnsAddr, port, caFile := tlsLab(t, `_smtp._tls 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@lab.test"`+"\n", true, goodMX(t))
	out, errOut, code := runCLI(t, "tls", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--helo", "client.test", "lab.test")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		"Transport security of lab.test",
		"  DANE     pass  every MX host's certificate matches its TLSA records",
		"  MTA-STS  no-policy  ",
		"  TLS-RPT  valid  ",
		"the AD bit of " + dnsAddr + " is trusted as is",
		"    starttls   offered  ",
		"    handshake  ok  TLS 1.3",
		"    pkix       valid  ",
		"    name       match  ",
		"    dane       pass  TLSA record 3 1 1 ",
		"    plaintext  not-required  MAIL FROM before STARTTLS was accepted",
		"_25._tcp.mx.lab.test",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "DANE "), strings.Index(out, "MX mx.lab.test"); i < 0 || j < i {
		t.Errorf("the verdicts must come before the evidence:\n%s", out)
	}
	_, _, code = runCLI(t, "tls", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--fail-on", "dane,tls-rpt,starttls", "lab.test")
	if code != exitOK {
		t.Errorf("--fail-on dane,tls-rpt,starttls: exit %d, want 0", code)
	}
	_, errOut, code = runCLI(t, "tls", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--fail-on", "mta-sts", "lab.test")
	if code != exitCheck || !strings.Contains(errOut, "--fail-on matched: mta-sts: no-policy") {
		t.Errorf("--fail-on mta-sts: exit %d, stderr %q", code, errOut)
	}
}

func TestTLSCommandJSON(t *testing.T) {
	dnsAddr, port, caFile := tlsLab(t, "", true, goodMX(t))
	out, errOut, code := runCLI(t, "tls", "--json", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "lab.test")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Trust         string `json:"trust"`
		DANE          struct{ Verdict, Reason, RFC string }
		MTASTS        struct{ Verdict string } `json:"mta_sts"`
		TLSRPT        struct{ Verdict string } `json:"tls_rpt"`
		Hosts         []struct {
			Host     string
			STARTTLS struct{ Status string }
			DANE     struct{ Verdict string }
			MTASTS   *struct{ Verdict string } `json:"mta_sts"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != 1 || doc.DANE.Verdict != "pass" || doc.DANE.RFC == "" || doc.MTASTS.Verdict != "no-policy" || doc.TLSRPT.Verdict != "none" ||
		len(doc.Hosts) != 1 || doc.Hosts[0].Host != "mx.lab.test" || doc.Hosts[0].DANE.Verdict != "pass" || doc.Hosts[0].MTASTS != nil || doc.Hosts[0].STARTTLS.Status != "offered" ||
		!strings.Contains(doc.Trust, "AD bit") {
		t.Fatalf("document %+v", doc)
	}
}

func TestTLSCommandRateLimitIsNotNoSTARTTLS(t *testing.T) {
	dnsAddr, port, caFile := tlsLab(t, "", true, func(ca, leaf *tlstest.CA) string {
		return probetest.NewScriptedSequence(t,
			[]probetest.Step{probetest.Send("421 4.7.0 mx.lab.test Error: too many connections from 127.0.0.1\r\n"), probetest.Close()},
		).Addr()
	})
	out, _, _ := runCLI(t, "tls", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "lab.test")
	if !strings.Contains(out, "    starttls   unknown  the session ended before an EHLO reply: the greeting was 421 4.7.0") || strings.Contains(out, "not-offered") {
		t.Errorf("a 421 greeting must read as unknown, never as no STARTTLS:\n%s", out)
	}
	if !strings.Contains(out, "  DANE     unknown  ") || strings.Contains(out, "fail-downgrade") {
		t.Errorf("a 421 is not a downgrade:\n%s", out)
	}
}

func TestTLSCommandInsecure(t *testing.T) {
	dnsAddr, port, caFile := tlsLab(t, "", false, goodMX(t))
	out, _, code := runCLI(t, "tls", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "lab.test")
	if code != exitOK || !strings.Contains(out, "  DANE     not-applicable-insecure  ") || strings.Contains(out, "_25._tcp") {
		t.Errorf("exit %d; an unsigned zone gets no TLSA lookup:\n%s", code, out)
	}
}

func TestTLSUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"a.test", "b.test"},
		{"alice@lab.test"},
		{"[127.0.0.1]"},
		{"--fail-on", "dance", "lab.test"},
		{"--port", "0", "lab.test"},
		{"--dns", "bad host", "lab.test"},
		{"--ca-file", "/nonexistent/ca.pem", "lab.test"},
		{"--from", "a b@c", "lab.test"},
	} {
		_, errOut, code := runCLI(t, append([]string{"tls"}, args...)...)
		if code != exitUsage || strings.Count(errOut, "\n") != 2 || !strings.HasPrefix(errOut, "smtpprobe tls: ") {
			t.Errorf("tls %q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestProbeCarriesTransportSecurity: probe's report and JSON carry the
// same DANE, MTA-STS and TLS-RPT verdicts as tls, at the top and per host.
func TestProbeCarriesTransportSecurity(t *testing.T) {
	dnsAddr, port, caFile := tlsLab(t, "", true, goodMX(t))
	out, errOut, code := runCLI(t, "probe", "--json", "--suite", "vrfy", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--helo", "client.test", "lab.test")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		DANE   *struct{ Verdict, RFC string }
		MTASTS *struct{ Verdict string } `json:"mta_sts"`
		TLSRPT *struct{ Verdict string } `json:"tls_rpt"`
		Hosts  []struct {
			Host string
			DANE *struct{ Verdict string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.DANE == nil || doc.DANE.Verdict != "pass" || doc.MTASTS == nil || doc.MTASTS.Verdict != "no-policy" || doc.TLSRPT == nil || doc.TLSRPT.Verdict != "none" ||
		len(doc.Hosts) != 1 || doc.Hosts[0].DANE == nil || doc.Hosts[0].DANE.Verdict != "pass" {
		t.Fatalf("document %+v", doc)
	}
	text, _, _ := runCLI(t, "probe", "--suite", "vrfy", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--helo", "client.test", "lab.test")
	if !strings.Contains(text, "Transport security of lab.test") || !strings.Contains(text, "  DANE     pass  ") {
		t.Errorf("the probe report lacks the transport section:\n%s", text)
	}
	_, errOut, code = runCLI(t, "probe", "--suite", "vrfy", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--fail-on", "mta-sts", "lab.test")
	if code != exitCheck || !strings.Contains(errOut, "mta-sts: no-policy") {
		t.Errorf("probe --fail-on mta-sts: exit %d, %q", code, errOut)
	}
	_, _, code = runCLI(t, "probe", "--suite", "vrfy", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--fail-on", "dane", "lab.test")
	if code != exitOK {
		t.Errorf("probe --fail-on dane on a passing domain: exit %d", code)
	}
	out, _, _ = runCLI(t, "probe", "--json", "--no-transport", "--suite", "vrfy", "--dns", dnsAddr, "--port", port, "lab.test")
	if !strings.Contains(out, `"dane": null`) {
		t.Errorf("--no-transport still checked")
	}
}

// Without --helo, tls announces this machine's FQDN or the address
// literal of the local address toward the MX host, never localhost; the
// server receives that name, the report says so in one line, and the JSON
// records it per host.
func TestTLSCommandIdentity(t *testing.T) {
	var srv *probetest.PolicyServer
	dnsAddr, port, caFile := tlsLab(t, "", true, func(ca, leaf *tlstest.CA) string {
		srv = probetest.StartPolicy(t, probetest.Policy{Domain: "lab.test", Hostname: "mx.lab.test", TLS: tlstest.TLSConfig(leaf, ca)})
		return srv.Addr()
	})
	want := probe.FQDNHostname()
	source := "this machine's name"
	if want == "" {
		want, source = "[127.0.0.1]", "no fully-qualified name here, so the local address"
	}
	out, errOut, code := runCLI(t, "tls", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "lab.test")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	line := "  identity  the server saw EHLO " + want + " (" + source + ") and MAIL FROM:<postmaster@" + want + "> (postmaster@ the EHLO name)"
	if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(line), " ")) {
		t.Errorf("output lacks %q:\n%s", line, out)
	}
	ehlos, mails := 0, 0
	for _, c := range srv.Commands() {
		switch {
		case strings.HasPrefix(c, "EHLO "):
			ehlos++
			if c != "EHLO "+want {
				t.Errorf("the server received %q; want EHLO %s", c, want)
			}
		case strings.HasPrefix(c, "MAIL FROM:"):
			mails++
			if c != "MAIL FROM:<postmaster@"+want+">" {
				t.Errorf("the server received %q; want MAIL FROM:<postmaster@%s>", c, want)
			}
		}
	}
	if ehlos == 0 || mails == 0 {
		t.Errorf("the server saw %d EHLO and %d MAIL FROM: %q", ehlos, mails, srv.Commands())
	}

	out, errOut, code = runCLI(t, "tls", "--json", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--helo", "client.test", "lab.test")
	if code != exitOK {
		t.Fatalf("--json: exit %d, stderr %s", code, errOut)
	}
	var doc struct {
		Hosts []struct {
			HELOName   string `json:"helo_name"`
			HELOSource string `json:"helo_source"`
			From       string `json:"from"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Hosts) != 1 || doc.Hosts[0].HELOName != "client.test" || doc.Hosts[0].HELOSource != "given" || doc.Hosts[0].From != "postmaster@client.test" {
		t.Errorf("hosts %+v; want helo_name client.test (given), from postmaster@client.test", doc.Hosts)
	}
	if c := srv.Commands(); !containsLine(c, "EHLO client.test") {
		t.Errorf("--helo client.test not sent: %q", c)
	}
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// A non-FQDN EHLO name given on purpose is sent as given and flagged.
func TestTLSCommandHELONotFQDN(t *testing.T) {
	var srv *probetest.PolicyServer
	dnsAddr, port, caFile := tlsLab(t, "", true, func(ca, leaf *tlstest.CA) string {
		srv = probetest.StartPolicy(t, probetest.Policy{Domain: "lab.test", Hostname: "mx.lab.test", TLS: tlstest.TLSConfig(leaf, ca)})
		return srv.Addr()
	})
	out, errOut, code := runCLI(t, "tls", "--dns", dnsAddr, "--port", port, "--ca-file", caFile, "--helo", "localhost", "lab.test")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	if flat := strings.Join(strings.Fields(out), " "); !strings.Contains(flat, "EHLO localhost (as given)") ||
		!strings.Contains(flat, "warning: the EHLO name localhost is not a fully-qualified domain name or an address literal (RFC 5321 §4.1.1.1)") {
		t.Errorf("output:\n%s", out)
	}
	if !containsLine(srv.Commands(), "EHLO localhost") {
		t.Errorf("the given name was not sent: %q", srv.Commands())
	}
}
