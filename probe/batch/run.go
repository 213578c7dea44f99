package batch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// Mode is what a batch run does for each target.
type Mode string

// The modes, one per subcommand that takes --targets.
const (
	ModeProbe   Mode = "probe"   // the probe of each target; server facts once per mail host
	ModeVRFY    Mode = "vrfy"    // VRFY of each address; the VRFY policy once per mail host
	ModeAddress Mode = "address" // the offline syntax analysis of each address
)

// DefaultWorkers is how many targets (or groups of mailboxes) are worked
// on at once. The connection limits, not this, bound what a server sees.
const DefaultWorkers = 32

// Config is a batch run.
type Config struct {
	Mode Mode
	// Options are the probe options every target shares (all but the
	// target); Options.Dialer should be the Limiter's.
	Options probe.Options
	// Resolver is shared by every target; a resolver.Client with a Cache.
	Resolver probe.Resolver
	// Limiter enforces the politeness; it must wrap Options.Dialer.
	Limiter *Limiter
	// Workers is DefaultWorkers when 0.
	Workers int
	// PerJob is how many mailboxes at one host one connection asks about
	// (probe.DefaultRecipients when 0).
	PerJob int
	// Budget bounds each run at a server (the facts run, each group of
	// mailboxes), from when the politeness limits let its first
	// connection open; none when 0. A run its budget cut off does not
	// strike the server.
	Budget time.Duration
	// MXSeed is mixed into each domain's MX order (see MXOrder).
	MXSeed uint64
}

// MXOrder is the order a batch tries a domain's MX hosts of equal
// preference in. RFC 5321 §5.1 has a sender try them in random order, so
// that they share the load; a batch draws that order from the domain's
// name (FNV-1a 64 of it, lower-case) and seed, not afresh each run, so
// that the targets are grouped the same way in every run and every
// shard, the host a domain's targets are grouped under is the host its
// full probe dials first, and the domains that share equal hosts are
// still spread over them. Each call is a new generator: the runs of a
// batch share none.
func MXOrder(domain string, seed uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(domain)))
	return rand.New(rand.NewPCG(h.Sum64(), seed))
}

// Result is what became of one target.
type Result struct {
	Line   Line
	Target probe.Target
	// Report is the probe report of the target (probe and vrfy modes).
	// For a target that shares its mail host with one probed before it,
	// the host's facts (banner, extensions, TLS, verdicts, the VRFY
	// comparison) come from that run and only the steps about this
	// target's mailbox were sent for it; FactsFrom names that target.
	Report    *probe.Report
	FactsFrom string
	// Address is the offline analysis (address mode).
	Address *probe.AddressReport
	// Err is why the target was not run: its text is not a target, or DNS
	// could not answer (wraps probe.ErrDNS).
	Err error
}

// Kind is one word for how the target ended, for the progress line and
// the summary: "ok", "invalid-input", "dns-error", "no-mail-host", or the
// status word of the first host that could not be reached.
func (r Result) Kind() string {
	switch {
	case r.Err != nil && errors.Is(r.Err, probe.ErrDNS):
		return "dns-error"
	case r.Err != nil:
		return "invalid-input"
	case r.Address != nil:
		if !r.Address.ValidMailbox {
			return "invalid-address"
		}
		return "ok"
	case r.Report == nil:
		return "invalid-input"
	case len(r.Report.Hosts) == 0:
		return "no-mail-host"
	}
	for _, h := range r.Report.Hosts {
		if h.Verdicts != nil {
			return "ok"
		}
	}
	return string(r.Report.Hosts[0].Status)
}

// Summary is what a batch run did.
type Summary struct {
	Targets     int            // in the input given to Run
	Done        int            // results emitted
	Interrupted int            // started but cut off by the end of the run: not emitted, so a resume runs them
	Kinds       map[string]int // Done by Result.Kind
	MailHosts   int            // distinct mail hosts (address:port) targets went to
	FactsRuns   int            // full probes run (one per mail host, at most)
	Elapsed     time.Duration
	Limiter     Stats
	DNS         resolver.CacheStats
}

