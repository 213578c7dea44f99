package explain

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// ReasonInfo is one word of the bounce reason taxonomy and what it means.
type ReasonInfo struct {
	Word       string `json:"reason"`
	Definition string `json:"definition"`
}

// Reasons is the reason taxonomy that bounce classifiers share (the words
// sisimai gave it), each defined in terms of what the report says.
var Reasons = []ReasonInfo{
	{"userunknown", "The recipient's mailbox does not exist at the destination, or its address cannot be a mailbox there (RFC 3463 X.1.1, X.1.3)."},
	{"mailboxfull", "The recipient's mailbox is over its storage quota (X.2.2); it may empty again."},
	{"blocked", "The receiving server refused the sending server itself: its IP address or host name is on a block list, or is refused by local policy."},
	{"rejected", "The envelope sender (MAIL FROM) was refused: the address, its domain or its sending rights."},
	{"filtered", "A filter the recipient or the receiving site set up refused the message after it was accepted for delivery."},
	{"expired", "The reporting server gave up after retrying for its queue lifetime (X.4.7)."},
	{"hostunknown", "The recipient's domain does not exist, or has no host that mail can be routed to (X.1.2, X.4.4)."},
	{"norelaying", "The server the message was handed to is not a destination for the recipient's domain and refuses to relay for the sender."},
	{"policyviolation", "The message broke a policy of the receiving site that is not about spam or viruses: an attachment type, a content rule, a delivery restriction (X.7.1)."},
	{"spamdetected", "The receiving site's content checks judged the message to be spam."},
	{"virusdetected", "A virus or other malware was found in the message."},
	{"authfailure", "The message failed sender authentication: SPF, DKIM, DMARC or ARC (X.7.20-X.7.26)."},
	{"requireptr", "The sending server's IP address has no reverse DNS name, or one that does not resolve back (X.7.25)."},
	{"securityerror", "The session lacked the security the server demands: SMTP authentication, valid credentials (X.7.0, X.7.8)."},
	{"mesgtoobig", "The message is larger than the receiving system accepts (X.3.4)."},
	{"exceedlimit", "The message exceeds a limit of the recipient's mailbox or of the session other than total size: the mailbox's own size limit (X.2.3), the number of recipients."},
	{"toomanyconn", "The receiving server refused because the sender has too many connections open to it."},
	{"speeding", "The sender sent too much too fast: a rate limit on messages or recipients."},
	{"suspend", "The recipient's mailbox exists but is disabled, suspended or inactive (X.2.1)."},
	{"syntaxerror", "A command of the SMTP dialogue was refused as malformed (X.5.x, reply codes 500-504)."},
	{"systemerror", "The receiving or reporting system failed: a configuration error, a mail loop, a broken directory (X.3.0, X.3.5, X.4.6)."},
	{"systemfull", "The receiving system ran out of storage for all mail, not one mailbox's quota (X.3.1)."},
	{"networkerror", "The destination could not be reached: connection refused or timed out, a DNS failure, a lost connection (X.4.1, X.4.2)."},
	{"notaccept", "The destination accepts no mail at all: a null MX (RFC 7505), or a server that refuses every message (X.3.2)."},
	{"notcompliantrfc", "The message does not follow the Internet Message Format (RFC 5322): missing or repeated header fields, bad line endings."},
	{"mailererror", "A local delivery program (a filter, procmail, a pipe) failed on the reporting host."},
	{"hasmoved", "The recipient's address has moved; the report may name the new one (X.1.6, reply 551)."},
	{"contenterror", "The content could not be handled: a media type, encoding or conversion the destination does not support (X.6.x)."},
	{"badreputation", "The receiving site rates the sending IP address or domain as having a poor reputation."},
	{"onhold", "The report says nothing yet decides the failure; delivery is held or the reason will follow."},
	{"failedstarttls", "TLS was required and could not be negotiated, or encryption is needed for this delivery (X.7.10, X.7.11)."},
	{"feedback", "Not a bounce: a feedback report (RFC 5965), a complaint from a recipient or a mailbox provider."},
	{"vacation", "Not a bounce: an automatic reply (RFC 3834), such as an out-of-office message."},
	{"delivered", "Not a failure: the notification reports a successful delivery, relay or expansion."},
	{"undefined", "The report does not tell why the delivery failed."},
}

