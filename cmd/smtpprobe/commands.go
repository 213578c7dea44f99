package main

import (
	"context"
	"fmt"
	"io"
)

// command is one subcommand: a row of the dispatch table.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, e *env) int
}

// commands is the dispatch table, in the order `smtpprobe help` lists them.
var commands []command

func init() {
	commands = []command{
		{"probe", "probe a domain's MX hosts, a host[:port] or an address", runProbe},
		{"vrfy", "ask a server about addresses with VRFY and EXPN; one verdict a line", runVRFY},
		{"why", "find why a server rejects a MAIL FROM or RCPT TO line, and the fix", runWhy},
		{"address", "check one address's syntax offline, as SMTP path and RFC 5322 addr-spec", runAddress},
		{"tls", "judge a domain's transport security: STARTTLS, certificates, DANE, MTA-STS, TLS-RPT", runTLS},
		{"mx", "resolve a domain's MX hosts as a sending MTA would (RFC 5321 §5.1)", runMX},
		{"explain", "explain reply codes, enhanced codes, reply lines or a whole log", runExplain},
		{"demo", "probe a built-in demo domain offline and print the real report", runDemo},
		{"version", "print the version, commit and Go version (also -V)", runVersion},
		{"completion", "print a completion script for bash, zsh or fish", runCompletion},
		{"man", "print the manual page (roff); docs/smtpprobe.1 is this page", runMan},
		{"help", "show help for a subcommand or topic (json, exit-codes)", runHelp},
	}
}

func findCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "smtpprobe %s — probe SMTP servers and explain every reply\n\n", buildVersion().Version)
	fmt.Fprintln(w, "Usage: smtpprobe SUBCOMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Subcommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s  %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'smtpprobe SUBCOMMAND --help' for its flags and examples,")
	fmt.Fprintln(w, "'smtpprobe help exit-codes' or 'smtpprobe help json' for the contracts.")
}