// item is one target in the run.
type item struct {
	line   Line
	target probe.Target
	mx     *resolver.Result
	addr   string // mailbox to ask about (address targets), in the form to send
}

// Run works through lines and calls emit once per finished target, as
// targets finish, never two calls at once. A target cut off because ctx
// ended is not emitted (a resumed run does it again). It returns when
// every target is done or ctx ends.
func Run(ctx context.Context, cfg Config, lines []Line, emit func(Result) error) (Summary, error) {
	start := time.Now()
	r := &run{cfg: cfg, emitFn: emit, sum: Summary{Targets: len(lines), Kinds: map[string]int{}}}
	if r.cfg.Workers <= 0 {
		r.cfg.Workers = DefaultWorkers
	}
	r.sem = make(chan struct{}, r.cfg.Workers)
	if cfg.Mode == ModeAddress {
		for _, l := range lines {
			a := probe.AnalyzeAddress(l.Text)
			r.emit(ctx, Result{Line: l, Target: probe.Target{Input: l.Text}, Address: &a})
			if r.err != nil {
				break
			}
		}
	} else {
		r.network(ctx, lines)
	}
	r.sum.Elapsed = time.Since(start)
	if cfg.Limiter != nil {
		r.sum.Limiter = cfg.Limiter.Stats()
	}
	if c, ok := cfg.Resolver.(*resolver.Client); ok && c.Cache != nil {
		r.sum.DNS = c.Cache.Stats()
	}
	return r.sum, r.err
}

type run struct {
	cfg    Config
	emitFn func(Result) error
	sem    chan struct{}

	mu  sync.Mutex
	sum Summary
	err error               // emit failed: stop
	mx  map[string]*mxEntry // domain → its lookup
}

// emit hands on one target's result, unless the run ended before the
// target was done. ctx is the whole run's: once it is spent (ended, or
// past its deadline though its timer has not fired), a result cut short
// in any way — a report marked incomplete, whatever reason the probe
// gave, or a DNS answer that did not come — is the run's cut-off, not a
// finding, and is counted as interrupted so a resumed run does it again.
func (r *run) emit(ctx context.Context, res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	if cutOff(ctx, res) {
		if res.Report != nil && res.Report.Incomplete {
			res.Report.IncompleteReason = probe.IncompleteInterrupted
		}
		r.sum.Interrupted++
		return
	}
	if err := r.emitFn(res); err != nil {
		r.err = err
		return
	}
	r.sum.Done++
	r.sum.Kinds[res.Kind()]++
}

// cutOff tells whether res was cut short by the end of the run (ctx).
func cutOff(ctx context.Context, res Result) bool {
	if res.Report != nil && res.Report.Incomplete && res.Report.IncompleteReason == probe.IncompleteInterrupted {
		return true
	}
	if !spent(ctx) {
		return false
	}
	return res.Report != nil && res.Report.Incomplete || errors.Is(res.Err, probe.ErrDNS)
}

func (r *run) stopped(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err != nil || ctx.Err() != nil
}

// work runs f on a worker slot; false when the run ended first.
func (r *run) work(ctx context.Context, f func()) bool {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-r.sem }()
	if r.stopped(ctx) {
		return false
	}
	f()
	return true
}

// network is the probe and vrfy modes: parse, resolve, group by mail
// host, then a facts run per host and mailbox runs for the rest.
func (r *run) network(ctx context.Context, lines []Line) {
	items := make([]*item, len(lines))
	next := make(chan int)
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				items[i] = r.prepare(ctx, lines[i])
			}
		}()
	}
	for i := range lines {
		if r.stopped(ctx) {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	groups := map[string][]*item{}
	var order []string
	for _, it := range items {
		if it == nil {
			continue // emitted already, or the run ended
		}
		key := r.hostKey(it)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], it)
	}
	r.mu.Lock()
	r.sum.MailHosts = len(order)
	r.mu.Unlock()
	for _, key := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.group(ctx, key, groups[key])
		}()
	}
	wg.Wait()
}

