package address

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// AddressReport is the offline analysis of one address: how it reads as an
// SMTP Mailbox (RFC 5321 §4.1.2, extended by RFC 6531 §3.3) and as an RFC 5322
// §3.4.1 addr-spec, and what real servers are likely to make of it.
type AddressReport struct {
	Input         string `json:"input"`           // exactly what was given
	Address       string `json:"address"`         // the address analysed: brackets, display name and route removed
	Bracketed     bool   `json:"bracketed"`       // the input came wrapped in <>
	Route         string `json:"route,omitempty"` // a source route ("@a,@b") found before the mailbox
	LocalPart     string `json:"local_part"`
	LocalPartForm string `json:"local_part_form"` // "dot-string", "quoted-string" or "invalid"
	Domain        string `json:"domain"`
	// DomainForm is "hostname", "ipv4-literal", "ipv6-literal",
	// "general-literal" or "invalid".
	DomainForm string `json:"domain_form"`
	// ALabel is the domain in ASCII: IDN labels converted to A-labels
	// (RFC 5890 §2.3.2.1), everything else as given. Empty when the domain
	// cannot be converted.
	ALabel string `json:"a_label"`
	// ALabelAddress is the address with its domain in ASCII, the form to send
	// when the local part is ASCII; empty when the domain cannot be converted.
	ALabelAddress string `json:"a_label_address"`
	// Path is the forward- or reverse-path a client should send for this
	// address: "<local@domain>", the domain as an A-label unless SMTPUTF8 is
	// needed anyway.
	Path string `json:"path"`
	// NeedsSMTPUTF8 is true when the local part is not ASCII: only a server
	// advertising SMTPUTF8 can take it, and MAIL must carry the SMTPUTF8
	// parameter (RFC 6531 §3.4). A non-ASCII domain alone does not need it:
	// its A-label can be sent instead.
	NeedsSMTPUTF8 bool `json:"needs_smtputf8"`
	// ValidMailbox: no error finding — usable in MAIL FROM / RCPT TO.
	ValidMailbox bool `json:"valid_mailbox"`
	// ValidAddrSpec: acceptable as an RFC 5322 §3.4.1 addr-spec (with RFC
	// 6532 UTF-8), which allows comments and a wider domain syntax than SMTP
	// but excludes the obsolete forms of §4.4.
	ValidAddrSpec bool             `json:"valid_addr_spec"`
	Findings      []AddressFinding `json:"findings"`
}

// AddressFinding is one observation about an address.
type AddressFinding struct {
	Severity string `json:"severity"` // "error", "warning" or "note"
	ID       string `json:"id"`       // stable kebab-case identifier
	Message  string `json:"message"`
	Ref      string `json:"ref"` // the RFC section behind it
}

// Severities of an AddressFinding. An error makes the address unusable as an
// SMTP Mailbox; a warning is legal but likely to be refused or misread; a
// note is information.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityNote    = "note"
)

// addressRule is one kind of finding: one row of data per thing we check.
type addressRule struct {
	severity string
	ref      string
	// addrSpecOK: the condition is an SMTP problem only; an RFC 5322
	// addr-spec may still contain it.
	addrSpecOK bool
	format     string // fmt format for the message
}

