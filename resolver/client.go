// Package resolver finds where mail for a domain goes, the way a sending
// MTA does (RFC 5321 §5.1, RFC 7505), with github.com/miekg/dns talking to
// chosen servers directly: unlike the standard library it can tell
// NXDOMAIN from NODATA, see the AD bit and TTLs, and say which server
// answered what.
//
// Every query carries EDNS0 (RFC 6891) with a 1232-byte UDP size; an
// answer truncated over UDP is asked again over TCP (RFC 7766 §5). A server
// that times out, answers SERVFAIL or REFUSED, or sends garbage is left for
// the next one. All of it runs under the caller's context deadline.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults for a Client's zero fields.
const (
	// DefaultQueryTimeout bounds one query to one server.
	DefaultQueryTimeout = 2 * time.Second
	// DefaultMaxHosts is how many MX hosts are resolved; more are
	// reported as truncated.
	DefaultMaxHosts = 32
	// DefaultMaxAddresses is how many addresses of one host are kept.
	DefaultMaxAddresses = 32
	// MaxCNAMEChain is how many CNAMEs are followed from one name.
	MaxCNAMEChain = 8
	// ednsUDPSize is the DNS Flag Day 2020 size: no IP fragmentation.
	ednsUDPSize = 1232
	// parallelQueries bounds concurrent address lookups.
	parallelQueries = 8
)

// Client resolves mail hosts against a fixed list of DNS servers.
type Client struct {
	// Servers are "host:port" addresses, tried in order.
	Servers []string
	// Timeout, when non-zero, bounds a whole LookupMX or CheckPTR, on top
	// of the context's own deadline.
	Timeout time.Duration
	// QueryTimeout bounds one attempt at one server (DefaultQueryTimeout
	// when zero); the context deadline bounds everything.
	QueryTimeout time.Duration
	// MaxHosts is DefaultMaxHosts when zero.
	MaxHosts int
	// MaxAddresses is DefaultMaxAddresses when zero.
	MaxAddresses int
	// System is set by New when the servers come from /etc/resolv.conf:
	// the machine's own resolver, which asks the public DNS.
	System bool
	// ConfigErr is set by New when /etc/resolv.conf could not be read;
	// every lookup then fails with it.
	ConfigErr error
	// Cache, when set, keeps answers across lookups (see Cache).
	Cache *Cache
	// Dial, when set, opens the connection for every query, and every
	// query goes over TCP: DNS through a proxy, which carries streams
	// only (RFC 7766 makes TCP a full transport for DNS).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a Client for servers ("host" or "host:port", port 53 when
// absent). With none, the servers come from /etc/resolv.conf.
func New(servers []string) *Client {
	c := &Client{}
	if len(servers) == 0 {
		c.System = true
		cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			c.ConfigErr = fmt.Errorf("reading /etc/resolv.conf: %w", err)
			return c
		}
		for _, s := range cfg.Servers {
			c.Servers = append(c.Servers, net.JoinHostPort(s, cfg.Port))
		}
		if len(c.Servers) == 0 {
			c.ConfigErr = errors.New("/etc/resolv.conf names no nameserver")
		}
		return c
	}
	for _, s := range servers {
		addr, err := ServerAddr(s)
		if err != nil {
			c.ConfigErr = err
			return c
		}
		c.Servers = append(c.Servers, addr)
	}
	return c
}

// ServerAddr checks a server given as HOST, HOST:PORT, IPv6, or
// [IPv6]:PORT and returns it as "host:port" (port 53 by default).
func ServerAddr(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty DNS server")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("DNS server %q contains a space or control character", s)
	}
	host, port := s, "53"
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	if host == "" {
		return "", fmt.Errorf("DNS server %q has no host", s)
	}
	if strings.ContainsAny(host, "[]") {
		return "", fmt.Errorf("DNS server %q has unbalanced brackets; write an IPv6 server as [::1]:53", s)
	}
	var n int
	if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n < 1 || n > 65535 || fmt.Sprint(n) != port {
		return "", fmt.Errorf("DNS server %q: port must be 1-65535", s)
	}
	return net.JoinHostPort(host, port), nil
}

// withTimeout applies c.Timeout to ctx.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.Timeout > 0 {
		return context.WithTimeout(ctx, c.Timeout)
	}
	return context.WithCancel(ctx)
}

func (c *Client) queryTimeout() time.Duration {
	if c.QueryTimeout > 0 {
		return c.QueryTimeout
	}
	return DefaultQueryTimeout
}

// Query is one attempt at one server: what was asked, how, and what came
// back.
type Query struct {
	Name      string        `json:"name"`
	Type      string        `json:"type"`
	Server    string        `json:"server"`
	Transport string        `json:"transport"` // "udp" or "tcp"
	Rcode     string        `json:"rcode,omitempty"`
	AD        bool          `json:"ad"`        // authenticated data: DNSSEC-validated by the server
	Truncated bool          `json:"truncated"` // TC bit set
	Answers   int           `json:"answers"`
	RTT       time.Duration `json:"-"`
	RTTMillis float64       `json:"rtt_ms"`
	Error     string        `json:"error,omitempty"`
	// Outcome is "answer" when this attempt's response was used, else the
	// failure kind (see Error.Kind).
	Outcome string `json:"outcome"`

	order [2]int // stream number, then place in the stream: see stream
}