// prepare parses a line and resolves its domain (once per domain: the
// resolver caches). A target that cannot be run is emitted here.
func (r *run) prepare(ctx context.Context, l Line) *item {
	text := l.Text
	if len(text) >= 2 && text[0] == '<' && text[len(text)-1] == '>' {
		text = text[1 : len(text)-1]
	}
	t, err := probe.ParseTarget(text)
	t.Input = l.Text
	fail := func(err error) *item {
		r.emit(ctx, Result{Line: l, Target: t, Err: err})
		return nil
	}
	if err != nil {
		return fail(err)
	}
	it := &item{line: l, target: t}
	if t.Kind == probe.TargetAddress {
		a, err := probe.CheckMailboxArg("target", text)
		if err == nil {
			a, err = probe.ASCIIAddress("target", a)
		}
		if err != nil {
			return fail(err)
		}
		it.addr = a
	} else if r.cfg.Mode == ModeVRFY {
		return fail(fmt.Errorf("%q is not an address (want user@domain)", l.Text))
	}
	if t.Direct() {
		return it
	}
	domain, err := probe.ASCIIAddress("target", t.Domain)
	if err != nil {
		return fail(err)
	}
	res, err := r.lookup(ctx, domain)
	if err != nil && spent(ctx) {
		return nil // the run ended: no finding about the domain
	}
	if err != nil {
		var re *resolver.Error
		if errors.As(err, &re) && re.Kind == "input" {
			return fail(err)
		}
		rep := &probe.Report{SchemaVersion: probe.SchemaVersion, Target: t, Domain: domain, MX: res, Hosts: []probe.HostReport{}}
		r.emit(ctx, Result{Line: l, Target: t, Report: rep, Err: fmt.Errorf("%w: %v", probe.ErrDNS, err)})
		return nil
	}
	it.mx = res
	return it
}

// lookup is the MX result of domain, one per domain in the run: the
// targets of a domain share it (and the resolver's cache shares the
// lookups of hosts between domains).
func (r *run) lookup(ctx context.Context, domain string) (*resolver.Result, error) {
	key := strings.ToLower(domain)
	r.mu.Lock()
	if r.mx == nil {
		r.mx = map[string]*mxEntry{}
	}
	e := r.mx[key]
	if e == nil {
		e = &mxEntry{ready: make(chan struct{})}
		r.mx[key] = e
		r.mu.Unlock()
		res, err := r.cfg.Resolver.LookupMX(ctx, domain)
		e.res, e.err = &res, err
		close(e.ready)
		return e.res, e.err
	}
	r.mu.Unlock()
	select {
	case <-e.ready:
		return e.res, e.err
	case <-ctx.Done():
		return &resolver.Result{}, ctx.Err()
	}
}

type mxEntry struct {
	ready chan struct{}
	res   *resolver.Result
	err   error
}

// hostKey is the mail host a target's connections go to first: the first
// address of its most preferred MX host with one, in the order probe.Run
// tries them (MXOrder among equal preferences).
func (r *run) hostKey(it *item) string {
	port := r.cfg.Options.Port
	if it.target.Port != 0 {
		port = it.target.Port
	}
	if port == 0 {
		port = 25
		if r.cfg.Options.TLS == string(probe.TLSImplicit) {
			port = 465
		}
	}
	if it.target.Direct() {
		return net.JoinHostPort(it.target.Host, strconv.Itoa(port))
	}
	for _, h := range it.mx.DeliveryOrder(MXOrder(it.target.Domain, r.cfg.MXSeed)) {
		ips := make([]netip.Addr, len(h.Addresses))
		for i, a := range h.Addresses {
			ips[i] = a.IP
		}
		if ordered := probe.OrderAddresses(ips, r.cfg.Options.Family); len(ordered) > 0 {
			return net.JoinHostPort(ordered[0].String(), strconv.Itoa(port))
		}
	}
	return "none:" + it.target.Domain // no mail host: each is its own (cheap) run
}

