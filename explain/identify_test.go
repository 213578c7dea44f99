package explain

import (
	"strings"
	"testing"
)

// Postfix's EHLO reply as smtpd.c sends it (the lab's, STARTTLS included).
var postfixEHLO = []string{"mx.lab.test", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS",
	"ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}

func TestIdentify(t *testing.T) {
	cases := []struct {
		name       string
		ev         SessionEvidence
		want       string
		version    string
		confidence string
		candidates []string // must be among the candidates
		evidence   string   // a substring of some evidence line
	}{
		{
			name: "postfix-hidden-banner",
			ev: SessionEvidence{Banner: "mx.lab.test ESMTP", EHLO: postfixEHLO, Replies: []SessionReply{
				{RCPT, 550, "5.1.1", "<nobody@lab.test>: Recipient address rejected: User unknown in local recipient table"},
				{VRFY, 502, "5.5.1", "VRFY command is disabled"},
				{Unknown, 502, "5.5.2", "Error: command not recognized"},
			}},
			want: "Postfix", confidence: "high", evidence: "in Postfix's order",
		},
		{
			name: "postfix-named",
			ev:   SessionEvidence{Banner: "mx.example.org ESMTP Postfix (Debian/GNU)", EHLO: postfixEHLO},
			want: "Postfix", confidence: "high", evidence: "the banner names Postfix",
		},
		{
			name: "exim-version",
			ev: SessionEvidence{Banner: "mail.example.org ESMTP Exim 4.96 Tue, 01 Dec 2026 10:00:00 +0000",
				EHLO: []string{"mail.example.org Hello client.test [192.0.2.1]", "SIZE 52428800", "8BITMIME", "PIPELINING", "CHUNKING", "STARTTLS", "HELP"}},
			want: "Exim", version: "4.96", confidence: "high", evidence: "the banner names Exim 4.96",
		},
		{
			name: "sendmail-version",
			ev: SessionEvidence{Banner: "mx.example.org ESMTP Sendmail 8.17.1/8.17.1; Tue, 1 Dec 2026 10:00:00 GMT",
				EHLO: []string{"mx.example.org Hello client.test [192.0.2.1], pleased to meet you", "ENHANCEDSTATUSCODES", "PIPELINING", "8BITMIME", "SIZE", "DSN", "ETRN", "DELIVERBY", "HELP"}},
			want: "Sendmail", version: "8.17.1", confidence: "high",
		},
		{
			// Sendmail and OpenSMTPD greet EHLO alike; the keyword order
			// tells them apart.
			name: "opensmtpd-hidden",
			ev: SessionEvidence{Banner: "mx.example.org ESMTP",
				EHLO: []string{"mx.example.org Hello client.test [192.0.2.1], pleased to meet you", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 36700160", "DSN", "HELP"}},
			want: "OpenSMTPD", candidates: []string{"Sendmail"},
		},
		{
			name: "exchange-version",
			ev: SessionEvidence{Banner: "EX01.corp.example Microsoft ESMTP MAIL Service, Version: 15.2.1118.7 ready at Tue, 1 Dec 2026",
				EHLO: []string{"EX01.corp.example Hello [192.0.2.1]", "SIZE 37748736", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS", "X-ANONYMOUSTLS", "AUTH NTLM", "X-EXPS GSSAPI NTLM", "8BITMIME", "BINARYMIME", "CHUNKING", "XEXCH50", "SMTPUTF8"}},
			want: "Microsoft Exchange", version: "15.2.1118.7", confidence: "high", evidence: "XEXCH50",
		},
		{
			name: "go-smtp",
			ev:   SessionEvidence{Banner: "localhost ESMTP Service Ready", EHLO: []string{"Hello client.test", "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "CHUNKING", "SIZE 1024"}},
			want: "go-smtp", confidence: "medium",
		},
		{
			name: "courier-hidden",
			ev: SessionEvidence{Banner: "mail.example.org ESMTP",
				EHLO:    []string{"mail.example.org Ok.", "AUTH PLAIN", "STARTTLS", "XCOURIEREXTENSIONS", "XVERP=Courier", "XEXDATA", "XSECURITY=NONE,STARTTLS", "PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE", "DSN"},
				Replies: []SessionReply{{VRFY, 252, "", "VRFY disabled"}}},
			want: "Courier", confidence: "high", evidence: "XCOURIEREXTENSIONS",
		},
		{
			name: "nothing-known",
			ev:   SessionEvidence{Banner: "welcome", EHLO: []string{"hi there", "FOO", "BAR"}},
			want: "", confidence: "none",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sw := Identify(c.ev)
			if sw.Name != c.want {
				t.Fatalf("name = %q, want %q (%+v)", sw.Name, c.want, sw)
			}
			if sw.Version != c.version {
				t.Errorf("version = %q, want %q", sw.Version, c.version)
			}
			if c.confidence != "" && sw.Confidence != c.confidence {
				t.Errorf("confidence = %q, want %q (%q)", sw.Confidence, c.confidence, sw.Evidence)
			}
			for _, want := range c.candidates {
				found := false
				for _, cand := range sw.Candidates {
					found = found || cand.Name == want
				}
				if !found {
					t.Errorf("candidates %+v lack %s", sw.Candidates, want)
				}
			}
			if c.evidence != "" && !strings.Contains(strings.Join(sw.Evidence, "\n"), c.evidence) {
				t.Errorf("evidence %q lacks %q", sw.Evidence, c.evidence)
			}
			if sw.Name != "" && len(sw.Evidence) == 0 {
				t.Error("a name without evidence")
			}
		})
	}
}

// A hidden banner alone is not enough to name anyone with confidence:
// Postfix and qmail greet alike.
func TestIdentifyBannerShapeAlone(t *testing.T) {
	sw := Identify(SessionEvidence{Banner: "mx.example.org ESMTP"})
	if sw.Confidence == "high" || sw.Confidence == "medium" {
		t.Fatalf("%+v", sw)
	}
}

func TestEHLOKeywordsOrder(t *testing.T) {
	kw := ehloKeywords([]string{"PIPELINING", "SIZE 100", "AUTH=LOGIN", "AUTH LOGIN", "8bitmime", "bad word!", ""})
	if got := strings.Join(kw, " "); got != "PIPELINING SIZE AUTH 8BITMIME BAD" {
		t.Fatalf("keywords = %q", got)
	}
	if !inOrder([]string{"PIPELINING", "ETRN"}, strings.Fields("PIPELINING SIZE ETRN")) || inOrder([]string{"ETRN", "PIPELINING"}, strings.Fields("PIPELINING SIZE ETRN")) {
		t.Fatal("inOrder")
	}
}

// Exim counts its syntax and protocol errors toward its limit, not an
// ACL refusal or the 50x it writes directly; Postfix and an unknown
// server count every error.
func TestCountsTowardErrorLimit(t *testing.T) {
	for _, c := range []struct {
		mta  string
		code int
		text string
		want bool
	}{
		{"Exim", 501, "<a@b: '>' missing at end of address", true},
		{"Exim", 503, "sender already given", true},
		{"Exim", 500, "unrecognized command", true},
		{"Exim", 550, "Unrouteable address", false},
		{"Exim", 503, "HELO or EHLO required", false},
		{"Exim", 501, "<postmaster>: sender address must contain a domain", false},
		{"Postfix", 550, "5.1.1 User unknown", true},
		{"", 451, "try later", true},
		{"", 250, "ok", false},
	} {
		if got := CountsTowardErrorLimit(c.mta, c.code, c.text); got != c.want {
			t.Errorf("%s %d %q: %v, want %v", c.mta, c.code, c.text, got, c.want)
		}
	}
	if !CountsSomeErrors("Exim") || CountsSomeErrors("Postfix") {
		t.Error("only Exim is known to count some errors")
	}
}
