package probe

import (
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Options are everything a probe run takes; the CLI fills them from flags.
type Options struct {
	Target      Target
	Port        int           // 0: 25, or 465 with implicit TLS
	HELO        string        // EHLO name; when empty, this machine's FQDN, else the address literal toward each server
	From        string        // reverse-path; postmaster@HELO when empty
	Domain      string        // mail domain to probe at a host target; from the target when empty
	User        string        // local part of a mailbox that exists; the target's user, else postmaster
	VRFY        []string      // more addresses to VRFY
	RCPT        []string      // more addresses to RCPT
	RCPTRaw     []string      // texts sent after "RCPT TO:" byte for byte, unchecked but for what breaks the line (see checkRCPTRaw)
	List        string        // EXPN argument; postmaster when empty
	Suites      []string      // "vrfy", "syntax", "all"; empty is all
	DNS         []string      // DNS servers host:port; empty: /etc/resolv.conf
	AllMX       bool          // probe every MX host, not only the first reachable
	TLS         string        // auto, starttls, implicit, none
	TLSVerify   bool          // certificate problems are fatal
	Timeout     time.Duration // connect and per-reply deadline, absolute
	DNSTimeout  time.Duration // bound on the whole MX resolution; DefaultDNSTimeout when 0
	ErrorBudget int           // error replies per connection; DefaultErrorBudget when 0
	Random      string        // the random local part; generated when empty
	// MXOrder draws the order among MX hosts of equal preference, which
	// RFC 5321 §5.1 has a sender try in random order; nil is random. A
	// seeded one makes a run reproducible.
	MXOrder     *rand.Rand
	Connections int  // connections open at once to one address; DefaultConnections when 0, 1 for one at a time
	LockStep    bool // one command per round trip on one connection, as a plain client does: no pipelining, no parallel sessions

	// Family holds the run to IPv4 or IPv6 addresses (Family4, Family6);
	// FamilyAny tries both in the RFC 8305 order.
	Family string
	// Proxy, when the Dialer goes through a proxy, names it in the report.
	Proxy *ProxyInfo
	// Dialer opens TCP connections; nil uses a net.Dialer.
	Dialer Dialer
	// RootCAs verify the servers' certificates (and the MTA-STS policy
	// host's); nil uses the system roots.
	RootCAs *x509.CertPool
	// NoTransport skips the transport-security check (DANE, MTA-STS,
	// TLS-RPT) a domain target otherwise gets.
	NoTransport bool
	// Resolver answers the MX lookup; nil makes one from DNS. Callers
	// probing many targets share one, and its cache.
	Resolver Resolver
	// Progress receives one line per stage (resolving, connecting); nil
	// discards them. The CLI sends them to stderr.
	Progress func(msg string)

	mem *memBudget // room left for server text in this run (MaxKeptBytes)

	heloDefaulted bool // HELO was filled in from this machine's name
}

// Suites a plan can hold.
var suiteNames = []string{"vrfy", "syntax", "all"}

// OptionError is an option Check refuses. It names the option by its
// Options field, so a caller can word it its own way (a CLI by its flag);
// Error uses a plain label.
type OptionError struct {
	Option  string // the Options field: "HELO", "List", "From", "User", "Domain", "VRFY", "RCPT", "RCPTRaw", "DNS", "TLS", "Port", "Timeout", "DNSTimeout", "Connections"
	Index   int    // 1-based position in VRFY, RCPT or RCPTRaw; 0 for other options
	Problem string // what is wrong, to follow the option's name: ` "a b" has white space in it`
}

func (e *OptionError) Error() string { return OptionLabel(e.Option, e.Index) + e.Problem }

// optionLabels are the plain names of the options, for OptionError.
var optionLabels = map[string]string{
	"HELO": "the HELO name", "List": "the EXPN argument", "From": "the sender", "User": "the user",
	"Domain": "the mail domain", "VRFY": "VRFY address", "RCPT": "RCPT address", "RCPTRaw": "raw RCPT TO text", "DNS": "the DNS server",
	"Suites": "the suite", "TLS": "the TLS mode", "Port": "the port", "Timeout": "the timeout", "DNSTimeout": "the DNS timeout", "Connections": "the number of connections",
	"Target": "the target",
}

// OptionLabel is the plain name of an option, with its index for a list.
func OptionLabel(option string, index int) string {
	l := optionLabels[option]
	if l == "" {
		l = option
	}
	if index > 0 {
		l += fmt.Sprintf(" #%d", index)
	}
	return l
}

// optionErr turns err, whose text starts with the option's label, into an
// *OptionError; nil stays nil.
func optionErr(option string, index int, err error) error {
	if err == nil {
		return nil
	}
	return &OptionError{Option: option, Index: index, Problem: strings.TrimPrefix(err.Error(), OptionLabel(option, index))}
}

// optionf is an *OptionError with a problem in printf form.
func optionf(option string, index int, format string, args ...any) error {
	return &OptionError{Option: option, Index: index, Problem: fmt.Sprintf(format, args...)}
}

// Check refuses options that are malformed or would put something other
// than what they name into a command line, before anything is sent: CR, LF
// or NUL anywhere (RFC 5321 §2.3.8), an address that is not a Mailbox
// (RFC 5321 §4.1.2), a User that is not a local part. It is the one place
// these rules live; the CLI relies on it. Address options given in one
// pair of angle brackets are stored without them. Its errors are
// *OptionError, except an unknown suite.
func (o *Options) Check() error {
	if o.HELO != "" {
		if err := CheckHELOArg(OptionLabel("HELO", 0), o.HELO); err != nil {
			return optionErr("HELO", 0, err)
		}
		if o.From == "" && !IsMailbox("postmaster@"+o.HELO) {
			return optionf("HELO", 0, " %q is too long for the default sender postmaster@ that name (a path is at most 256 octets, RFC 5321 §4.5.3.1.3); give a shorter name or a sender", shorten(o.HELO))
		}
	}
	if err := CheckLine(OptionLabel("List", 0), o.List); err != nil {
		return optionErr("List", 0, err)
	}
	if o.From != "" {
		v, err := CheckMailboxArg(OptionLabel("From", 0), o.From)
		if err != nil {
			return optionErr("From", 0, err)
		}
		o.From = v
	}
	if o.User != "" {
		if err := CheckLocalPartArg(OptionLabel("User", 0), o.User); err != nil {
			return optionErr("User", 0, err)
		}
	}
	if o.Domain != "" {
		if err := CheckDomainArg(OptionLabel("Domain", 0), o.Domain); err != nil {
			return optionErr("Domain", 0, err)
		}
	}
	for _, list := range []struct {
		option string
		addrs  []string
	}{{"VRFY", o.VRFY}, {"RCPT", o.RCPT}} {
		for i, a := range list.addrs {
			v, err := CheckMailboxArg(OptionLabel(list.option, i+1), a)
			if err != nil {
				return optionErr(list.option, i+1, err)
			}
			list.addrs[i] = v
		}
	}
	if err := o.checkRCPTRaw(); err != nil {
		return err
	}
	for _, d := range o.DNS {
		if err := CheckLine(OptionLabel("DNS", 0), d); err != nil {
			return optionErr("DNS", 0, err)
		}
	}
	for _, s := range o.Suites {
		if !slices.Contains(suiteNames, s) {
			return fmt.Errorf("unknown suite %q (choose from %s)", s, strings.Join(suiteNames, ", "))
		}
	}
	switch o.TLS {
	case "", "auto", "starttls", "implicit", "none":
	default:
		return optionf("TLS", 0, " must be auto, starttls, implicit or none, not %q", o.TLS)
	}
	if o.Port < 0 || o.Port > 65535 {
		return optionf("Port", 0, " %d is not from 1 to 65535", o.Port)
	}
	if o.Port != 0 && o.Target.Port != 0 && o.Port != o.Target.Port {
		return optionf("Port", 0, " %d contradicts the port in the target (%d)", o.Port, o.Target.Port)
	}
	if o.Timeout < 0 {
		return optionf("Timeout", 0, " must be positive")
	}
	if o.DNSTimeout < 0 {
		return optionf("DNSTimeout", 0, " must be positive")
	}
	if o.Connections < 0 {
		return optionf("Connections", 0, " %d is not a number of connections", o.Connections)
	}
	c := *o
	return c.toASCII()
}

// MaxCommandOctets is the longest command line, CRLF included, that RFC
// 5321 §4.5.3.1.4 has every server accept.
const MaxCommandOctets = 512

// rcptRawPrefix starts every line made of a RCPTRaw text.
const rcptRawPrefix = "RCPT TO:"

// checkRCPTRaw refuses a RCPTRaw text that is empty or would not stay one
// command line: CR, LF or NUL in it, or a line over MaxCommandOctets.
// Nothing else is checked: the text is sent as written, no brackets
// added, no A-label. The texts go in the syntax suite, so Suites must
// include it.
func (o *Options) checkRCPTRaw() error {
	for i, v := range o.RCPTRaw {
		if err := CheckLine(OptionLabel("RCPTRaw", i+1), v); err != nil {
			return optionErr("RCPTRaw", i+1, err)
		}
		if v == "" {
			return optionf("RCPTRaw", i+1, " is empty: give the text to send after RCPT TO:, e.g. <a..b@example.com>")
		}
		if n := len(rcptRawPrefix) + len(v) + 2; n > MaxCommandOctets {
			return optionf("RCPTRaw", i+1, " makes a %d-octet command line, over the %d octets (CRLF included) RFC 5321 §4.5.3.1.4 has servers accept; refusing to send it", n, MaxCommandOctets)
		}
	}
	if len(o.RCPTRaw) > 0 && len(o.Suites) > 0 && !slices.Contains(o.Suites, "syntax") && !slices.Contains(o.Suites, "all") {
		return optionf("RCPTRaw", 0, " goes in the syntax suite, which the suites chosen (%s) leave out", strings.Join(o.Suites, ","))
	}
	return nil
}

// toASCII puts what goes on the wire into ASCII, for servers that do not
// advertise SMTPUTF8: each domain becomes its A-label (RFC 5890
// §2.3.2.1). A non-ASCII local part has no ASCII form (RFC 6531 §3.2), so
// it is refused rather than sent raw.
func (o *Options) toASCII() error {
	var err error
	conv := func(option string, index int, v *string, kind byte) {
		if err == nil {
			*v, err = asciiForm(OptionLabel(option, index), *v, kind)
			err = optionErr(option, index, err)
		}
	}
	conv("HELO", 0, &o.HELO, 'd')
	conv("Domain", 0, &o.Domain, 'd')
	conv("From", 0, &o.From, 'a')
	conv("User", 0, &o.User, 'l')
	conv("List", 0, &o.List, 'l')
	if err == nil {
		o.Target.User, err = asciiForm("the target's user", o.Target.User, 'l')
	}
	if err == nil {
		o.Target.Host, err = asciiForm("the target's host", o.Target.Host, 'd')
	}
	for _, list := range []struct {
		option string
		v      *[]string
	}{{"VRFY", &o.VRFY}, {"RCPT", &o.RCPT}} {
		out := append([]string(nil), *list.v...)
		for i := range out {
			conv(list.option, i+1, &out[i], 'a')
		}
		*list.v = out
	}
	return err
}

// ASCIIAddress is addr as it may go to a server that does not advertise
// SMTPUTF8: its domain as an A-label. A non-ASCII local part is an error
// that what names.
func ASCIIAddress(what, addr string) (string, error) { return asciiForm(what, addr, 'a') }

// asciiForm converts v, a domain ('d'), a local part ('l') or an address
// ('a'; a bare local part without @ is taken as one).
func asciiForm(what, v string, kind byte) (string, error) {
	if IsASCII(v) {
		return v, nil
	}
	if !utf8.ValidString(v) {
		return v, fmt.Errorf("%s %q is not valid UTF-8", what, v)
	}
	local, domain := "", v
	if i := strings.LastIndexByte(v, '@'); kind == 'a' && i < 0 {
		kind = 'l'
	} else if kind == 'a' {
		local, domain = v[:i+1], v[i+1:]
	}
	if kind == 'l' || !IsASCII(local) {
		return v, fmt.Errorf("%s %q has a non-ASCII local part, which only a server that advertises SMTPUTF8 may receive (RFC 6531 §3.2); give an ASCII one", what, v)
	}
	a, err := ToALabel(domain)
	if err != nil {
		return v, fmt.Errorf("%s %q: the domain has no A-label form (RFC 5890): %v", what, v, err)
	}
	return local + a, nil
}

// CheckMailboxArg checks an address the user gave for flag before it is
// put into a command: it must be one RFC 5321 Mailbox (§4.1.2), UTF-8
// allowed (RFC 6531), and may come in one pair of angle brackets, which
// are removed. It returns the mailbox to send, or a one-line error that
// names flag and says what is wrong.
func CheckMailboxArg(flag, value string) (string, error) {
	if err := CheckLine(flag, value); err != nil {
		return "", err
	}
	v := value
	if len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>' {
		v = v[1 : len(v)-1]
	}
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%s is empty", flag)
	}
	if IsMailbox(v) {
		return v, nil
	}
	return "", fmt.Errorf("%s %q is not a mailbox (user@domain): %s", flag, value, addressProblem(AnalyzeAddress(v)))
}