// options are the shared options with one target's.
func (r *run) options(t probe.Target) probe.Options {
	o := r.cfg.Options
	o.Target = t
	o.Resolver = r.cfg.Resolver
	o.MXOrder = MXOrder(t.Domain, r.cfg.MXSeed)
	o.VRFY, o.RCPT = slices.Clone(o.VRFY), slices.Clone(o.RCPT)
	if r.cfg.Mode == ModeVRFY {
		o.Suites = []string{"vrfy"}
		o.VRFY = []string{t.User + "@" + t.Domain}
		if o.Domain == "" {
			o.Domain = t.Domain
		}
	}
	return o
}

// budget is the context of one run at the server at ip ("" for a run
// that connects nowhere): it first waits for the politeness limits to let
// a connection to ip open, holding that slot for the run's first
// connection, and only then starts the run's Budget, so the budget
// bounds the time spent on the server, not the time queued behind the
// limits.
func (r *run) budget(ctx context.Context, ip string) (context.Context, context.CancelFunc) {
	done := func() {}
	if r.cfg.Limiter != nil && ip != "" {
		if rctx, d, err := r.cfg.Limiter.Reserve(ctx, ip); err == nil {
			ctx, done = rctx, d
		}
	}
	var bctx context.Context
	var cancel context.CancelFunc
	if r.cfg.Budget > 0 {
		bctx, cancel = context.WithTimeout(ctx, r.cfg.Budget)
	} else {
		bctx, cancel = context.WithCancel(ctx)
	}
	return bctx, func() { cancel(); done() }
}

// group works through the targets of one mail host: the first gets the
// full probe; the rest share its server facts and get their mailboxes
// asked in groups over few connections, with the facts of each further
// mail domain there (its random mailbox and postmaster) asked in the
// same transactions.
func (r *run) group(ctx context.Context, key string, items []*item) {
	if strings.HasPrefix(key, "none:") {
		// No mail host (null MX, NXDOMAIN, NODATA): no connection, so each
		// target's own run is cheap and says exactly why.
		for _, it := range items {
			r.work(ctx, func() {
				bctx, cancel := r.budget(ctx, "")
				defer cancel()
				rep, err := probe.Run(bctx, r.options(it.target))
				if rep != nil && spent(ctx) {
					rep.Incomplete, rep.IncompleteReason = true, probe.IncompleteInterrupted
				}
				r.emit(ctx, Result{Line: it.line, Target: it.target, Report: rep, Err: dnsOnly(err)})
			})
		}
		return
	}
	first := items[0]
	var facts *probe.Report
	ok := r.work(ctx, func() {
		ip, _, _ := net.SplitHostPort(key)
		bctx, cancel := r.budget(ctx, ip)
		defer cancel()
		rep, err := probe.Run(bctx, r.options(first.target))
		if rep != nil && spent(ctx) {
			// The whole run ended (its sockets' deadlines can fire before
			// its context says so): cut off, not a finding.
			rep.Incomplete, rep.IncompleteReason = true, probe.IncompleteInterrupted
		}
		r.mu.Lock()
		r.sum.FactsRuns++
		r.mu.Unlock()
		if !spent(bctx) {
			r.learn(rep) // a run its own budget cut off says nothing of the server's pace
		}
		facts = rep
		r.emit(ctx, Result{Line: first.line, Target: first.target, Report: rep, Err: dnsOnly(err)})
	})
	if !ok || facts == nil || spent(ctx) {
		return
	}
	host := probedHost(facts)
	rest := items[1:]
	g := &hostGroup{r: r, facts: facts, host: host, first: first, factsDomain: domainOf(first)}
	if host == nil {
		// The host could not be probed: every target there gets that
		// finding, and no connection of its own (a host that timed out or
		// refused is not pressed again).
		for _, it := range rest {
			rep := shared(facts, it, nil, nil)
			g.ownDomain(ctx, it, rep)
			r.emit(ctx, Result{Line: it.line, Target: it.target, Report: rep, FactsFrom: first.line.Text})
		}
		return
	}
	// Domain facts are asked per domain where the full probe's RCPT
	// checks ran and no --domain-like override makes every target's
	// domain the same.
	g.perDomain = r.cfg.Mode == ModeProbe && wants(r.cfg.Options.Suites, "syntax") && r.cfg.Options.Domain == ""
	per := r.cfg.PerJob
	if per <= 0 {
		per = probe.DefaultRecipients
	}
	var wg sync.WaitGroup
	for _, j := range g.jobs(rest, per) {
		if len(j.boxes) == 0 && len(j.domains) == 0 {
			for _, it := range j.plain {
				r.emit(ctx, Result{Line: it.line, Target: it.target, Report: g.report(ctx, it, nil), FactsFrom: first.line.Text})
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, func() { r.mailboxes(ctx, g, j) })
		}()
	}
	wg.Wait()
}

