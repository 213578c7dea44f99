package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/dane"
	"github.com/smtpprobe/smtpprobe/probe/mtasts"
	"github.com/smtpprobe/smtpprobe/probe/tlsrpt"
	"github.com/smtpprobe/smtpprobe/probe/transport"
	"github.com/smtpprobe/smtpprobe/resolver"
)

const tlsExamples = `  smtpprobe tls example.com --dns 127.0.0.1     # DANE, MTA-STS and TLS-RPT through a local validating resolver
  smtpprobe tls example.com --json | jq .dane.verdict
  smtpprobe tls example.com --fail-on dane,mta-sts   # exit 1 unless both pass (for monitoring)
  smtpprobe tls example.com --ca-file lab-ca.pem     # trust a private CA instead of the system roots
`

// tlsFailOnNames are the --fail-on conditions of tls (and probe).
var tlsFailOnNames = []string{"dane", "mta-sts", "tls-rpt", "starttls"}

func runTLS(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("tls", "smtpprobe tls [flags] DOMAIN", tlsExamples)
	servers := fs.StringArray("dns", nil, "validating DNS resolver HOST[:PORT] whose AD bit is trusted (repeatable; default /etc/resolv.conf)")
	port := fs.Int("port", 25, "SMTP port of the MX hosts")
	helo := fs.String("helo", "", "EHLO name to announce (default: this machine's FQDN, else the address literal of the local address toward each MX host)")
	from := fs.String("from", "", "reverse-path of the MAIL FROM sent before STARTTLS (default postmaster@ the EHLO name)")
	noPlain := fs.Bool("no-plaintext-check", false, "do not send MAIL FROM before STARTTLS to see whether TLS is required")
	caFile := fs.String("ca-file", "", "PEM file of root certificates to trust instead of the system's (SSL_CERT_FILE also works)")
	timeout := fs.Duration("timeout", 20*time.Second, "connect and per-reply deadline, and the bound of each DNS lookup and of the policy fetch")
	maxTime := fs.Duration("max-time", 3*time.Minute, "budget for the whole run")
	failOn := fs.String("fail-on", "", "exit 1 unless these pass: dane, mta-sts, tls-rpt, starttls (comma-separated)")
	of := addOutputFlags(fs, "verdict words")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	out, err := of.options(fs, e)
	if err != nil {
		return usageError(e, "tls", err.Error())
	}
	if fs.NArg() != 1 {
		return argCountError(e, "tls", "one DOMAIN", fs.NArg(), "")
	}
	conds, err := parseConditions("--fail-on", *failOn, tlsFailOnNames)
	if err != nil {
		return usageError(e, "tls", err.Error())
	}
	for _, s := range *servers {
		if _, err := resolver.ServerAddr(s); err != nil {
			return usageError(e, "tls", "--dns: "+escapeUntrusted(err.Error()))
		}
	}
	if *port < 1 || *port > 65535 {
		return usageError(e, "tls", fmt.Sprintf("--port must be 1-65535, not %d", *port))
	}
	if *timeout <= 0 || *timeout > maxDuration || *maxTime <= 0 || *maxTime > maxDuration {
		return usageError(e, "tls", "--timeout and --max-time must be positive and at most 24h")
	}
	domain := fs.Arg(0)
	if strings.Contains(domain, "@") {
		return usageError(e, "tls", "an address was given; tls takes a domain")
	}
	d, err := resolver.ParseDomain(domain)
	if err != nil {
		return usageError(e, "tls", err.Error())
	}
	if d.Literal.IsValid() {
		return usageError(e, "tls", "an address literal has no DNS, so no DANE or MTA-STS; give a domain")
	}
	var roots *x509.CertPool
	if *caFile != "" {
		if roots, err = readRoots(*caFile); err != nil {
			return usageError(e, "tls", err.Error())
		}
	}
	h, f := *helo, *from
	if h != "" {
		if err := probe.CheckLine("--helo", h); err != nil || strings.ContainsAny(h, " \t") {
			return usageError(e, "tls", fmt.Sprintf("--helo %q is not a host name", h))
		}
	}
	if f != "" {
		if err := probe.CheckLine("--from", f); err != nil || strings.ContainsAny(f, " \t<>") {
			return usageError(e, "tls", fmt.Sprintf("--from %q is not a plain address", f))
		}
	}
	e.silence(out)
	c := resolver.New(*servers)
	if c.ConfigErr != nil {
		fmt.Fprintf(e.stderr, "smtpprobe tls: %s\n", escapeUntrusted(c.ConfigErr.Error()))
		return exitDNS
	}
	c.QueryTimeout = min(*timeout, resolver.DefaultQueryTimeout)
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()
	rep, err := transport.Check(ctx, transport.Options{Domain: d.Name, DNS: c, Port: *port, HELO: h, From: f, NoEnforcement: *noPlain,
		Timeout: *timeout, RootCAs: roots})
	if err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe tls: %s\n", escapeUntrusted(err.Error()))
		return exitUsage
	}
	if err := renderOut(e, render.NewTLS(rep), out); err != nil {
		return exitCheck
	}
	if rep.MXError != "" && rep.MXSecurity == resolver.Indeterminate {
		fmt.Fprintf(e.stderr, "smtpprobe tls: DNS could not answer: %s\n", escapeUntrusted(rep.MXError))
		return exitDNS
	}
	if why := transportFailOn(rep, conds); why != "" {
		fmt.Fprintf(e.stderr, "smtpprobe tls: --fail-on matched: %s\n", escapeUntrusted(why))
		return exitCheck
	}
	return exitOK
}

// readRoots reads --ca-file: PEM root certificates to trust instead of
// the system's.
func readRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, errors.New("--ca-file: " + escapeUntrusted(err.Error()))
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, errors.New("--ca-file " + escapeUntrusted(file) + " holds no PEM certificate")
	}
	return roots, nil
}

// parseConditions splits a comma-separated flag value and checks every
// word against names.
func parseConditions(flag, s string, names []string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		ok := false
		for _, n := range names {
			ok = ok || c == n
		}
		if !ok {
			return nil, fmt.Errorf("%s: unknown condition %q (choose from %s)", flag, c, strings.Join(names, ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

// transportFailOn names the first condition that does not pass:
//
//	dane      the domain's DANE verdict is not pass
//	mta-sts   the MTA-STS verdict is not enforce-pass
//	tls-rpt   the TLS-RPT verdict is not valid
//	starttls  an MX host does not complete a TLS handshake
func transportFailOn(r *transport.Report, conds []string) string {
	for _, c := range conds {
		switch c {
		case "dane":
			if r.DANE.Verdict != dane.Pass {
				return "dane: " + r.DANE.Verdict
			}
		case "mta-sts":
			if r.MTASTS.Verdict != mtasts.EnforcePass {
				return "mta-sts: " + r.MTASTS.Verdict
			}
		case "tls-rpt":
			if r.TLSRPT.Verdict != tlsrpt.Valid {
				return "tls-rpt: " + r.TLSRPT.Verdict
			}
		case "starttls":
			for _, h := range r.Hosts {
				if h.Handshake.Status != transport.OK {
					return fmt.Sprintf("starttls: %s: %s %s", h.Host, h.STARTTLS.Status, h.Handshake.Status)
				}
			}
		}
	}
	return ""
}
