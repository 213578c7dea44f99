package main

import (
	"encoding/json"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"strings"
	"testing"
)

// The transport-security lab: Unbound validating on 127.0.10.53 for the
// zones NSD serves (.ci/services/dnssec.sh, testdata/dnssec) and Postfix
// with STARTTLS on 127.0.10.25-27:2550 (.ci/services/postfix-tls.sh).
const (
	labResolver = "127.0.10.53:53"
	labTLSPort  = "2550"
)

// needTLSLab skips when the lab is not running, and fails under CI.
func needTLSLab(t *testing.T) {
	t.Helper()
	for _, addr := range []string{"127.0.10.25:" + labTLSPort, "127.0.10.27:" + labTLSPort} {
		probetest.NeedTCP(t, "the postfix-tls service", addr, "bash .ci/services/postfix-tls.sh start")
	}
	probetest.NeedTCP(t, "the dnssec service (Unbound)", labResolver, "bash .ci/services/dnssec.sh start")
}

// TestTLSLabVerdicts runs `smtpprobe tls` against real NSD, Unbound and
// Postfix for every DANE verdict the lab zone sets up.
func TestTLSLabVerdicts(t *testing.T) {
	needTLSLab(t)
	cases := []struct {
		domain, dane, host, starttls string
	}{
		{"dane.test", "pass", "pass", "offered"},
		{"ta.dane.test", "pass", "pass", "offered"},
		{"mismatch.dane.test", "fail-mismatch", "fail-mismatch", "offered"},
		{"taname.dane.test", "fail-name", "fail-name", "offered"},
		{"down.dane.test", "fail-downgrade", "fail-downgrade", "not-offered"},
		{"pkix.dane.test", "unusable-usage", "unusable-usage", "offered"},
		{"notlsa.dane.test", "not-applicable-no-tlsa", "not-applicable-no-tlsa", "offered"},
		{"bogushost.dane.test", "unusable-bogus", "unusable-bogus", "unknown"}, // no address: nothing dialled
		{"closed.dane.test", "unknown", "unknown", "unknown"},
		{"plain.test", "not-applicable-insecure", "not-applicable-insecure", "offered"},
		{"bogus.test", "dns-bogus", "", ""},
	}
	for _, c := range cases {
		t.Run(c.domain, func(t *testing.T) {
			out, errOut, code := runCLI(t, "tls", "--json", "--timeout", "5s", "--dns", labResolver, "--port", labTLSPort,
				"--ca-file", "../../testdata/tls/ca.pem", "--helo", "client.test", c.domain)
			var doc struct {
				DANE struct {
					Verdict, Reason string
				}
				MXDNSSEC string `json:"mx_dnssec"`
				Hosts    []struct {
					DANE struct {
						Verdict, Reason string
						Suggested       string `json:"suggested_tlsa"`
					}
					STARTTLS struct{ Status string }
					TLSA     *struct {
						DNSSEC string `json:"dnssec"`
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("exit %d, %v, stderr %s", code, err, errOut)
			}
			if doc.DANE.Verdict != c.dane {
				t.Fatalf("domain DANE %s (%s), want %s", doc.DANE.Verdict, doc.DANE.Reason, c.dane)
			}
			if c.host == "" {
				if doc.MXDNSSEC != "bogus" {
					t.Errorf("MX dnssec %q, want bogus", doc.MXDNSSEC)
				}
				return
			}
			if len(doc.Hosts) != 1 || doc.Hosts[0].DANE.Verdict != c.host || doc.Hosts[0].STARTTLS.Status != c.starttls {
				t.Fatalf("hosts %+v, want DANE %s, STARTTLS %s", doc.Hosts, c.host, c.starttls)
			}
			if c.dane == "fail-mismatch" && !strings.HasPrefix(doc.Hosts[0].DANE.Suggested, "3 1 1 f7f03273a0193004806e65fbe19cad7f379a749df2eefb3d686f5520904bd858") {
				t.Errorf("suggested record %q is not the served key's", doc.Hosts[0].DANE.Suggested)
			}
			if c.dane == "not-applicable-insecure" && doc.Hosts[0].TLSA != nil {
				t.Errorf("TLSA looked up in an unsigned zone: %+v", doc.Hosts[0].TLSA)
			}
		})
	}
}

// TestTLSLabReport is the text report against the real lab: verdicts
// first, the trust in the AD bit said, each layer on its line.
func TestTLSLabReport(t *testing.T) {
	needTLSLab(t)
	out, errOut, code := runCLI(t, "tls", "--dns", labResolver, "--port", labTLSPort, "--ca-file", "../../testdata/tls/ca.pem", "--helo", "client.test",
		"--fail-on", "dane,tls-rpt,starttls", "dane.test")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"  DANE     pass  ",
		"  TLS-RPT  valid  senders send daily reports of TLS successes and failures to mailto:tls-reports@dane.test",
		"MX lookup secure; the AD bit of 127.0.10.53:53 is trusted as is",
		"  MX mx1.dane.test (preference 10) 127.0.10.25:2550, addresses secure",
		"    handshake  ok  TLS 1.3",
		"    pkix       valid  ",
		"    plaintext  not-required  ",
		"_25._tcp.mx1.dane.test             TLSA  NOERROR  secure",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	_, errOut, code = runCLI(t, "tls", "--dns", labResolver, "--port", labTLSPort, "--ca-file", "../../testdata/tls/ca.pem", "--fail-on", "dane", "mismatch.dane.test")
	if code != exitCheck || !strings.Contains(errOut, "dane: fail-mismatch") {
		t.Errorf("--fail-on dane on a mismatch: exit %d, %q", code, errOut)
	}
}