// hostGroup is the targets of one mail host after its full probe.
type hostGroup struct {
	r           *run
	facts       *probe.Report
	host        *probe.HostReport // the probed host of facts; nil when none could be
	first       *item
	factsDomain string // the domain the full probe asked about
	perDomain   bool   // judge each domain on its own answers

	mu        sync.Mutex
	transport map[string]*domainTransport // further domain → its own check
}

// domainTransport is one domain's transport-security check, made once
// for all its targets at the host.
type domainTransport struct {
	once sync.Once
	rep  *probe.Report // DANE, MTASTS, TLSRPT and the hosts' DANE and MTASTS
}

// ownDomain gives a target of another domain than the full probe's what
// belongs to its domain and not to the host: the warnings its own MX
// lookup draws instead of the full probe's domain's, and, when the full
// probe checked transport security, its own DANE, MTA-STS and TLS-RPT
// check (once a domain), made from the host's sessions.
func (g *hostGroup) ownDomain(ctx context.Context, it *item, rep *probe.Report) {
	d := domainOf(it)
	if d == g.factsDomain || d == "" || it.mx == nil {
		return
	}
	o := g.r.cfg.Options
	theirs := probe.MXWarnings(g.facts.MX, MXOrder(g.first.target.Domain, g.r.cfg.MXSeed), o.Family)
	var w []string
	for _, x := range rep.Warnings {
		if i := slices.Index(theirs, x); i >= 0 {
			theirs = slices.Delete(theirs, i, i+1)
			continue
		}
		w = append(w, x)
	}
	rep.Warnings = append(probe.MXWarnings(it.mx, MXOrder(it.target.Domain, g.r.cfg.MXSeed), o.Family), w...)
	if g.facts.DANE == nil && g.facts.MTASTS == nil && g.facts.TLSRPT == nil {
		return // the full probe made no transport check: nor does this
	}
	g.mu.Lock()
	if g.transport == nil {
		g.transport = map[string]*domainTransport{}
	}
	dt := g.transport[d]
	if dt == nil {
		dt = &domainTransport{}
		g.transport[d] = dt
	}
	g.mu.Unlock()
	dt.once.Do(func() {
		c := *rep
		c.Hosts = slices.Clone(rep.Hosts)
		probe.CheckTransport(ctx, g.r.options(it.target), &c)
		// Kept for the domain's other targets: the verdicts, not the
		// layer-by-layer check behind them (Transport, which only the
		// single probe's text report shows).
		keep := &probe.Report{DANE: c.DANE, MTASTS: c.MTASTS, TLSRPT: c.TLSRPT}
		for _, h := range c.Hosts {
			keep.Hosts = append(keep.Hosts, probe.HostReport{Host: h.Host, DANE: h.DANE, MTASTS: h.MTASTS})
		}
		dt.rep = keep
	})
	rep.DANE, rep.MTASTS, rep.TLSRPT, rep.Transport = dt.rep.DANE, dt.rep.MTASTS, dt.rep.TLSRPT, nil
	for i := range rep.Hosts {
		rep.Hosts[i].DANE, rep.Hosts[i].MTASTS = nil, nil
		for j := range dt.rep.Hosts {
			if dt.rep.Hosts[j].Host == rep.Hosts[i].Host {
				rep.Hosts[i].DANE, rep.Hosts[i].MTASTS = dt.rep.Hosts[j].DANE, dt.rep.Hosts[j].MTASTS
			}
		}
	}
}

