package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// helpTopics are the texts of `smtpprobe help TOPIC` that are not
// subcommands.
var helpTopics = map[string]string{
	"exit-codes": exitCodesHelp,
	"json":       jsonFieldsHelp + causesHelp(),
}

const exitCodesHelp = `Exit codes (every subcommand):
  0    the run completed; 4xx and 5xx replies are findings, not failures.
  1    the check asked for failed: an address is invalid (address) or was
       refused (probe, vrfy), the domain has no usable mail host (NXDOMAIN,
       NODATA, null MX, no host with an address), no repair made the line
       acceptable (why), a --fail-on rule matched, --max-time ran out before
       the run finished, or explain was given a code it cannot explain.
  2    usage: an unknown subcommand or flag, a bad argument, a malformed
       target, or input with CR, LF or NUL in it. Nothing was resolved or sent.
  3    DNS could not answer: timeout, SERVFAIL or REFUSED from every server, an
       unparsable or truncated answer with no TCP service, or a CNAME loop at
       the domain.
  4    no host could be probed: every connection was refused, timed out,
       closed, or failed at the greeting, EHLO or TLS handshake.
  129  stopped by SIGHUP (the terminal closed),
  130  by SIGINT (Ctrl-C),
  143  or by SIGTERM (kill, a service manager): what was seen so far is
       reported, marked incomplete. A second signal ends the process at
       once, and so does the first after 5 seconds of finishing up.
`

func runHelp(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		printUsage(e.stdout)
		return exitOK
	}
	if len(args) > 1 {
		return argCountError(e, "help", "one subcommand or topic", len(args), "")
	}
	switch args[0] {
	case "-h", "--help", "help":
		// help about help is the usage, which lists the subcommands and topics
		printUsage(e.stdout)
		return exitOK
	}
	if t, ok := helpTopics[args[0]]; ok {
		fmt.Fprint(e.stdout, t)
		return exitOK
	}
	if c := findCommand(args[0]); c != nil {
		return c.run(ctx, []string{"--help"}, e)
	}
	var names []string
	for n := range helpTopics {
		names = append(names, n)
	}
	sort.Strings(names)
	return usageError(e, "help", fmt.Sprintf("no subcommand or topic %q (topics: %s)", args[0], strings.Join(names, ", ")))
}
