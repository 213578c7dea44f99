package explain

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cause is why a server refused or deferred a command, as one word from a
// closed set (see Causes). It is read from the reply code, the enhanced
// status code, the recognised text and the command that drew the reply.
type Cause string

// The cause words. A new cause is a new constant, a row in Causes and the
// rows of refusalRules that lead to it.
const (
	CauseUnknownMailbox Cause = "unknown-mailbox" // the mailbox does not exist there
	CauseUnknownDomain  Cause = "unknown-domain"  // the domain does not exist, or is not one the server knows
	CauseRelayDenied    Cause = "relay-denied"    // the server does not take mail for that domain from this client
	CauseSyntax         Cause = "syntax"          // the line, or the address in it, was not understood
	CauseSequence       Cause = "sequence"        // the command came out of order (503)
	CauseBlocklisted    Cause = "blocklisted"     // a DNS blocklist lists the client's address
	CauseGreylisted     Cause = "greylisted"      // refused once on purpose; a retry after a delay passes
	CauseRateLimited    Cause = "rate-limited"    // the client sent too much, too fast (connections, messages, recipients)
	CauseThrottled      Cause = "throttled"       // measured, not read: the server delayed its replies more as errors grew
	CauseSenderRejected Cause = "sender-rejected" // the reverse-path (the prober's sender) was refused
	CauseHELORejected   Cause = "helo-rejected"   // the EHLO/HELO name was refused
	CauseAuthRequired   Cause = "auth-required"   // the server answers only after AUTH
	CauseTLSRequired    Cause = "tls-required"    // the server answers only after STARTTLS
	CauseSizeLimit      Cause = "size-limit"      // the declared size is over the server's limit
	CausePolicy         Cause = "policy"          // a local policy refusal the reply does not explain further
	CauseNotImplemented Cause = "not-implemented" // the server does not know the command (500, or a text saying so)
	CauseDisabled       Cause = "disabled"        // the server knows the command but has it switched off (502, or a text saying so)
	CauseServerError    Cause = "server-error"    // a fault or shortage on the server's side (451, 452, 421, 554 transaction failed)
)

// CauseInfo documents one cause word.
type CauseInfo struct {
	Cause   Cause  `json:"cause"`
	Meaning string `json:"meaning"`
	// About says whose problem it is: "line" (the command as sent),
	// "mailbox", "domain", "client" (the prober's address or identity)
	// or "server".
	About string `json:"about"`
}

// Causes lists every cause word with its meaning, in the order the
// documentation gives them.
var Causes = []CauseInfo{
	{CauseUnknownMailbox, "the mailbox does not exist at this server (RFC 3463 X.1.1)", "mailbox"},
	{CauseUnknownDomain, "the domain does not exist or the server does not know it (X.1.2, X.1.8)", "domain"},
	{CauseRelayDenied, "the server does not take mail for that domain from this client: relaying refused (RFC 5321 §3.6.2)", "domain"},
	{CauseSyntax, "the line or the address in it was not understood (500, 501, 555, or a text saying syntax)", "line"},
	{CauseSequence, "the command came out of order (503, RFC 5321 §4.1.4)", "line"},
	{CauseBlocklisted, "a DNS blocklist lists the client's address; policy about the client, not the line", "client"},
	{CauseGreylisted, "greylisting: the first attempt is deferred on purpose and a retry after the delay passes", "client"},
	{CauseRateLimited, "the client sent too much too fast (connections, messages, recipients); slow down", "client"},
	{CauseThrottled, "measured: the server delayed its replies more as errors grew (a tarpit)", "client"},
	{CauseSenderRejected, "the reverse-path was refused: not fully qualified, its domain unknown, or sender verification failed", "client"},
	{CauseHELORejected, "the EHLO/HELO name was refused (RFC 5321 §4.1.1.1 asks for a FQDN or an address literal)", "client"},
	{CauseAuthRequired, "the server answers only after AUTH (RFC 4954 §6, 530)", "client"},
	{CauseTLSRequired, "the server answers only after STARTTLS (RFC 3207 §4, 530)", "client"},
	{CauseSizeLimit, "the declared message size is over the server's limit (RFC 1870, 552)", "line"},
	{CausePolicy, "a refusal by local policy that the reply does not explain further", "server"},
	{CauseNotImplemented, "the server does not know the command (500, or a text saying so); for EXPN that is allowed (RFC 5321 §3.5.2)", "server"},
	{CauseDisabled, "the server knows the command but has it switched off (502, or a text saying so)", "server"},
	{CauseServerError, "a fault or shortage on the server's side (421, 451, 452, 554 transaction failed); retry later", "server"},
}

// CauseAbout is the About of a cause word, "" for an unknown one.
func CauseAbout(c Cause) string {
	for _, i := range Causes {
		if i.Cause == c {
			return i.About
		}
	}
	return ""
}

