package probe

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Options are everything a probe run takes; the CLI fills them from flags.
type Options struct {
	Target      Target
	Port        int           // 0: 25, or 465 with implicit TLS
	HELO        string        // EHLO name; DefaultHELO() when empty
	From        string        // reverse-path; postmaster@HELO when empty
	Domain      string        // mail domain to probe at a host target; from the target when empty
	User        string        // local part of a mailbox that exists; the target's user, else postmaster
	VRFY        []string      // more addresses to VRFY
	RCPT        []string      // more addresses to RCPT
	List        string        // EXPN argument; postmaster when empty
	Suites      []string      // "vrfy", "syntax", "all"; empty is all
	DNS         []string      // DNS servers host:port; empty: /etc/resolv.conf
	AllMX       bool          // probe every MX host, not only the first reachable
	TLS         string        // auto, starttls, implicit, none
	TLSVerify   bool          // certificate problems are fatal
	Timeout     time.Duration // connect and per-reply deadline, absolute
	ErrorBudget int           // error replies per connection; DefaultErrorBudget when 0
	Random      string        // the random local part; generated when empty

	// Dialer opens TCP connections; nil uses a net.Dialer.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Progress receives one line per stage (resolving, connecting); nil
	// discards them. The CLI sends them to stderr.
	Progress func(msg string)
}

// Suites a plan can hold.
var suiteNames = []string{"vrfy", "syntax", "all"}

// Check refuses options that are malformed or would inject a line into the
// session (CR, LF or NUL: RFC 5321 §2.3.8), before anything is sent.
func (o *Options) Check() error {
	for _, f := range []struct{ what, v string }{
		{"--helo", o.HELO}, {"--from", o.From}, {"--domain", o.Domain}, {"--user", o.User}, {"--expn", o.List},
	} {
		if err := CheckLine(f.what, f.v); err != nil {
			return err
		}
	}
	for i, a := range o.VRFY {
		if err := CheckLine(fmt.Sprintf("--vrfy #%d", i+1), a); err != nil {
			return err
		}
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("--vrfy #%d is empty", i+1)
		}
	}
	for i, a := range o.RCPT {
		if err := CheckLine(fmt.Sprintf("--rcpt #%d", i+1), a); err != nil {
			return err
		}
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("--rcpt #%d is empty", i+1)
		}
	}
	if strings.ContainsAny(o.HELO, " \t") {
		return fmt.Errorf("--helo %q has white space in it", o.HELO)
	}
	for _, s := range o.Suites {
		if !containsString(suiteNames, s) {
			return fmt.Errorf("unknown suite %q (choose from %s)", s, strings.Join(suiteNames, ", "))
		}
	}
	switch o.TLS {
	case "", "auto", "starttls", "implicit", "none":
	default:
		return fmt.Errorf("--tls must be auto, starttls, implicit or none, not %q", o.TLS)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("--port %d is not from 1 to 65535", o.Port)
	}
	if o.Port != 0 && o.Target.Port != 0 && o.Port != o.Target.Port {
		return fmt.Errorf("--port %d contradicts the port in the target (%d)", o.Port, o.Target.Port)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("--timeout must be positive")
	}
	c := *o
	return c.toASCII()
}

// toASCII puts what goes on the wire into ASCII, for servers that do not
// advertise SMTPUTF8: each domain becomes its A-label (RFC 5890
// §2.3.2.1). A non-ASCII local part has no ASCII form (RFC 6531 §3.2), so
// it is refused rather than sent raw.
func (o *Options) toASCII() error {
	var err error
	conv := func(what string, v *string, kind byte) {
		if err == nil {
			*v, err = asciiForm(what, *v, kind)
		}
	}
	conv("--helo", &o.HELO, 'd')
	conv("--domain", &o.Domain, 'd')
	conv("--from", &o.From, 'a')
	conv("--user", &o.User, 'l')
	conv("--expn", &o.List, 'l')
	conv("the target's user", &o.Target.User, 'l')
	conv("the target's host", &o.Target.Host, 'd')
	for _, list := range []struct {
		what string
		v    *[]string
	}{{"--vrfy", &o.VRFY}, {"--rcpt", &o.RCPT}} {
		out := append([]string(nil), *list.v...)
		for i := range out {
			conv(fmt.Sprintf("%s #%d", list.what, i+1), &out[i], 'a')
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
	if isASCII(v) {
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
	if kind == 'l' || !isASCII(local) {
		return v, fmt.Errorf("%s %q has a non-ASCII local part, which only a server that advertises SMTPUTF8 may receive (RFC 6531 §3.2); give an ASCII one", what, v)
	}
	a, err := ToALabel(domain)
	if err != nil {
		return v, fmt.Errorf("%s %q: the domain has no A-label form (RFC 5890): %v", what, v, err)
	}
	return local + a, nil
}
func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DefaultHELO is this machine's name when it is fully qualified, else
// "localhost": an EHLO name should be a FQDN (RFC 5321 §4.1.1.1).
func DefaultHELO() string {
	h, err := os.Hostname()
	if err != nil || !strings.Contains(strings.Trim(h, "."), ".") || CheckLine("", h) != nil || strings.ContainsAny(h, " \t") {
		return "localhost"
	}
	return strings.TrimSuffix(h, ".")
}

// progress reports a stage, if anyone listens.
func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}
