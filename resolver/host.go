package resolver

import (
	"context"
	"strings"
)

// LookupHost resolves a host name to its addresses (A and AAAA), for a
// target given as a host rather than a mail domain: no MX is asked. An
// address literal is its own address. A name with no address is a Host
// with no Addresses and a warning; the error, an *Error, is for DNS not
// answering, or a name that cannot be one.
func (c *Client) LookupHost(ctx context.Context, name string) (Host, error) {
	h := Host{Name: strings.TrimSuffix(name, "."), Addresses: []Address{}, Warnings: []string{}}
	d, err := ParseDomain(name)
	if err != nil {
		return h, &Error{Kind: "input", Cause: err.Error()}
	}
	if d.Literal.IsValid() {
		h.Addresses = []Address{{IP: d.Literal}}
		return h, nil
	}
	h.Name = d.Name
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	l := c.newLookup()
	c.resolveHost(ctx, l, 0, &h, d.Name)
	if len(h.Addresses) == 0 && h.Error != "" {
		return h, &Error{Kind: h.ErrorKind, Name: d.Name, Type: "A/AAAA", Cause: h.Error}
	}
	// resolveHost words its warnings for an MX target; here the name is
	// the host itself.
	for i, w := range h.Warnings {
		h.Warnings[i] = strings.Replace(w, "MX target ", "host ", 1)
	}
	return h, nil
}
