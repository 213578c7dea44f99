package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/batch"
)

const probeExamples = `  smtpprobe probe example.com                 # the first reachable MX host of example.com
  smtpprobe probe alice@example.com           # ... and VRFY/RCPT TO alice there
  smtpprobe probe --all-mx example.com        # every MX host, not only the first
  smtpprobe probe mx.example.com:2525 --domain example.com
  smtpprobe probe [192.0.2.25]:25 --suite vrfy --vrfy bob@example.com
  smtpprobe probe example.com --rcpt-raw '<a..b@example.com>'   # a malformed path, sent as written
  smtpprobe probe example.com --format json | jq .verdicts
  smtpprobe probe -q example.com              # the verdict lines only
  smtpprobe probe example.com --fail-on nonconforming   # exit 1 if the server strays from RFC 5321
`

// probeFlags are the flags probe and vrfy share.
type probeFlags struct {
	port      int
	helo      string
	from      string
	domain    string
	user      string
	rcpt      []string
	rcptRaw   []string
	vrfy      []string
	expn      string
	suite     string
	suiteSet  bool // --suite was given, even as ""
	dns       []string
	dnsTime   time.Duration
	allMX     bool
	mxSeed    uint64
	mxSeedSet bool // --mx-seed was given
	timeout   time.Duration
	maxTime   time.Duration
	tls       string
	tlsVerify bool
	out       *outputFlags
	failOn    string
	caFile    string
	noTLSSec  bool
	transport bool // the subcommand runs the transport-security check (probe, not vrfy)
	conns     int
	lockStep  bool
	net       netFlags
	netSet    netSetup // built from net by prepareNet
}

// prepareNet builds the network setup of the flags once they are parsed.
func (f *probeFlags) prepareNet(fs *flagSet, e *env) error {
	s, err := f.net.build(fs, e, f.dns)
	f.netSet = s
	return err
}

// sayNet says on stderr where DNS goes when a proxy is used.
func (f *probeFlags) sayNet(sub string, e *env) {
	if f.netSet.note != "" {
		fmt.Fprintf(e.stderr, "smtpprobe %s: %s\n", sub, escapeUntrusted(f.netSet.note))
	}
}

func (f *probeFlags) register(fs *flagSet, withSuite bool) {
	fs.IntVar(&f.port, "port", 0, "TCP port to connect to (default 25, or 465 with --tls implicit)")
	fs.StringVar(&f.helo, "helo", "", "EHLO name to announce (default: this machine's FQDN, else the address literal of the local address, e.g. [192.0.2.7])")
	fs.StringVar(&f.from, "from", "", "reverse-path for MAIL FROM (default postmaster@ the HELO name)")
	fs.StringVar(&f.domain, "domain", "", "mail domain to probe at a host:port target (default: from the target)")
	fs.StringVar(&f.user, "user", "", "local part of a mailbox that exists there (default: the target's user, else postmaster)")
	f.transport = withSuite
	if withSuite {
		fs.StringArrayVar(&f.rcpt, "rcpt", nil, "also RCPT TO this address (repeatable)")
		fs.StringArrayVar(&f.rcptRaw, "rcpt-raw", nil, "also send RCPT TO:TEXT with TEXT as written, e.g. '<a..b@example.com>', to see how the server treats a malformed path; only CR, LF, NUL and lines over 512 octets are refused, and its reply sets no exit code (repeatable; smtpprobe why finds what a server objects to)")
		fs.StringArrayVar(&f.vrfy, "vrfy", nil, "also VRFY this address (repeatable)")
		fs.StringVar(&f.suite, "suite", "all", "what to run: vrfy, syntax or all (comma-separated)")
		fs.BoolVar(&f.allMX, "all-mx", false, "probe every MX host, not only the first reachable one")
		fs.BoolVar(&f.noTLSSec, "no-transport", false, "skip the transport-security check (DANE, MTA-STS, TLS-RPT) of a domain target")
		fs.Uint64Var(&f.mxSeed, "mx-seed", 0, "seed the random order among MX hosts of equal preference, to repeat a run exactly (default: a new order each run; with --targets, each domain's order is drawn from its name and this seed, the same every run)")
	}
	fs.StringVar(&f.expn, "expn", "postmaster", "list to ask about with EXPN")
	fs.StringArrayVar(&f.dns, "dns", nil, "DNS server host[:port] for every lookup: MX records and host names (repeatable; default /etc/resolv.conf)")
	f.timeout, f.maxTime, f.dnsTime = 30*time.Second, 10*time.Minute, probe.DefaultDNSTimeout
	fs.Var((*boundedDuration)(&f.dnsTime), "dns-timeout", "bound on the MX resolution: a DNS server that does not answer in time is exit 3 (max 24h)")
	fs.Var((*boundedDuration)(&f.timeout), "timeout", "connect and per-reply deadline; a dripping server does not extend it (max 24h)")
	fs.Var((*boundedDuration)(&f.maxTime), "max-time", "budget for the whole run, DNS included; exit 1 with a partial report when it runs out (max 24h). With --targets: for each run at a server (a host's full probe, each group of mailboxes), from when the politeness limits let it connect; its targets are written marked incomplete")
	fs.StringVar(&f.tls, "tls", "auto", "TLS: auto (STARTTLS when offered), starttls (required), implicit (port 465), none")
	fs.BoolVar(&f.tlsVerify, "tls-verify", false, "treat certificate problems as fatal")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of root certificates to trust instead of the system's (SSL_CERT_FILE also works)")
	f.net.register(fs)
	f.out = addOutputFlags(fs, "reply codes")
	f.out.addVerboseFlag(fs, "also print the full C:/S: transcript with timings")
	fs.IntVar(&f.conns, "connections", probe.DefaultConnections, "connections open at once to one address (1: one at a time)")
	fs.BoolVar(&f.lockStep, "lock-step", false, "one command per round trip on one connection: no pipelining, no parallel sessions (for servers that misbehave)")
	fs.StringVar(&f.failOn, "fail-on", "", "exit 1 when: permanent, transient, nonconforming, vrfy-leak, catch-all or any (comma-separated; see README)")
}

