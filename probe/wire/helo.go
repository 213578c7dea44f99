package wire

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// EHLO name sources, as HELOToward reports them.
const (
	HELOGiven          = "given"           // the caller named it
	HELOHostname       = "hostname"        // this machine's fully-qualified name
	HELOAddressLiteral = "address-literal" // the local address toward the server (RFC 5321 §4.1.3)
)

// FQDNHostname is this machine's name when it is fully qualified, else "".
func FQDNHostname() string {
	h, err := os.Hostname()
	if err != nil || !strings.Contains(strings.Trim(h, "."), ".") || strings.ContainsAny(h, " \t\r\n\x00") {
		return ""
	}
	return strings.TrimSuffix(h, ".")
}

// LocalLiteral is the address literal of the local address this machine
// would use toward the server at addr ("ip:port"): "[192.0.2.7]",
// "[IPv6:2001:db8::7]". A UDP socket is connected to learn it; no packet
// is sent, and a host name is never looked up. "" when it cannot be known.
func LocalLiteral(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "25"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	n, _ := strconv.Atoi(port)
	c, err := net.Dial("udp", net.JoinHostPort(ip.String(), strconv.Itoa(max(n, 1))))
	if err != nil {
		return ""
	}
	defer c.Close()
	ua, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return ""
	}
	a, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return ""
	}
	a = a.Unmap()
	if a.Is4() {
		return "[" + a.String() + "]"
	}
	return "[IPv6:" + a.String() + "]"
}

// HELOToward is the EHLO name to announce to the server at addr
// ("ip:port") when none is given, and its source: this machine's
// fully-qualified name, else the address literal of the local address
// toward the server (RFC 5321 §4.1.1.1), never a bare "localhost".
// "[127.0.0.1]" stands in when the local address cannot be known.
func HELOToward(addr string) (name, source string) {
	if h := FQDNHostname(); h != "" {
		return h, HELOHostname
	}
	if lit := LocalLiteral(addr); lit != "" {
		return lit, HELOAddressLiteral
	}
	return "[127.0.0.1]", HELOAddressLiteral
}