// CheckHELOArg checks an EHLO name given as what: a domain or an address
// literal (RFC 5321 §4.1.1.1), at most 255 octets with labels of at most
// 63 (RFC 5321 §4.5.3.1.2, RFC 1035 §2.3.4). The error starts with what.
func CheckHELOArg(what, value string) error {
	if err := CheckLine(what, value); err != nil {
		return err
	}
	if strings.ContainsAny(value, " \t") {
		return fmt.Errorf("%s %q has white space in it", what, value)
	}
	r := AnalyzeAddress("postmaster@" + value)
	if value == "" || r.Domain != value || domainProblem(r) != "" {
		why := domainProblem(r)
		switch {
		case value == "":
			why = "it is empty"
		case why == "":
			why = "it is not one name"
		}
		return fmt.Errorf("%s %q is not a host name or address literal: %s", what, shorten(value), why)
	}
	return nil
}

// domainProblem is the first error about the domain in an analysis of
// postmaster@domain, or "" when there is none. The path length is not the
// domain's problem: an EHLO name is no path.
func domainProblem(r AddressReport) string {
	for _, f := range r.Findings {
		if f.Severity == SeverityError && f.ID != "path-too-long" {
			return f.Message + " (" + f.Ref + ")"
		}
	}
	return ""
}