// maxDuration bounds --timeout and --max-time: a day is more than any
// probe needs, and larger values overflow time.Duration.
const maxDuration = 24 * time.Hour

// boundedDuration is a duration flag that says plainly when a value is too
// large instead of calling it malformed.
type boundedDuration time.Duration

func (d *boundedDuration) String() string { return time.Duration(*d).String() }
func (d *boundedDuration) Type() string   { return "duration" }

func (d *boundedDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		if overflows(s) {
			return fmt.Errorf("%s is too large (max 24h)", s)
		}
		return fmt.Errorf("must be a duration like 30s or 2m, not %q", s)
	}
	if v > maxDuration {
		return fmt.Errorf("%s is too large (max 24h)", s)
	}
	*d = boundedDuration(v)
	return nil
}

// overflows tells whether s is a well-formed duration whose value does not
// fit time.Duration: the same text with a smaller number parses.
func overflows(s string) bool {
	digits := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '+' })
	if digits <= 0 {
		return false
	}
	_, err := time.ParseDuration("1" + s[digits:])
	return err == nil
}

// failOnNames are the --fail-on conditions; see failOnMatches.
var failOnNames = []string{"permanent", "transient", "nonconforming", "vrfy-leak", "catch-all", "any", "dane", "mta-sts", "tls-rpt"}

// transportConds are the --fail-on conditions of the transport-security
// check; "any" does not include them.
var transportConds = []string{"dane", "mta-sts", "tls-rpt", "starttls"}

