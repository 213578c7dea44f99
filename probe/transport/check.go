package transport

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/smtpprobe/smtpprobe/probe/dane"
	"github.com/smtpprobe/smtpprobe/probe/mtasts"
	"github.com/smtpprobe/smtpprobe/probe/tlsrpt"
	"github.com/smtpprobe/smtpprobe/probe/wire"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// Options say how to check a domain.
type Options struct {
	Domain string
	// DNS is the resolver. Its AD bit is trusted: DANE verdicts are only
	// as good as the resolver's validation and the path to it.
	DNS *resolver.Client
	// MX, when set, is a lookup already made; else Check makes it.
	MX *resolver.Result
	// Observed are sessions already made, by MX host name; the other
	// hosts are dialled, unless NoDial.
	Observed map[string]Observation
	// NoDial leaves the hosts not in Observed undialled: their TLS is
	// unknown (a probe that stops at the first reachable MX host).
	NoDial bool
	Port   int // SMTP port; 25 when zero
	// HELO is the EHLO name; when empty, this machine's fully-qualified
	// name, else the address literal of the local address toward each
	// host (RFC 5321 §4.1.1.1).
	HELO string
	// From is the reverse-path of the enforcement check; when empty,
	// postmaster@ the EHLO name used toward that host.
	From string
	// NoEnforcement skips the enforcement check (MAIL FROM sent before
	// STARTTLS).
	NoEnforcement bool
	Timeout       time.Duration
	// MaxHosts bounds the MX hosts checked; 8 when zero.
	MaxHosts int
	// RootCAs verify SMTP and policy certificates; nil: the system roots.
	RootCAs *x509.CertPool
	// Dialer opens SMTP connections, and the policy connection unless
	// PolicyDial is set; nil: net.Dialer. A proxy dialer (SOCKS5) thus
	// carries the policy fetch too.
	Dialer wire.Dialer
	// PolicyDial opens the connection to mta-sts.<domain>:443, for tests;
	// nil resolves that name through DNS and dials its address.
	PolicyDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the time certificates are judged at; time.Now when nil.
	Now func() time.Time
}

// Host is the transport security of one MX host.
type Host struct {
	Host       string `json:"host"`
	Preference uint16 `json:"preference"`
	// DNSSEC is the status of the host's address lookups.
	DNSSEC resolver.Security `json:"dnssec"`
	// HELOName is the EHLO name announced to the host when this check
	// dialled it, and HELOSource where it came from: "given", "hostname"
	// (this machine's fully-qualified name) or "address-literal" (the
	// local address toward the host). Empty when not dialled here.
	HELOName   string `json:"helo_name,omitempty"`
	HELOSource string `json:"helo_source,omitempty"`
	// From is the reverse-path of the enforcement check; empty when none
	// was sent.
	From string `json:"from,omitempty"`
	Observation
	// TLSA is the lookup of the host's TLSA records; null when DANE did
	// not call for one.
	TLSA   *resolver.Answer `json:"tlsa"`
	DANE   dane.Result      `json:"dane"`
	MTASTS *mtasts.MXResult `json:"mta_sts"`
}

// Report is the transport security of a domain.
type Report struct {
	Domain string `json:"domain"`
	// Resolver names the DNS servers whose AD bit was trusted.
	Resolver []string `json:"resolver"`
	// Trust says what the DNSSEC verdicts rest on.
	Trust string `json:"trust"`
	// MXSecurity is the DNSSEC status of the MX lookup.
	MXSecurity resolver.Security `json:"mx_dnssec"`
	MXRcode    string            `json:"mx_rcode"`
	MXError    string            `json:"mx_error,omitempty"`
	Hosts      []Host            `json:"hosts"`
	// Lookups are the DNS lookups behind the verdicts, each with its
	// DNSSEC status.
	Lookups []resolver.Answer `json:"lookups"`
	DANE    dane.Result       `json:"dane"`
	MTASTS  mtasts.Result     `json:"mta_sts"`
	TLSRPT  tlsrpt.Result     `json:"tls_rpt"`
	// Enforcement notes what the hosts' acceptance of plain-text mail
	// means given the domain's policies.
	Enforcement string `json:"enforcement,omitempty"`
}

