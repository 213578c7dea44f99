package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/pool"
	"github.com/smtpprobe/smtpprobe/probe/transport"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// ErrDNS marks a run that stopped because DNS could not answer (timeout,
// SERVFAIL or REFUSED from every server): the CLI's exit code 3.
var ErrDNS = errors.New("DNS could not answer")

// Run is the whole probe: resolve the target's MX hosts (unless it names a
// host), connect to the first reachable one (every one with AllMX), run
// the plan on each, and summarize. SMTP replies, even 5yz, are findings in
// the report; the error is for input Run refuses, or ErrDNS. A host that
// cannot be reached is a HostReport with a status other than "ok".
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	o.toASCII() // cannot fail once Check passed
	o.setDefaults()
	rep := &Report{SchemaVersion: SchemaVersion, Target: o.Target, Hosts: []HostReport{}, Proxy: o.Proxy}

	var cands []candidate
	domain := o.Domain
	if o.Target.Direct() {
		if domain == "" {
			domain = defaultDomain(o.Target)
			rep.DomainNote = DomainWarning(o.Target)
		}
		addrs := []string{o.Target.Host}
		if o.Target.Kind == TargetHost {
			r, err := o.resolver()
			if err != nil {
				return rep, err
			}
			if addrs, err = hostAddrs(ctx, r, o.Target, o.DNSTimeout); err != nil {
				if ended(ctx) {
					rep.Incomplete, rep.IncompleteReason = true, incompleteReason(ctx)
					return rep, nil
				}
				return rep, err
			}
		}
		cands = []candidate{{name: o.Target.Host, addrs: addrs}}
	} else {
		if domain == "" {
			domain = o.Target.Domain
		}
		o.progress("resolving the MX hosts of %s", o.Target.Domain)
		c, err := o.resolver()
		if err != nil {
			return rep, err
		}
		res, err := lookupMX(ctx, c, o.Target.Domain, o.DNSTimeout)
		if err != nil && ended(ctx) {
			// Not DNS failing: the run ended while it waited.
			rep.Incomplete, rep.IncompleteReason = true, incompleteReason(ctx)
			return rep, nil
		}
		if err != nil {
			var re *resolver.Error
			if errors.As(err, &re) && re.Kind == "input" {
				return rep, err
			}
			rep.MX = &res
			return rep, fmt.Errorf("%w: %v", ErrDNS, err)
		}
		rep.MX = &res
		if res.Unanswered() {
			// Every host's address lookup went unanswered: DNS failed,
			// not the domain.
			return rep, fmt.Errorf("%w: no DNS server answered for the addresses of %s's MX hosts", ErrDNS, res.Domain)
		}
		if res.Domain != "" && o.Domain == "" {
			domain = res.Domain // the A-label form: what goes on the wire
		}
		var warnings []string
		cands, warnings = mxCandidates(&res, o.MXOrder, o.Family)
		rep.Warnings = append(rep.Warnings, warnings...)
	}
	rep.Domain = domain
	if len(cands) > 0 && len(cands[0].addrs) > 0 {
		id := o.identityFor(cands[0].addrs[0])
		var r Resolver
		if len(o.DNS) > 0 || o.Resolver != nil || !o.Target.Direct() || o.Target.Kind == TargetHost {
			r, _ = o.resolver()
		}
		o.checkFromDomain(ctx, r, &id)
		rep.Identity = &id
		o.progress("the server will see EHLO %s and MAIL FROM:<%s>", id.HELO, id.From)
	}

	for _, cd := range cands {
		probed := false
		for _, ip := range cd.addrs {
			if ended(ctx) {
				rep.Incomplete = true // a host was left untried
				break
			}
			if why, skip := cd.skip[ip]; skip {
				rep.Hosts = append(rep.Hosts, HostReport{Host: cd.name, Preference: cd.pref, Address: net.JoinHostPort(ip, strconv.Itoa(o.Port)),
					Status: StatusNotDialled, Error: why, Steps: []StepResult{}, Transcript: []TranscriptLine{}})
				continue
			}
			h := probeHost(ctx, &o, cd.name, cd.pref, ip, domain)
			rep.Hosts = append(rep.Hosts, h)
			if h.Verdicts != nil {
				probed = true
				break
			}
		}
		if probed && !o.AllMX {
			break
		}
	}
	for i := range rep.Hosts {
		if rep.Hosts[i].Incomplete {
			rep.Incomplete = true
		}
	}
	for i := range rep.Hosts {
		if rep.Hosts[i].Verdicts != nil {
			rep.Verdicts = rep.Hosts[i].Verdicts
			break
		}
	}
	if !o.Target.Direct() && rep.MX != nil && !o.NoTransport && !ended(ctx) {
		checkTransport(ctx, &o, rep)
	}
	if n := o.mem.Dropped(); n > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the run kept its cap of %d MiB of server text: %d more bytes of replies and transcript were left out (marked %q on replies, and at the end of a transcript)", MaxKeptBytes>>20, n, DevNotKept))
	}
	if rep.Incomplete {
		rep.IncompleteReason = incompleteReason(ctx)
		if rep.IncompleteReason == "" {
			rep.IncompleteReason = IncompleteBudget
		}
	}
	return rep, nil
}