func parseFailOn(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		ok := false
		for _, n := range failOnNames {
			if f == n {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("--fail-on: unknown condition %q (choose from %s)", f, strings.Join(failOnNames, ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

// hasUnquotedComma tells whether s has a comma outside a quoted string. A
// comma may stand in a quoted local part ("a,b"@example.com, RFC 5321
// §4.1.2), so --rcpt and --vrfy take one address each instead of a
// comma-separated list.
func hasUnquotedComma(s string) bool {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++ // a quoted-pair: the next byte is literal
		case s[i] == '"':
			quoted = !quoted
		case s[i] == ',' && !quoted:
			return true
		}
	}
	return false
}

// options turns the flags and a parsed target into probe.Options. The
// checks of what goes on the wire live in probe.Options.Check; here are
// only those of flags the CLI alone has.
func (f *probeFlags) options(t probe.Target) (probe.Options, error) {
	o := probe.Options{
		Target: t, Port: f.port, HELO: f.helo, From: f.from, Domain: f.domain, User: f.user,
		VRFY: f.vrfy, RCPT: f.rcpt, RCPTRaw: f.rcptRaw, List: f.expn, DNS: f.dns, AllMX: f.allMX,
		TLS: f.tls, TLSVerify: f.tlsVerify, Timeout: f.timeout, DNSTimeout: f.dnsTime,
		Connections: f.conns, LockStep: f.lockStep,
		NoTransport: !f.transport || f.noTLSSec,
	}
	if f.conns < 1 || f.conns > 100 {
		return o, fmt.Errorf("--connections must be from 1 to 100, not %d", f.conns)
	}
	if f.caFile != "" {
		roots, err := readRoots(f.caFile)
		if err != nil {
			return o, err
		}
		o.RootCAs = roots
	}
	f.netSet.apply(&o)
	if f.mxSeedSet {
		o.MXOrder = rand.New(rand.NewPCG(f.mxSeed, f.mxSeed))
	}
	if f.suiteSet || f.suite != "" {
		for _, s := range strings.Split(f.suite, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				return o, fmt.Errorf("--suite %q names an empty suite (choose from vrfy, syntax, all)", f.suite)
			}
			o.Suites = append(o.Suites, s)
		}
	}
	if f.timeout <= 0 {
		return o, fmt.Errorf("--timeout must be positive, not %s", f.timeout)
	}
	if f.maxTime <= 0 {
		return o, fmt.Errorf("--max-time must be positive, not %s", f.maxTime)
	}
	if f.dnsTime <= 0 {
		return o, fmt.Errorf("--dns-timeout must be positive, not %s", f.dnsTime)
	}
	if f.tlsVerify && f.tls == "none" {
		return o, errors.New("--tls-verify has no certificate to check with --tls none")
	}
	for _, list := range []struct {
		flag  string
		addrs []string
	}{{"--rcpt", f.rcpt}, {"--vrfy", f.vrfy}} {
		for i, a := range list.addrs {
			if hasUnquotedComma(a) {
				return o, fmt.Errorf("%s #%d %q: one address per %s; repeat the flag", list.flag, i+1, a, list.flag)
			}
		}
	}
	if err := o.Check(); err != nil {
		return o, rawHint(flagError(err), err, f.rcpt)
	}
	return o, nil
}

// rawHint adds to the error of a --rcpt that is not a mailbox the flag
// that sends it anyway: --rcpt-raw, with the brackets --rcpt would have
// added.
func rawHint(worded, err error, rcpt []string) error {
	var oe *probe.OptionError
	if !errors.As(err, &oe) || oe.Option != "RCPT" || oe.Index < 1 || oe.Index > len(rcpt) || !strings.Contains(oe.Problem, "is not a mailbox") {
		return worded
	}
	a := rcpt[oe.Index-1]
	if !strings.HasPrefix(a, "<") {
		a = "<" + a + ">"
	}
	return fmt.Errorf("%w; to send it as written anyway: --rcpt-raw %q", worded, a)
}

func runProbe(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("probe", "smtpprobe probe [flags] TARGET   (TARGET: domain, user@domain, host[:port] or [ip]:port)", probeExamples)
	var f probeFlags
	f.register(fs, true)
	var b batchFlags
	b.register(fs, true)
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	f.suiteSet = fs.Changed("suite")
	f.mxSeedSet = fs.Changed("mx-seed")
	if code, done := b.dispatch(ctx, "probe", batch.ModeProbe, fs, &f, e); done {
		return code
	}
	if fs.NArg() != 1 {
		return argCountError(e, "probe", "one TARGET", fs.NArg(), "")
	}
	out, err := f.out.options(fs, e)
	if err != nil {
		return usageError(e, "probe", err.Error())
	}
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return usageError(e, "probe", err.Error())
	}
	t, err := probe.ParseTarget(fs.Arg(0))
	if err != nil {
		return usageError(e, "probe", err.Error())
	}
	if err := f.prepareNet(fs, e); err != nil {
		return usageError(e, "probe", err.Error())
	}
	opts, err := f.options(t)
	if err != nil {
		return usageError(e, "probe", err.Error())
	}
	e.silence(out)
	f.sayNet("probe", e)
	if opts.Domain == "" {
		if w := domainWarning(t); w != "" {
			fmt.Fprintf(e.stderr, "smtpprobe probe: warning: %s\n", escapeUntrusted(w))
		}
	}
	opts.Progress = e.progress()
	ctx, cancel := context.WithTimeout(ctx, f.maxTime)
	defer cancel()
	report, err := probe.Run(ctx, opts)
	if report != nil && report.DomainNote != "" {
		report.DomainNote = domainWarning(t)
	}
	if report != nil {
		if err := renderOut(e, render.NewProbe(report), out); err != nil {
			return exitCheck
		}
	}
	return probeExit(e, report, err, failOn)
}

// probeExit picks the exit code of a probe run (see `smtpprobe help
// exit-codes`) and says why on stderr when it is not 0.
func probeExit(e *env, r *probe.Report, err error, failOn []string) int {
	if errors.Is(err, probe.ErrDNS) {
		fmt.Fprintf(e.stderr, "smtpprobe probe: %s\n", escapeUntrusted(err.Error()))
		return exitDNS
	}
	if err != nil && r == nil {
		fmt.Fprintf(e.stderr, "smtpprobe probe: %s\n", escapeUntrusted(err.Error()))
		return exitCheck
	}
	if code, msg := incompleteExit(r); code != exitOK {
		fmt.Fprintf(e.stderr, "smtpprobe probe: %s\n", msg)
		return code
	}
	if len(r.Hosts) == 0 {
		msg := "no host to probe"
		if err != nil {
			msg = err.Error()
		}
		fmt.Fprintf(e.stderr, "smtpprobe probe: %s\n", escapeUntrusted(msg))
		return exitCheck
	}
	probed := 0
	for _, h := range r.Hosts {
		if h.Verdicts != nil {
			probed++
		}
	}
	if probed == 0 && allNotDialled(r) {
		fmt.Fprintf(e.stderr, "smtpprobe probe: no MX host can be dialled: %s\n", escapeUntrusted(r.Hosts[0].Error))
		return exitCheck
	}
	if probed == 0 {
		fmt.Fprintf(e.stderr, "smtpprobe probe: every connection failed (%s)\n", escapeUntrusted(string(r.Hosts[0].Status)))
		return exitConnection
	}
	if why := givenAddressRejected(r); why != "" {
		fmt.Fprintf(e.stderr, "smtpprobe probe: %s\n", escapeUntrusted(why))
		return exitCheck
	}
	if why := failOnMatches(r, failOn); why != "" {
		fmt.Fprintf(e.stderr, "smtpprobe probe: --fail-on matched: %s\n", escapeUntrusted(why))
		return exitCheck
	}
	return exitOK
}

// incompleteExit is the exit code and message of a run that ended before
// it was done: 130 when the user interrupted it, 1 when its --max-time
// budget ran out; exitOK for a complete run.
func incompleteExit(r *probe.Report) (int, string) {
	switch {
	case r == nil || !r.Incomplete:
		return exitOK, ""
	case r.IncompleteReason == probe.IncompleteInterrupted:
		return exitInterrupted, "interrupted: the report shows what was seen so far; verdicts that needed the rest are unknown"
	}
	return exitCheck, "incomplete: the run's time budget (--max-time) ran out; the report shows what was seen, and verdicts that needed the rest are unknown"
}

// givenAddressRejected names the first address the user gave (the target's
// user@domain or --rcpt) that a probed host refused at RCPT with a 5yz.
func givenAddressRejected(r *probe.Report) string {
	for _, h := range r.Hosts {
		for _, s := range h.Steps {
			given := s.Step().Role == probe.RoleRcptAddress || (r.Target.User != "" && s.Step().Role == probe.RoleRcptBaseline)
			if given && s.Reply != nil && s.Reply.Code/100 == 5 {
				return fmt.Sprintf("%s refused `%s` with %d", h.Host, s.Sent, s.Reply.Code)
			}
		}
	}
	return ""
}

// failOnMatches checks the --fail-on conditions:
//
//	permanent      a 5yz to a line the server should take: the well-formed
//	               MAIL FROM and RCPT TO, and every address the user gave
//	transient      a 4yz to any of those
//	nonconforming  any step judged lenient, strict or wrong-code against RFC 5321
//	vrfy-leak      VRFY reveals or leaks which mailboxes exist
//	catch-all      the server accepts a random mailbox
//	any            any of the above
//	dane, mta-sts, tls-rpt  the domain's verdict is not pass, enforce-pass, valid
func failOnMatches(r *probe.Report, conds []string) string {
	has := func(c string) bool {
		for _, x := range conds {
			if x == c || x == "any" && !slices.Contains(transportConds, c) {
				return true
			}
		}
		return false
	}
	if len(conds) == 0 {
		return ""
	}
	var tc []string
	for _, c := range conds {
		if slices.Contains(transportConds, c) {
			tc = append(tc, c)
		}
	}
	if len(tc) > 0 {
		if r.Transport == nil {
			return tc[0] + ": not checked (only a domain target, without --no-transport, gets the transport-security check)"
		}
		if why := transportFailOn(r.Transport, tc); why != "" {
			return why
		}
	}
	for _, h := range r.Hosts {
		for _, s := range h.Steps {
			role := s.Step().Role
			checked := role == probe.RoleMailBaseline || role == probe.RoleRcptBaseline || role == probe.RoleRcptAddress || role == probe.RoleVRFYAddress
			if checked && s.Reply != nil {
				if has("permanent") && s.Reply.Code/100 == 5 {
					return fmt.Sprintf("permanent: %s answered `%s` with %d", h.Host, s.Sent, s.Reply.Code)
				}
				if has("transient") && s.Reply.Code/100 == 4 {
					return fmt.Sprintf("transient: %s answered `%s` with %d", h.Host, s.Sent, s.Reply.Code)
				}
			}
			if has("nonconforming") && !s.Setup && (s.Conformance == probe.Lenient || s.Conformance == probe.TooStrict || s.Conformance == probe.WrongCode) {
				return fmt.Sprintf("nonconforming: %s: %s", h.Host, s.Verdict)
			}
		}
		v := h.Verdicts
		if v == nil {
			continue
		}
		if has("vrfy-leak") && v.VRFYPolicy != nil && (v.VRFYPolicy.Policy == probe.PolicyLeaks || v.VRFYPolicy.Policy == probe.PolicyReveals) {
			return fmt.Sprintf("vrfy-leak: %s: vrfy_policy %s", h.Host, v.VRFYPolicy.Policy)
		}
		if has("catch-all") && v.CatchAll != nil && *v.CatchAll {
			return fmt.Sprintf("catch-all: %s accepts a random mailbox", h.Host)
		}
	}
	return ""
}

// allNotDialled reports whether every host of r was left undialled: the
// domain's MX hosts have only addresses that name no host.
func allNotDialled(r *probe.Report) bool {
	for _, h := range r.Hosts {
		if h.Status != probe.StatusNotDialled {
			return false
		}
	}
	return len(r.Hosts) > 0
}

// optionFlags name the flag behind each option probe.Options.Check names.
var optionFlags = map[string]string{"HELO": "--helo", "List": "--expn", "From": "--from", "User": "--user",
	"Domain": "--domain", "VRFY": "--vrfy", "RCPT": "--rcpt", "RCPTRaw": "--rcpt-raw", "DNS": "--dns", "TLS": "--tls", "Port": "--port",
	"Timeout": "--timeout", "DNSTimeout": "--dns-timeout", "Connections": "--connections"}

// flagError words a *probe.OptionError by the flag that set the option.
func flagError(err error) error {
	var oe *probe.OptionError
	if !errors.As(err, &oe) {
		return err
	}
	name, ok := optionFlags[oe.Option]
	if !ok {
		return err
	}
	if oe.Index > 0 {
		name += fmt.Sprintf(" #%d", oe.Index)
	}
	return errors.New(name + oe.Problem)
}

// domainWarning is the note for a host target probed without --domain.
func domainWarning(t probe.Target) string {
	if probe.DomainWarning(t) == "" {
		return ""
	}
	d := probe.DefaultDomain(t)
	if strings.HasPrefix(d, "[") {
		return fmt.Sprintf("no --domain given: the postmaster, catch-all and RCPT checks use the address literal %s (postmaster@%s); pass --domain with the mail domain this host serves", d, d)
	}
	return fmt.Sprintf("no --domain given: probing the host name %s as the mail domain (postmaster@%s); a server that does not take mail for that name refuses it as relaying, so pass --domain with the mail domain it serves", d, d)
}