// job is one mailbox run at the host: mailboxes to ask about, domains
// whose facts to ask, and the domain targets waiting for those facts.
type job struct {
	boxes   []*item
	domains []string
	plain   []*item
}

// jobs splits the rest of a host's targets into mailbox runs of per
// mailboxes, each domain's mailboxes together; every run asks the facts
// of each further domain whose mailboxes it carries (two RCPTs), so each
// target is judged on answers from its own connection, and a domain is
// asked once unless its mailboxes span runs. Domain targets with nothing
// to ask (the full probe's domain, or no per-domain facts) come back in
// a job with neither boxes nor domains.
func (g *hostGroup) jobs(rest []*item, per int) []*job {
	seen := map[string]int{}
	for _, it := range rest {
		if _, ok := seen[domainOf(it)]; !ok {
			seen[domainOf(it)] = len(seen)
		}
	}
	sorted := slices.Clone(rest)
	slices.SortStableFunc(sorted, func(a, b *item) int { return seen[domainOf(a)] - seen[domainOf(b)] })
	var boxes, plain []*item
	for _, it := range sorted {
		if it.addr == "" {
			plain = append(plain, it)
		} else {
			boxes = append(boxes, it)
		}
	}
	var out []*job
	asked := map[string]*job{}
	for chunk := range slices.Chunk(boxes, per) {
		j := &job{boxes: chunk}
		for _, it := range chunk {
			if d := domainOf(it); g.perDomain && d != g.factsDomain && !slices.Contains(j.domains, d) {
				j.domains = append(j.domains, d)
				if asked[d] == nil {
					asked[d] = j
				}
			}
		}
		out = append(out, j)
	}
	now := &job{}
	var only *job // a run for domains that have no mailboxes here
	for _, it := range plain {
		d := domainOf(it)
		switch {
		case !g.perDomain || d == g.factsDomain:
			now.plain = append(now.plain, it)
		case asked[d] != nil:
			asked[d].plain = append(asked[d].plain, it)
		default:
			// two RCPTs a domain
			if only == nil || 2*len(only.domains) >= per {
				only = &job{}
				out = append(out, only)
			}
			only.domains = append(only.domains, d)
			only.plain = append(only.plain, it)
			asked[d] = only
		}
	}
	if len(now.plain) > 0 {
		out = append([]*job{now}, out...)
	}
	return out
}

// domainOf is the mail domain of a target as it goes on the wire
// (lower-case, the A-label form); "" for a host target.
func domainOf(it *item) string {
	if it.mx != nil && it.mx.Domain != "" {
		return strings.ToLower(it.mx.Domain)
	}
	return strings.ToLower(it.target.Domain)
}