// causeRule is one row of the classifier: when the recipient's report
// matches every field the row sets, reason, cause and actor apply. An
// empty field matches anything.
type causeRule struct {
	reason string
	cause  string // our finer word
	actor  string // who has to act: sender, sender's admin, recipient, recipient's admin, nobody
	// status is a space-separated set of enhanced codes, "x" for either
	// class ("x.1.1"); "x.7.2*" matches any detail that starts so.
	status string
	// codes is a space-separated set of reply codes.
	codes string
	// context is the command the reply answered.
	context Command
	// words is a case-insensitive regular expression on the diagnostic.
	words string
}

// causeRules are tried in order; the first that matches classifies the
// recipient. Words are matched against the lower-cased diagnostic, so
// they are written in lower case (the character classes \S, \W keep
// their case). Rows with words come first: the server's own words say more
// than its codes, which are often generic (5.7.1, 550).
var causeRules = []causeRule{
	// Sender authentication and reputation, before "blocked" words.
	{reason: "authfailure", cause: "dmarc-fail", actor: "sender's admin", words: `\bdmarc\b`},
	{reason: "authfailure", cause: "spf-fail", actor: "sender's admin", words: `\bspf\b|sender policy framework`},
	{reason: "authfailure", cause: "dkim-fail", actor: "sender's admin", words: `\bdkim\b`},
	{reason: "authfailure", cause: "unauthenticated-sender", actor: "sender's admin", words: `unauthenticated (?:e-?mail|sender)|not authenticated|authentication checks? (?:failed|did not pass)|5\.7\.26`},
	{reason: "requireptr", cause: "no-reverse-dns", actor: "sender's admin", words: `reverse (?:dns|lookup|hostname)|\bptr\b|\brdns\b|client host .* (?:rejected: cannot find your hostname|name lookup failed)|cannot find your (?:reverse )?hostname`},
	{reason: "badreputation", cause: "low-reputation", actor: "sender's admin", words: `reputation|unusual rate of unsolicited|sender score`},
	{reason: "speeding", cause: "rate-limited", actor: "sender's admin", words: `rate limit|too many (?:messages|emails|mails|recipients) (?:sent|from|in)|sending rate|exceeded .*rate|throttl|try again later.*(?:rate|volume)|receiving mail at a rate|temporarily deferred due to (?:user|unexpected) volume`},
	{reason: "toomanyconn", cause: "too-many-connections", actor: "sender's admin", words: `too many (?:concurrent )?(?:connections|sessions|smtp sessions)|connection limit|concurrency limit`},
	{reason: "blocked", cause: "greylisted", actor: "nobody", words: `greylist|graylist|grey-list|gray-list|try again later, closing|temporarily rejected.*please retry`},
	{reason: "blocked", cause: "ip-blocklisted", actor: "sender's admin", words: `spamhaus|spamcop|barracuda|sorbs|\bdnsbl\b|\brbl\b|block ?list(?:ed)?|black ?list(?:ed)?|listed (?:in|on|at|by) \S*(?:bl|spam|block|black)|\bbanned sending ip|\bs3150\b|\btss\d{2}\b|\bbl\d{2}\b|\[bl\d+\]`},
	{reason: "blocked", cause: "client-refused", actor: "sender's admin", words: `client host (?:\[[^\]]*\] )?(?:rejected|blocked)|access denied.*(?:ip|host)|connection (?:refused|rejected) (?:by policy|due to)|ip address .* (?:blocked|rejected|not allowed)|your (?:ip|server|host) .* (?:blocked|rejected|not allowed)|\bas\(\d+\)|poor reputation`},
	{reason: "virusdetected", cause: "malware", actor: "sender", words: `virus|malware|infected|trojan|worm\b`},
	{reason: "spamdetected", cause: "spam-content", actor: "sender", words: `\bspam\b|unsolicited|junk mail|looks like spam|content.*(?:rejected|refused).*spam|\buce\b|bulk mail`},
	{reason: "norelaying", cause: "relay-denied", actor: "sender's admin", words: `relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)|unable to relay|not permitted to relay|relay not permitted|we do not relay|no relaying|relaying denied`},
	{reason: "failedstarttls", cause: "tls-required", actor: "sender's admin", words: `must issue a starttls|starttls (?:is )?required|tls (?:is )?required|encryption (?:is )?required|requiretls|tls negotiation failed|cannot start tls|starttls failed`},
	{reason: "securityerror", cause: "auth-required", actor: "sender's admin", words: `authentication (?:is )?required|auth(?:entication)? (?:failed|credentials invalid)|must (?:authenticate|be authenticated)|sender (?:is )?not authorized to send|not authorized to send from|5\.7\.8\b|relay access requires auth`},
	{reason: "mailboxfull", cause: "mailbox-full", actor: "recipient", words: `mailbox (?:is )?full|over (?:the )?quota|quota exceeded|exceeded (?:the |their |his |her )?(?:storage|quota)|insufficient (?:storage|space) (?:for|in) (?:the )?(?:user|mailbox)|mailbox (?:size|storage) limit|user is over|out of storage space|inbox is full|storage allocation`},
	{reason: "mesgtoobig", cause: "message-too-big", actor: "sender", words: `message (?:size )?(?:is )?(?:too (?:big|large)|exceeds|larger than)|size (?:limit|exceeds)|exceeds (?:the )?(?:maximum|max(?:imum)? allowed|fixed maximum) (?:message )?size|message length exceeds|too big for the system`},
	{reason: "exceedlimit", cause: "too-many-recipients", actor: "sender", words: `too many recipients|recipient limit|maximum (?:number of )?recipients`},
	{reason: "suspend", cause: "mailbox-disabled", actor: "recipient's admin", words: `(?:account|mailbox|user) (?:is |has been )?(?:disabled|suspended|inactive|deactivated|locked|blocked|closed|expired|frozen)|inactive (?:user|account|mailbox)|no longer (?:active|in use)|mailbox (?:is )?unavailable.*disabled|account .* not (?:active|available)|5\.2\.1\b`},
	{reason: "hasmoved", cause: "address-moved", actor: "sender", words: `has moved|user not local; please try|no longer (?:at|with) this (?:address|company)|moved to|new (?:e-?mail )?address is`},
	{reason: "hostunknown", cause: "domain-unknown", actor: "sender", words: `host (?:or domain name )?not found|domain (?:name )?not found|no such domain|domain does not exist|unrouteable (?:mail )?domain|unrouteable address|name service error.*(?:host not found|no mx)|nxdomain|no mx (?:record|for)|dns (?:lookup|resolution) failed for|unknown host|domain (?:is )?not (?:configured|hosted)`},
	{reason: "notaccept", cause: "accepts-no-mail", actor: "sender", words: `null mx|does not accept (?:e-?)?mail|accepts no mail|not accepting (?:any )?mail|mail is not accepted`},
	{reason: "expired", cause: "queue-timeout", actor: "recipient's admin", words: `retry timeout exceeded|delivery time expired|message expired|too long in (?:the )?queue|could not be delivered for (?:more than )?\d+ (?:days|hours)|expired after|maximal (?:queue )?lifetime|delivery temporarily suspended.*expired|timeout exceeded`},
	{reason: "networkerror", cause: "connection-failed", actor: "recipient's admin", words: `connection (?:refused|timed out|reset|closed)|timed out while|no route to host|network (?:is )?unreachable|lost connection|couldn't establish (?:an )?smtp connection|wasn't able to establish an smtp connection|could not connect|conversation with .* timed out|\berrno\b|host unreachable`},
	{reason: "networkerror", cause: "dns-temporary", actor: "recipient's admin", words: `name service error|temporary (?:dns|lookup) failure|dns (?:timeout|temporary)|servfail|try again \(dns\)`},
	{reason: "systemerror", cause: "mail-loop", actor: "recipient's admin", words: `mail (?:forwarding )?loop|loops back to myself|too many hops|hop count exceeded|routing loop`},
	{reason: "systemfull", cause: "server-storage-full", actor: "recipient's admin", words: `insufficient system storage|disk (?:is )?full|no space left|system storage|out of disk`},
	{reason: "mailererror", cause: "local-delivery-failed", actor: "recipient's admin", words: `command (?:died|failed|output)|\bprocmail\b|\bmaildrop\b|exit (?:status|code) \d+|\bpipe to\b|unknown mail transport error|mail transport unavailable`},
	{reason: "notcompliantrfc", cause: "rfc5322-violation", actor: "sender's admin", words: `not (?:rfc ?5322|rfc ?2822|rfc) compliant|rfc ?5322|multiple (?:from|subject|date|to|message-id) headers|missing (?:a )?(?:from|date|message-id) header|bare (?:lf|linefeed|newline)|header (?:is )?(?:malformed|invalid)`},
	{reason: "contenterror", cause: "content-unsupported", actor: "sender", words: `content[- ]type|media type|8-?bit|encoding (?:is )?(?:not supported|invalid)|conversion (?:failed|not possible)|smtputf8 is required|utf-?8 (?:is )?(?:required|not supported)`},
	{reason: "policyviolation", cause: "attachment-refused", actor: "sender", words: `attachment|file type|\.exe\b|executable|prohibited (?:file|content)|banned (?:file|attachment)`},
	{reason: "filtered", cause: "recipient-filter", actor: "recipient", words: `rejected by (?:the )?recipient|recipient'?s? (?:filter|rules?|settings)|refused by (?:the )?user|message (?:rejected|blocked) by user|user (?:has )?(?:blocked|refused)|sender (?:is )?blocked by (?:the )?recipient|not on (?:the )?(?:recipient's )?(?:allow|white|safe) ?list|mail filter`},
	{reason: "policyviolation", cause: "content-policy", actor: "sender", words: `content (?:policy|filter|rejected)|policy (?:violation|reasons)|violat(?:es|ion of) (?:our )?(?:policy|terms)|message (?:content )?rejected|not allowed by policy|delivery not authorized|administrative prohibition|restricted|prohibited`},
	{reason: "userunknown", cause: "mailbox-unknown", actor: "sender", words: `user unknown|unknown user|no such (?:user|mailbox|recipient|account|address)|(?:mailbox|user|recipient|account|address|addressee) (?:does not|doesn't|did not) exist|does not exist|not (?:a )?(?:valid|known) (?:user|recipient|mailbox|address)|invalid (?:recipient|mailbox|address|user)|unknown (?:recipient|mailbox|address|local part|or illegal alias)|recipient (?:address )?(?:rejected|not found|unknown)|address (?:rejected|unknown|not found)|user not found|mailbox not found|couldn't be found|could not be found|no mailbox (?:here|by that name)|recipnotfound|recipientnotfound|not listed in|not our customer|unknown in (?:local|virtual|relay) recipient table|mailbox unavailable|account (?:does not|doesn't) exist|wasn't found at|no longer (?:exists|valid)|address (?:is )?invalid|bad destination mailbox`},
	{reason: "rejected", cause: "sender-rejected", actor: "sender's admin", context: MAIL, words: `.`},
	{reason: "blocked", cause: "client-refused", actor: "sender's admin", context: Greeting, words: `.`},

	// The enhanced status codes (RFC 3463 and the IANA registry).
	{reason: "userunknown", cause: "mailbox-unknown", actor: "sender", status: "x.1.1 x.1.0"},
	{reason: "hostunknown", cause: "domain-unknown", actor: "sender", status: "x.1.2 x.4.4"},
	{reason: "userunknown", cause: "address-syntax", actor: "sender", status: "x.1.3"},
	{reason: "userunknown", cause: "address-ambiguous", actor: "sender", status: "x.1.4"},
	{reason: "hasmoved", cause: "address-moved", actor: "sender", status: "x.1.6"},
	{reason: "rejected", cause: "sender-syntax", actor: "sender's admin", status: "x.1.7"},
	{reason: "rejected", cause: "sender-domain-unknown", actor: "sender's admin", status: "x.1.8"},
	{reason: "notaccept", cause: "accepts-no-mail", actor: "sender", status: "x.1.10 x.7.27"},
	{reason: "suspend", cause: "mailbox-disabled", actor: "recipient's admin", status: "x.2.1 x.7.13"},
	{reason: "mailboxfull", cause: "mailbox-full", actor: "recipient", status: "x.2.2"},
	{reason: "exceedlimit", cause: "mailbox-size-limit", actor: "sender", status: "x.2.3"},
	{reason: "systemerror", cause: "list-expansion-failed", actor: "recipient's admin", status: "x.2.4"},
	{reason: "systemfull", cause: "server-storage-full", actor: "recipient's admin", status: "x.3.1"},
	{reason: "notaccept", cause: "system-not-accepting", actor: "recipient's admin", status: "x.3.2"},
	{reason: "mesgtoobig", cause: "message-too-big", actor: "sender", status: "x.3.4"},
	{reason: "systemerror", cause: "server-misconfigured", actor: "recipient's admin", status: "x.3.0 x.3.5 x.3.3"},
	{reason: "networkerror", cause: "connection-failed", actor: "recipient's admin", status: "x.4.0 x.4.1 x.4.2"},
	{reason: "networkerror", cause: "dns-temporary", actor: "recipient's admin", status: "x.4.3"},
	{reason: "toomanyconn", cause: "too-many-connections", actor: "sender's admin", status: "x.4.5"},
	{reason: "systemerror", cause: "mail-loop", actor: "recipient's admin", status: "x.4.6"},
	{reason: "expired", cause: "queue-timeout", actor: "recipient's admin", status: "x.4.7"},
	{reason: "exceedlimit", cause: "too-many-recipients", actor: "sender", status: "x.5.3"},
	{reason: "syntaxerror", cause: "protocol-syntax", actor: "sender's admin", status: "x.5.0 x.5.1 x.5.2 x.5.4 x.5.5 x.5.6"},
	{reason: "contenterror", cause: "content-unsupported", actor: "sender", status: "x.6.*"},
	{reason: "securityerror", cause: "auth-required", actor: "sender's admin", status: "x.7.0 x.7.8 x.7.9 x.7.14"},
	{reason: "failedstarttls", cause: "tls-required", actor: "sender's admin", status: "x.7.10 x.7.11 x.7.30"},
	{reason: "contenterror", cause: "message-integrity", actor: "sender", status: "x.7.7"},
	{reason: "authfailure", cause: "dkim-fail", actor: "sender's admin", status: "x.7.20 x.7.21 x.7.22"},
	{reason: "authfailure", cause: "spf-fail", actor: "sender's admin", status: "x.7.23 x.7.24"},
	{reason: "requireptr", cause: "no-reverse-dns", actor: "sender's admin", status: "x.7.25"},
	{reason: "authfailure", cause: "unauthenticated-sender", actor: "sender's admin", status: "x.7.26 x.7.29"},
	{reason: "speeding", cause: "rate-limited", actor: "sender's admin", status: "x.7.28"},
	{reason: "policyviolation", cause: "delivery-not-authorized", actor: "sender's admin", status: "x.7.1 x.7.*"},

	// Reply codes alone (RFC 5321 §4.2.2-4.2.3).
	{reason: "hasmoved", cause: "address-moved", actor: "sender", codes: "551"},
	{reason: "mailboxfull", cause: "mailbox-full", actor: "recipient", codes: "452 552"},
	{reason: "userunknown", cause: "mailbox-name-refused", actor: "sender", codes: "553"},
	{reason: "syntaxerror", cause: "protocol-syntax", actor: "sender's admin", codes: "500 501 502 503 504"},
	{reason: "securityerror", cause: "auth-required", actor: "sender's admin", codes: "530 535"},
	{reason: "networkerror", cause: "service-unavailable", actor: "recipient's admin", codes: "421"},
	{reason: "systemerror", cause: "server-error", actor: "recipient's admin", codes: "451"},
	{reason: "userunknown", cause: "mailbox-unavailable", actor: "sender", codes: "550", context: RCPT},
	{reason: "onhold", cause: "temporary-unspecified", actor: "nobody", codes: "450"},
}

