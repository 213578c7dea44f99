package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

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
// /etc/resolv.conf.
//
// The MX result is returned whenever DNS was asked, for the report. The
// error wraps ErrDNS when DNS could not answer, ErrNoMailHost when the
// domain has nowhere to deliver, and is a *resolver.Error of kind "input"
// when the domain cannot be a DNS name.
func ResolveHosts(ctx context.Context, t Target, dnsServers []string, port int) ([]MailHost, *resolver.Result, error) {
	o := Options{DNS: dnsServers}
	var r Resolver
	if !t.Direct() {
		var err error
		if r, err = o.resolver(); err != nil {
			return nil, nil, err
		}
	}
	return ResolveHostsWith(ctx, t, r, port)
}

// ResolveHostsWith is ResolveHosts asking r, which callers resolving many
// targets share (and its cache); r is not used for a host target.
func ResolveHostsWith(ctx context.Context, t Target, r Resolver, port int) ([]MailHost, *resolver.Result, error) {
	if t.Port != 0 {
		port = t.Port
	}
	if port == 0 {
		port = 25
	}
	p := strconv.Itoa(port)
	if t.Direct() {
		h := MailHost{Addr: net.JoinHostPort(t.Host, p)}
		if t.Kind == TargetHost {
			h.Name = t.Host
		}
		return []MailHost{h}, nil, nil
	}
	res, err := r.LookupMX(ctx, t.Domain)
	if err != nil {
		var re *resolver.Error
		if errors.As(err, &re) && re.Kind == "input" {
			return nil, &res, err
		}
		return nil, &res, fmt.Errorf("%w for %s: %v", ErrDNS, t.Domain, err)
	}
	var hosts []MailHost
	for _, h := range res.DeliveryOrder(nil) {
		for _, a := range h.Addresses {
			hosts = append(hosts, MailHost{Addr: net.JoinHostPort(a.IP.String(), p), Name: h.Name})
		}
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
