package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// Limits on --timeout: below the minimum nothing can answer, above the
// maximum the user is better served by an error than by a hang.
const (
	mxDefaultTimeout = 10 * time.Second
	mxMinTimeout     = 100 * time.Millisecond
	mxMaxTimeout     = 10 * time.Minute
)

const mxExamples = `  smtpprobe mx example.com                 # MX hosts and addresses, from /etc/resolv.conf's servers
  smtpprobe mx --dns 192.0.2.53 example.com # ask that server
  smtpprobe mx --ptr example.com           # also reverse DNS and its forward confirmation
  smtpprobe mx --json bücher.example       # IDN: asked as xn--bcher-kva.example
`

func runMX(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("mx", "smtpprobe mx [flags] DOMAIN", mxExamples)
	servers := fs.StringArray("dns", nil, "DNS server HOST[:PORT] to ask (repeatable; default: /etc/resolv.conf)")
	timeout := fs.Duration("timeout", mxDefaultTimeout, "time for the whole resolution")
	ptr := fs.Bool("ptr", false, "check reverse DNS of every address and its forward confirmation (FCrDNS)")
	of := addOutputFlags(fs, "the output")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	out, err := of.options(fs, e)
	if err != nil {
		return usageError(e, "mx", err.Error())
	}
	if fs.NArg() != 1 {
		return argCountError(e, "mx", "one DOMAIN", fs.NArg(), "")
	}
	if *timeout < mxMinTimeout || *timeout > mxMaxTimeout {
		return usageError(e, "mx", fmt.Sprintf("--timeout must be between %v and %v, not %v", mxMinTimeout, mxMaxTimeout, *timeout))
	}
	for _, s := range *servers {
		if _, err := resolver.ServerAddr(s); err != nil {
			return usageError(e, "mx", "--dns: "+escapeUntrusted(err.Error()))
		}
	}
	domain := fs.Arg(0)
	if at := strings.LastIndex(domain, "@"); at >= 0 {
		msg := "an address was given; mx takes a domain"
		if _, err := resolver.ParseDomain(domain[at+1:]); err == nil {
			msg += " — did you mean " + domain[at+1:] + "?"
		}
		return usageError(e, "mx", msg)
	}
	if _, err := resolver.ParseDomain(domain); err != nil {
		// ParseDomain's errors hold only printable characters, already
		// made safe: escaping them again would double every backslash.
		return usageError(e, "mx", err.Error())
	}

	e.silence(out)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := resolver.New(*servers)
	res, lookupErr := c.LookupMX(ctx, domain)
	if lookupErr == nil && *ptr {
		c.CheckPTR(ctx, &res)
	}
	code := mxExitCode(res, lookupErr)
	doc := render.NewMX(res, lookupErr, *ptr, mxExitCode(res, nil) == exitOK)
	if err := renderOut(e, doc, out); err != nil {
		return exitCheck
	}
	return code
}

// mxExitCode: 0 when mail has somewhere to go (or the null MX says
// plainly it has not), 1 when the domain has no usable mail host, whatever
// each host's failure was, 3 when DNS could not answer: the MX question,
// or every host's address lookup for want of a server that answers.
func mxExitCode(res resolver.Result, err error) int {
	var re *resolver.Error
	if errors.As(err, &re) {
		if re.Kind == "input" {
			return exitUsage
		}
		return exitDNS
	}
	if err != nil {
		return exitDNS
	}
	switch res.Kind {
	case resolver.KindNull, resolver.KindLiteral:
		return exitOK
	case resolver.KindNone:
		return exitCheck
	}
	switch {
	case res.Usable():
		return exitOK
	case res.Unanswered():
		return exitDNS
	}
	return exitCheck
}
