package tlsrpt

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	cases := []struct {
		records []string
		verdict string
		reason  string
	}{
		{[]string{"v=TLSRPTv1; rua=mailto:tls@lab.test"}, Valid, "mailto:tls@lab.test"},
		{[]string{"v=TLSRPTv1;rua=mailto:a@lab.test,https://reports.lab.test/v1"}, Valid, "https://reports.lab.test/v1"},
		{[]string{"v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@lab.test;"}, Valid, "a@lab.test"},
		{[]string{"v=TLSRPTv1; ext=1; rua=https://r.lab.test"}, Valid, "r.lab.test"},
		{nil, None, "no TLS-RPT record"},
		{[]string{"v=spf1 -all"}, None, "no TLS-RPT record"},
		{[]string{"v=TLSRPTv1;"}, InvalidNoRUA, "no rua"},
		{[]string{"v=TLSRPTv1; rua=mailto:a@lab.test", "v=TLSRPTv1; rua=mailto:b@lab.test"}, InvalidMultiple, "2 v=TLSRPTv1 records"},
		{[]string{"v=TLSRPTv2; rua=mailto:a@lab.test"}, InvalidVersion, "v=TLSRPTv2"},
		{[]string{"v=tlsrptv1; rua=mailto:a@lab.test"}, InvalidVersion, "case-sensitive"},
		{[]string{"v=TLSRPTv1; rua=http://r.lab.test"}, InvalidURI, "scheme http"},
		{[]string{"v=TLSRPTv1; rua=tls@lab.test"}, InvalidURI, "no scheme"},
		{[]string{"v=TLSRPTv1; rua=mailto:not-an-address"}, InvalidURI, "no valid mail address"},
		{[]string{"v=TLSRPTv1; rua=https:///path"}, InvalidURI, "no host"},
	}
	for _, c := range cases {
		r := Judge("lab.test", c.records)
		if r.Verdict != c.verdict || !strings.Contains(r.Reason, c.reason) || r.RFC != "RFC 8460 §3" {
			t.Errorf("Judge(%q) = %s (%s), want %s with %q", c.records, r.Verdict, r.Reason, c.verdict, c.reason)
		}
		if r.Verdict != Valid && r.Fix == "" {
			t.Errorf("Judge(%q): no fix", c.records)
		}
	}
}