// addressRules is every finding AnalyzeAddress can produce, by id.
var addressRules = map[string]addressRule{
	"empty":                    {SeverityError, "RFC 5321 §4.1.2", false, "the address is empty"},
	"invalid-utf8":             {SeverityError, "RFC 6531 §3.3", false, "byte 0x%02x at offset %d is not valid UTF-8; addresses are ASCII, or UTF-8 with SMTPUTF8"},
	"control-character":        {SeverityError, "RFC 5321 §4.1.2", false, "control character %s at offset %d; control characters must never appear in MAIL or RCPT"},
	"surrounding-whitespace":   {SeverityError, "RFC 5321 §4.1.2", true, "white space around the address; a path has no room for it, so trim it before sending"},
	"angle-brackets":           {SeverityNote, "RFC 5321 §4.1.2", true, "given with surrounding <>: analysed without them; the <> belong to the SMTP path (MAIL FROM:<address>), not to the address, so a field that takes an address wants it without them"},
	"nested-angle-brackets":    {SeverityError, "RFC 5321 §4.1.2", false, "more than one pair of <> around the address; a client that adds its own brackets would send <<...>>, which every server rejects"},
	"unbalanced-angle-bracket": {SeverityError, "RFC 5321 §4.1.2", false, "%s without its matching %s; servers answer 501 (e.g. Postfix: 501 5.1.7 Bad sender address syntax)"},
	"space-inside-brackets":    {SeverityError, "RFC 5321 §4.1.2", true, "white space just inside the <>; the path grammar allows none there"},
	"display-name":             {SeverityError, "RFC 5322 §3.4", false, "%q is a display name from a message header (name-addr), not part of an address; SMTP takes only the address inside the <>"},
	"null-path":                {SeverityError, "RFC 5321 §4.5.5", false, "<> is the null reverse-path used by bounces in MAIL FROM:<>; it is not an address"},
	"source-route":             {SeverityWarning, "RFC 5321 §4.1.2, Appendix C", true, "source route %q before the mailbox: servers must accept it but ignore it, and clients should not send it; use just the mailbox"},
	"bad-source-route":         {SeverityError, "RFC 5321 §4.1.2", false, "source route %q is not a list of @domain entries separated by commas"},
	"missing-at":               {SeverityError, "RFC 5321 §4.1.2", false, "no @domain; a Mailbox is local-part@domain (a bare local part is accepted only as RCPT TO:<postmaster>, §4.1.1.3)"},
	"fullwidth-at":             {SeverityError, "RFC 5321 §4.1.2", false, "U+FF20 (＠, the full-width at sign an East Asian keyboard produces) is not the @ separator; type an ASCII @"},
	"invisible-character":      {SeverityWarning, "RFC 6531 §3.3", true, "the local part contains %s, an invisible or space-like character: legal with SMTPUTF8, but it makes the address look like another one"},
	"multiple-at":              {SeverityError, "RFC 5321 §4.1.2", false, "%d unquoted @ signs; only one may separate local part and domain (an @ in the local part must be inside a quoted string)"},
	"comment":                  {SeverityError, "RFC 5321 §4.1.2", true, "comment %q: RFC 5322 §3.2.2 allows comments in message headers, but an SMTP path has none; Postfix strips them only when strict_rfc821_envelopes is off, other servers answer 501"},

	"local-part-empty":            {SeverityError, "RFC 5321 §4.1.2", false, "the local part (before the @) is empty"},
	"local-part-too-long":         {SeverityError, "RFC 5321 §4.5.3.1.1", true, "the local part is %d octets; the limit is 64: some servers enforce it, others (Postfix) let it through"},
	"local-part-leading-dot":      {SeverityError, "RFC 5321 §4.1.2", false, "the local part starts with a dot; an unquoted local part is atoms separated by single dots"},
	"local-part-trailing-dot":     {SeverityError, "RFC 5321 §4.1.2", false, "the local part ends with a dot; an unquoted local part is atoms separated by single dots"},
	"local-part-consecutive-dots": {SeverityError, "RFC 5321 §4.1.2", false, "consecutive dots in the local part; some servers tolerate them, strict ones reject the address unless it is quoted"},
	"unquoted-space":              {SeverityError, "RFC 5321 §4.1.2", false, "a space in the local part outside quotes ends the address for the server; quote the local part (\"john doe\"@example.com) or remove the space"},
	"unquoted-special":            {SeverityError, "RFC 5321 §4.1.2", false, "%s may appear in a local part only inside quotes"},
	"unterminated-quote":          {SeverityError, "RFC 5321 §4.1.2", false, "the quoted local part has no closing double quote"},
	"text-after-quote":            {SeverityError, "RFC 5321 §4.1.2", false, "text %q after the closing quote of the local part; the whole local part must be one quoted string"},
	"obsolete-local-part":         {SeverityError, "RFC 5322 §4.4", false, "a local part mixing quoted and unquoted words (%s) is obsolete RFC 822 syntax; SMTP allows one dot-string or one quoted string"},
	"quoted-pair-invalid":         {SeverityError, "RFC 5321 §4.1.2", true, "backslash before %s: in SMTP a backslash may quote only printable ASCII (quoted-pairSMTP is %%d92 %%d32-126; RFC 6531 widens qtextSMTP, not quoted-pair), so write that character in the quoted string without the backslash"},
	"quoted-local-part":           {SeverityWarning, "RFC 5321 §4.1.2", true, "the local part is a quoted string: legal, but many servers, filters and web forms refuse it, and §4.1.2 advises against such mailboxes"},
	"quoting-unnecessary":         {SeverityNote, "RFC 5321 §4.1.2", true, "the quotes are not needed: send %s, the minimally quoted form §4.1.2 asks senders to use"},
	"empty-quoted-local-part":     {SeverityWarning, "RFC 5321 §4.1.2", true, "the local part is an empty quoted string; legal, but hardly any server has such a mailbox"},
	"smtputf8-required":           {SeverityWarning, "RFC 6531 §3.4", true, "the local part is not ASCII: only a server that advertises SMTPUTF8 can take it, MAIL FROM must carry the SMTPUTF8 parameter, and servers without it reply 553 or 550 with 5.6.7"},
	"postmaster":                  {SeverityNote, "RFC 5321 §4.5.1", true, "postmaster is case-insensitive and every mail domain must accept mail for it"},

	"domain-empty":                 {SeverityError, "RFC 5321 §4.1.2", false, "the domain (after the @) is empty"},
	"domain-trailing-dot":          {SeverityError, "RFC 5321 §4.1.2", false, "the domain ends with a dot; the root dot is DNS notation and not part of an SMTP domain (Postfix drops it, stricter servers answer 501)"},
	"domain-leading-dot":           {SeverityError, "RFC 5321 §4.1.2", false, "the domain starts with a dot"},
	"domain-consecutive-dots":      {SeverityError, "RFC 5321 §4.1.2", false, "the domain has an empty label (two dots in a row)"},
	"domain-underscore":            {SeverityError, "RFC 5321 §4.1.2", true, "label %q contains an underscore; DNS allows it, but SMTP domains are letters, digits and hyphens only: RFC 5321 has servers answer 501, though many (Postfix) do not check"},
	"domain-invalid-character":     {SeverityError, "RFC 5321 §4.1.2", false, "label %q contains %s; SMTP domains are letters, digits and hyphens only"},
	"domain-label-hyphen":          {SeverityError, "RFC 5321 §4.1.2", true, "label %q starts or ends with a hyphen"},
	"domain-label-too-long":        {SeverityError, "RFC 1035 §2.3.4", true, "label %q is %d octets; the limit is 63"},
	"domain-too-long":              {SeverityError, "RFC 5321 §4.5.3.1.2", true, "the domain is %d octets; the limit is 255"},
	"domain-not-fqdn":              {SeverityWarning, "RFC 5321 §2.3.5", true, "%q has a single label; only fully-qualified domain names belong in SMTP on the public Internet"},
	"domain-looks-like-ip":         {SeverityWarning, "RFC 5321 §4.1.3", true, "%q looks like an IP address written as a domain name; an address literal is written in brackets: [%s]"},
	"domain-numeric-tld":           {SeverityWarning, "RFC 3696 §2", true, "the top-level label %q is all digits; no such top-level domain exists"},
	"idn-domain":                   {SeverityNote, "RFC 5890 §2.3.2.1", true, "internationalized domain: its ASCII form is %s, which any server takes without SMTPUTF8"},
	"idn-domain-utf8":              {SeverityNote, "RFC 6531 §3.3", true, "internationalized domain: with SMTPUTF8 it may be sent as is, or as its ASCII form %s"},
	"idn-invalid":                  {SeverityError, "RFC 5891 §4", true, "the domain cannot be converted to A-labels: %s"},
	"invalid-a-label":              {SeverityError, "RFC 5891 §5.4", true, "label %q starts with xn-- but is not a valid A-label: %s"},
	"address-literal":              {SeverityWarning, "RFC 5321 §4.1.3", true, "an address literal names a host, not a mail domain; legal, but most public servers refuse mail addressed to one (e.g. 550 or 553)"},
	"unterminated-address-literal": {SeverityError, "RFC 5321 §4.1.3", false, "the address literal has no closing ]"},
	"text-after-address-literal":   {SeverityError, "RFC 5321 §4.1.3", false, "text %q after the closing ] of the address literal"},
	"invalid-ipv4-literal":         {SeverityError, "RFC 5321 §4.1.3", true, "[%s] is not an IPv4 literal (four numbers 0-255 separated by dots); a host name is written without brackets"},
	"invalid-ipv6-literal":         {SeverityError, "RFC 5321 §4.1.3", true, "[%s] is not an IPv6 literal: %s"},
	"invalid-general-literal":      {SeverityError, "RFC 5321 §4.1.3", true, "[%s] is not a valid address literal: %s"},
	"unregistered-literal-tag":     {SeverityWarning, "RFC 5321 §4.1.3", true, "address-literal tag %q is not registered (IPv6 is the only tag in use); servers will not understand it"},
	"path-too-long":                {SeverityError, "RFC 5321 §4.5.3.1.3", true, "the path %s is %d octets with its brackets; the limit is 256"},
}