// spent tells whether ctx is over: ended, or past its deadline though
// its timer has not fired yet (a socket deadline set from it can fire
// first).
func spent(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

func dnsOnly(err error) error {
	if errors.Is(err, probe.ErrDNS) {
		return err
	}
	return nil
}

// mailboxes asks the facts run's host about a job's mailboxes and
// domains, and emits each of its targets' results.
func (r *run) mailboxes(ctx context.Context, g *hostGroup, j *job) {
	hostIP, _, _ := net.SplitHostPort(g.host.Address)
	bctx, cancel := r.budget(ctx, hostIP)
	defer cancel()
	addrs := make([]string, len(j.boxes))
	for i, it := range j.boxes {
		addrs[i] = it.addr
	}
	o := r.options(g.first.target)
	m := probe.Mailboxes{Addresses: addrs, VRFY: wants(o.Suites, "vrfy") && len(addrs) > 0, RCPT: r.cfg.Mode == ModeProbe && wants(o.Suites, "syntax"),
		PerTransaction: r.cfg.PerJob, Domains: j.domains, Random: o.Random}
	h := probe.RunMailboxes(bctx, o, g.host.Host, hostIP, m)
	if !spent(bctx) {
		r.learnHost(hostIP, h)
	}
	cut := spent(bctx)
	for _, it := range slices.Concat(j.boxes, j.plain) {
		rep := g.report(bctx, it, &h)
		if cut && spent(ctx) {
			rep.Incomplete, rep.IncompleteReason = true, probe.IncompleteInterrupted
		} else if cut {
			rep.Incomplete, rep.IncompleteReason = true, probe.IncompleteBudget
		}
		r.emit(ctx, Result{Line: it.line, Target: it.target, Report: rep, FactsFrom: g.first.line.Text})
	}
}

// report is the report of a target that shares its host with the full
// probe: the host's facts, this target's own steps from run (nil when
// nothing was asked for it), and the facts of its domain judged on its
// domain's own answers.
func (g *hostGroup) report(ctx context.Context, it *item, run *probe.HostReport) *probe.Report {
	rep := shared(g.facts, it, g.host, run)
	g.ownDomain(ctx, it, rep)
	if !g.perDomain || g.host.Verdicts == nil {
		return rep
	}
	h := &rep.Hosts[0]
	ev, shown := g.evidence(it, run)
	h.Steps = append(h.Steps, shown...)
	v := probe.JudgeDomain(*g.host.Verdicts, ev)
	h.Verdicts, rep.Verdicts = &v, &v
	return rep
}

// evidence is what the host answered about the domain of it: RCPT TO of
// the target's own mailbox (of postmaster there for a domain target), of
// a random mailbox there and of postmaster, from run for another domain
// than the full probe's, from the full probe for its own. shown are the
// steps to add to the target's report: the domain's, not yet in it.
func (g *hostGroup) evidence(it *item, run *probe.HostReport) (ev probe.DomainEvidence, shown []probe.StepResult) {
	d := domainOf(it)
	var bare []probe.StepResult
	for i := range g.host.Steps {
		s := &g.host.Steps[i]
		role := s.Step().Role
		switch {
		case role == probe.RolePostmaster && !strings.Contains(s.Sent, "@"):
			bare = append(bare, *s) // <postmaster>: the host's, for every domain
		case d != g.factsDomain:
		case role == probe.RoleRcptRandom:
			ev.Random = s
			shown = append(shown, *s)
		case role == probe.RolePostmaster:
			ev.Postmaster = append(ev.Postmaster, *s)
			shown = append(shown, *s)
		}
	}
	if d != g.factsDomain && run != nil {
		for i := range run.Steps {
			s := &run.Steps[i]
			role := s.Step().Role
			if s.Setup || role != probe.RoleRcptRandom && role != probe.RolePostmaster || !strings.EqualFold(domainOfAddress(s.Address), d) {
				continue
			}
			if role == probe.RoleRcptRandom {
				ev.Random = s
			} else {
				ev.Postmaster = append(ev.Postmaster, *s)
			}
			shown = append(shown, *s)
		}
	}
	ev.Postmaster = append(ev.Postmaster, bare...)
	if it.addr == "" {
		for i := range ev.Postmaster {
			if strings.Contains(ev.Postmaster[i].Sent, "@") {
				ev.Mailbox = &ev.Postmaster[i]
				break
			}
		}
		return ev, shown
	}
	if run != nil {
		for i := range run.Steps {
			if s := &run.Steps[i]; s.Address == it.addr && !s.Setup && s.Step().Role == probe.RoleRcptAddress {
				ev.Mailbox = s
			}
		}
	}
	return ev, shown
}

func domainOfAddress(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[i+1:]
	}
	return ""
}

func wants(suites []string, s string) bool {
	return len(suites) == 0 || slices.Contains(suites, s) || slices.Contains(suites, "all")
}

// probedHost is the host of a report that was probed, or nil.
func probedHost(rep *probe.Report) *probe.HostReport {
	if rep == nil {
		return nil
	}
	for i := range rep.Hosts {
		if rep.Hosts[i].Verdicts != nil {
			return &rep.Hosts[i]
		}
	}
	return nil
}

