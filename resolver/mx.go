package resolver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Kinds of Result: how the domain tells senders where its mail goes.
const (
	KindExplicit = "explicit" // MX records (RFC 5321 §5.1)
	KindImplicit = "implicit" // no MX, but the domain has an address: MX 0 to itself
	KindNull     = "null"     // MX 0 . : no mail accepted (RFC 7505)
	KindNone     = "none"     // NXDOMAIN, or NODATA for MX and addresses
	KindLiteral  = "literal"  // an address literal: no DNS involved
	// KindUnresolved is set when LookupMX returns an error: DNS did not
	// answer, so nothing is known.
	KindUnresolved = "unresolved"
)

// Result is where mail for a domain goes, with what DNS said on the way.
type Result struct {
	Domain string `json:"domain"` // A-label form, no trailing dot
	Input  string `json:"input"`  // as given
	Kind   string `json:"kind"`
	// Code names the Finding: explicit, no-address (MX records whose
	// hosts have no address), implicit, null, nxdomain, nodata or literal;
	// when Kind is unresolved, the Error's Kind.
	Code string `json:"code"`
	// Rcode is the response code of the MX answer (NOERROR, NXDOMAIN);
	// when DNS could not answer, the last one seen (SERVFAIL, REFUSED), or
	// empty when no server responded.
	Rcode string `json:"rcode"`
	AD    bool   `json:"ad"` // the MX answer was DNSSEC-validated by the server
	// Security is the DNSSEC status of the MX answer and its CNAMEs:
	// secure, insecure, bogus (SERVFAIL) or indeterminate.
	Security Security `json:"dnssec"`
	// Server is the server whose answer to the MX query was used.
	Server string `json:"server,omitempty"`
	// CNAMEs are the aliases followed from the domain, in order.
	CNAMEs []string `json:"cnames,omitempty"`
	TTL    uint32   `json:"ttl"` // of the MX records
	Hosts  []Host   `json:"hosts"`
	// TruncatedHosts counts MX records beyond the hosts limit, not
	// resolved.
	TruncatedHosts int      `json:"truncated_hosts"`
	Warnings       []string `json:"warnings"`
	Queries        []Query  `json:"queries"`
	Finding        Finding  `json:"finding"`

	nullMixed bool // a null MX came with other MX records (RFC 7505 §3)
}

// Host is one mail host: an MX target, or the domain itself for an
// implicit MX.
type Host struct {
	Name       string `json:"host"` // no trailing dot
	Preference uint16 `json:"preference"`
	Implicit   bool   `json:"implicit"`
	TTL        uint32 `json:"ttl"` // of the MX record
	// CNAMEs are aliases followed from the host name (an MX target should
	// have none: RFC 2181 §10.3).
	CNAMEs    []string  `json:"cnames,omitempty"`
	Addresses []Address `json:"addresses"`
	// TruncatedAddresses counts addresses beyond the per-host limit.
	TruncatedAddresses int      `json:"truncated_addresses"`
	Warnings           []string `json:"warnings"`
	// Error is set when DNS could not answer for the host's addresses.
	Error string `json:"error,omitempty"`
	// ErrorKind is the Finding code of Error.
	ErrorKind string `json:"error_kind,omitempty"`
	// Security is the DNSSEC status of the address lookups together:
	// secure only when the A and the AAAA answers (or their denials) and
	// every CNAME were validated; bogus when either lookup was.
	Security Security `json:"dnssec"`

	problem string // why the host has no address, for the domain warning
}

// Address is one address of a host.
type Address struct {
	IP  netip.Addr `json:"ip"`
	TTL uint32     `json:"ttl"`
	// PTR is the reverse lookup, when asked for (CheckPTR).
	PTR *PTR `json:"ptr,omitempty"`
}

// Usable reports whether any host has an address to deliver to.
func (r *Result) Usable() bool {
	for _, h := range r.Hosts {
		if len(h.Addresses) > 0 {
			return true
		}
	}
	return false
}

// DNSFailed reports whether some host's addresses could not be looked up
// because DNS did not answer (as opposed to the host having none).
func (r *Result) DNSFailed() bool {
	for _, h := range r.Hosts {
		if h.Error != "" {
			return true
		}
	}
	return false
}

