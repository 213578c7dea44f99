package probe

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe/wire"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// Identity is what the server will see of the prober: the EHLO name and
// the sender, where each came from, and whether the sender's domain can
// receive mail, checked before connecting. A server that verifies
// senders refuses one whose domain has no MX or address record.
type Identity struct {
	HELO string `json:"helo"`
	// HELOSource is "given", "hostname" (this machine's fully-qualified
	// name) or "address-literal" (this machine has no such name: the
	// local address toward the server, RFC 5321 §4.1.4).
	HELOSource string `json:"helo_source"`
	From       string `json:"from"`
	FromSource string `json:"from_source"` // "given", or "default" (postmaster@ the EHLO name)
	// FromDomain is the DNS check of the sender's domain.
	FromDomain FromDomainCheck `json:"from_domain"`
	// Problems are what is wrong with the identity, most serious first;
	// the server may refuse the prober for them.
	Problems []string `json:"problems,omitempty"`
}

// FromDomainCheck is what DNS said of the sender's domain.
type FromDomainCheck struct {
	Domain string `json:"domain"`
	// Status is "mx" (MX records), "address" (no MX but A/AAAA, the
	// implicit MX), "null-mx" (RFC 7505), "none" (NXDOMAIN or no record),
	// "literal" (an address literal: nothing to look up), "unanswered"
	// (DNS did not answer) or "not-checked" (an IP target with no DNS
	// servers given: nothing else asks DNS, so neither does this).
	Status string `json:"status"`
}

// FQDNHostname is this machine's name when it is fully qualified, else "".
func FQDNHostname() string {
	if h := wire.FQDNHostname(); CheckLine("", h) == nil {
		return h
	}
	return ""
}

// HELOProblem says what is wrong with an EHLO name, or "": it must be a
// fully-qualified domain name or an address literal (RFC 5321 §4.1.1.1).
func HELOProblem(name string) string {
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		return ""
	}
	n := strings.TrimSuffix(name, ".")
	if strings.EqualFold(n, "localhost") || !strings.Contains(n, ".") {
		return fmt.Sprintf("the EHLO name %s is not a fully-qualified domain name or an address literal (RFC 5321 §4.1.1.1); many servers refuse it", name)
	}
	return ""
}

// identityFor fills in the EHLO name and sender for one server address:
// the ones given, else this machine's FQDN, else the address literal of
// the local address toward ip; the sender postmaster@ that name.
func (o *Options) identityFor(ip string) Identity {
	id := Identity{HELO: o.HELO, HELOSource: "given", From: o.From, FromSource: "given"}
	switch {
	case o.HELO != "" && o.heloDefaulted:
		id.HELOSource = "hostname"
	case o.HELO == "":
		id.HELO, id.HELOSource = wire.LocalLiteral(net.JoinHostPort(ip, strconv.Itoa(max(o.Port, 1)))), "address-literal"
		if id.HELO == "" {
			id.HELO = "[127.0.0.1]"
		}
	}
	if id.From == "" {
		id.From, id.FromSource = "postmaster@"+id.HELO, "default"
	}
	if p := HELOProblem(id.HELO); p != "" {
		id.Problems = append(id.Problems, p)
	}
	return id
}

// checkFromDomain looks up the sender's domain with r, as a sending
// server's sender verification would, and notes a problem when it cannot
// receive mail. A DNS failure is a problem noted, not the run's end.
func (o *Options) checkFromDomain(ctx context.Context, r Resolver, id *Identity) {
	_, domain := splitAddress(id.From)
	id.FromDomain = FromDomainCheck{Domain: domain, Status: "not-checked"}
	switch {
	case strings.HasPrefix(domain, "["):
		id.FromDomain.Status = "literal"
		if id.FromSource == "default" {
			id.Problems = append(id.Problems, fmt.Sprintf("the sender %s has an address literal for a domain: servers that verify senders or want a fully-qualified sender refuse it", id.From))
		}
		return
	case r == nil:
		return
	case systemResolver(r) && specialUseDomain(domain):
		// RFC 6761 §6.2: such names are not asked of the public DNS; no
		// server on the Internet can verify them either.
		id.FromDomain.Status = "special-use"
		id.Problems = append(id.Problems, fmt.Sprintf("the sender's domain %s is a special-use name (RFC 6761, RFC 2606) that public DNS never resolves: servers that verify senders refuse it", domain))
		return
	}
	res, err := lookupMX(ctx, r, domain, o.DNSTimeout)
	switch {
	case err != nil:
		id.FromDomain.Status = "unanswered"
		id.Problems = append(id.Problems, fmt.Sprintf("the sender's domain %s could not be checked: DNS did not answer", domain))
	case res.Kind == resolver.KindExplicit:
		id.FromDomain.Status = "mx"
	case res.Kind == resolver.KindImplicit:
		id.FromDomain.Status = "address"
	case res.Kind == resolver.KindNull:
		id.FromDomain.Status = "null-mx"
		id.Problems = append(id.Problems, fmt.Sprintf("the sender's domain %s publishes a null MX (RFC 7505): it takes no mail, so servers that verify senders refuse it", domain))
	default:
		id.FromDomain.Status = "none"
		id.Problems = append(id.Problems, fmt.Sprintf("the sender's domain %s has no MX or address record (%s): servers that verify senders refuse it", domain, res.Code))
	}
}

// specialUseDomain tells whether domain is under a name reserved by RFC
// 6761 or RFC 2606 (test, example, invalid, localhost, example.com/net/org),
// which resolvers do not look up in the public DNS.
func specialUseDomain(domain string) bool {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	for _, suffix := range []string{"test", "example", "invalid", "localhost", "example.com", "example.net", "example.org"} {
		if d == suffix || strings.HasSuffix(d, "."+suffix) {
			return true
		}
	}
	return false
}

// systemResolver tells whether r asks the machine's own resolver (no DNS
// servers given), and so the public DNS.
func systemResolver(r Resolver) bool {
	c, ok := r.(*resolver.Client)
	return ok && c.System
}

// HELOToward is the EHLO name to announce to the server at addr
// ("host:port") when none is given: this machine's fully-qualified name,
// else the address literal of the local address toward the server (RFC
// 5321 §4.1.1.1), never a bare "localhost".
func HELOToward(addr string) string {
	name, _ := wire.HELOToward(addr)
	return name
}
