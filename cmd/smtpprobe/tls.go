package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

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
	helo := fs.String("helo", "", "EHLO name to announce (default: this machine's FQDN, else localhost)")
	from := fs.String("from", "", "reverse-path of the MAIL FROM sent before STARTTLS (default postmaster@ the HELO name)")
	noPlain := fs.Bool("no-plaintext-check", false, "do not send MAIL FROM before STARTTLS to see whether TLS is required")
	caFile := fs.String("ca-file", "", "PEM file of root certificates to trust instead of the system's (SSL_CERT_FILE also works)")
	timeout := fs.Duration("timeout", 20*time.Second, "connect and per-reply deadline, and the bound of each DNS lookup and of the policy fetch")
	maxTime := fs.Duration("max-time", 3*time.Minute, "budget for the whole run")
	asJSON := fs.Bool("json", false, "print one JSON document (schema_version 1) instead of the report")
	failOn := fs.String("fail-on", "", "exit 1 unless these pass: dane, mta-sts, tls-rpt, starttls (comma-separated)")
	color := addColorFlag(fs, "verdict words")
	if done, code := parseFlags(fs, args, e); done {
		return code
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
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return usageError(e, "tls", "--ca-file: "+escapeUntrusted(err.Error()))
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return usageError(e, "tls", "--ca-file "+escapeUntrusted(*caFile)+" holds no PEM certificate")
		}
	}
	h := *helo
	if h == "" {
		h = probe.DefaultHELO()
	}
	if err := probe.CheckLine("--helo", h); err != nil || strings.ContainsAny(h, " \t") {
		return usageError(e, "tls", fmt.Sprintf("--helo %q is not a host name", h))
	}
	f := *from
	if f == "" {
		f = "postmaster@" + h
	}
	if err := probe.CheckLine("--from", f); err != nil || strings.ContainsAny(f, " \t<>") {
		return usageError(e, "tls", fmt.Sprintf("--from %q is not a plain address", f))
	}
	if *noPlain {
		f = ""
	}
	c := resolver.New(*servers)
	if c.ConfigErr != nil {
		fmt.Fprintf(e.stderr, "smtpprobe tls: %s\n", escapeUntrusted(c.ConfigErr.Error()))
		return exitDNS
	}
	c.QueryTimeout = min(*timeout, resolver.DefaultQueryTimeout)
	ctx, cancel := context.WithTimeout(ctx, *maxTime)
	defer cancel()
	rep, err := transport.Check(ctx, transport.Options{Domain: d.Name, DNS: c, Port: *port, HELO: h, From: f,
		Timeout: *timeout, RootCAs: roots})
	if err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe tls: %s\n", escapeUntrusted(err.Error()))
		return exitUsage
	}
	w := &errWriter{w: e.stdout}
	if *asJSON {
		writeJSON(w, tlsDocument{SchemaVersion: 1, Report: rep})
	} else {
		p := &printer{w: w, o: reportOptions{color: useColor(*color, e.stdout, e.getenv), width: terminalWidth(e.stdout)}}
		writeTransport(p, rep, true)
	}
	if w.err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe tls: writing the report: %v\n", w.err)
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

// tlsDocument is `smtpprobe tls --json`.
type tlsDocument struct {
	SchemaVersion int `json:"schema_version"`
	*transport.Report
}

// errWriter keeps the first write error, so that a report cut short on
// stdout is an error.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(b)
	if err != nil {
		w.err = err
	}
	return n, err
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

// verdictColor paints a verdict word: green for a pass, red for a
// failure, yellow for what is neither.
func verdictColor(p *printer, word string) string {
	code := 33
	switch {
	case word == "pass" || word == "enforce-pass" || word == "valid" || word == "offered" || word == "ok" || word == "match" || word == "required":
		code = 32
	case strings.HasPrefix(word, "fail") || strings.HasPrefix(word, "enforce-fail") || strings.HasPrefix(word, "enforce-mx") ||
		strings.HasPrefix(word, "invalid") || strings.HasPrefix(word, "unusable") || word == "dns-bogus" || word == "not-offered" ||
		word == "refused" || word == "failed" || word == "mismatch" || word == "fetch-failed":
		code = 31
	}
	return paint(p.o.color, code, word)
}