// add records a finding of the given rule.
func (r *AddressReport) add(id string, args ...any) {
	rule, ok := addressRules[id]
	if !ok {
		panic("probe: no address rule " + id) // a programming error caught by the tests
	}
	msg := rule.format
	if len(args) > 0 {
		msg = fmt.Sprintf(rule.format, args...)
	}
	r.Findings = append(r.Findings, AddressFinding{Severity: rule.severity, ID: id, Message: msg, Ref: rule.ref})
}

// Has reports whether the report carries a finding with the given id.
func (r AddressReport) Has(id string) bool {
	for _, f := range r.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// IsMailbox reports whether s, exactly as given, is a valid RFC 5321
// Mailbox (RFC 6531 UTF-8 allowed): no brackets, no route, no surrounding
// space, no error finding. Legal but risky forms (quoted local part,
// address literal) count as valid; check NeedsSMTPUTF8 separately.
func IsMailbox(s string) bool {
	r := AnalyzeAddress(s)
	return r.ValidMailbox && !r.Bracketed && r.Route == "" && r.Address == s
}

// AnalyzeAddress examines s offline as an SMTP Mailbox and as an RFC 5322
// addr-spec. It accepts the address with or without surrounding <> (and
// says so in a note), never panics, and reports everything it finds rather
// than stopping at the first problem.
func AnalyzeAddress(s string) AddressReport {
	r := AddressReport{Input: s, LocalPartForm: "invalid", DomainForm: "invalid"}
	checkBytes(&r, s)

	rest := strings.TrimSpace(s)
	if rest != s {
		r.add("surrounding-whitespace")
	}
	if rest == "" {
		r.add("empty")
		return r.finish()
	}
	rest = stripBrackets(&r, rest)
	if rest == "" {
		if r.Bracketed {
			r.add("null-path")
		} else {
			r.add("empty")
		}
		return r.finish()
	}
	rest = stripRoute(&r, rest)
	r.Address = rest

	ats := unquotedAts(rest)
	if len(ats) == 0 {
		if strings.ContainsRune(rest, '＠') {
			r.add("fullwidth-at")
		}
		r.add("missing-at")
		r.LocalPart = analyzeLocalPart(&r, rest)
		return r.finish()
	}
	if len(ats) > 1 {
		r.add("multiple-at", len(ats))
	}
	at := ats[len(ats)-1]
	r.LocalPart, r.Domain = rest[:at], rest[at+1:]
	r.LocalPart = analyzeLocalPart(&r, r.LocalPart)
	r.Domain = analyzeDomain(&r, r.Domain)
	return r.finish()
}

// finish fills in the derived fields once every check has run.
func (r AddressReport) finish() AddressReport {
	if r.Domain != "" && r.ALabel != "" {
		r.ALabelAddress = r.LocalPart + "@" + r.ALabel
	}
	sent := r.ALabelAddress
	if r.NeedsSMTPUTF8 || sent == "" {
		sent = r.LocalPart
		if r.Domain != "" {
			sent += "@" + r.Domain
		}
	}
	if sent != "" {
		r.Path = "<" + sent + ">"
		if n := len(r.Path); n > 256 {
			r.add("path-too-long", shorten(r.Path), n)
		}
	}
	r.ValidMailbox, r.ValidAddrSpec = true, true
	for _, f := range r.Findings {
		if f.Severity != SeverityError {
			continue
		}
		r.ValidMailbox = false
		if !addressRules[f.ID].addrSpecOK {
			r.ValidAddrSpec = false
		}
	}
	if r.Findings == nil {
		r.Findings = []AddressFinding{}
	}
	return r
}

// checkBytes reports bytes that can never be part of an address: invalid
// UTF-8 and control characters (RFC 5321 §4.1.2 forbids octets 0-31 and 127).
func checkBytes(r *AddressReport, s string) {
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			r.add("invalid-utf8", s[i], i)
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0):
			r.add("control-character", controlName(c), i)
		}
		i += size
	}
}