// Refusal is the cause of one refused or deferred reply, with what its
// text told besides.
type Refusal struct {
	Cause Cause
	// List is the blocklist the text names (zen.spamhaus.org), or the
	// list's operator when only that is recognisable; for blocklisted.
	List string
	// RetryAfter is the delay the text asks for, for greylisted and
	// rate-limited replies that give one; 0 when none is given.
	RetryAfter time.Duration
	// Basis says what decided the cause: "text" (the words of the reply),
	// "enhanced" (the enhanced status code) or "code" (the basic code and
	// command alone, the weakest evidence).
	Basis string
}

// refusalRule is one row of the cause table: the reply shapes that mean a
// cause. A row matches when every field it sets matches.
type refusalRule struct {
	cause Cause
	// codes is a space-separated set of basic codes or classes ("550",
	// "4xx"); empty matches any refusal.
	codes string
	// enhanced is a space-separated set of subject.detail values ("1.1",
	// "7.*"); empty matches any enhanced code or none.
	enhanced string
	// cmds limits the row to replies to these commands; empty is any.
	cmds []Command
	// words is a case-insensitive regular expression on the text; empty
	// matches any text.
	words string
}

// refusalRules are tried in order; the first that matches decides. Rows on
// words come first (the text is the most specific evidence), then rows on
// enhanced codes, then on the basic code and the command.
var refusalRules = []refusalRule{
	{cause: CauseTLSRequired, words: `must issue a starttls|starttls (command )?first|tls (is )?required|requires? (tls|encryption|starttls)|encryption required`},
	{cause: CauseAuthRequired, words: `authentication (is )?required|must authenticate|auth(entication)? first|please authenticate|authenticate first`},
	{cause: CauseBlocklisted, words: `spamhaus|blocked using|black ?list|block ?list|\bdnsbl\b|\brbl\b|listed (at|in|on|by) |barracuda|spamcop|uceprotect|psbl|\bsorbs\b|blackhole`},
	{cause: CauseGreylisted, codes: "4xx", words: `gr[ae]y-?list|postgrey`},
	{cause: CauseRateLimited, words: `too many (connections|messages|recipients from|requests|mails|commands|bad recipients|concurrent)|too much mail|rate.?limit|slow down|too fast|exceeded .*(rate|limit)|throttl`},
	{cause: CauseHELORejected, words: `hel?lo command rejected|ehlo command rejected|helo/ehlo|invalid (helo|ehlo)|bad (helo|ehlo)|(helo|ehlo) name|(helo|ehlo) .*fqdn|need fully-qualified hostname|helo .*(rejected|refused|not allowed|required)`},
	{cause: CauseDisabled, cmds: []Command{VRFY, EXPN}, words: `disabled|administrativ|not allowed|do not allow|turned off|not permitted|denied|prohibited|cannot vrfy|will not`},
	{cause: CauseNotImplemented, words: `not implemented|unrecogni[sz]ed|unknown command|command not recogni|not supported|unsupported command`, codes: "500 502 504"},
	{cause: CauseSyntax, words: `syntax|malformed|bad (sender|recipient) address syntax|invalid address|parse error|domain literals? (are )?not allowed|\bunmatched\b|missing [<>]`},
	{cause: CauseSenderRejected, words: `sender address rejected|sender verify failed|sender verification|unverified sender|domain of sender address|sender domain|sender .*(rejected|refused|denied|not allowed|unknown|invalid)`, cmds: []Command{MAIL, RCPT}},
	{cause: CauseRelayDenied, words: `relay(ing)? (access )?(denied|not permitted|prohibited|not allowed|disallowed)|unable to relay|(do|does) not relay|not permitted to relay|no relaying|not a gateway|relay not permitted`},
	{cause: CauseUnknownMailbox, words: `user unknown|unknown user|no such (user|mailbox|recipient|address|local user)|mailbox (is )?(unavailable|not found|does not exist)|unrouteable address|invalid recipient|recipient unknown|unknown (local|recipient)|does not exist|not our customer|address rejected: user`, cmds: []Command{RCPT, VRFY, EXPN}},
	{cause: CauseUnknownDomain, words: `domain not found|unknown domain|host not found|no such domain|domain does not exist`},
	{cause: CauseSizeLimit, words: `message size|too big|too large|exceeds .*size`, codes: "452 552"},

	// Enhanced codes (RFC 3463).
	{cause: CauseUnknownMailbox, enhanced: "1.1 1.6 1.10 2.1", cmds: []Command{RCPT, VRFY, EXPN}},
	{cause: CauseUnknownDomain, enhanced: "1.2"},
	{cause: CauseSenderRejected, enhanced: "1.7 1.8", cmds: []Command{MAIL, RCPT}, codes: "4xx 550 553 554"},
	{cause: CauseSyntax, enhanced: "1.3 1.7 5.2 5.4 6.7"},
	{cause: CauseSizeLimit, enhanced: "2.3 3.4"},
	{cause: CauseTLSRequired, enhanced: "7.10 7.11"},
	{cause: CauseAuthRequired, enhanced: "7.0", codes: "530"},
	{cause: CausePolicy, enhanced: "7.*"},
	{cause: CauseServerError, enhanced: "3.* 4.*"},

	// Basic codes in the context of the command.
	{cause: CauseNotImplemented, codes: "500", cmds: []Command{VRFY, EXPN, HELP, NOOP, EHLO, HELO, STARTTLS, AUTH, Unknown}},
	{cause: CauseSyntax, codes: "500 501 555"},
	{cause: CauseDisabled, codes: "502", cmds: []Command{VRFY, EXPN}},
	{cause: CauseNotImplemented, codes: "502 504"},
	{cause: CauseSequence, codes: "503"},
	{cause: CauseAuthRequired, codes: "530"},
	{cause: CauseSizeLimit, codes: "552"},
	{cause: CauseRelayDenied, codes: "551"},
	{cause: CauseServerError, codes: "421 451 452 454 4xx"},
	{cause: CausePolicy, codes: "5xx"},
}