// shared is the report of a target that shares its mail host with the
// facts run: that run's finding about the host, the VRFY comparison its
// answers are judged by, and this target's own steps from run (nil when
// nothing was asked for it).
func shared(facts *probe.Report, it *item, host *probe.HostReport, run *probe.HostReport) *probe.Report {
	rep := *facts
	rep.Target = it.target
	rep.MX = it.mx
	if it.target.Domain != "" {
		rep.Domain = it.target.Domain
		if it.mx != nil && it.mx.Domain != "" {
			rep.Domain = it.mx.Domain
		}
	}
	rep.Warnings = slices.Clone(facts.Warnings)
	if host == nil {
		rep.Hosts = make([]probe.HostReport, len(facts.Hosts))
		for i, h := range facts.Hosts {
			h.Steps, h.Transcript, h.TranscriptDropped = []probe.StepResult{}, []probe.TranscriptLine{}, 0
			rep.Hosts[i] = h
		}
		return &rep
	}
	h := *host
	h.Steps = []probe.StepResult{}
	for _, s := range host.Steps {
		if role := s.Step().Role; role == probe.RoleVRFYReal || role == probe.RoleVRFYRandom {
			h.Steps = append(h.Steps, s)
		}
	}
	h.Transcript, h.TranscriptDropped, h.Connections = []probe.TranscriptLine{}, 0, 0
	if run != nil {
		h.Connections = run.Connections
		if run.Status != probe.StatusOK {
			h.Status, h.Error = run.Status, run.Error
		}
		for _, s := range run.Steps {
			if s.Address == it.addr && s.Address != "" && !s.Setup && s.Step().Role != probe.RoleRcptRandom && s.Step().Role != probe.RolePostmaster {
				h.Steps = append(h.Steps, s)
			}
		}
	}
	rep.Hosts = []probe.HostReport{h}
	return &rep
}

// learn strikes or clears the hosts of a report by how they answered.
func (r *run) learn(rep *probe.Report) {
	if rep == nil {
		return
	}
	for i := range rep.Hosts {
		ip, _, _ := net.SplitHostPort(rep.Hosts[i].Address)
		r.learnHost(ip, rep.Hosts[i])
	}
}

// learnHost tells the limiter what a host's run showed: a 421, a step
// whose cause is rate-limited or throttled, a 4yz whose text names a rate
// or connection limit, or a timeout, is a strike.
func (r *run) learnHost(ip string, h probe.HostReport) {
	if r.cfg.Limiter == nil || ip == "" {
		return
	}
	if why, ok := strikeOf(h); ok {
		r.cfg.Limiter.Strike(ip, why)
		return
	}
	if h.Status == probe.StatusOK {
		r.cfg.Limiter.Clean(ip)
	}
}

// rateWords are in the text of 4yz replies that mean "you are sending too
// fast" (Postfix's anvil "Too many connections", "Error: too much mail",
// Exim's "rate limit", Microsoft's "throttled", Gmail's "unusual rate").
var rateWords = []string{"rate", "too many connection", "too much", "throttl", "slow down", "limit exceeded", "try again later"}

func strikeOf(h probe.HostReport) (Strike, bool) {
	if h.Status == probe.StatusIOTimeout || h.Status == probe.StatusConnectionTimeout {
		return StrikeTimeout, true
	}
	if h.Verdicts != nil && h.Verdicts.Throttling != nil {
		return StrikeRateLimited, true // its replies slowed as errors grew: press it less
	}
	replies := []*probe.Reply{h.Banner}
	for i := range h.Steps {
		if c := h.Steps[i].Cause; c == explain.CauseRateLimited || c == explain.CauseThrottled {
			return StrikeRateLimited, true
		}
		replies = append(replies, h.Steps[i].Reply)
	}
	for _, rp := range replies {
		if rp == nil || rp.Code/100 != 4 {
			continue
		}
		if rp.Code == 421 {
			continue // the dialer's connection struck it as it came
		}
		text := strings.ToLower(rp.Text())
		if strings.Contains(text, "recipients") {
			continue // 452 too many recipients: a transaction limit, handled by splitting
		}
		for _, w := range rateWords {
			if strings.Contains(text, w) {
				return StrikeRateLimited, true
			}
		}
	}
	return "", false
}