// TrustNote is the sentence every report carries about DNSSEC.
const TrustNote = "DNSSEC status is the AD bit of the resolver asked, trusted as is: smtpprobe does not validate signatures itself, so use a validating resolver on a path you trust (e.g. on this machine)"

// ErrNoDNS is returned when Options.DNS is nil.
var ErrNoDNS = errors.New("no DNS client")

// Check judges the domain's transport security. The error is only for
// unusable options; DNS and connection failures are findings.
func Check(ctx context.Context, o Options) (*Report, error) {
	if o.DNS == nil {
		return nil, ErrNoDNS
	}
	if o.Port == 0 {
		o.Port = 25
	}
	if o.MaxHosts <= 0 {
		o.MaxHosts = 8
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	domain := strings.TrimSuffix(strings.ToLower(o.Domain), ".")
	rep := &Report{Domain: domain, Resolver: o.DNS.Servers, Trust: TrustNote, Hosts: []Host{}, Lookups: []resolver.Answer{}}
	var mu sync.Mutex
	record := func(a resolver.Answer) {
		mu.Lock()
		rep.Lookups = append(rep.Lookups, a)
		mu.Unlock()
	}

	// The TXT records do not depend on the MX hosts: ask them meanwhile.
	var wg sync.WaitGroup
	var stsTXT, rptTXT resolver.Answer
	var stsErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		stsTXT, stsErr = o.DNS.Lookup(ctx, "_mta-sts."+domain, dns.TypeTXT)
	}()
	go func() {
		defer wg.Done()
		rptTXT, _ = o.DNS.Lookup(ctx, "_smtp._tls."+domain, dns.TypeTXT)
	}()

	mx := o.MX
	if mx == nil {
		res, err := o.DNS.LookupMX(ctx, domain)
		mx = &res
		if err != nil {
			rep.MXError = err.Error()
		}
	} else if mx.Kind == resolver.KindUnresolved {
		rep.MXError = "the MX lookup failed (" + mx.Code + ")"
	}
	rep.MXSecurity, rep.MXRcode = mx.Security, mx.Rcode
	hosts := mx.Hosts
	if len(hosts) > o.MaxHosts {
		hosts = hosts[:o.MaxHosts]
	}
	rep.Hosts = make([]Host, len(hosts))
	var hw sync.WaitGroup
	for i, h := range hosts {
		hw.Add(1)
		go func() {
			defer hw.Done()
			rep.Hosts[i] = o.checkHost(ctx, mx.Security, h, record)
		}()
	}
	hw.Wait()
	wg.Wait()

	// TLS-RPT.
	record(rptTXT)
	if rptTXT.Error != "" {
		rep.TLSRPT = tlsrpt.Result{Verdict: tlsrpt.None, RFC: "RFC 8460 §3", Reason: "DNS gave no answer for _smtp._tls." + domain + " (" + string(rptTXT.Security) + "): whether the domain asks for reports is unknown; " + rptTXT.Error}
	} else {
		rep.TLSRPT = tlsrpt.Judge(domain, txtStrings(rptTXT))
	}

	// MTA-STS.
	record(stsTXT)
	in := mtasts.Input{Domain: domain, TXT: txtStrings(stsTXT)}
	if stsErr != nil {
		in.DNSError = stsTXT.Error
	} else if mtasts.NeedsFetch(in.TXT) {
		f := mtasts.Fetcher{RootCAs: o.RootCAs, DialContext: o.policyDial(record), Timeout: o.Timeout}
		fetch := f.Fetch(ctx, domain)
		in.Fetch = &fetch
	}
	var mxs []mtasts.MX
	for _, h := range rep.Hosts {
		ok, why := h.usable()
		m := mtasts.MX{Host: h.Host, TLS: ok, NoTLS: why, Unreached: h.STARTTLS.Status == Unknown}
		if h.TLS != nil {
			m.PKIX, m.NameMatch = h.TLS.Verified, h.TLS.NameMatch
			if !m.PKIX {
				m.CertProblem = h.PKIX.Detail
			} else if !m.NameMatch {
				m.CertProblem = h.Name.Detail
			}
		}
		mxs = append(mxs, m)
	}
	var per []*mtasts.MXResult
	rep.MTASTS, per = mtasts.Judge(in, mxs)
	for i := range rep.Hosts {
		rep.Hosts[i].MTASTS = per[i]
	}

	// DANE for the domain.
	var names []string
	var results []dane.Result
	for _, h := range rep.Hosts {
		names = append(names, h.Host)
		results = append(results, h.DANE)
	}
	rep.DANE = dane.Domain(mx.Security, names, results)
	if mx.Security == resolver.Bogus {
		for i := range rep.Hosts {
			rep.Hosts[i].DANE = dane.Result{Verdict: dane.UnusableBogus, Reason: "the MX lookup failed DNSSEC validation", RFC: "RFC 7672 §2.2.1"}
		}
	}
	rep.Enforcement = enforcementNote(rep)
	return rep, nil
}