// writeTransport prints the transport security of a domain: the three
// domain verdicts first, then the DNSSEC trust, then each MX host layer by
// layer, then the lookups. full adds the lookups (the tls command); the
// probe report leaves them to --json.
func writeTransport(p *printer, r *transport.Report, full bool) {
	p.section("Transport security of " + r.Domain)
	row := func(name, verdict, reason, rfc string) {
		p.wrap(fmt.Sprintf("  %-8s %s  ", name, verdictColor(p, verdict)), escapeUntrusted(reason)+" ("+rfc+")")
	}
	row("DANE", r.DANE.Verdict, r.DANE.Reason, r.DANE.RFC)
	row("MTA-STS", r.MTASTS.Verdict, r.MTASTS.Reason, r.MTASTS.RFC)
	row("TLS-RPT", r.TLSRPT.Verdict, r.TLSRPT.Reason, r.TLSRPT.RFC)
	if r.Enforcement != "" {
		p.wrap("  plain text: ", escapeUntrusted(r.Enforcement))
	}
	resolvers := strings.Join(r.Resolver, ", ")
	p.wrap("  DNSSEC: ", fmt.Sprintf("MX lookup %s; the AD bit of %s is trusted as is: smtpprobe does not validate signatures itself", r.MXSecurity, resolvers))
	if r.MXError != "" {
		p.wrap("  MX lookup failed: ", escapeUntrusted(r.MXError))
	}
	if len(r.Hosts) == 0 {
		p.line("  no MX host to check")
	}
	for _, h := range r.Hosts {
		p.line("")
		addr := h.Address
		if addr == "" {
			addr = "no address"
		}
		p.line(fmt.Sprintf("  Host %s (preference %d) %s, addresses %s", escapeUntrusted(h.Host), h.Preference, addr, h.DNSSEC))
		layer := func(name string, l transport.Layer) {
			text := escapeUntrusted(l.Detail)
			if l.RFC != "" {
				text += " (" + l.RFC + ")"
			}
			p.wrap(fmt.Sprintf("    %-10s %s  ", name, verdictColor(p, l.Status)), text)
		}
		layer("starttls", h.STARTTLS)
		layer("handshake", h.Handshake)
		layer("pkix", h.PKIX)
		layer("name", h.Name)
		if h.TLS != nil {
			names := strings.Join(h.TLS.SANs, ", ")
			if names == "" {
				names = "no subjectAltName"
			}
			p.wrap("    certificate ", escapeUntrusted(fmt.Sprintf("%s, issued by %s, names %s, valid %s to %s",
				h.TLS.Subject, h.TLS.Issuer, names, h.TLS.NotBefore.UTC().Format(time.DateOnly), h.TLS.NotAfter.UTC().Format(time.DateOnly))))
		}
		dl := transport.Layer{Status: h.DANE.Verdict, Detail: h.DANE.Reason, RFC: h.DANE.RFC}
		layer("dane", dl)
		for _, rc := range h.DANE.Records {
			p.wrap("      TLSA ", escapeUntrusted(rc.Record+": "+rc.Note))
		}
		if h.MTASTS != nil {
			layer("mta-sts", transport.Layer{Status: h.MTASTS.Verdict, Detail: h.MTASTS.Reason, RFC: h.MTASTS.RFC})
		} else {
			layer("mta-sts", transport.Layer{Status: "-", Detail: "no policy applies"})
		}
		if h.Enforcement != nil {
			layer("plaintext", *h.Enforcement)
		}
		if h.DANE.Fix != "" {
			p.wrap("    fix: ", escapeUntrusted(h.DANE.Fix))
		}
	}
	var fixes []string
	for _, f := range []string{r.DANE.Fix, r.MTASTS.Fix, r.TLSRPT.Fix} {
		if f != "" {
			fixes = append(fixes, f)
		}
	}
	if len(fixes) > 0 {
		p.line("")
		p.line("  What to do:")
		for _, f := range fixes {
			p.wrap("    - ", escapeUntrusted(f))
		}
	}
	if full && len(r.Lookups) > 0 {
		p.line("")
		p.line("  DNS lookups (DNSSEC status from the resolver's AD bit):")
		lookupLine := func(name, typ, rcode string, sec resolver.Security, what string) {
			p.wrap(fmt.Sprintf("    %-34s %-5s %-8s %-13s ", escapeUntrusted(name), typ, rcode, sec), escapeUntrusted(what))
		}
		lookupLine(r.Domain, "MX", r.MXRcode, r.MXSecurity, plural(len(r.Hosts), "host"))
		for _, h := range r.Hosts {
			lookupLine(h.Host, "A+AAAA", "", h.DNSSEC, "address lookups together")
		}
		for _, a := range r.Lookups {
			what := fmt.Sprintf("%d record(s)", len(a.Records))
			if a.Error != "" {
				what = a.Error
			}
			lookupLine(a.Name, a.Type, a.Rcode, a.Security, what)
		}
	}
}
