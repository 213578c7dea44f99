package resolver

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DefaultCacheMaxTTL caps how long a cached answer is kept, whatever its
// TTL says: a batch run that lasts hours still sees changes within the
// hour.
const DefaultCacheMaxTTL = time.Hour

// Cache keeps DNS answers for the life of a Client (a batch run), so each
// name and type is asked once however many targets need it: the MX
// records of a domain once, and the addresses of an MX host shared by a
// thousand domains once. An answer is kept for its TTL, the smallest in
// its answer section (RFC 2181 §5.2 makes an RRset's TTLs equal). A
// negative answer, NXDOMAIN or NODATA, is kept for the smaller of its
// SOA's TTL and MINIMUM field (RFC 2308 §5); one without an SOA is not
// kept, as that section asks. Lookups of one key at the same time wait
// for the first instead of asking again. Failures (timeouts, SERVFAIL)
// are never kept: the next lookup asks afresh.
//
// A Cache is safe for concurrent use and may be shared by Clients with the
// same servers.
type Cache struct {
	// MaxTTL caps the time an answer is kept; DefaultCacheMaxTTL when 0.
	MaxTTL time.Duration

	now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	hits    int
	misses  int
}

type cacheKey struct {
	name  string
	qtype uint16
}

type cacheEntry struct {
	ready   chan struct{} // closed once msg is set, or the lookup failed
	msg     *dns.Msg      // nil: the lookup failed, ask again
	server  string
	stored  time.Time
	expires time.Time
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{entries: map[cacheKey]*cacheEntry{}, now: time.Now} }

// CacheStats counts the lookups a cache answered and those it passed on.
type CacheStats struct {
	Hits, Misses, Entries int
}

// Stats is what the cache did so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits, Misses: c.misses, Entries: len(c.entries)}
}

// lookup returns a fresh cached answer for name/qtype, waiting for one in
// flight; or, when there is none, a fill func the caller must call with
// what it got (nil on failure).
func (c *Cache) lookup(ctx context.Context, name string, qtype uint16) (*dns.Msg, string, func(*dns.Msg, string)) {
	key := cacheKey{strings.ToLower(dns.Fqdn(name)), qtype}
	for {
		c.mu.Lock()
		e := c.entries[key]
		if e == nil || e.msg != nil && !c.now().Before(e.expires) {
			e = &cacheEntry{ready: make(chan struct{})}
			c.entries[key] = e
			c.misses++
			c.mu.Unlock()
			return nil, "", func(m *dns.Msg, server string) { c.fill(key, e, m, server) }
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, "", func(*dns.Msg, string) {}
		}
		c.mu.Lock()
		msg, server, stored := e.msg, e.server, e.stored
		if msg != nil {
			c.hits++
		}
		now := c.now()
		c.mu.Unlock()
		if msg == nil {
			continue // the first lookup failed: ask (or wait) again
		}
		return aged(msg, now.Sub(stored)), server, nil
	}
}

func (c *Cache) fill(key cacheKey, e *cacheEntry, m *dns.Msg, server string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ttl, ok := cacheTTL(m)
	maxTTL := c.MaxTTL
	if maxTTL <= 0 {
		maxTTL = DefaultCacheMaxTTL
	}
	ttl = min(ttl, maxTTL)
	if !ok || ttl <= 0 {
		delete(c.entries, key) // not kept: the next lookup asks
		close(e.ready)         // a waiter finds e.msg nil and asks itself
		return
	}
	now := c.now()
	e.msg, e.server, e.stored, e.expires = m.Copy(), server, now, now.Add(ttl)
	close(e.ready)
}

// cacheTTL is how long m may be kept: the smallest TTL of its answer
// section, or for a negative answer the SOA rule of RFC 2308 §5.
func cacheTTL(m *dns.Msg) (time.Duration, bool) {
	if m == nil || m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return 0, false
	}
	if m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0 {
		return time.Duration(minTTL(m.Answer)) * time.Second, true
	}
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second, true
		}
	}
	return 0, false
}

// aged is a copy of m with every TTL lowered by the time it was kept, as
// a caching server hands it on (RFC 1035 §4.1.3).
func aged(m *dns.Msg, kept time.Duration) *dns.Msg {
	out := m.Copy()
	dec := uint32(kept / time.Second)
	for _, sec := range [][]dns.RR{out.Answer, out.Ns, out.Extra} {
		for _, rr := range sec {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT {
				if h.Ttl > dec {
					h.Ttl -= dec
				} else {
					h.Ttl = 0
				}
			}
		}
	}
	return out
}