// controlName names a control character for a message: "CR (0x0d)".
func controlName(c rune) string {
	names := map[rune]string{0: "NUL", '\t': "TAB", '\n': "LF", '\r': "CR", 0x1b: "ESC", 0x7f: "DEL"}
	if n, ok := names[c]; ok {
		return fmt.Sprintf("%s (0x%02x)", n, c)
	}
	return fmt.Sprintf("U+%04X", c)
}

// stripBrackets removes the <> of a path or the name-addr around an
// address and records what it removed.
func stripBrackets(r *AddressReport, s string) string {
	open := unquotedIndex(s, '<')
	closeAt := lastUnquotedIndex(s, '>')
	last := len(s) - 1
	switch {
	case open == 0 && closeAt == last:
		r.Bracketed = true
		r.add("angle-brackets")
		s = s[1:last]
		if strings.HasPrefix(s, "<") || strings.HasSuffix(s, ">") {
			r.add("nested-angle-brackets")
			s = strings.TrimRight(strings.TrimLeft(s, "<"), ">")
		}
	case open > 0 && closeAt == last:
		r.Bracketed = true
		r.add("display-name", strings.TrimSpace(s[:open]))
		s = s[open+1 : last]
	case open == 0 && closeAt < 0:
		r.add("unbalanced-angle-bracket", "<", ">")
		s = s[1:]
	case open < 0 && closeAt == last:
		r.add("unbalanced-angle-bracket", ">", "<")
		s = s[:last]
	default:
		// Brackets elsewhere are stray specials; the local-part and domain
		// checks report them where they stand.
		return s
	}
	if t := strings.TrimSpace(s); t != s {
		r.add("space-inside-brackets")
		s = t
	}
	return s
}

