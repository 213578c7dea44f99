package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/resolver"
)

// ErrNoMailHost marks a domain that has no host to deliver to: NXDOMAIN,
// no MX and no address, a null MX (RFC 7505), or MX hosts without
// addresses. Nothing was sent.
var ErrNoMailHost = errors.New("no mail host to try")

// ResolveHosts turns a target into the addresses to dial, in the order a
// sending MTA tries them (RFC 5321 §5.1): a host or IP target directly,
// a domain or user@domain by its MX hosts (a name without MX records falls
// back to its own address, the implicit MX). port is used when the target
// names none; 0 means 25. dnsServers are "host[:port]"; none means
// /etc/resolv.conf. dnsTimeout bounds the whole resolution
// (DefaultDNSTimeout when 0), whatever time ctx leaves.
//
// The MX result is returned whenever DNS was asked, for the report. The
// error wraps ErrDNS when DNS could not answer, ErrNoMailHost when the
// domain has nowhere to deliver, and is a *resolver.Error of kind "input"
// when the domain cannot be a DNS name.
func ResolveHosts(ctx context.Context, t Target, dnsServers []string, port int, dnsTimeout time.Duration) ([]MailHost, *resolver.Result, error) {
	o := Options{DNS: dnsServers}
	var r Resolver
	if !t.Direct() || t.Kind == TargetHost {
		var err error
		if r, err = o.resolver(); err != nil {
			return nil, nil, err
		}
	}
	return ResolveHostsWith(ctx, t, r, port, dnsTimeout)
}

// ResolveHostsWith is ResolveHosts asking r, which callers resolving many
// targets share (and its cache). For a host target it resolves the
// host's name, so that no name goes to the system resolver.
func ResolveHostsWith(ctx context.Context, t Target, r Resolver, port int, dnsTimeout time.Duration) ([]MailHost, *resolver.Result, error) {
	if t.Port != 0 {
		port = t.Port
	}
	if port == 0 {
		port = 25
	}
	p := strconv.Itoa(port)
	if t.Direct() {
		if t.Kind == TargetHost && r == nil {
			return nil, nil, fmt.Errorf("%w: no resolver for the host %s", ErrDNS, t.Host)
		}
		addrs, err := hostAddrs(ctx, r, t, dnsTimeout)
		if err != nil {
			return nil, nil, err
		}
		var hosts []MailHost
		for _, a := range addrs {
			h := MailHost{Addr: net.JoinHostPort(a, p)}
			if t.Kind == TargetHost {
				h.Name = t.Host
			}
			hosts = append(hosts, h)
		}
		return hosts, nil, nil
	}
	res, err := lookupMX(ctx, r, t.Domain, dnsTimeout)
	if err != nil {
		var re *resolver.Error
		if errors.As(err, &re) && re.Kind == "input" {
			return nil, &res, err
		}
		return nil, &res, fmt.Errorf("%w for %s: %v", ErrDNS, t.Domain, err)
	}
	var hosts []MailHost
	usable := 0
	for _, h := range res.DeliveryOrder(nil) {
		for _, a := range h.Addresses {
			warn, dial := hostSurprise(res.Domain, h.Name, a.IP)
			hosts = append(hosts, MailHost{Addr: net.JoinHostPort(a.IP.String(), p), Name: h.Name, Warning: warn, Skip: !dial})
			if dial {
				usable++
			}
		}
	}
	if usable == 0 && res.Unanswered() {
		return nil, &res, fmt.Errorf("%w for %s: no DNS server answered for the addresses of its MX hosts", ErrDNS, t.Domain)
	}
	if usable == 0 && len(hosts) > 0 {
		return hosts, &res, fmt.Errorf("%w: %s: no MX host has an address that can be dialled (%s); nothing was sent", ErrNoMailHost, t.Domain, hosts[0].Warning)
	}
	if len(hosts) == 0 {
		what := res.Finding.Meaning
		if what == "" {
			what = res.Code
		}
		return nil, &res, fmt.Errorf("%w: %s (%s); nothing was sent", ErrNoMailHost, t.Domain, what)
	}
	return hosts, &res, nil
}

// hostSurprise says what is wrong with delivering mail for domain to the
// MX host name at ip: an address that means "no host" is never dialled;
// a loopback address or a name for this machine (localhost, RFC 6761
// §6.3) is dialled with a warning, because a sending MTA would deliver the
// domain's mail to itself. A domain under localhost or test (RFC 6761
// §6.2, §6.3) is no remote domain: loopback hosts are what a lab, such as
// the demo's, has. "" when nothing is surprising.
func hostSurprise(domain, host string, ip netip.Addr) (warning string, dial bool) {
	ip = ip.Unmap()
	if ip.IsUnspecified() {
		return fmt.Sprintf("MX host %s of %s has the address %s, which names no host (RFC 1122 §3.2.1.3): not dialled, since a connection to it would reach this machine", host, domain, ip), false
	}
	if isLocalhostName(domain) || isTestName(domain) {
		return "", true
	}
	switch {
	case isLocalhostName(host):
		return fmt.Sprintf("MX host %s of %s is a name for this machine (RFC 6761 §6.3): a sending MTA would deliver the domain's mail to itself; the probe talks to a server on this machine", host, domain), true
	case ip.IsLoopback():
		return fmt.Sprintf("MX host %s of %s has the loopback address %s: a sending MTA would deliver the domain's mail to itself; the probe talks to a server on this machine", host, domain, ip), true
	}
	return "", true
}

// isLocalhostName reports whether name is localhost or under it.
func isLocalhostName(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	return n == "localhost" || strings.HasSuffix(n, ".localhost")
}

// isTestName reports whether name is under the test TLD, which RFC 6761
// §6.2 keeps for testing: never a public mail domain.
func isTestName(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	return n == "test" || strings.HasSuffix(n, ".test")
}
