package probetest

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Rule is one row of an MTA profile: a client line matching Match (a
// regular expression, matched without regard to case) is answered with
// Reply (one line or several joined by CRLF, without the final CRLF). In
// Reply, {arg} stands for the line's argument: the address after the
// colon of MAIL FROM or RCPT TO, or the words after any other verb, with
// angle brackets and parameters taken off.
type Rule struct {
	Match string
	Reply string
}

// Slowdown is how an MTA delays its replies on a busy connection: once
// the connection has seen From lines that count, each further counted
// line waits before its reply, Delay at first, doubling up to Max.
type Slowdown struct {
	// Match picks the lines that count (a regular expression, matched
	// without regard to case); "" counts the lines answered with an error.
	Match string
	From  int           // the count at which the delay starts; 0 never delays
	Delay time.Duration // the first delay
	Max   time.Duration // the cap the doubling stops at; 0 keeps every delay at Delay
}

// MTA is a raw-TCP stand-in for one MTA as rows of data: the greeting and
// EHLO reply that identify it, the stock reply texts it gives (the first
// Rule whose Match fits a line answers it), its answers to the commands no
// rule matches, and how it slows down. A new MTA is a new value, not new
// code. A reply starting with 421 closes the connection.
type MTA struct {
	Name   string
	Banner string   // the greeting line, without CRLF
	EHLO   []string // the reply lines to EHLO; nil: a plain ESMTP server's
	Rules  []Rule
	// Defaults answers a verb no rule matched (MAIL, RCPT, RSET, ...);
	// a verb missing here gets PlainDefaults' answer.
	Defaults map[string]string
	Slow     Slowdown
}

// PlainEHLO is the EHLO reply of an MTA that gives none of its own.
var PlainEHLO = []string{"250-rules.test", "250-8BITMIME", "250 ENHANCEDSTATUSCODES"}

// PlainDefaults are the answers of a plain ESMTP server that accepts
// every sender and recipient and hides its users, by verb.
var PlainDefaults = map[string]string{
	"HELO": "250 rules.test",
	"MAIL": "250 2.1.0 Ok",
	"RCPT": "250 2.1.5 Ok",
	"RSET": "250 2.0.0 Ok",
	"NOOP": "250 2.0.0 Ok",
	"VRFY": "252 2.0.0 Cannot VRFY user",
	"EXPN": "502 5.5.2 Error: command not recognized",
	"QUIT": "221 2.0.0 Bye",
	"":     "502 5.5.2 Error: command not recognized", // any other verb
}

// The stock profiles: what each MTA answers out of the box (with VRFY
// left on where the MTA allows it, so that the mailbox tests have answers
// to compare), for the domain rules.test and the mailbox alice. The texts
// are those the MTAs send; a random mailbox starts with "smtpprobe-".
var (
	// Sendmail 8.17 with its default sendmail.mc: enhanced codes, an
	// RFC 822 address parser, VRFY answered, EXPN refused, and VRFY/EXPN
	// slowed from the 6th on one connection by 1, 2 then 4 s (its
	// MAXVRFYCOMMANDS).
	Sendmail = MTA{
		Name:   "sendmail",
		Banner: "220 mx.sendmail.test ESMTP Sendmail 8.17.1.9/8.17.1.9; Wed, 2 Dec 2026 15:00:00 GMT",
		EHLO: []string{"250-mx.sendmail.test Hello client.test [127.0.0.1], pleased to meet you", "250-ENHANCEDSTATUSCODES",
			"250-PIPELINING", "250-8BITMIME", "250-SIZE", "250-DSN", "250-ETRN", "250-DELIVERBY", "250 HELP"},
		Rules: []Rule{
			{`^VRFY <?alice\b`, "250 2.1.5 Alice <alice@rules.test>"},
			{`^VRFY <?postmaster\b`, "250 2.1.5 <postmaster@rules.test>"},
			{`^VRFY`, "550 5.1.1 {arg}... User unknown"},
			{`^EXPN`, "502 5.7.0 Sorry, we do not allow this operation"},
			{`^MAIL FROM: *<?[^@<>]+>?( |$)`, "553 5.5.4 <{arg}>... Domain name required for sender address {arg}"},
			{`^RCPT TO:<smtpprobe-`, "550 5.1.1 <{arg}>... User unknown"},
			{`^RCPT`, "250 2.1.5 <{arg}>... Recipient ok"},
			{`^MAIL`, "250 2.1.0 <{arg}>... Sender ok"},
		},
		Defaults: map[string]string{
			"HELO": "250 mx.sendmail.test Hello client.test [127.0.0.1], pleased to meet you",
			"RSET": "250 2.0.0 Reset state",
			"NOOP": "250 2.0.0 OK",
			"QUIT": "221 2.0.0 mx.sendmail.test closing connection",
			"":     "500 5.5.1 Command unrecognized",
		},
		Slow: Slowdown{Match: `^(VRFY|EXPN)\b`, From: 6, Delay: time.Second, Max: 4 * time.Second},
	}
	// Exim 4.96 with VRFY let through its ACL: no enhanced codes, an
	// unknown mailbox is "Unrouteable address", domain literals refused
	// (allow_domain_literals unset), EXPN refused (acl_smtp_expn unset).
	Exim = MTA{
		Name:   "exim",
		Banner: "220 mx.exim.test ESMTP Exim 4.96 Wed, 02 Dec 2026 15:00:00 +0000",
		EHLO: []string{"250-mx.exim.test Hello client.test [127.0.0.1]", "250-SIZE 52428800", "250-8BITMIME",
			"250-PIPELINING", "250-PIPECONNECT", "250-CHUNKING", "250-PRDR", "250 HELP"},
		Rules: []Rule{
			{`^VRFY <?(alice|postmaster)\b`, "250 <{arg}>"},
			{`^VRFY`, "550 <{arg}> Unrouteable address"},
			{`^EXPN`, "550 Administrative prohibition"},
			{`@\[`, "501 <{arg}>: domain literals not allowed"},
			{`^RCPT TO:<smtpprobe-`, "550 Unrouteable address"},
			{`^RCPT TO:<[^>]*[^\x00-\x7f]`, "550 Unrouteable address"}, // no such (non-ASCII) local part
			{`^RCPT`, "250 Accepted"},
			{`^MAIL`, "250 OK"},
		},
		Defaults: map[string]string{
			"HELO": "250 mx.exim.test Hello client.test [127.0.0.1]",
			"RSET": "250 Reset OK",
			"NOOP": "250 OK",
			"QUIT": "221 mx.exim.test closing connection",
			"":     "500 unrecognized command",
		},
	}
	// OpenSMTPD 7: no PIPELINING advertised, VRFY and EXPN not
	// implemented, a strict address parser that wants the angle brackets
	// and refuses quoted local parts, unknown recipients "Invalid
	// recipient".
	OpenSMTPD = MTA{
		Name:   "opensmtpd",
		Banner: "220 mx.opensmtpd.test ESMTP OpenSMTPD",
		EHLO: []string{"250-mx.opensmtpd.test Hello client.test [127.0.0.1], pleased to meet you", "250-8BITMIME",
			"250-ENHANCEDSTATUSCODES", "250-SIZE 36700160", "250-DSN", "250 HELP"},
		Rules: []Rule{
			{`^(VRFY|EXPN)`, "502 5.5.1 Invalid command: Command not supported"},
			{`^MAIL FROM:(<"|[^<])`, "553 5.1.0 Sender address syntax error"},
			{`^RCPT TO:(<"|[^<])`, "553 5.1.3 Recipient address syntax error"},
			{`^RCPT TO:<smtpprobe-`, "550 Invalid recipient: <{arg}>"},
		},
		Defaults: map[string]string{
			"HELO": "250 mx.opensmtpd.test Hello client.test [127.0.0.1], pleased to meet you",
			"MAIL": "250 2.0.0 Ok",
			"RCPT": "250 2.1.5 Destination address valid: Recipient ok",
			"RSET": "250 2.0.0 Reset state",
			"NOOP": "250 2.0.0 Ok",
			"QUIT": "221 2.0.0 Bye",
			"":     "500 5.5.1 Invalid command: Command unrecognized",
		},
	}
)

// MTAs are the stock profiles, for tests that run each of them.
var MTAs = []MTA{Sendmail, Exim, OpenSMTPD}

// With returns a copy of m whose rules rs are tried before m's own.
func (m MTA) With(rs ...Rule) MTA {
	m.Rules = append(append([]Rule(nil), rs...), m.Rules...)
	return m
}

// Slowed returns a copy of m that slows down as s says.
func (m MTA) Slowed(s Slowdown) MTA {
	m.Slow = s
	return m
}

// Steady returns a copy of m that never slows down: for comparing runs
// whose connections carry different numbers of commands.
func (m MTA) Steady() MTA { return m.Slowed(Slowdown{}) }

// StartMTA serves m on a fresh 127.0.0.1 listener until the test ends.
func StartMTA(t testing.TB, m MTA) *LineServer {
	t.Helper()
	answer := m.compile(t)
	return StartLineServer(t, m.Banner+"\r\n", answer)
}

type compiledRule struct {
	re    *regexp.Regexp
	reply string
}

// compile turns m into the answer function of a line server; a bad
// regular expression fails the test.
func (m MTA) compile(t testing.TB) AnswerFunc {
	t.Helper()
	compileRE := func(s string) *regexp.Regexp {
		re, err := regexp.Compile("(?i)" + s)
		if err != nil {
			t.Fatalf("MTA %s: %v", m.Name, err)
		}
		return re
	}
	var rules []compiledRule
	for _, r := range m.Rules {
		rules = append(rules, compiledRule{compileRE(r.Match), r.Reply})
	}
	var slowRE *regexp.Regexp
	if m.Slow.Match != "" {
		slowRE = compileRE(m.Slow.Match)
	}
	ehlo := m.EHLO
	if ehlo == nil {
		ehlo = PlainEHLO
	}
	var mu sync.Mutex
	counted := map[*LineConn]int{} // each connection's count of the lines Slow counts
	return func(c *LineConn, line string) LineReply {
		out := m.reply(rules, ehlo, line)
		if m.Slow.From > 0 {
			isErr := out[0] == '4' || out[0] == '5'
			if slowRE != nil && slowRE.MatchString(line) || slowRE == nil && isErr {
				mu.Lock()
				counted[c]++
				n := counted[c]
				mu.Unlock()
				if d := m.Slow.delay(n); d > 0 {
					time.Sleep(d)
				}
			}
		}
		return LineReply{Out: out + "\r\n", Close: strings.HasPrefix(out, "421") || strings.HasPrefix(out, "221")}
	}
}

// reply is m's answer to one line, without its final CRLF.
func (m MTA) reply(rules []compiledRule, ehlo []string, line string) string {
	for _, r := range rules {
		if r.re.MatchString(line) {
			return strings.ReplaceAll(r.reply, "{arg}", argOf(line))
		}
	}
	verb := strings.ToUpper(strings.Fields(line + " x")[0])
	if verb == "EHLO" {
		return strings.Join(ehlo, "\r\n")
	}
	for _, table := range []map[string]string{m.Defaults, PlainDefaults} {
		if out, ok := table[verb]; ok {
			return out
		}
	}
	if out, ok := m.Defaults[""]; ok {
		return out
	}
	return PlainDefaults[""]
}

// delay is the wait before the reply to the n-th counted line.
func (s Slowdown) delay(n int) time.Duration {
	if s.From <= 0 || n < s.From {
		return 0
	}
	d := s.Delay
	for i := s.From; i < n && s.Max > 0 && d < s.Max; i++ {
		d *= 2
	}
	if s.Max > 0 {
		d = min(d, s.Max)
	}
	return d
}

// argOf is what {arg} stands for in a reply to line.
func argOf(line string) string {
	_, rest, _ := strings.Cut(line, " ")
	if i := strings.IndexByte(rest, ':'); i >= 0 && (strings.HasPrefix(strings.ToUpper(line), "MAIL") || strings.HasPrefix(strings.ToUpper(line), "RCPT")) {
		rest = rest[i+1:]
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "<") {
		if end := strings.IndexByte(rest, '>'); end > 0 {
			return rest[1:end]
		}
	}
	return strings.Trim(rest, "<>")
}