// candidate is a mail host to try, with its addresses in the order to
// dial them.
type candidate struct {
	name  string
	pref  *uint16
	addrs []string
	skip  map[string]string // address → why it is not dialled
}

// mxCandidates are the mail hosts of res to try, in delivery order (order
// draws it among equal preferences; family filters and orders the
// addresses), and the warnings about the domain and its hosts.
func mxCandidates(res *resolver.Result, order *rand.Rand, family string) (cands []candidate, warnings []string) {
	switch res.Kind {
	case resolver.KindNull:
		warnings = append(warnings, fmt.Sprintf("%s publishes a null MX: it accepts no mail (RFC 7505)", res.Domain))
	case resolver.KindNone:
		warnings = append(warnings, fmt.Sprintf("%s has no MX record and no address (%s)", res.Domain, res.Rcode))
	}
	for _, h := range res.DeliveryOrder(order) {
		pref := h.Preference
		cd := candidate{name: h.Name, pref: &pref}
		ips := make([]netip.Addr, len(h.Addresses))
		for i, a := range h.Addresses {
			ips[i] = a.IP
		}
		ordered := OrderAddresses(ips, family)
		if len(ordered) == 0 && len(ips) > 0 {
			warnings = append(warnings, fmt.Sprintf("MX host %s has no IPv%s address, and only IPv%s was allowed", h.Name, family, family))
			continue
		}
		for _, ip := range ordered {
			a := resolver.Address{IP: ip}
			warn, dial := hostSurprise(res.Domain, h.Name, a.IP)
			if warn != "" {
				warnings = append(warnings, warn)
			}
			if !dial {
				if cd.skip == nil {
					cd.skip = map[string]string{}
				}
				cd.skip[a.IP.String()] = warn
			}
			cd.addrs = append(cd.addrs, a.IP.String())
		}
		if len(cd.addrs) == 0 {
			warnings = append(warnings, fmt.Sprintf("MX host %s has no address", h.Name))
			continue
		}
		cands = append(cands, cd)
	}
	return cands, warnings
}

// MXWarnings are the warnings a probe reports about a domain whose MX
// lookup gave res: a null MX or none, hosts with no usable address,
// hosts that would reach this machine. Equal preferences are in the
// order order draws (nil: random), addresses of family only.
func MXWarnings(res *resolver.Result, order *rand.Rand, family string) []string {
	if res == nil {
		return nil
	}
	_, w := mxCandidates(res, order, family)
	return w
}

