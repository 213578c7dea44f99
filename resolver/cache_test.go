package resolver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// countingServer serves zone over UDP and TCP on loopback and counts the
// questions it is asked, by name and type.
type countingServer struct {
	addr string
	mu   sync.Mutex
	asks map[string]int
}

func startCounting(t *testing.T, zone string) *countingServer {
	t.Helper()
	z, err := resolvertest.ParseZone(zone)
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingServer{asks: map[string]int{}}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		q := req.Question[0]
		cs.mu.Lock()
		cs.asks[strings.ToLower(q.Name)+" "+dns.TypeToString[q.Qtype]]++
		cs.mu.Unlock()
		w.WriteMsg(z.Answer(req))
	})
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ln == nil; try++ {
		// the kernel's free UDP port may be taken for TCP: try another
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			if try > 10 {
				t.Fatal(err)
			}
		}
	}
	cs.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		go srv.ActivateAndServe()
		t.Cleanup(func() { srv.Shutdown() })
	}
	return cs
}

func (cs *countingServer) count(key string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.asks[key]
}

func (cs *countingServer) total() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	n := 0
	for _, v := range cs.asks {
		n += v
	}
	return n
}

const cacheZone = `$ORIGIN c.test.
$TTL 300
@        SOA  ns hostmaster 1 3600 600 86400 30
shared   A    127.0.0.1
short 1  A    127.0.0.2
`

func cacheZoneWithDomains(n int) string {
	var b strings.Builder
	b.WriteString(cacheZone)
	for i := range n {
		fmt.Fprintf(&b, "d%d MX 10 shared\n", i)
	}
	b.WriteString("onlytxt TXT \"x\"\nshorty MX 10 short\n")
	return b.String()
}

// A thousand domains on one MX host: the host's addresses are asked once,
// each domain's MX once however many lookups ask for it, concurrently.
func TestCacheSharesAnswers(t *testing.T) {
	cs := startCounting(t, cacheZoneWithDomains(200))
	c := New([]string{cs.addr})
	c.Cache = NewCache()
	var wg sync.WaitGroup
	for i := range 200 {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := c.LookupMX(context.Background(), fmt.Sprintf("d%d.c.test", i))
				if err != nil || len(res.Hosts) != 1 || len(res.Hosts[0].Addresses) != 1 || res.Hosts[0].Addresses[0].IP.String() != "127.0.0.1" {
					t.Errorf("d%d: %v %+v", i, err, res.Hosts)
				}
			}()
		}
	}
	wg.Wait()
	if n := cs.count("shared.c.test. A"); n != 1 {
		t.Errorf("the shared host's A asked %d times, want 1", n)
	}
	for i := range 200 {
		if n := cs.count(fmt.Sprintf("d%d.c.test. MX", i)); n != 1 {
			t.Fatalf("d%d MX asked %d times, want 1", i, n)
		}
	}
	st := c.Cache.Stats()
	if st.Hits == 0 || st.Misses != cs.total() {
		t.Errorf("stats %+v, server asked %d", st, cs.total())
	}
	res, _ := c.LookupMX(context.Background(), "d1.c.test")
	if res.Queries[0].Transport != "cache" || res.Queries[0].Outcome != "answer" {
		t.Errorf("a cached answer is not shown as one: %+v", res.Queries[0])
	}
}

// NXDOMAIN and NODATA are kept for the SOA's negative TTL (RFC 2308 §5),
// and an answer is asked again once its TTL has passed.
func TestCacheNegativeAndExpiry(t *testing.T) {
	cs := startCounting(t, cacheZoneWithDomains(1))
	c := New([]string{cs.addr})
	c.Cache = NewCache()
	now := time.Unix(1e9, 0)
	var mu sync.Mutex
	c.Cache.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	for range 3 {
		res, _ := c.LookupMX(context.Background(), "missing.c.test")
		if res.Code != "nxdomain" {
			t.Fatalf("missing: %s", res.Code)
		}
		res, _ = c.LookupMX(context.Background(), "onlytxt.c.test")
		if res.Code != "nodata" {
			t.Fatalf("onlytxt: %s", res.Code)
		}
	}
	if n := cs.count("missing.c.test. MX"); n != 1 {
		t.Errorf("NXDOMAIN asked %d times in its negative TTL, want 1", n)
	}
	if n := cs.count("onlytxt.c.test. MX"); n != 1 {
		t.Errorf("NODATA asked %d times in its negative TTL, want 1", n)
	}
	advance(31 * time.Second) // past the SOA MINIMUM of 30
	c.LookupMX(context.Background(), "missing.c.test")
	if n := cs.count("missing.c.test. MX"); n != 2 {
		t.Errorf("NXDOMAIN asked %d times after its TTL, want 2", n)
	}
	c.LookupMX(context.Background(), "shorty.c.test")
	c.LookupMX(context.Background(), "shorty.c.test")
	if n := cs.count("short.c.test. A"); n != 1 {
		t.Errorf("short A asked %d times within 1 s, want 1", n)
	}
	advance(2 * time.Second)
	res, _ := c.LookupMX(context.Background(), "shorty.c.test")
	if n := cs.count("short.c.test. A"); n != 2 {
		t.Errorf("short A asked %d times after its 1 s TTL, want 2", n)
	}
	if res.TTL != 300-2 {
		t.Errorf("the MX TTL was not aged: %d, want 298", res.TTL)
	}
}

// Client.Dial carries every query over TCP on the connection it opens.
func TestDialCarriesQueriesOverTCP(t *testing.T) {
	cs := startCounting(t, cacheZoneWithDomains(1))
	c := New([]string{cs.addr})
	dials := 0
	var mu sync.Mutex
	c.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dials++
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	res, err := c.LookupMX(context.Background(), "d0.c.test")
	if err != nil || len(res.Hosts) != 1 {
		t.Fatal(err, res.Hosts)
	}
	for _, q := range res.Queries {
		if q.Transport != "tcp" {
			t.Errorf("%s %s over %s", q.Name, q.Type, q.Transport)
		}
	}
	if dials < 2 {
		t.Errorf("%d dials for %d queries", dials, len(res.Queries))
	}
}