// Error is DNS failing to answer: every server timed out, failed, refused
// or answered garbage, or the names form a loop.
type Error struct {
	Kind  string // a Finding code: timeout, servfail, refused, malformed, truncated-no-tcp, network, rcode, cname-loop, cname-chain-too-long, canceled, config, input
	Name  string
	Type  string
	Cause string // per-server detail
}

// Error says what was asked and how each server failed.
func (e *Error) Error() string {
	if e.Name == "" {
		return e.Cause
	}
	return fmt.Sprintf("%s %s: %s", e.Name, e.Type, e.Cause)
}

// Finding explains the error for mail.
func (e *Error) Finding() Finding { return Explain(e.Kind) }

// answer is a usable response and the server that gave it.
type answer struct {
	msg    *dns.Msg
	server string
}

// lookup is the state of one LookupMX: the queries made, and which
// servers failed (tried last from then on, so a dead server costs one
// timeout, not one per query).
type lookup struct {
	c       *Client
	mu      sync.Mutex
	queries []Query
	failed  map[string]bool
}

func (c *Client) newLookup() *lookup {
	return &lookup{c: c, failed: map[string]bool{}}
}

// stream is one line of queries asked one after another: a lookup of one
// name and type, with its retries, TCP fallback and CNAMEs. Streams run
// concurrently, so queries finish in no fixed order; each stream gets its
// number from the caller, in the order the lookups are planned (the MX
// query, then A and AAAA host by host), and the queries are sorted by
// stream and place, so the output is the same on every run.
type stream struct {
	*lookup
	seq int
	n   int
}

// stream starts stream number seq. Only one goroutine may use it.
func (l *lookup) stream(seq int) *stream { return &stream{lookup: l, seq: seq} }

func (s *stream) record(q Query) {
	q.RTTMillis = float64(q.RTT.Microseconds()) / 1000
	q.order = [2]int{s.seq, s.n}
	s.n++
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
}

// serverOrder is the configured order with failed servers moved last.
func (l *lookup) serverOrder() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var good, bad []string
	for _, s := range l.c.Servers {
		if l.failed[s] {
			bad = append(bad, s)
		} else {
			good = append(good, s)
		}
	}
	return append(good, bad...)
}

func (l *lookup) markFailed(server string) {
	l.mu.Lock()
	l.failed[server] = true
	l.mu.Unlock()
}

// exchange asks every server in turn for name/qtype until one gives an
// answer (NOERROR or NXDOMAIN). The first round gives each server at most
// QueryTimeout, so a dead server is passed over quickly; when every server
// only timed out and time is left, a second round gives them what remains,
// for slow servers and lost packets.
func (l *stream) exchange(ctx context.Context, name string, qtype uint16) (answer, error) {
	tname := dns.TypeToString[qtype]
	if l.c.ConfigErr != nil {
		return answer{}, &Error{Kind: "config", Cause: l.c.ConfigErr.Error()}
	}
	if len(l.c.Servers) == 0 {
		return answer{}, &Error{Kind: "config", Cause: "no DNS server to ask"}
	}
	if l.c.Cache != nil {
		msg, server, fill := l.c.Cache.lookup(ctx, name, qtype)
		if msg != nil {
			l.record(Query{Name: dns.Fqdn(name), Type: tname, Server: server, Transport: "cache",
				Rcode: rcodeName(msg.Rcode), AD: msg.AuthenticatedData, Answers: len(msg.Answer), Outcome: "answer"})
			return answer{msg: msg, server: server}, nil
		}
		a, err := l.exchangeServers(ctx, name, qtype)
		fill(a.msg, a.server)
		return a, err
	}
	return l.exchangeServers(ctx, name, qtype)
}

// exchangeServers is exchange without the cache.
func (l *stream) exchangeServers(ctx context.Context, name string, qtype uint16) (answer, error) {
	tname := dns.TypeToString[qtype]
	var causes []string
	kind := ""
	for round := range 2 {
		servers := l.serverOrder()
		onlyTimeouts := true
		for i, server := range servers {
			if err := ctx.Err(); err != nil {
				kind = ctxKind(err)
				causes = append(causes, "out of time before asking "+server)
				onlyTimeouts = false
				break
			}
			limit := l.c.queryTimeout()
			if round > 0 {
				limit = 0
			}
			msg, k, cause := l.ask(ctx, server, name, qtype, len(servers)-i, limit)
			if msg != nil {
				return answer{msg: msg, server: server}, nil
			}
			kind = k
			causes = append(causes, server+": "+cause)
			l.markFailed(server)
			if k != "timeout" {
				onlyTimeouts = false
			}
		}
		if _, ok := ctx.Deadline(); !onlyTimeouts || !ok || ctx.Err() != nil {
			break
		}
	}
	return answer{}, &Error{Kind: kind, Name: strings.TrimSuffix(name, "."), Type: tname, Cause: "no server answered (" + strings.Join(causes, "; ") + ")"}
}