// Resolver finds where mail for a domain goes (RFC 5321 §5.1);
// *resolver.Client is one. One Resolver may serve many runs at once.
type Resolver interface {
	LookupMX(ctx context.Context, domain string) (resolver.Result, error)
	// LookupHost resolves a host target's name to its addresses.
	LookupHost(ctx context.Context, name string) (resolver.Host, error)
}

// hostAddrs resolves a host target's name with r (so --dns holds for it
// too), within the DNS deadline. An IP target is its own address;
// "localhost" is the loopback addresses without asking DNS (RFC 6761
// §6.3). The error wraps ErrDNS when DNS did not answer, and
// ErrNoMailHost when the name has no address.
func hostAddrs(ctx context.Context, r Resolver, t Target, timeout time.Duration) ([]string, error) {
	if t.Kind != TargetHost {
		return []string{t.Host}, nil
	}
	if strings.EqualFold(strings.TrimSuffix(t.Host, "."), "localhost") {
		return []string{"127.0.0.1", "::1"}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(timeout, DefaultDNSTimeout))
	defer cancel()
	h, err := r.LookupHost(ctx, t.Host)
	if err != nil {
		var re *resolver.Error
		if errors.As(err, &re) && re.Kind == "input" {
			return nil, err
		}
		return nil, fmt.Errorf("%w for the host %s: %v", ErrDNS, t.Host, err)
	}
	var out []string
	for _, a := range h.Addresses {
		out = append(out, a.IP.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the host %s has no address (A or AAAA); nothing was sent", ErrNoMailHost, t.Host)
	}
	return out, nil
}

// DefaultDNSTimeout bounds one whole MX resolution (the MX query, the
// hosts' addresses, retries and the TCP fallback) when the caller gives no
// bound of its own: a DNS server that never answers, answers late, or
// truncates and then hangs over TCP costs this, not the run's budget.
const DefaultDNSTimeout = 5 * time.Second

// lookupMX asks r within its own deadline of timeout (DefaultDNSTimeout
// when 0), however much time ctx leaves.
func lookupMX(ctx context.Context, r Resolver, domain string, timeout time.Duration) (resolver.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(timeout, DefaultDNSTimeout))
	defer cancel()
	return r.LookupMX(ctx, domain)
}

// resolver is o.Resolver, or a client for o.DNS.
func (o *Options) resolver() (Resolver, error) {
	if o.Resolver != nil {
		return o.Resolver, nil
	}
	c := resolver.New(o.DNS)
	if c.ConfigErr != nil {
		return nil, fmt.Errorf("%w: %v", ErrDNS, c.ConfigErr)
	}
	return c, nil
}

