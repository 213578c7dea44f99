package explain

import (
	"testing"
	"time"
)

// Stock texts of real servers and the cause each must be read as.
func TestClassifyRefusal(t *testing.T) {
	tests := []struct {
		name     string
		code     int
		enhanced string
		text     string
		cmd      Command
		want     Cause
		list     string
		retry    time.Duration
	}{
		{"postfix unknown user", 550, "5.1.1", "5.1.1 <nosuch@lab.test>: Recipient address rejected: User unknown in local recipient table", RCPT, CauseUnknownMailbox, "", 0},
		{"exim unrouteable, no enhanced code", 550, "", "Unrouteable address", RCPT, CauseUnknownMailbox, "", 0},
		{"sendmail user unknown", 550, "5.1.1", "5.1.1 <nosuch@x.test>... User unknown", RCPT, CauseUnknownMailbox, "", 0},
		{"opensmtpd invalid recipient", 550, "", "Invalid recipient: <nosuch@x.test>", RCPT, CauseUnknownMailbox, "", 0},
		{"postfix non-FQDN sender at RCPT", 504, "5.5.2", "5.5.2 <postmaster@localhost>: Sender address rejected: need fully-qualified address", RCPT, CauseSenderRejected, "", 0},
		{"postfix non-FQDN recipient is no sender fault", 504, "5.5.2", "5.5.2 <alice>: Recipient address rejected: need fully-qualified address", RCPT, CauseSyntax, "", 0},
		{"postfix non-FQDN HELO", 504, "5.5.2", "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname", RCPT, CauseHELORejected, "", 0},
		{"exim sender verify", 550, "", "Sender verify failed", RCPT, CauseSenderRejected, "", 0},
		{"postfix unknown sender domain", 450, "4.1.8", "4.1.8 <a@nx.test>: Sender address rejected: Domain not found", RCPT, CauseSenderRejected, "", 0},
		{"postfix relay", 554, "5.7.1", "5.7.1 <x@other.test>: Relay access denied", RCPT, CauseRelayDenied, "", 0},
		{"sendmail relay", 550, "5.7.1", "5.7.1 <x@other.test>... Relaying denied", RCPT, CauseRelayDenied, "", 0},
		{"exim relay", 550, "", "relay not permitted", RCPT, CauseRelayDenied, "", 0},
		{"postfix spamhaus", 554, "5.7.1", "5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.2", RCPT, CauseBlocklisted, "zen.spamhaus.org", 0},
		{"postfix local dnsbl", 554, "5.7.1", "5.7.1 Service unavailable; Client host [127.0.12.1] blocked using bl.lab.test", RCPT, CauseBlocklisted, "bl.lab.test", 0},
		{"exim dnsbl", 550, "", "rejected because 127.0.0.2 is in a black list at zen.spamhaus.org", RCPT, CauseBlocklisted, "zen.spamhaus.org", 0},
		{"sendmail dnsbl", 550, "5.7.1", "5.7.1 Rejected: 127.0.0.2 listed at zen.spamhaus.org", RCPT, CauseBlocklisted, "zen.spamhaus.org", 0},
		{"postgrey", 450, "4.2.0", "4.2.0 <alice@lab.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/lab.test.html", RCPT, CauseGreylisted, "", 0},
		{"greylist with a delay", 451, "4.7.1", "4.7.1 Greylisted, please try again in 300 seconds", RCPT, CauseGreylisted, "", 300 * time.Second},
		{"greylist in minutes", 451, "", "Greylisted: retry in 5 minutes", RCPT, CauseGreylisted, "", 5 * time.Minute},
		{"postfix connection rate", 421, "4.7.0", "4.7.0 mx.lab.test Error: too many connections from 127.0.0.1", MAIL, CauseRateLimited, "", 0},
		{"postfix recipient rate", 450, "4.7.1", "4.7.1 Error: too many recipients from 127.0.0.1", RCPT, CauseRateLimited, "", 0},
		{"postfix message rate", 450, "4.7.1", "4.7.1 Error: too much mail from 127.0.0.1", MAIL, CauseRateLimited, "", 0},
		{"postfix vrfy disabled", 502, "5.5.1", "5.5.1 VRFY command is disabled", VRFY, CauseDisabled, "", 0},
		{"vrfy unknown command", 500, "5.5.2", "5.5.2 Error: command not recognized", VRFY, CauseNotImplemented, "", 0},
		{"bare 500 to VRFY", 500, "", "", VRFY, CauseNotImplemented, "", 0},
		{"bare 502 to VRFY", 502, "", "", VRFY, CauseDisabled, "", 0},
		{"502 not implemented to EXPN", 502, "5.5.1", "5.5.1 EXPN command not implemented", EXPN, CauseNotImplemented, "", 0},
		{"sendmail noexpn", 502, "5.7.0", "5.7.0 Sorry, we do not allow this operation", EXPN, CauseDisabled, "", 0},
		{"exim expn", 550, "", "Administrative prohibition", EXPN, CauseDisabled, "", 0},
		{"opensmtpd syntax of a valid quoted form", 553, "5.1.0", "5.1.0 Sender address syntax error", MAIL, CauseSyntax, "", 0},
		{"exim domain literal", 501, "", "<postmaster@[127.0.0.1]>: domain literals not allowed", RCPT, CauseSyntax, "", 0},
		{"postfix bad syntax", 501, "5.1.7", "5.1.7 Bad sender address syntax", MAIL, CauseSyntax, "", 0},
		{"tls first", 530, "5.7.0", "5.7.0 Must issue a STARTTLS command first", MAIL, CauseTLSRequired, "", 0},
		{"auth first", 530, "5.7.0", "5.7.0 Authentication required", MAIL, CauseAuthRequired, "", 0},
		{"nested MAIL", 503, "5.5.1", "5.5.1 Error: nested MAIL command", MAIL, CauseSequence, "", 0},
		{"size", 552, "5.3.4", "5.3.4 Message size exceeds fixed limit", MAIL, CauseSizeLimit, "", 0},
		{"local error", 451, "4.3.0", "4.3.0 Error: queue file write error", MAIL, CauseServerError, "", 0},
		{"bare 554", 554, "", "", RCPT, CausePolicy, "", 0},
	}
	for _, tt := range tests {
		got := ClassifyRefusal(tt.code, tt.enhanced, tt.text, tt.cmd)
		if got.Cause != tt.want || got.List != tt.list || got.RetryAfter != tt.retry {
			t.Errorf("%s: ClassifyRefusal(%d %s %q, %s) = %+v; want %s list %q retry %v", tt.name, tt.code, tt.enhanced, tt.text, tt.cmd, got, tt.want, tt.list, tt.retry)
		}
		if CauseAbout(got.Cause) == "" {
			t.Errorf("%s: cause %q is not in Causes", tt.name, got.Cause)
		}
	}
	if r := ClassifyRefusal(250, "2.1.5", "Ok", RCPT); r.Cause != "" {
		t.Errorf("a 250 has cause %q; want none", r.Cause)
	}
}

// Every cause a rule can give is documented in Causes.
func TestCausesDocumented(t *testing.T) {
	for _, r := range refusalRules {
		if CauseAbout(r.cause) == "" {
			t.Errorf("rule for %q: not in Causes", r.cause)
		}
	}
	seen := map[Cause]bool{}
	for _, c := range Causes {
		if seen[c.Cause] || c.Meaning == "" {
			t.Errorf("cause %q listed twice or without a meaning", c.Cause)
		}
		seen[c.Cause] = true
	}
}