// CheckLocalPartArg checks a local part the user gave (--user): it must be
// a valid RFC 5321 Local-part on its own, with no @domain.
func CheckLocalPartArg(flag, value string) error {
	if err := CheckLine(flag, value); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("%s is empty", flag)
	}
	if len(UnquotedAts(value)) > 0 {
		return fmt.Errorf("%s %q is not a local part: give the local part only, without @domain", flag, value)
	}
	r := AnalyzeAddress(value + "@example.com")
	if !IsMailbox(value+"@example.com") || r.LocalPart != value {
		why := addressProblem(r)
		if r.LocalPart != value {
			why = "give the local part only, without @domain"
		}
		return fmt.Errorf("%s %q is not a local part: %s", flag, value, why)
	}
	return nil
}

// CheckDomainArg checks a mail domain the user gave (--domain): a host
// name or an address literal, as in a Mailbox (RFC 5321 §4.1.2, §4.1.3).
func CheckDomainArg(flag, value string) error {
	if err := CheckLine(flag, value); err != nil {
		return err
	}
	r := AnalyzeAddress("postmaster@" + value)
	if value == "" || !IsMailbox("postmaster@"+value) || r.Domain != value {
		why := addressProblem(r)
		if value == "" {
			why = "it is empty"
		}
		return fmt.Errorf("%s %q is not a mail domain: %s", flag, value, why)
	}
	return nil
}

// addressProblem is the first error an analysis found, for a one-line
// message.
func addressProblem(r AddressReport) string {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return f.Message + " (" + f.Ref + ")"
		}
	}
	if r.Bracketed {
		return "it has more than one pair of angle brackets"
	}
	if r.Route != "" {
		return "a source route is not accepted here"
	}
	return "it is not a plain address"
}

// progress reports a stage, if anyone listens.
func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

// shorten keeps a long value readable in a message: both ends of it.
func shorten(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:20] + "…" + s[len(s)-16:]
}