// Unanswered reports whether no host is usable only because DNS servers
// did not answer: every host's address lookup failed with a server failure
// (timeout, SERVFAIL, REFUSED, ...), so nothing is known of the addresses.
// A CNAME loop is the zone's own data, not a server failing.
func (r *Result) Unanswered() bool {
	if len(r.Hosts) == 0 || r.Usable() {
		return false
	}
	for _, h := range r.Hosts {
		if h.Error == "" || !serverFailure(h.ErrorKind) {
			return false
		}
	}
	return true
}

// serverFailure reports whether an Error kind means the servers did not
// answer, as opposed to answering with data that cannot be used.
func serverFailure(kind string) bool {
	return kind != "cname-loop" && kind != "cname-chain-too-long" && kind != "input"
}

// explicitFindings chooses the finding of an MX RRset from what was found
// and warned about: the first row that applies wins, so a warning never
// sits above "Nothing to fix".
var explicitFindings = []struct {
	code    string
	applies func(r *Result) bool
}{
	{"hosts-unanswered", (*Result).Unanswered},
	{"no-address", func(r *Result) bool { return !r.Usable() }},
	{"null-mixed", func(r *Result) bool { return r.nullMixed }},
	{"partial", func(r *Result) bool {
		return slices.ContainsFunc(r.Hosts, func(h Host) bool { return len(h.Addresses) == 0 })
	}},
	{"mx-cname", func(r *Result) bool {
		return slices.ContainsFunc(r.Hosts, func(h Host) bool { return len(h.CNAMEs) > 0 })
	}},
	{"mx-warnings", func(r *Result) bool {
		return len(r.Warnings) > 0 || slices.ContainsFunc(r.Hosts, func(h Host) bool { return len(h.Warnings) > 0 })
	}},
	{"explicit", func(*Result) bool { return true }},
}

func explicitCode(r *Result) string {
	for _, f := range explicitFindings {
		if f.applies(r) {
			return f.code
		}
	}
	return KindExplicit
}

// DeliveryOrder is the order a sending MTA tries the hosts: by preference,
// random among equal preferences (RFC 5321 §5.1). rng may be nil.
func (r *Result) DeliveryOrder(rng *rand.Rand) []Host {
	hosts := slices.Clone(r.Hosts)
	shuffle := rand.Shuffle
	if rng != nil {
		shuffle = rng.Shuffle
	}
	for i := 0; i < len(hosts); {
		j := i
		for j < len(hosts) && hosts[j].Preference == hosts[i].Preference {
			j++
		}
		group := hosts[i:j]
		shuffle(len(group), func(a, b int) { group[a], group[b] = group[b], group[a] })
		i = j
	}
	return hosts
}

// LookupMX finds where mail for domain goes (RFC 5321 §5.1): its MX hosts
// in preference order, each with its A and AAAA addresses, or the domain
// itself when it has no MX but an address, or the null MX (RFC 7505).
// NXDOMAIN and NODATA are Results of kind "none". The error, an *Error,
// is only for DNS not answering: every server timed out, failed or
// refused, or CNAMEs loop; the partial Result still lists the queries.
func (c *Client) LookupMX(ctx context.Context, domain string) (res Result, err error) {
	res = Result{Input: domain, Hosts: []Host{}, Warnings: []string{}, Queries: []Query{}}
	d, err := ParseDomain(domain)
	if err != nil {
		res.Kind, res.Code, res.Finding = KindUnresolved, "input", Explain("input")
		return res, &Error{Kind: "input", Cause: err.Error()}
	}
	if d.Literal.IsValid() {
		res.Domain, res.Kind, res.Code, res.Security = domain, KindLiteral, "literal", Insecure
		res.Hosts = []Host{{Name: domain, Addresses: []Address{{IP: d.Literal}}, Warnings: []string{}}}
		res.Finding = Explain(res.Code)
		return res, nil
	}
	res.Domain = d.Name
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	l := c.newLookup()
	defer func() { res.Queries = l.snapshot() }()

	defer func() {
		var e *Error
		if errors.As(err, &e) {
			res.Kind, res.Code, res.Finding = KindUnresolved, e.Kind, e.Finding()
		}
	}()
	mx, err := l.stream(0).resolve(ctx, d.Name, dns.TypeMX)
	res.CNAMEs = mx.chain
	if err != nil {
		if mx.server != "" { // answered, but the CNAMEs loop or run too long
			res.Rcode, res.AD, res.Server = rcodeName(mx.rcode), mx.ad, mx.server
		} else {
			res.Rcode = lastRcode(l.snapshot())
		}
		res.Security = securityOf(false, err)
		return res, err
	}
	res.Rcode, res.AD, res.Server, res.TTL = rcodeName(mx.rcode), mx.ad, mx.server, minTTL(mx.rrs)
	res.Security = securityOf(mx.ad, nil)
	switch {
	case mx.rcode == dns.RcodeNameError:
		res.Kind, res.Code = KindNone, "nxdomain"
	case len(mx.rrs) == 0:
		err = c.implicitMX(ctx, l, &res, mx)
	default:
		err = c.explicitMX(ctx, l, &res, mx.rrs)
	}
	res.Finding = Explain(res.Code)
	return res, err
}

