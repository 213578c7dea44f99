package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/resolver"
)

const whyExamples = `  smtpprobe why --server mx.example.net 'MAIL FROM: <jörg@exämple.com> BODY=8BITMIME'
                                   # the exact line your software sent; the server's MX hosts
  smtpprobe why --server 192.0.2.25:587 'RCPT TO:user@example.com'
                                   # one host; a well-formed MAIL FROM goes first
  smtpprobe why --server example.net --as rcpt 'user@example.net'
                                   # just an address, sent as RCPT TO:<user@example.net>
  printf 'MAIL FROM:\t<a@example.com>\n' | smtpprobe why --server example.net -
                                   # the line from standard input, byte for byte
  smtpprobe why --json --server example.net 'MAIL FROM:a@example.com'
`

// whyMaxLine is the longest line read from standard input: far beyond
// the 512 octets servers need accept (RFC 5321 §4.5.3.1.4), short enough
// that a wrong file piped in is refused rather than sent.
const whyMaxLine = 64 << 10

func runWhy(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("why", "smtpprobe why --server SERVER [flags] LINE|-", whyExamples)
	server := fs.String("server", "", "the server: a domain or user@domain (its MX hosts are tried in order), host:port, or an IP address")
	as := fs.String("as", "", "treat LINE as an address and send it as mail (MAIL FROM:<…>) or rcpt (RCPT TO:<…>)")
	from := fs.String("from", "", "sender for the MAIL FROM sent before a RCPT TO line (default postmaster@ the HELO name)")
	helo := fs.String("helo", "", "EHLO name to announce (default: this machine's FQDN, else the address literal of the local address toward the server)")
	port := fs.Int("port", 0, "port for MX hosts and for a --server given without one (default 25, or 465 with --tls implicit)")
	dnsServers := fs.StringArray("dns", nil, "DNS server HOST[:PORT] for every lookup: MX hosts and host names (repeatable; default: /etc/resolv.conf)")
	dnsTimeout := probe.DefaultDNSTimeout
	fs.Var((*boundedDuration)(&dnsTimeout), "dns-timeout", "bound on the MX resolution of --server: a DNS server that does not answer in time is exit 3 (max 24h)")
	tlsMode := fs.String("tls", "auto", "TLS: auto (STARTTLS when offered), starttls, implicit or none")
	tlsVerify := fs.Bool("tls-verify", false, "treat certificate problems as fatal")
	timeout := fs.Duration("timeout", probe.DefaultReplyTimeout, "time allowed for connecting and for each reply")
	maxTime := fs.Duration("max-time", 2*time.Minute, "budget for the whole run: DNS, every connection and attempt")
	var nf netFlags
	nf.register(fs)
	maxAttempts := fs.Int("max-attempts", probe.DefaultWhyAttempts, "lines sent in all, the original included")
	perConn := fs.Int("per-connection", probe.DefaultWhyPerConnection, "refused lines one connection takes before why reconnects (servers hang up after a few errors)")
	of := addOutputFlags(fs, "the output")
	of.addVerboseFlag(fs, "also print the full C:/S: transcript of every connection")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	out, err := of.options(fs, e)
	if err != nil {
		return usageError(e, "why", err.Error())
	}
	tm, err := probe.ParseTLSMode(*tlsMode)
	if err != nil {
		return usageError(e, "why", "--tls: "+err.Error())
	}
	switch {
	case *server == "":
		return usageError(e, "why", "--server is required: a domain, host:port or IP address")
	case fs.NArg() != 1:
		return argCountError(e, "why", "one LINE", fs.NArg(), "quote it, or give - to read it from standard input")
	case fs.Changed("port") && (*port < 1 || *port > 65535):
		return usageError(e, "why", fmt.Sprintf("--port must be 1 to 65535, not %d", *port))
	case *timeout <= 0 || *timeout > maxDuration:
		return usageError(e, "why", fmt.Sprintf("--timeout must be positive and at most %s, not %s", maxDuration, *timeout))
	case *maxTime <= 0 || *maxTime > maxDuration:
		return usageError(e, "why", fmt.Sprintf("--max-time must be positive and at most %s, not %s", maxDuration, *maxTime))
	case dnsTimeout <= 0:
		return usageError(e, "why", fmt.Sprintf("--dns-timeout must be positive, not %s", dnsTimeout))
	case *maxAttempts < 1:
		return usageError(e, "why", "--max-attempts must be at least 1")
	case *perConn < 1:
		return usageError(e, "why", "--per-connection must be at least 1")
	}
	target, err := probe.ParseTarget(*server)
	if err != nil {
		return usageError(e, "why", "--server: "+escapeUntrusted(err.Error()))
	}
	if *port != 0 && target.Port != 0 && *port != target.Port {
		return usageError(e, "why", fmt.Sprintf("--port %d contradicts the port in --server (%d)", *port, target.Port))
	}
	for _, s := range *dnsServers {
		if _, err := resolver.ServerAddr(s); err != nil {
			return usageError(e, "why", "--dns: "+escapeUntrusted(err.Error()))
		}
	}
	line := fs.Arg(0)
	if line == "-" {
		if line, err = readWhyLine(e.stdin); err != nil {
			return usageError(e, "why", err.Error())
		}
	}
	if line, err = whyLine(line, *as); err != nil {
		return usageError(e, "why", escapeUntrusted(err.Error()))
	}
	if err := probe.CheckWhyLine(line); err != nil {
		return usageError(e, "why", escapeUntrusted(err.Error()))
	}
	if *helo != "" {
		if err := probe.CheckHELOArg("--helo", *helo); err != nil {
			return usageError(e, "why", escapeUntrusted(err.Error()))
		}
	}
	if *from != "" {
		if err := checkFrom(*from); err != nil {
			return usageError(e, "why", escapeUntrusted(err.Error()))
		}
		*from = strings.TrimSuffix(strings.TrimPrefix(*from, "<"), ">")
	}

	if *port == 0 && tm == probe.TLSImplicit {
		*port = 465 // submissions, RFC 8314 §3.3
	}
	ns, err := nf.build(fs, e, *dnsServers)
	if err != nil {
		return usageError(e, "why", escapeUntrusted(err.Error()))
	}
	e.silence(out)
	if ns.note != "" {
		fmt.Fprintf(e.stderr, "smtpprobe why: %s\n", escapeUntrusted(ns.note))
	}
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()
	opts := probe.WhyOptions{
		Line:          line,
		Server:        *server,
		From:          *from,
		MaxAttempts:   *maxAttempts,
		PerConnection: *perConn,
		Session:       probe.Config{HELO: *helo, TLS: tm, TLSVerify: *tlsVerify, ReplyTimeout: *timeout, ConnectTimeout: *timeout},
	}
	rep := &probe.WhyReport{SchemaVersion: 1, Line: line, Server: *server, Attempts: []probe.WhyAttempt{}}
	opts.Session.Dialer = ns.dialer
	rep.Proxy = ns.proxy
	var hosts []probe.MailHost
	if target.Direct() || ns.resolver.ConfigErr != nil {
		hosts, _, err = probe.ResolveHosts(ctx, target, *dnsServers, *port, dnsTimeout)
	} else {
		hosts, _, err = probe.ResolveHostsWith(ctx, target, ns.resolver, *port, dnsTimeout)
	}
	hosts = probe.OrderMailHosts(hosts, ns.family)
	var re *resolver.Error
	switch {
	case errors.As(err, &re) && re.Kind == "input":
		return usageError(e, "why", "--server: "+escapeUntrusted(err.Error()))
	case errors.Is(err, probe.ErrDNS):
		rep.Conclusion = probe.WhyConclusion{Kind: probe.WhyDNSError, Summary: err.Error()}
	case err != nil:
		rep.Conclusion = probe.WhyConclusion{Kind: probe.WhyNoMailHost, Summary: err.Error()}
	default:
		opts.Hosts = hosts
		if opts.Session.HELO == "" {
			opts.Session.HELO = whyHELO(hosts)
		}
		r, werr := probe.Why(ctx, opts)
		var le *probe.LineError
		if errors.As(werr, &le) {
			return usageError(e, "why", escapeUntrusted(werr.Error()))
		}
		rep = r
		rep.Proxy = ns.proxy
	}
	code := whyExitCode(rep.Conclusion)
	if err := renderOut(e, render.NewWhy(rep), out); err != nil {
		return exitCheck
	}
	return code
}

