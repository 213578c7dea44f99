package transport

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/dane"
	"github.com/smtpprobe/smtpprobe/probe/mtasts"
	"github.com/smtpprobe/smtpprobe/probe/tlstest"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// TestLabMTASTS runs the check against the real lab: Unbound validating
// the signed zone NSD serves (.ci/services/dnssec.sh) and Postfix with
// STARTTLS (.ci/services/postfix-tls.sh); the policy server is this test's,
// on loopback, with a certificate from a CA made here.
func TestLabMTASTS(t *testing.T) {
	for _, addr := range []string{"127.0.10.53:53", "127.0.10.25:2550"} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the dnssec and postfix-tls services must run under CI: %v", err)
			}
			t.Skipf("lab not running (bash .ci/services/dnssec.sh start; bash .ci/services/postfix-tls.sh start): %v", err)
		}
		c.Close()
	}
	labCA, err := os.ReadFile("../../testdata/tls/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(labCA)
	policyCA := tlstest.NewCA(t, "Policy CA")
	roots.AddCert(policyCA.Cert)
	leaf := policyCA.Leaf(t, tlstest.Options{DNSNames: []string{"mta-sts.sts.dane.test"}})
	for _, c := range []struct {
		pattern, verdict, mx2 string
	}{
		{"mx: mx1.dane.test\nmx: *.dane.test", mtasts.EnforcePass, mtasts.MXPass},
		{"mx: mx1.dane.test\nmx: *.b.dane.test", mtasts.EnforceMXNotCovered, mtasts.MXFailNotCovered},
		{"mx: mx1.dane.test\nmx: mx2.dane.test.evil.test", mtasts.EnforceMXNotCovered, mtasts.MXFailNotCovered},
	} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "version: STSv1\r\nmode: enforce\r\n%s\r\nmax_age: 86400\r\n", c.pattern)
		}))
		srv.TLS = tlstest.TLSConfig(leaf)
		srv.StartTLS()
		rep, err := Check(context.Background(), Options{
			Domain: "sts.dane.test", DNS: resolver.New([]string{"127.0.10.53:53"}), Port: 2550, HELO: "client.test", NoEnforcement: true,
			Timeout: 5 * time.Second, RootCAs: roots,
			PolicyDial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, srv.Listener.Addr().String())
			},
		})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rep.MXSecurity != resolver.Secure || rep.MTASTS.Verdict != c.verdict || len(rep.Hosts) != 2 ||
			rep.Hosts[0].MTASTS == nil || rep.Hosts[0].MTASTS.Verdict != mtasts.MXPass || rep.Hosts[1].MTASTS.Verdict != c.mx2 {
			t.Errorf("%q: MX %s, MTA-STS %s (%s), hosts %+v", c.pattern, rep.MXSecurity, rep.MTASTS.Verdict, rep.MTASTS.Reason, rep.Hosts)
			continue
		}
		if rep.Hosts[0].DANE.Verdict != dane.Pass || rep.Hosts[1].DANE.Verdict != dane.FailMismatch || rep.DANE.Verdict != dane.FailMismatch {
			t.Errorf("DANE %s / %s / domain %s", rep.Hosts[0].DANE.Verdict, rep.Hosts[1].DANE.Verdict, rep.DANE.Verdict)
		}
	}
}