// checkHost observes one host and applies DANE to it.
func (o Options) checkHost(ctx context.Context, mxSec resolver.Security, h resolver.Host, record func(resolver.Answer)) Host {
	out := Host{Host: h.Name, Preference: h.Preference, DNSSEC: h.Security}
	var ip netip.Addr
	for _, a := range h.Addresses {
		if !a.IP.Unmap().IsUnspecified() { // 0.0.0.0 would reach this machine
			ip = a.IP
			break
		}
	}
	if obs, ok := o.Observed[h.Name]; ok {
		out.Observation = obs
	} else if o.NoDial {
		out.Observation = Observation{STARTTLS: Layer{Status: Unknown, Detail: "not connected: the probe stopped at the first reachable MX host", Cause: CauseFirstMXOnly},
			Handshake: Layer{Status: Skipped}, PKIX: Layer{Status: Skipped}, Name: Layer{Status: Skipped}}
	} else if !ip.IsValid() {
		out.Observation = Observation{STARTTLS: Layer{Status: Unknown, Detail: "the host has no address to connect to"},
			Handshake: Layer{Status: Skipped}, PKIX: Layer{Status: Skipped}, Name: Layer{Status: Skipped}}
	} else {
		addr := net.JoinHostPort(ip.String(), strconv.Itoa(o.Port))
		out.HELOName, out.HELOSource = o.HELO, wire.HELOGiven
		if o.HELO == "" {
			out.HELOName, out.HELOSource = wire.HELOToward(addr)
		}
		cfg := wire.Config{Addr: addr, ServerName: h.Name, HELO: out.HELOName, TLS: wire.TLSAuto, RootCAs: o.RootCAs,
			ConnectTimeout: o.Timeout, ReplyTimeout: o.Timeout, Dialer: o.Dialer}
		s, err := wire.Dial(ctx, cfg)
		out.Observation = Observe(s, err)
		if out.Address == "" {
			out.Address = addr
		}
		if s != nil {
			s.Quit(ctx)
			s.Close()
		}
		if !o.NoEnforcement && out.STARTTLS.Status != Unknown {
			out.From = o.From
			if out.From == "" {
				out.From = "postmaster@" + out.HELOName
			}
			out.Enforcement = enforcement(ctx, cfg, out.From)
		}
	}

	dh := dane.Host{Name: h.Name, MX: mxSec, Addr: h.Security}
	dh.TLS, dh.NoTLS = out.usable()
	dh.Unreached = out.STARTTLS.Status == Unknown
	if out.TLS != nil {
		dh.Chain = out.TLS.Chain
	}
	if mxSec == resolver.Secure && h.Security == resolver.Secure {
		a := o.lookupTLSA(ctx, h, record)
		out.TLSA = &a
		dh.TLSABase = strings.TrimPrefix(a.Name, "_25._tcp.")
		dh.TLSA = a.Security
		for _, rr := range a.Records {
			if t, ok := rr.(*dns.TLSA); ok {
				data, err := hexBytes(t.Certificate)
				if err != nil {
					continue
				}
				dh.Records = append(dh.Records, dane.Record{Usage: t.Usage, Selector: t.Selector, MatchingType: t.MatchingType, Data: data})
			}
		}
	}
	out.DANE = dane.Check(dh, o.Now())
	return out
}

