package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/tlstest"
	"github.com/smtpprobe/smtpprobe/resolver"
)

const (
	sec   = resolver.Secure
	insec = resolver.Insecure
	bogus = resolver.Bogus
)

func spki256(c *x509.Certificate) []byte {
	s := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return s[:]
}

func TestCheckVerdicts(t *testing.T) {
	now := time.Now()
	root := tlstest.NewCA(t, "Lab Root")
	inter := root.Intermediate(t, tlstest.Options{CommonName: "Lab Issuing CA"})
	leaf := inter.Leaf(t, tlstest.Options{CommonName: "mx.lab.test", DNSNames: []string{"mx.lab.test"}})
	chain := []*x509.Certificate{leaf.Cert, inter.Cert, root.Cert}
	expiredLeaf := inter.Leaf(t, tlstest.Options{DNSNames: []string{"mx.lab.test"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	otherName := inter.Leaf(t, tlstest.Options{CommonName: "mx.lab.test", DNSNames: []string{"other.lab.test"}})
	cnOnly := inter.Leaf(t, tlstest.Options{CommonName: "mx.lab.test"})
	stranger := tlstest.NewCA(t, "Stranger")

	ee := Record{Usage: 3, Selector: 1, MatchingType: 1, Data: spki256(leaf.Cert)}
	eeCertFull := Record{Usage: 3, Selector: 0, MatchingType: 0, Data: leaf.Cert.Raw}
	sum512 := sha512.Sum512(leaf.Cert.Raw)
	eeCert512 := Record{Usage: 3, Selector: 0, MatchingType: 2, Data: sum512[:]}
	ta := Record{Usage: 2, Selector: 1, MatchingType: 1, Data: spki256(root.Cert)}
	taInter := Record{Usage: 2, Selector: 0, MatchingType: 1}
	s := sha256.Sum256(inter.Cert.Raw)
	taInter.Data = s[:]
	wrong := Record{Usage: 3, Selector: 1, MatchingType: 1, Data: spki256(stranger.Cert)}
	pkix := Record{Usage: 1, Selector: 1, MatchingType: 1, Data: spki256(leaf.Cert)}

	base := Host{Name: "mx.lab.test", MX: sec, Addr: sec, TLSABase: "mx.lab.test", TLSA: sec, TLS: true, Chain: chain}
	with := func(f func(h *Host)) Host { h := base; f(&h); return h }

	cases := []struct {
		name    string
		host    Host
		verdict string
		reason  string // a substring of the reason
	}{
		{"dane-ee spki sha256", with(func(h *Host) { h.Records = []Record{ee} }), Pass, "3 1 1"},
		{"dane-ee full cert", with(func(h *Host) { h.Records = []Record{eeCertFull} }), Pass, "3 0 0"},
		{"dane-ee sha512", with(func(h *Host) { h.Records = []Record{eeCert512} }), Pass, "3 0 2"},
		{"dane-ee ignores expiry", with(func(h *Host) {
			h.Chain = []*x509.Certificate{expiredLeaf.Cert}
			h.Records = []Record{{Usage: 3, Selector: 1, MatchingType: 1, Data: spki256(expiredLeaf.Cert)}}
		}), Pass, "matches"},
		{"dane-ee ignores names", with(func(h *Host) {
			h.Chain = []*x509.Certificate{otherName.Cert}
			h.Records = []Record{{Usage: 3, Selector: 1, MatchingType: 1, Data: spki256(otherName.Cert)}}
		}), Pass, "matches"},
		{"dane-ta root", with(func(h *Host) { h.Records = []Record{ta} }), Pass, "2 1 1"},
		{"dane-ta intermediate", with(func(h *Host) { h.Records = []Record{taInter} }), Pass, "2 0 1"},
		{"one of two matches", with(func(h *Host) { h.Records = []Record{wrong, ee} }), Pass, "3 1 1"},
		{"mismatch", with(func(h *Host) { h.Records = []Record{wrong} }), FailMismatch, "no usable TLSA record"},
		{"dane-ta not in chain", with(func(h *Host) {
			h.Chain = []*x509.Certificate{leaf.Cert, inter.Cert}
			h.Records = []Record{ta}
		}), FailMismatch, "matches the certificate chain"},
		{"dane-ta expired", with(func(h *Host) {
			h.Chain = []*x509.Certificate{expiredLeaf.Cert, inter.Cert, root.Cert}
			h.Records = []Record{ta}
		}), FailExpired, "validity period"},
		{"dane-ta wrong name", with(func(h *Host) {
			h.Chain = []*x509.Certificate{otherName.Cert, inter.Cert, root.Cert}
			h.Records = []Record{ta}
		}), FailName, "names other.lab.test, not mx.lab.test"},
		{"dane-ta CN only", with(func(h *Host) {
			h.Chain = []*x509.Certificate{cnOnly.Cert, inter.Cert, root.Cert}
			h.Records = []Record{ta}
		}), FailName, "no subjectAltName"},
		{"dane-ta name of TLSA base", with(func(h *Host) {
			h.Name, h.TLSABase = "alias.lab.test", "mx.lab.test"
			h.Records = []Record{ta}
		}), Pass, "names mx.lab.test"},
		{"no STARTTLS", with(func(h *Host) {
			h.TLS, h.NoTLS, h.Chain = false, "STARTTLS not offered", nil
			h.Records = []Record{ee}
		}), FailDowngrade, "STARTTLS not offered"},
		{"421 before EHLO is not a downgrade", with(func(h *Host) {
			h.TLS, h.Unreached, h.NoTLS, h.Chain = false, true, "the greeting was 421 4.7.0 too many connections", nil
			h.Records = []Record{ee}
		}), Unknown, "not a downgrade"},
		{"only PKIX usages", with(func(h *Host) { h.Records = []Record{pkix} }), UnusableUsage, "TLS is mandatory"},
		{"unknown selector", with(func(h *Host) { h.Records = []Record{{Usage: 3, Selector: 7, MatchingType: 1, Data: ee.Data}} }), UnusableUsage, "no record usable"},
		{"bad digest length", with(func(h *Host) { h.Records = []Record{{Usage: 3, Selector: 1, MatchingType: 1, Data: ee.Data[:10]}} }), UnusableUsage, "no record usable"},
		{"bogus TLSA", with(func(h *Host) { h.TLSA = bogus }), UnusableBogus, "failed DNSSEC validation"},
		{"indeterminate TLSA", with(func(h *Host) { h.TLSA = resolver.Indeterminate }), UnusableBogus, "no usable answer"},
		{"bogus address", with(func(h *Host) { h.Addr = bogus }), UnusableBogus, "address records"},
		{"bogus MX", with(func(h *Host) { h.MX = bogus }), UnusableBogus, "MX lookup"},
		{"insecure MX", with(func(h *Host) { h.MX = insec; h.Records = []Record{ee} }), NotApplicableInsecure, "MX records"},
		{"insecure address", with(func(h *Host) { h.Addr = insec; h.Records = []Record{ee} }), NotApplicableInsecure, "address records"},
		{"insecure TLSA", with(func(h *Host) { h.TLSA = insec; h.Records = []Record{ee} }), NotApplicableInsecure, "TLSA answer"},
		{"no TLSA", with(func(h *Host) {}), NotApplicableNoTLSA, "no TLSA records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Check(c.host, now)
			if r.Verdict != c.verdict || !strings.Contains(r.Reason, c.reason) {
				t.Fatalf("got %s (%s), want %s containing %q", r.Verdict, r.Reason, c.verdict, c.reason)
			}
			if !strings.HasPrefix(r.RFC, "RFC ") {
				t.Errorf("no RFC section: %q", r.RFC)
			}
			if r.Verdict != Pass && r.Verdict != NotApplicableNoTLSA && r.Fix == "" {
				t.Errorf("no fix for %s", r.Verdict)
			}
		})
	}
}

func TestSuggestedRecordIsTheLeafKey(t *testing.T) {
	ca := tlstest.NewCA(t, "CA")
	leaf := ca.Leaf(t, tlstest.Options{DNSNames: []string{"mx.lab.test"}})
	h := Host{Name: "mx.lab.test", MX: sec, Addr: sec, TLSABase: "mx.lab.test", TLSA: sec, TLS: true,
		Chain:   []*x509.Certificate{leaf.Cert},
		Records: []Record{{Usage: 3, Selector: 1, MatchingType: 1, Data: make([]byte, 32)}}}
	r := Check(h, time.Now())
	want := EERecord(leaf.Cert).String()
	if r.Verdict != FailMismatch || r.Suggested != want || !strings.Contains(r.Fix, "_25._tcp.mx.lab.test. IN TLSA "+want) || !strings.Contains(r.Fix, "RFC 7671 §8.1") {
		t.Fatalf("verdict %s suggested %q fix %q; want the record %s and the rollover rule", r.Verdict, r.Suggested, r.Fix, want)
	}
	// The suggestion is the key: the same key in a new certificate gives
	// the same record.
	if !strings.HasPrefix(want, "3 1 1 ") || len(want) != len("3 1 1 ")+64 {
		t.Fatalf("suggested record %q", want)
	}
	fixed := h
	fixed.Records = []Record{{Usage: 3, Selector: 1, MatchingType: 1, Data: spki256(leaf.Cert)}}
	if v := Check(fixed, time.Now()).Verdict; v != Pass {
		t.Fatalf("publishing the suggested record gives %s", v)
	}
}

func TestDomain(t *testing.T) {
	pass := Result{Verdict: Pass, Reason: "ok"}
	mis := Result{Verdict: FailMismatch, Reason: "bad", Fix: "fix it", RFC: "RFC 7672 §3"}
	none := Result{Verdict: NotApplicableNoTLSA, Reason: "none"}
	cases := []struct {
		mx      resolver.Security
		hosts   []Result
		verdict string
		reason  string
	}{
		{bogus, []Result{pass}, DNSBogus, "SERVFAIL"},
		{insec, []Result{pass}, NotApplicableInsecure, "not DNSSEC-validated"},
		{sec, []Result{pass, pass}, Pass, "every MX host"},
		{sec, []Result{pass, mis}, FailMismatch, "1 of 2 MX hosts (b.test)"},
		{sec, []Result{none, none}, NotApplicableNoTLSA, "every MX host: none"},
		{sec, []Result{pass, none}, NotApplicableNoTLSA, "1 of 2 MX hosts (b.test)"},
		{sec, nil, NotApplicableNoTLSA, "no MX host"},
	}
	for _, c := range cases {
		names := []string{"a.test", "b.test"}[:len(c.hosts)]
		r := Domain(c.mx, names, c.hosts)
		if r.Verdict != c.verdict || !strings.Contains(r.Reason, c.reason) {
			t.Errorf("Domain(%s, %v) = %s (%s), want %s with %q", c.mx, c.hosts, r.Verdict, r.Reason, c.verdict, c.reason)
		}
	}
}