// filtered is a regular expression with the literals one of which any
// match must contain, so that a substring search rules most texts out
// before the expression runs.
type filtered struct {
	re      *regexp.Regexp
	factors []string // nil when no literal is required
}

func newFiltered(expr string) filtered {
	f := filtered{re: regexp.MustCompile(expr)}
	if t, err := syntax.Parse(expr, syntax.Perl); err == nil {
		f.factors = requiredFactors(t.Simplify())
	}
	return f
}

// MatchString tells whether s matches.
func (f filtered) MatchString(s string) bool {
	if f.factors != nil {
		found := false
		for _, x := range f.factors {
			if strings.Contains(s, x) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return f.re.MatchString(s)
}

// compiledRule is a causeRule ready to match.
type compiledRule struct {
	causeRule
	re *filtered
}

var compiledRules = sync.OnceValue(func() []compiledRule {
	out := make([]compiledRule, len(causeRules))
	for i, r := range causeRules {
		out[i] = compiledRule{causeRule: r}
		if r.words != "" {
			f := newFiltered(r.words)
			out[i].re = &f
		}
	}
	return out
})

// requiredFactors is a set of literals one of which every match of t
// contains, or nil when it cannot tell (the prefilter then lets the
// expression decide).
func requiredFactors(t *syntax.Regexp) []string {
	switch t.Op {
	case syntax.OpLiteral:
		if t.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(t.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredFactors(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min >= 1 {
			return requiredFactors(t.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, s := range t.Sub {
			f := requiredFactors(s)
			if f == nil {
				return nil
			}
			out = append(out, f...)
		}
		return out
	case syntax.OpConcat:
		// Any one part's factors will do; the set with the longest
		// shortest literal rules out the most.
		var best []string
		bestLen := 0
		for _, s := range t.Sub {
			f := requiredFactors(s)
			if f == nil {
				continue
			}
			short := len(f[0])
			for _, x := range f {
				short = min(short, len(x))
			}
			if short > bestLen {
				best, bestLen = f, short
			}
		}
		return best
	}
	return nil
}

// statusMatches tells whether enhanced code st matches a rule's status set.
func statusMatches(set, st string) bool {
	if st == "" {
		return false
	}
	for _, p := range strings.Fields(set) {
		if p[0] == 'x' {
			p = st[:1] + p[1:]
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(st, prefix) {
				return true
			}
		} else if p == st {
			return true
		}
	}
	return false
}

// classify picks reason, cause and actor for a failed or delayed
// recipient from its diagnostic, status, reply code and context.
func classify(r *Recipient) (reason, cause, actor string) {
	code := ""
	if r.ReplyCode != 0 {
		code = codeString(r.ReplyCode)
	}
	diag := strings.ToLower(capText(r.Diagnostic, maxDiagnostic))
	for _, c := range compiledRules() {
		if c.status != "" && !statusMatches(c.status, r.Status) {
			continue
		}
		if c.codes != "" && (code == "" || !containsField(c.codes, code)) {
			continue
		}
		if c.context != "" && r.Context != c.context {
			continue
		}
		if c.re != nil && !c.re.MatchString(diag) {
			continue
		}
		if c.status == "" && c.codes == "" && c.re == nil {
			continue
		}
		return c.reason, c.cause, c.actor
	}
	return "undefined", "unspecified", "sender's admin"
}

func containsField(set, v string) bool {
	for _, f := range strings.Fields(set) {
		if f == v {
			return true
		}
	}
	return false
}

func codeString(n int) string {
	if n < 100 || n > 999 {
		return ""
	}
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

// finishRecipient completes a recipient's entry: the reply, the remote
// host and the command from its diagnostic, then reason, cause, actor,
// and the knowledge base's reading of the reply.
func finishRecipient(r *Recipient, kind string) {
	r.Diagnostic = capText(strings.Join(strings.Fields(r.Diagnostic), " "), maxDiagnostic)
	p := textPats()
	switch kind {
	case "feedback":
		r.Reason, r.Actor = "feedback", "sender"
		return
	case "auto-reply":
		r.Reason, r.Cause, r.Actor = "vacation", "auto-reply", "nobody"
		r.Explanation = "an automatic reply (RFC 3834): the message was delivered; the recipient's software answered for them"
		r.Fix = "nothing to do; do not treat it as a bounce or reply to it automatically (RFC 3834 §2)"
		return
	}
	code, enh, text := leadingReply(r.Diagnostic)
	if code == 0 && mayQuoteReply(r.Diagnostic) {
		for _, f := range FindReplies(r.Diagnostic) {
			if f.Inferred {
				if enh == "" {
					enh = f.Enhanced
				}
				continue
			}
			code, enh, text = f.Code, f.Enhanced, f.Text
			if r.Context == "" && f.Context != Unknown {
				r.Context = f.Context
			}
			break
		}
	}
	r.ReplyCode = code
	if r.Status == "" {
		r.Status = enh
		if r.Status == "" {
			if m := p.qmailStatus.FindStringSubmatch(r.Diagnostic); m != nil {
				r.Status = m[1]
			}
		}
	}
	if r.Context == "" {
		r.Context = contextOf(r.Diagnostic)
	}
	if r.RemoteMTA == "" {
		for _, re := range p.remote {
			if m := re.FindStringSubmatch(r.Diagnostic); m != nil {
				r.RemoteMTA = m[1]
				if m[2] != "" {
					if r.RemoteMTA != "" {
						r.RemoteMTA += " [" + m[2] + "]"
					} else {
						r.RemoteMTA = m[2]
					}
				}
				break
			}
		}
	}
	if r.Action == "" {
		switch {
		case p.delayed.MatchString(r.Diagnostic) || code/100 == 4 && r.Status == "" || strings.HasPrefix(r.Status, "4."):
			r.Action = "delayed"
		default:
			r.Action = "failed"
		}
	}
	switch r.Action {
	case "delivered", "relayed", "expanded":
		r.Reason, r.Cause, r.Actor = "delivered", r.Action, "nobody"
		r.Explanation = "the notification reports that the message was " + r.Action + " (RFC 3464 §2.3.3)"
		return
	}
	r.Reason, r.Cause, r.Actor = classify(r)
	if text == "" {
		text = r.Diagnostic
	}
	var x Explanation
	switch {
	case code != 0:
		x = Explain(code, enh, text, r.Context)
	case r.Status != "":
		x = Explain(0, r.Status, "", "")
	default:
		r.Explanation = "the report gives neither a reply code nor a status code"
		return
	}
	r.Explanation = x.Brief()
	r.Fix = x.SpecificFix()
	if x.Recognized != nil {
		r.Source = x.Recognized.Source
		r.StatusReused = x.Recognized.IANAMeaning != "" && x.Enhanced == r.Status
	}
	if r.Cause == "unspecified" && x.Actor != "" {
		r.Actor = x.Actor
	}
}

// feedbackCause is our cause word for a feedback report's type (RFC 5965
// §7.3, RFC 6591 for auth-failure).
func feedbackCause(typ string) string {
	switch typ {
	case "abuse":
		return "abuse-complaint"
	case "fraud":
		return "fraud-report"
	case "virus":
		return "virus-report"
	case "not-spam":
		return "not-spam-report"
	case "auth-failure":
		return "auth-failure-report"
	}
	return "other-feedback"
}

// feedbackReading says what a feedback report of type typ means and what
// the sender should do.
func feedbackReading(typ string) (explanation, fix string) {
	switch typ {
	case "abuse":
		return "a feedback report (RFC 5965): the recipient marked the message as spam or abuse; it was delivered",
			"stop mailing this recipient (unsubscribe them); check how the address was obtained, since complaints harm the sender's reputation"
	case "fraud":
		return "a feedback report (RFC 5965): the message was reported as fraud or phishing",
			"find out whether the sending domain is being forged or an account abused; publish DMARC with an enforcing policy"
	case "virus":
		return "a feedback report (RFC 5965): the message was reported as carrying a virus",
			"scan the sending system and the message's attachments; stop the source"
	case "not-spam":
		return "a feedback report (RFC 5965): the recipient marked the message as not spam",
			"nothing to fix; the receiver had filed it as spam, so check the sender's reputation"
	case "auth-failure":
		return "an authentication failure report (RFC 6591): the message failed SPF, DKIM or DMARC at the receiver",
			"check the SPF record and the DKIM signature of the sending domain; if the mail was not yours, the domain is being forged"
	}
	return "a feedback report (RFC 5965) of type " + typ, "read the report's human-readable part for what the reporter wants"
}

// contextOf is the command a diagnostic says its reply answered
// ("(in reply to RCPT TO command)", "after end of data", "[RCPT_TO]"), or "".
func contextOf(diag string) Command {
	diag = strings.ToLower(diag)
	for _, c := range textPats().contexts {
		if c.re.MatchString(diag) {
			return c.cmd
		}
	}
	return ""
}