func (o *Options) setDefaults() {
	if o.HELO == "" {
		o.HELO = FQDNHostname() // "" leaves it to the address literal, per host
		o.heloDefaulted = o.HELO != ""
	}
	if o.TLS == "" {
		o.TLS = string(TLSAuto)
	}
	if o.Port == 0 {
		o.Port = o.Target.Port
	}
	if o.Port == 0 {
		o.Port = 25
		if o.TLS == string(TLSImplicit) {
			o.Port = 465
		}
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.DNSTimeout == 0 {
		o.DNSTimeout = DefaultDNSTimeout
	}
	if o.mem == nil {
		o.mem = newMemBudget(MaxKeptBytes)
	}
	if o.Random == "" {
		o.Random = RandomLocalPart()
	}
}

// defaultDomain is the mail domain to use at a host given directly: its
// name, or its address literal (RFC 5321 §4.1.3).
func defaultDomain(t Target) string {
	if t.Domain != "" {
		return t.Domain
	}
	ip, err := netip.ParseAddr(t.Host)
	if err != nil {
		return t.Host
	}
	if ip.Is4() {
		return "[" + ip.String() + "]"
	}
	return "[IPv6:" + ip.String() + "]"
}

// DefaultDomain is the mail domain probed at a host target when none is
// given: the target's own domain, the host name, or the address literal
// (RFC 5321 §4.1.3).
func DefaultDomain(t Target) string { return defaultDomain(t) }

// DomainWarning is the note for a host target probed without a mail
// domain: the domain then comes from the host name, or is the address
// literal, which is rarely the domain the host takes mail for, so the
// postmaster and catch-all checks may draw relay refusals instead of
// answers. "" when the target carries its own domain.
func DomainWarning(t Target) string {
	if !t.Direct() || t.Domain != "" {
		return ""
	}
	d := defaultDomain(t)
	if strings.HasPrefix(d, "[") {
		return fmt.Sprintf("no mail domain given: the postmaster, catch-all and RCPT checks use the address literal %s (postmaster@%s); give the mail domain this host serves", d, d)
	}
	return fmt.Sprintf("no mail domain given: probing the host name %s as the mail domain (postmaster@%s); a server that does not take mail for that name refuses it as relaying, so give the mail domain it serves", d, d)
}

// probeHost runs the plan against one address of one host.
func probeHost(ctx context.Context, o *Options, name string, pref *uint16, ip, domain string) HostReport {
	if o.HELO == "" || o.From == "" {
		id := o.identityFor(ip)
		oh := *o
		oh.HELO, oh.From = id.HELO, id.From
		o = &oh
	}
	user := o.User
	if user == "" {
		user = o.Target.User
	}
	in := PlanInput{Domain: domain, User: user, From: o.From, List: o.List, Random: o.Random,
		VRFY: o.VRFY, RCPT: o.RCPT, RCPTRaw: o.RCPTRaw, Suites: o.Suites}
	if a, err := netip.ParseAddr(ip); err == nil {
		if a.Is4() {
			in.Literal4 = a.String()
		} else {
			in.Literal6 = a.String()
		}
	}
	return runHost(ctx, o, name, pref, ip, Plan(in))
}

// runHost runs steps against one address of one host.
func runHost(ctx context.Context, o *Options, name string, pref *uint16, ip string, steps []Step) HostReport {
	addr := net.JoinHostPort(ip, strconv.Itoa(o.Port))
	h := HostReport{Host: name, Preference: pref, Address: addr, HELOName: o.HELO, Steps: []StepResult{}, Transcript: []TranscriptLine{}}
	cfg := Config{
		Addr: addr, HELO: o.HELO, TLS: TLSMode(o.TLS), TLSVerify: o.TLSVerify,
		ConnectTimeout: o.Timeout, ReplyTimeout: o.Timeout, Dialer: o.Dialer, RootCAs: o.RootCAs,
	}
	if _, err := netip.ParseAddr(name); err != nil {
		cfg.ServerName = name
	}

	var mu sync.Mutex
	sessions := map[int]*Session{}
	okFacts, weakFacts := false, false
	// noteFacts keeps the host's facts from the first connection that
	// answered, or from the first attempt when none did; under mu. The
	// facts of a provisional session (one whose EHLO came after other
	// commands) stand only until any other attempt, answered or not.
	noteFacts := func(s *Session, err error, provisional bool) {
		take := !okFacts && (err == nil || h.Status == "" || weakFacts || h.Banner == nil && s != nil && s.Greeting().Code != 0)
		if provisional && h.Status != "" {
			take = false // never in place of another attempt's
		}
		if take {
			okFacts, weakFacts = err == nil && !provisional, provisional
			h.Status, h.Error = Status(err), ""
			if err != nil {
				h.Error = err.Error()
			}
			if s != nil {
				h.Banner, h.EHLO, h.HELOFallback = nil, nil, nil
				if g := s.Greeting(); g.Code != 0 || len(g.Lines) > 0 {
					h.Banner = &g
				}
				if e := s.EHLOReply(); e.Code != 0 {
					h.EHLO = &e
					if hr := s.HELOReply(); hr != nil {
						h.HELOFallback = &HELOFallback{EHLO: e}
						if hr.Code != 0 {
							h.HELOFallback.HELO = hr
						}
					}
				}
				h.Extensions = s.Extensions()
				h.TLS = s.TLS()
			}
			if cfg.TLS == TLSAuto || cfg.TLS == TLSStartTLS {
				obs := transport.Observe(s, err)
				h.observed = &obs
			}
		}
	}
	dial := func(ctx context.Context, n int) (pool.Session, error) {
		if n == 1 {
			o.progress("connecting to %s (%s)", name, addr)
		}
		s, err := Dial(ctx, cfg)
		mu.Lock()
		defer mu.Unlock()
		if s != nil {
			sessions[n] = s
		}
		noteFacts(s, err, false)
		if err != nil {
			if s != nil {
				s.Close()
			}
			return nil, err
		}
		return s, nil
	}
	steps, early := splitBeforeHello(steps)
	conns := o.Connections
	if conns <= 0 {
		conns = DefaultConnections
	}
	r := &runner{dial: dial, budget: o.ErrorBudget, from: o.From, parallel: conns, lockStep: o.LockStep, mem: o.mem}
	var earlyResults []StepResult
	var earlySession *Session
	if len(early) > 0 {
		r.earlyCost = len(early) + 1
		r.early = func(ctx context.Context, n int, goOn func([]StepResult) bool) (earlyRun, error) {
			if n == 1 {
				o.progress("connecting to %s (%s)", name, addr)
			}
			var err error
			earlyResults, earlySession, err = runBeforeHello(ctx, cfg, early, n, o.mem, goOn)
			if err != nil {
				// Refused at the greeting, or no connection: the attempt
				// keeps its number and transcript, as a dial's does.
				mu.Lock()
				if earlySession != nil {
					earlySession.Close()
					sessions[n] = earlySession
				}
				noteFacts(earlySession, err, false)
				mu.Unlock()
				earlySession = nil
				return earlyRun{}, err
			}
			run := earlyRun{Sent: countSent(earlyResults), TLS: earlySession.TLS() != nil}
			for _, res := range earlyResults {
				if res.Reply != nil {
					run.Replies = append(run.Replies, *res.Reply)
				}
				if c := res.Command; c == explain.MAIL || c == explain.RCPT {
					run.Dirty = run.Dirty || res.code()/100 == 2
				}
			}
			// Its facts stand until an ordinary connection answers: the
			// greeting, and the EHLO it said when it went on.
			mu.Lock()
			noteFacts(earlySession, nil, true)
			mu.Unlock()
			if !earlySession.Closed() {
				run.S = earlySession
			}
			return run, nil
		}
	}
	res := r.run(ctx, steps)
	if r.earlyRan && earlySession != nil {
		sessions[r.earlyN] = earlySession // it ran first, numbered by the runner's pool
	}
	switch {
	case len(early) == 0 || res.DialErr != nil:
	case r.earlyRan:
		res.Steps = insertAtSuite(res.Steps, earlyResults)
	case res.GaveUp != "":
		var results []StepResult
		for _, st := range early {
			results = append(results, skipped(st, res.Connections, "not sent: "+res.GaveUp))
		}
		res.Steps = insertAtSuite(res.Steps, results)
	default:
		n := res.Connections + 1
		start := time.Now()
		results, s, _ := runBeforeHello(ctx, cfg, early, n, o.mem, nil)
		if s != nil {
			sessions[n] = s
			// After the plan: on the longest path, and in its wall time.
			res.Schedule.RoundTrips += 3 + countSent(results)
			res.Schedule.Groups += countSent(results)
			res.Schedule.WallMS += math.Round(float64(time.Since(start).Microseconds())/10) / 100
		}
		res.Steps = insertAtSuite(res.Steps, results)
		res.Connections++
	}
	h.Connections = res.Connections
	nums := make([]int, 0, len(sessions))
	for n := range sessions {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	seen := map[Deviation]bool{}
	for _, n := range nums {
		for _, d := range sessions[n].Deviations() {
			if !seen[d] {
				seen[d] = true
				h.Deviations = append(h.Deviations, d)
			}
		}
	}
	for _, n := range nums {
		s := sessions[n]
		var left int
		h.Transcript, left = o.mem.keepTranscript(h.Transcript, n, s.Transcript().Entries())
		h.TranscriptDropped += s.Transcript().Dropped() + left
		sessions[n] = nil
	}
	for _, s := range res.Steps {
		h.Incomplete = h.Incomplete || s.cut
	}
	if res.DialErr != nil {
		if h.Status == "" || weakFacts {
			h.Status = Status(res.DialErr)
			h.Error = res.DialErr.Error()
		}
		if ended(ctx) {
			// The budget ran out or the user interrupted while it
			// connected: the host was not tried in full.
			h.Incomplete = true
			h.Error = "the run ended while connecting: " + h.Error
		}
		h.Software = identifySteps(h)
		return h
	}
	o.progress("%s: %d steps over %d connection(s)", name, countSent(res.Steps), res.Connections)
	h.Steps = res.Steps
	sched := res.Schedule
	h.Schedule = &sched
	if res.GaveUp != "" {
		h.Status, h.Error = res.GaveUpStatus, res.GaveUp
	}
	throttling := measureThrottling(res.Steps)
	if throttling == nil && res.Tarpit != nil {
		// The tarpit the scheduler saw is throttling whatever the
		// schedule: once it shows, each error goes on a fresh session,
		// so a lock-step run may leave too few slow replies on any one
		// session for the measure above, where a run that had stacked
		// more errors on its first sessions finds them.
		throttling = res.Tarpit
	}
	v := Summarize(res.Steps)
	v.Throttling = throttling
	if b, ok := heloBaseline(h); ok {
		v.Baselines[0] = b
	}
	v.STARTTLS = h.Extensions.Has("STARTTLS") || h.TLS != nil
	v.SMTPUTF8 = h.Extensions.Has("SMTPUTF8")
	v.ErrorLimit = res.ErrorLimit
	h.Verdicts = &v
	h.Software = identifySteps(h)
	return h
}

func countSent(steps []StepResult) int {
	n := 0
	for _, s := range steps {
		if s.Outcome != Skipped {
			n++
		}
	}
	return n
}

// heloBaseline is the EHLO-name baseline as the greeting exchange decided
// it: failed when the server refused both EHLO and HELO, or refused EHLO
// for the name itself. ok is false when that exchange decided nothing.
func heloBaseline(h HostReport) (Baseline, bool) {
	var last *Reply
	switch {
	case h.HELOFallback != nil && h.HELOFallback.HELO != nil && h.HELOFallback.HELO.Code/100 != 2:
		last = h.HELOFallback.HELO
	case h.EHLO != nil && h.EHLO.Code/100 >= 4 && h.HELOFallback == nil:
		last = h.EHLO
	case h.EHLO != nil && h.EHLO.Code/100 >= 4:
		// EHLO refused, HELO taken: refused for the name only if it said so
		if explain.ClassifyRefusal(h.EHLO.Code, h.EHLO.Enhanced, h.EHLO.Text(), explain.EHLO).Cause == explain.CauseHELORejected {
			last = h.EHLO
		}
	}
	if last == nil {
		return Baseline{}, false
	}
	ref := explain.ClassifyRefusal(last.Code, last.Enhanced, last.Text(), explain.EHLO)
	return Baseline{Name: BaselineHELO, Status: BaselineFailed, Step: "ehlo", Sent: "EHLO " + h.HELOName,
		Code: last.Code, Enhanced: last.Enhanced, Cause: ref.Cause, Fault: FaultHELO,
		Reason: fmt.Sprintf("the server refused the prober's EHLO name %s: %d %s (%s)", h.HELOName, last.Code, last.Enhanced, causeOr(ref.Cause))}, true
}
