package probe

import (
	"net"
	"net/netip"

	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// Address families a run may be held to (Options.Family).
const (
	FamilyAny = ""  // both, in the happy-eyeballs order
	Family4   = "4" // IPv4 only
	Family6   = "6" // IPv6 only
)

// ProxyInfo names the proxy a run's connections went through.
type ProxyInfo = wire.ProxyInfo

// OrderAddresses is the order to try one host's addresses in: with a
// family, only that family's; otherwise the order of RFC 8305 §4, IPv6
// first and then the families alternating, each in the order DNS gave,
// so a host whose IPv6 path is broken costs one failed attempt, not all
// of them. The attempts themselves are made one after another (§5's
// racing would open connections to a server only to drop them).
func OrderAddresses(addrs []netip.Addr, family string) []netip.Addr {
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		if a.Unmap().Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	switch family {
	case Family4:
		return v4
	case Family6:
		return v6
	}
	out := make([]netip.Addr, 0, len(addrs))
	for i := 0; i < len(v4) || i < len(v6); i++ {
		if i < len(v6) {
			out = append(out, v6[i])
		}
		if i < len(v4) {
			out = append(out, v4[i])
		}
	}
	return out
}

// OrderMailHosts applies OrderAddresses to each host's run of addresses
// in hosts (as ResolveHosts returns them), keeping the hosts' order. A
// host name or an address it cannot parse is kept in place.
func OrderMailHosts(hosts []MailHost, family string) []MailHost {
	var out []MailHost
	for i := 0; i < len(hosts); {
		j := i
		for j < len(hosts) && hosts[j].Name == hosts[i].Name {
			j++
		}
		run := hosts[i:j]
		byAddr := map[netip.Addr]MailHost{}
		var addrs []netip.Addr
		parsed := true
		for _, h := range run {
			host, _, err := net.SplitHostPort(h.Addr)
			a, perr := netip.ParseAddr(host)
			if err != nil || perr != nil {
				parsed = false
				break
			}
			byAddr[a] = h
			addrs = append(addrs, a)
		}
		if !parsed {
			out = append(out, run...)
		} else {
			for _, a := range OrderAddresses(addrs, family) {
				out = append(out, byAddr[a])
			}
		}
		i = j
	}
	return out
}