// stripRoute removes an RFC 5321 A-d-l source route ("@a,@b:") from the
// front of s.
func stripRoute(r *AddressReport, s string) string {
	if !strings.HasPrefix(s, "@") {
		return s
	}
	colon := unquotedIndex(s, ':')
	if colon < 0 {
		return s
	}
	route := s[:colon]
	r.Route = route
	ok := true
	for _, hop := range strings.Split(route, ",") {
		if !strings.HasPrefix(hop, "@") || !isHostname(hop[1:]) {
			ok = false
		}
	}
	if ok {
		r.add("source-route", route)
	} else {
		r.add("bad-source-route", route)
	}
	return s[colon+1:]
}

// scanUnquoted calls fn with the offset of every byte of s that lies
// outside a quoted string, a backslash escape and an address literal that
// follows an @.
func scanUnquoted(s string, fn func(i int) bool) {
	inQuote, inLiteral := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inLiteral: // a '"' inside [...] is literal text, not a quote
			if c == ']' {
				inLiteral = false
			}
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		default:
			if c == '[' && i > 0 && s[i-1] == '@' {
				inLiteral = true
				continue
			}
			if !fn(i) {
				return
			}
		}
	}
}

func unquotedIndex(s string, c byte) int {
	at := -1
	scanUnquoted(s, func(i int) bool {
		if s[i] == c {
			at = i
			return false
		}
		return true
	})
	return at
}

func lastUnquotedIndex(s string, c byte) int {
	at := -1
	scanUnquoted(s, func(i int) bool {
		if s[i] == c {
			at = i
		}
		return true
	})
	return at
}

func unquotedAts(s string) []int {
	var ats []int
	scanUnquoted(s, func(i int) bool {
		if s[i] == '@' {
			ats = append(ats, i)
		}
		return true
	})
	return ats
}

// shorten keeps long values readable in messages.
func shorten(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:20] + "…" + s[len(s)-16:]
}