// implicitMX handles a domain with no MX records: if it has an address it
// is its own mail host at preference 0 (RFC 5321 §5.1), else NODATA.
func (c *Client) implicitMX(ctx context.Context, l *lookup, res *Result, mx rrsetAnswer) error {
	final := res.Domain
	if n := len(mx.chain); n > 0 {
		final = mx.chain[n-1]
	}
	h := Host{Name: res.Domain, Implicit: true, Warnings: []string{}}
	c.resolveHost(ctx, l, 1, &h, final)
	if len(h.Addresses) == 0 {
		if h.Error != "" {
			return &Error{Kind: h.ErrorKind, Name: final, Type: "A/AAAA", Cause: h.Error}
		}
		res.Kind, res.Code = KindNone, "nodata"
		return nil
	}
	h.Warnings = slices.DeleteFunc(h.Warnings, func(w string) bool { return strings.Contains(w, "MX target") })
	res.Kind, res.Code = KindImplicit, "implicit"
	res.Hosts = []Host{h}
	return nil
}

// explicitMX handles an MX RRset: the null MX, sorting, the host limit,
// then every host's addresses.
func (c *Client) explicitMX(ctx context.Context, l *lookup, res *Result, rrs []dns.RR) error {
	var hosts []Host
	nulls := 0
	seen := map[string]int{}
	for _, rr := range rrs {
		mx, ok := rr.(*dns.MX)
		if !ok {
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(mx.Mx, "."))
		if name == "" {
			nulls++
			if mx.Preference != 0 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("null MX record with preference %d; RFC 7505 §3 specifies preference 0", mx.Preference))
			}
			continue
		}
		if i, dup := seen[name]; dup {
			res.Warnings = append(res.Warnings, fmt.Sprintf("MX target %s appears more than once; only preference %d counts", name, min(hosts[i].Preference, mx.Preference)))
			hosts[i].Preference = min(hosts[i].Preference, mx.Preference)
			continue
		}
		seen[name] = len(hosts)
		hosts = append(hosts, Host{Name: name, Preference: mx.Preference, TTL: mx.Hdr.Ttl, Warnings: []string{}, Addresses: []Address{}})
	}
	if nulls > 0 && len(hosts) == 0 {
		res.Kind, res.Code = KindNull, "null"
		return nil
	}
	res.Kind, res.Code = KindExplicit, "explicit"
	if nulls > 0 {
		res.nullMixed = true
		res.Warnings = append(res.Warnings, "null MX (MX 0 .) published together with other MX records: a misconfiguration (RFC 7505 §3); most senders ignore the null MX and use the other hosts")
	}
	slices.SortStableFunc(hosts, func(a, b Host) int {
		return cmp.Or(cmp.Compare(a.Preference, b.Preference), strings.Compare(a.Name, b.Name))
	})
	if limit := c.maxHosts(); len(hosts) > limit {
		res.TruncatedHosts = len(hosts) - limit
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d MX records; only the first %d by preference were resolved, %d left out", len(hosts), limit, res.TruncatedHosts))
		hosts = hosts[:limit]
	}
	for i := range hosts {
		switch {
		case ipAsName(hosts[i].Name):
			hosts[i].Warnings = append(hosts[i].Warnings, "MX target is an IP address written as a name; RFC 5321 §5.1 requires a host name, and senders look it up as a name")
		case !isHostName(hosts[i].Name):
			hosts[i].Warnings = append(hosts[i].Warnings, "MX target is not a valid host name (letters, digits and hyphens only, RFC 5321 §2.3.5); senders may refuse it")
		}
	}
	sem := make(chan struct{}, parallelQueries/2)
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			c.resolveHost(ctx, l, 1+2*i, &hosts[i], hosts[i].Name)
		}()
	}
	wg.Wait()
	res.Hosts = hosts
	res.Code = explicitCode(res)
	if !res.Usable() {
		var why []string
		for _, h := range hosts {
			why = append(why, h.Name+" "+h.problem)
		}
		what := "no MX host has an address, so mail to this domain cannot be delivered"
		if res.Code == "hosts-unanswered" {
			what = "DNS did not answer for the address of any MX host, so where mail goes is unknown"
		}
		res.Warnings = append(res.Warnings, what+": "+strings.Join(why, "; "))
	}
	return nil
}

