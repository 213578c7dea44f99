package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/socks"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// netFlags say how connections leave this machine: through a SOCKS5
// proxy or not, from which local address, over which address family.
// probe, vrfy and why share them.
type netFlags struct {
	proxy       string
	dnsViaProxy bool
	ipv4, ipv6  bool
	source      string
}

func (n *netFlags) register(fs *flagSet) {
	fs.StringVar(&n.proxy, "proxy", "", "connect through a SOCKS5 proxy: socks5://[user:password@]host:port (default $SOCKS5_PROXY, else a socks5:// $ALL_PROXY; none: direct)")
	fs.BoolVar(&n.dnsViaProxy, "dns-via-proxy", false, "send the DNS queries through the proxy too, over TCP (default: straight to the DNS servers)")
	fs.BoolVarP(&n.ipv4, "ipv4", "4", false, "use IPv4 addresses only")
	fs.BoolVarP(&n.ipv6, "ipv6", "6", false, "use IPv6 addresses only (default: both, IPv6 first, in the RFC 8305 order)")
	fs.StringVar(&n.source, "source", "", "local address to connect from")
}

// netSetup is what the flags make: the dialer for SMTP connections, the
// DNS client, and what to tell the user.
type netSetup struct {
	dialer   probe.Dialer // nil: direct, from any address
	proxy    *probe.ProxyInfo
	family   string
	resolver *resolver.Client
	note     string // said on stderr: where DNS goes when a proxy is used
}

// build checks the flags and makes the setup; dns are the --dns servers.
func (n *netFlags) build(fs *flagSet, e *env, dns []string) (netSetup, error) {
	var s netSetup
	switch {
	case n.ipv4 && n.ipv6:
		return s, errors.New("-4 and -6 contradict each other")
	case n.ipv4:
		s.family = probe.Family4
	case n.ipv6:
		s.family = probe.Family6
	}
	var local net.Dialer
	if n.source != "" {
		ip, err := netip.ParseAddr(strings.Trim(n.source, "[]"))
		if err != nil {
			return s, fmt.Errorf("--source %q is not an IP address", n.source)
		}
		if s.family == probe.Family4 && !ip.Unmap().Is4() || s.family == probe.Family6 && ip.Unmap().Is4() {
			return s, fmt.Errorf("--source %s is not of the family -%s asks for", ip, s.family)
		}
		local.LocalAddr = &net.TCPAddr{IP: ip.AsSlice()}
		s.dialer = &local
	}
	raw, from := n.proxy, "--proxy"
	if !fs.Changed("proxy") {
		if v := e.getenv("SOCKS5_PROXY"); v != "" {
			raw, from = v, "SOCKS5_PROXY"
		} else if v := e.getenv("ALL_PROXY"); strings.HasPrefix(strings.ToLower(v), "socks5") {
			raw, from = v, "ALL_PROXY"
		}
	}
	if raw == "none" || raw == "" {
		if n.dnsViaProxy {
			return s, errors.New("--dns-via-proxy needs a proxy (--proxy, SOCKS5_PROXY or ALL_PROXY)")
		}
		raw = ""
	}
	rc := resolver.New(dns)
	s.resolver = rc
	if raw == "" {
		return s, nil
	}
	d, err := socks.Parse(raw)
	if err != nil {
		return s, fmt.Errorf("%s: %v", from, err)
	}
	if n.source != "" {
		d.Forward = &local
	}
	s.dialer = d
	s.proxy = &probe.ProxyInfo{URL: d.String(), DNS: "direct"}
	servers := strings.Join(rc.Servers, ", ")
	if servers == "" {
		servers = "the servers of /etc/resolv.conf"
	}
	if n.dnsViaProxy {
		s.proxy.DNS = "proxy"
		rc.Dial = d.DialContext
		s.note = fmt.Sprintf("connections go through the SOCKS5 proxy %s, and so do the DNS queries, over TCP, to %s", d, servers)
	} else {
		s.note = fmt.Sprintf("connections go through the SOCKS5 proxy %s; DNS queries go straight to %s, not through it (--dns-via-proxy sends them through it)", d, servers)
	}
	return s, nil
}

// apply puts the setup into probe options.
func (s netSetup) apply(o *probe.Options) {
	if s.dialer != nil {
		o.Dialer = s.dialer
	}
	o.Proxy, o.Family = s.proxy, s.family
	if s.resolver != nil && s.resolver.ConfigErr == nil {
		o.Resolver = s.resolver
	}
}