func ctxKind(err error) string {
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return "timeout"
}

// ask queries one server over UDP, and again over TCP when the UDP answer
// is truncated. It returns the message to use, or the failure kind.
//
// The attempt gets at most limit (none when 0), and leaves an equal share
// of the time for the servers after it: a dead first server must not eat
// the whole budget.
func (l *stream) ask(ctx context.Context, server, name string, qtype uint16, serversLeft int, limit time.Duration) (*dns.Msg, string, string) {
	d := limit
	if dl, ok := ctx.Deadline(); ok {
		if share := time.Until(dl) / time.Duration(serversLeft); d == 0 || share < d {
			d = share
		}
	} else if d == 0 {
		d = l.c.queryTimeout()
	}
	actx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.AuthenticatedData = true // ask for the AD bit (RFC 6840 §5.7)
	m.SetEdns0(ednsUDPSize, false)

	first := "udp"
	if l.c.Dial != nil {
		first = "tcp"
	}
	resp, kind, cause := l.once(actx, ctx, server, first, m)
	if resp == nil {
		return nil, kind, cause
	}
	if resp.Truncated && first == "udp" {
		resp, kind, cause = l.once(actx, ctx, server, "tcp", m)
		if resp == nil {
			if kind != "timeout" && kind != "canceled" {
				kind = "truncated-no-tcp"
			}
			return nil, kind, "answer truncated over UDP; over TCP: " + cause
		}
		if resp.Truncated {
			return nil, "malformed", "answer truncated over TCP"
		}
	}
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return resp, "", ""
	case dns.RcodeServerFailure:
		return nil, "servfail", "SERVFAIL"
	case dns.RcodeRefused:
		return nil, "refused", "REFUSED"
	default:
		return nil, "rcode", rcodeName(resp.Rcode)
	}
}

// once is one exchange over one transport, recorded.
func (l *stream) once(actx, ctx context.Context, server, transport string, m *dns.Msg) (*dns.Msg, string, string) {
	q := Query{Name: m.Question[0].Name, Type: dns.TypeToString[m.Question[0].Qtype], Server: server, Transport: transport}
	c := &dns.Client{Net: transport, UDPSize: ednsUDPSize}
	if dl, ok := actx.Deadline(); ok {
		// miekg/dns caps reads at 2s unless told otherwise; the context
		// decides here.
		c.Timeout = max(time.Until(dl), time.Millisecond)
	}
	start := time.Now()
	var resp *dns.Msg
	var err error
	if l.c.Dial != nil {
		resp, err = l.viaDial(actx, c, m, server)
	} else {
		resp, _, err = c.ExchangeContext(actx, m, server)
	}
	q.RTT = time.Since(start)
	if err != nil {
		kind := errorKind(err, ctx)
		q.Error, q.Outcome = err.Error(), kind
		l.record(q)
		return nil, kind, describeErr(kind, err)
	}
	if resp.Id != m.Id || len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, m.Question[0].Name) || resp.Question[0].Qtype != m.Question[0].Qtype {
		q.Error, q.Outcome = "answer does not match the question", "malformed"
		l.record(q)
		return nil, "malformed", q.Error
	}
	q.Rcode = rcodeName(resp.Rcode)
	q.AD = resp.AuthenticatedData
	q.Truncated = resp.Truncated
	q.Answers = len(resp.Answer)
	switch {
	case resp.Truncated:
		q.Outcome = "truncated"
	case resp.Rcode == dns.RcodeSuccess || resp.Rcode == dns.RcodeNameError:
		q.Outcome = "answer"
	case resp.Rcode == dns.RcodeServerFailure:
		q.Outcome = "servfail"
	case resp.Rcode == dns.RcodeRefused:
		q.Outcome = "refused"
	default:
		q.Outcome = "rcode"
	}
	l.record(q)
	return resp, "", ""
}

// viaDial is one exchange over a TCP connection Client.Dial opened.
func (l *stream) viaDial(ctx context.Context, c *dns.Client, m *dns.Msg, server string) (*dns.Msg, error) {
	conn, err := l.c.Dial(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	resp, _, err := c.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: conn, UDPSize: ednsUDPSize})
	return resp, err
}

// errorKind classifies a failed exchange.
func errorKind(err error, ctx context.Context) string {
	if ctx.Err() != nil {
		return ctxKind(ctx.Err())
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "network"
	}
	return "malformed"
}

func describeErr(kind string, err error) string {
	switch kind {
	case "timeout":
		return "no answer in time"
	case "malformed":
		return "answer does not parse: " + err.Error()
	}
	return err.Error()
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}