// lookupTLSA finds the host's TLSA records (RFC 7672 §2.2.3): when the
// host name is an alias, first at the name it expands to, then, if that
// has none (a validated denial) or is not signed, at the original name.
func (o Options) lookupTLSA(ctx context.Context, h resolver.Host, record func(resolver.Answer)) resolver.Answer {
	if n := len(h.CNAMEs); n > 0 {
		a, _ := o.DNS.Lookup(ctx, dane.TLSAName(h.CNAMEs[n-1]), dns.TypeTLSA)
		record(a)
		if a.Security == resolver.Bogus || a.Security == resolver.Indeterminate || a.Security == resolver.Secure && len(a.Records) > 0 {
			return a
		}
	}
	a, _ := o.DNS.Lookup(ctx, dane.TLSAName(h.Name), dns.TypeTLSA)
	record(a)
	return a
}

// policyDial reaches mta-sts.<domain>:443 at an address found through
// the same DNS client, so that --dns is honoured and the system resolver
// never asked.
func (o Options) policyDial(record func(resolver.Answer)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.PolicyDial != nil {
		return o.PolicyDial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var ips []string
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			a, _ := o.DNS.Lookup(ctx, host, t)
			record(a)
			for _, rr := range a.Records {
				switch r := rr.(type) {
				case *dns.A:
					ips = append(ips, r.A.String())
				case *dns.AAAA:
					ips = append(ips, r.AAAA.String())
				}
			}
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%s has no address in DNS", host)
		}
		var d wire.Dialer = &net.Dialer{}
		if o.Dialer != nil {
			d = o.Dialer
		}
		var last error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip, port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		return nil, last
	}
}

func txtStrings(a resolver.Answer) []string {
	var out []string
	for _, rr := range a.Records {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out
}

func hexBytes(s string) ([]byte, error) { return hex.DecodeString(s) }

// enforcementNote says what plain-text acceptance means when the domain
// publishes an enforce policy or usable TLSA records: senders applying
// them never use the plain-text path, others still may.
func enforcementNote(rep *Report) string {
	var plain []string
	for _, h := range rep.Hosts {
		if h.Enforcement != nil && h.Enforcement.Status == NotRequired {
			plain = append(plain, h.Host)
		}
	}
	if len(plain) == 0 {
		return ""
	}
	protected := rep.MTASTS.Policy != nil && rep.MTASTS.Policy.Mode == mtasts.ModeEnforce || rep.DANE.Verdict == dane.Pass
	who := strings.Join(plain, ", ") + " accept"
	if len(plain) == 1 {
		who += "s"
	}
	if protected {
		return who + " MAIL FROM before STARTTLS: senders applying the domain's MTA-STS enforce policy or DANE records never send in plain text, but senders that apply neither still may, and an attacker who strips STARTTLS gets the mail from them (RFC 3207 §6)"
	}
	return who + " MAIL FROM before STARTTLS and the domain publishes no enforce policy or usable TLSA records: an attacker on the path can strip STARTTLS and read the mail (RFC 3207 §6); publishing MTA-STS in enforce mode or DANE is the fix, since a public MX must keep taking plain-text mail"
}