// resolveHost looks up A and AAAA for name concurrently into h, as
// streams seq and seq+1. A lookup DNS could not answer is recorded in
// h.Error and h.ErrorKind.
func (c *Client) resolveHost(ctx context.Context, l *lookup, seq int, h *Host, name string) {
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	answers := make([]rrsetAnswer, len(types))
	errs := make([]error, len(types))
	var wg sync.WaitGroup
	for i, t := range types {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = l.stream(seq+i).resolve(ctx, name, t)
		}()
	}
	wg.Wait()
	h.Security = combineSecurity(securityOf(answers[0].ad, errs[0]), securityOf(answers[1].ad, errs[1]))
	nx := true
	for i, a := range answers {
		if errs[i] != nil {
			e := errs[i].(*Error)
			if h.Error == "" {
				h.Error, h.ErrorKind = e.Error(), e.Kind
			}
			h.Warnings = append(h.Warnings, fmt.Sprintf("%s lookup failed: %s", dns.TypeToString[types[i]], Explain(e.Kind).Meaning))
			if h.problem == "" {
				h.problem = hostProblem(e)
			}
			nx = false
			continue
		}
		if len(a.chain) > len(h.CNAMEs) {
			h.CNAMEs = a.chain
		}
		if a.rcode != dns.RcodeNameError {
			nx = false
		}
		for _, rr := range a.rrs {
			ip := rrIP(rr)
			if !ip.IsValid() {
				continue
			}
			if len(h.Addresses) >= c.maxAddresses() {
				h.TruncatedAddresses++
				continue
			}
			h.Addresses = append(h.Addresses, Address{IP: ip, TTL: rr.Header().Ttl})
		}
	}
	if h.Addresses == nil {
		h.Addresses = []Address{}
	}
	if len(h.CNAMEs) > 0 {
		h.Warnings = append(h.Warnings, fmt.Sprintf("MX target is an alias (CNAME) for %s; RFC 2181 §10.3 and RFC 5321 §5.1 forbid that, some senders refuse it; followed here", h.CNAMEs[len(h.CNAMEs)-1]))
	}
	if h.TruncatedAddresses > 0 {
		h.Warnings = append(h.Warnings, fmt.Sprintf("%d addresses; only %d kept", len(h.Addresses)+h.TruncatedAddresses, len(h.Addresses)))
	}
	if len(h.Addresses) == 0 && h.Error == "" {
		what := "has no A or AAAA record"
		if nx {
			what = "does not exist (NXDOMAIN)"
		}
		h.Warnings = append(h.Warnings, "MX target "+what+"; senders skip it")
		h.problem = what
	}
}