type compiledRefusal struct {
	row   refusalRule
	words *regexp.Regexp
}

var compiledRefusals = sync.OnceValue(func() []compiledRefusal {
	out := make([]compiledRefusal, len(refusalRules))
	for i, r := range refusalRules {
		out[i].row = r
		if r.words != "" {
			out[i].words = regexp.MustCompile("(?i)" + r.words)
		}
	}
	return out
})

func (c compiledRefusal) matches(code int, enhanced, text string, cmd Command) bool {
	r := c.row
	if r.codes != "" && !codeIn(r.codes, code) {
		return false
	}
	if r.enhanced != "" && !enhancedIn(r.enhanced, enhanced) {
		return false
	}
	if len(r.cmds) > 0 {
		found := false
		for _, x := range r.cmds {
			found = found || x == cmd
		}
		if !found {
			return false
		}
	}
	return c.words == nil || c.words.MatchString(text)
}

// codeIn tells whether code is in a space-separated set of codes and
// classes ("550 4xx").
func codeIn(set string, code int) bool {
	for _, f := range strings.Fields(set) {
		if strings.HasSuffix(f, "xx") {
			if n, err := strconv.Atoi(f[:1]); err == nil && code/100 == n {
				return true
			}
			continue
		}
		if n, err := strconv.Atoi(f); err == nil && n == code {
			return true
		}
	}
	return false
}

// enhancedIn tells whether enhanced (class.subject.detail) has a
// subject.detail in set ("1.1 7.*").
func enhancedIn(set, enhanced string) bool {
	_, sd, ok := strings.Cut(enhanced, ".")
	if !ok {
		return false
	}
	subject, _, _ := strings.Cut(sd, ".")
	for _, f := range strings.Fields(set) {
		if f == sd || strings.HasSuffix(f, ".*") && strings.TrimSuffix(f, ".*") == subject {
			return true
		}
	}
	return false
}

// ClassifyRefusal gives the cause of a reply of class 4 or 5 to cmd, from
// its code, enhanced code and text. A reply of another class has no cause:
// the zero Refusal. Server text is only matched, never trusted further.
func ClassifyRefusal(code int, enhanced, text string, cmd Command) Refusal {
	if code/100 != 4 && code/100 != 5 {
		return Refusal{}
	}
	for _, c := range compiledRefusals() {
		if !c.matches(code, enhanced, text, cmd) {
			continue
		}
		r := Refusal{Cause: c.row.cause, Basis: "code"}
		switch {
		case c.words != nil:
			r.Basis = "text"
		case c.row.enhanced != "":
			r.Basis = "enhanced"
		}
		switch r.Cause {
		case CauseBlocklisted:
			r.List = blocklistName(code, enhanced, text, cmd)
		case CauseGreylisted, CauseRateLimited:
			r.RetryAfter = retryDelay(text)
		}
		return r
	}
	return Refusal{Cause: CausePolicy, Basis: "code"}
}

// listNamed finds a DNS zone a blocklist text names: "blocked using
// zen.spamhaus.org", "listed at bl.spamcop.net", "in a black list at …".
var listNamed = lazyRegexp(`(?i)(?:blocked using|listed (?:at|in|on|by)|(?:black|block) ?list(?:ed)? (?:at|in|on)|rejected by) ([a-z0-9-]+(?:\.[a-z0-9-]+)+)`)

// blocklistName names the list behind a blocklist refusal: the zone the
// text names, else the list operator a recognizer knows, else "".
func blocklistName(code int, enhanced, text string, cmd Command) string {
	if m := listNamed().FindStringSubmatch(text); m != nil {
		return strings.TrimSuffix(strings.ToLower(m[1]), ".")
	}
	if rec := Explain(code, enhanced, text, cmd).Recognized; rec != nil && rec.Source != srcDNSBL {
		return rec.Source
	}
	return ""
}

// retryIn finds a delay in a text: "retry in 5 minutes", "try again in
// 300 seconds", "wait 60s".
var retryIn = lazyRegexp(`(?i)\b(\d{1,6})(?:\s*(seconds?|secs?|minutes?|mins?)|(s|m))\b`)

// retryDelay is the delay a greylisting or rate-limiting text asks for,
// 0 when it gives none.
func retryDelay(text string) time.Duration {
	m := retryIn().FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	if strings.HasPrefix(strings.ToLower(m[2]+m[3]), "m") {
		return time.Duration(n) * time.Minute
	}
	return time.Duration(n) * time.Second
}
