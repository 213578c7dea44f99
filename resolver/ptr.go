package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Limits of CheckPTR, so a hostile zone cannot make it do unbounded work.
const (
	maxPTRAddresses = 64 // addresses reverse-resolved per Result
	maxPTRNames     = 4  // PTR names forward-checked per address
	maxPTRKept      = 16 // PTR names kept per address
)

// PTR is the reverse DNS of an address and its forward confirmation
// (FCrDNS): some PTR name resolves back to the address. Many receivers
// refuse or score down senders without it, and a PTR naming another host
// explains a banner that names another host.
type PTR struct {
	Names     []string `json:"names"`
	Rcode     string   `json:"rcode,omitempty"`
	Confirmed bool     `json:"confirmed"` // forward-confirmed reverse DNS
	Warnings  []string `json:"warnings"`
	Error     string   `json:"error,omitempty"`
}

// CheckPTR looks up the PTR records of every address in r (up to 64) and
// checks each name forward, filling Address.PTR and appending the queries
// to r.Queries.
func (c *Client) CheckPTR(ctx context.Context, r *Result) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	l := c.newLookup()
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelQueries)
	n := 0
	for i := range r.Hosts {
		for j := range r.Hosts[i].Addresses {
			a := &r.Hosts[i].Addresses[j]
			if n >= maxPTRAddresses {
				a.PTR = &PTR{Names: []string{}, Warnings: []string{"not checked: too many addresses"}}
				continue
			}
			n++
			seq := n
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
				}
				a.PTR = l.stream(seq).checkPTR(ctx, a.IP)
			}()
		}
	}
	wg.Wait()
	r.Queries = append(r.Queries, l.snapshot()...)
}

func (l *stream) checkPTR(ctx context.Context, ip netip.Addr) *PTR {
	p := &PTR{Names: []string{}, Warnings: []string{}}
	rev, err := dns.ReverseAddr(ip.String())
	if err != nil {
		p.Error = err.Error()
		return p
	}
	ans, err := l.resolve(ctx, rev, dns.TypePTR)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Rcode = rcodeName(ans.rcode)
	for _, rr := range ans.rrs {
		if ptr, ok := rr.(*dns.PTR); ok && len(p.Names) < maxPTRKept {
			p.Names = append(p.Names, strings.ToLower(strings.TrimSuffix(ptr.Ptr, ".")))
		}
	}
	if len(ans.rrs) > maxPTRKept {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%d PTR records; only %d kept", len(ans.rrs), maxPTRKept))
	}
	if len(p.Names) == 0 {
		p.Warnings = append(p.Warnings, "no PTR record: many receivers refuse or score down mail from an address without reverse DNS")
		return p
	}
	if len(p.Names) > 1 {
		p.Warnings = append(p.Warnings, "more than one PTR record: receivers may pick any of them")
	}
	qtype := dns.TypeA
	if ip.Is6() && !ip.Is4In6() {
		qtype = dns.TypeAAAA
	}
	for _, name := range p.Names[:min(len(p.Names), maxPTRNames)] {
		fwd, err := l.resolve(ctx, name, qtype)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(fwd.rrs, func(rr dns.RR) bool { return rrIP(rr).Unmap() == ip.Unmap() }) {
			p.Confirmed = true
			break
		}
	}
	if !p.Confirmed {
		p.Warnings = append(p.Warnings, "reverse DNS is not forward-confirmed: no PTR name resolves back to this address (FCrDNS fails); many receivers treat that like no PTR")
	}
	return p
}

func rrIP(rr dns.RR) netip.Addr {
	var ip netip.Addr
	switch v := rr.(type) {
	case *dns.A:
		ip, _ = netip.AddrFromSlice(v.A.To4())
	case *dns.AAAA:
		ip, _ = netip.AddrFromSlice(v.AAAA.To16())
	}
	return ip
}