// checkFrom validates --from as a mailbox (RFC 5321 §4.1.2), with or
// without one pair of angle brackets.
func checkFrom(from string) error {
	box := from
	if strings.HasPrefix(box, "<") && strings.HasSuffix(box, ">") {
		box = box[1 : len(box)-1]
	}
	if err := probe.CheckLine("--from", box); err != nil {
		return err
	}
	if !probe.IsMailbox(box) {
		return fmt.Errorf("--from %q is not a valid mailbox (see: smtpprobe address %q)", from, box)
	}
	return nil
}

// whyExitCode: 0 when the line was accepted, as sent or repaired; 1 when
// no repair made it acceptable (the likely cause is reported) or the
// domain has no mail host; 3 when DNS could not answer; 4 when no host
// could be reached.
func whyExitCode(c probe.WhyConclusion) int {
	switch {
	case c.Found():
		return exitOK
	case c.Kind == probe.WhyDNSError:
		return exitDNS
	case c.Kind == probe.WhyNoConnection:
		return exitConnection
	}
	return exitCheck
}

// readWhyLine reads the line from standard input: exactly one line, its
// LF or CRLF ending removed and nothing else touched. A line longer than
// whyMaxLine is refused, never cut short: a truncated line is not the
// line the client sent.
func readWhyLine(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("no standard input to read the line from")
	}
	b, err := io.ReadAll(io.LimitReader(r, whyMaxLine+3))
	if err != nil {
		return "", fmt.Errorf("reading standard input: %v", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) > whyMaxLine {
		return "", fmt.Errorf("the line on standard input is longer than %d bytes; refusing it rather than sending part of it", whyMaxLine)
	}
	if s == "" {
		return "", errors.New("standard input holds no line")
	}
	return s, nil
}