// hostProblem says in a few words why DNS gave no address for a host.
func hostProblem(e *Error) string {
	switch e.Kind {
	case "cname-loop":
		return "has CNAMEs that loop (" + e.Cause + ")"
	case "cname-chain-too-long":
		return "has a CNAME chain that is too long (" + e.Cause + ")"
	}
	return "got no answer for its address from any DNS server (" + e.Kind + ")"
}

func (c *Client) maxHosts() int {
	if c.MaxHosts > 0 {
		return c.MaxHosts
	}
	return DefaultMaxHosts
}

func (c *Client) maxAddresses() int {
	if c.MaxAddresses > 0 {
		return c.MaxAddresses
	}
	return DefaultMaxAddresses
}

func minTTL(rrs []dns.RR) uint32 {
	var ttl uint32
	for i, rr := range rrs {
		if t := rr.Header().Ttl; i == 0 || t < ttl {
			ttl = t
		}
	}
	return ttl
}

// rrsetAnswer is the records of one type at the end of a CNAME chain.
type rrsetAnswer struct {
	rrs    []dns.RR // of the asked type, owned by the final name
	chain  []string // CNAME targets followed, no trailing dots
	rcode  int
	ad     bool
	server string
}

// resolve asks for name/qtype and follows CNAMEs, in the answer or by
// asking again, up to MaxCNAMEChain with loop detection (RFC 1034 §3.6.2).
func (l *stream) resolve(ctx context.Context, name string, qtype uint16) (rrsetAnswer, error) {
	out := rrsetAnswer{ad: true}
	cur := strings.ToLower(dns.Fqdn(name))
	seen := map[string]bool{cur: true}
	asked := map[string]bool{}
	for {
		asked[cur] = true
		a, err := l.exchange(ctx, cur, qtype)
		if err != nil {
			return out, err
		}
		// every answer on the way must be validated for the end to be
		out.rcode, out.ad, out.server = a.msg.Rcode, out.ad && a.msg.AuthenticatedData, a.server
		for {
			var rrs []dns.RR
			next := ""
			for _, rr := range a.msg.Answer {
				if !strings.EqualFold(rr.Header().Name, cur) {
					continue
				}
				if rr.Header().Rrtype == qtype {
					rrs = append(rrs, rr)
				} else if c, ok := rr.(*dns.CNAME); ok && next == "" {
					next = strings.ToLower(dns.Fqdn(c.Target))
				}
			}
			if len(rrs) > 0 {
				out.rrs = rrs
				return out, nil
			}
			if next == "" {
				break
			}
			if seen[next] {
				return out, &Error{Kind: "cname-loop", Name: strings.TrimSuffix(name, "."), Type: dns.TypeToString[qtype], Cause: "CNAME loop through " + strings.TrimSuffix(next, ".")}
			}
			if len(out.chain) >= MaxCNAMEChain {
				return out, &Error{Kind: "cname-chain-too-long", Name: strings.TrimSuffix(name, "."), Type: dns.TypeToString[qtype], Cause: fmt.Sprintf("more than %d CNAMEs", MaxCNAMEChain)}
			}
			seen[next] = true
			out.chain = append(out.chain, strings.TrimSuffix(next, "."))
			cur = next
		}
		if asked[cur] {
			return out, nil // the answer for cur itself: NODATA or NXDOMAIN
		}
		// the chain left the answer (another zone): ask for its end
	}
}

// snapshot is the queries in the order they were planned (see stream).
func (l *lookup) snapshot() []Query {
	l.mu.Lock()
	defer l.mu.Unlock()
	qs := slices.Clone(l.queries)
	slices.SortStableFunc(qs, func(a, b Query) int {
		return cmp.Or(cmp.Compare(a.order[0], b.order[0]), cmp.Compare(a.order[1], b.order[1]))
	})
	return qs
}

// lastRcode is the response code of the last query that got one: what
// the servers said when none gave a usable answer (SERVFAIL, REFUSED),
// empty when none responded at all.
func lastRcode(qs []Query) string {
	for i := len(qs) - 1; i >= 0; i-- {
		if qs[i].Rcode != "" {
			return qs[i].Rcode
		}
	}
	return ""
}