// whyLine builds the command line: LINE as given, or with --as the
// address wrapped in the command and its angle brackets. A LINE that is
// already a command line is taken as it is when its verb is the one --as
// names, and refused when it is the other: wrapping it again would send
// "RCPT TO:<RCPT TO:<…>>".
func whyLine(arg, as string) (string, error) {
	var verb string
	switch strings.ToLower(as) {
	case "":
		return arg, nil
	case "mail":
		verb = "MAIL"
	case "rcpt":
		verb = "RCPT"
	default:
		return "", fmt.Errorf("--as must be mail or rcpt, not %q", as)
	}
	if probe.CheckWhyLine(arg) == nil {
		if strings.EqualFold(arg[:4], verb) {
			return arg, nil
		}
		return "", fmt.Errorf("LINE is already a %s command, but --as says %s: give just the address with --as, or drop --as", strings.ToUpper(arg[:4]), strings.ToLower(as))
	}
	path := arg
	if !strings.HasPrefix(path, "<") {
		path = "<" + path + ">"
	}
	if verb == "MAIL" {
		return "MAIL FROM:" + path, nil
	}
	if arg == "" {
		return "", errors.New("--as rcpt needs an address")
	}
	return "RCPT TO:" + path, nil
}

// whyHELO is the EHLO name why announces when none is given: this
// machine's FQDN, else the address literal of the local address toward
// the first host it will try (RFC 5321 §4.1.1.1), as probe does.
func whyHELO(hosts []probe.MailHost) string {
	for _, h := range hosts {
		if !h.Skip {
			return probe.HELOToward(h.Addr)
		}
	}
	return probe.HELOToward("127.0.0.1:25")
}
