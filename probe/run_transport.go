package probe

import (
	"context"

	"github.com/smtpprobe/smtpprobe/probe/transport"
	"github.com/smtpprobe/smtpprobe/resolver"
)

// checkTransport adds the domain's transport security to rep: DANE,
// MTA-STS and TLS-RPT, from the sessions already made to the probed hosts;
// the MX hosts the probe did not reach are not dialled for it, and their
// TLS is reported as unknown.
func checkTransport(ctx context.Context, o *Options, rep *Report) {
	c, ok := o.Resolver.(*resolver.Client)
	if !ok || c == nil {
		c = resolver.New(o.DNS)
		if c.ConfigErr != nil {
			return
		}
	}
	observed := map[string]transport.Observation{}
	for _, h := range rep.Hosts {
		if h.observed != nil {
			if _, dup := observed[h.Host]; !dup {
				observed[h.Host] = *h.observed
			}
		}
	}
	o.progress("checking the transport security of %s", rep.MX.Domain)
	tr, err := transport.Check(ctx, transport.Options{
		Domain: rep.MX.Domain, DNS: c, MX: rep.MX, Observed: observed, NoDial: true, NoEnforcement: true,
		Port: o.Port, HELO: o.HELO, Timeout: o.Timeout, RootCAs: o.RootCAs, Dialer: o.Dialer,
	})
	if err != nil {
		return
	}
	rep.Transport = tr
	rep.DANE, rep.MTASTS, rep.TLSRPT = &tr.DANE, &tr.MTASTS, &tr.TLSRPT
	for i := range rep.Hosts {
		for j := range tr.Hosts {
			if tr.Hosts[j].Host == rep.Hosts[i].Host {
				rep.Hosts[i].DANE, rep.Hosts[i].MTASTS = &tr.Hosts[j].DANE, tr.Hosts[j].MTASTS
			}
		}
	}
}

// CheckTransport makes rep's transport-security check again, for the
// domain of rep.MX: DANE, MTA-STS and TLS-RPT, from what rep's hosts'
// sessions showed, dialling nothing. It is for a report whose sessions
// were made for another domain on the same servers, as in a batch, where
// one domain's check would otherwise stand for another's. With
// o.NoTransport, for a host target or with no MX it leaves them null.
func CheckTransport(ctx context.Context, o Options, rep *Report) {
	rep.DANE, rep.MTASTS, rep.TLSRPT, rep.Transport = nil, nil, nil, nil
	for i := range rep.Hosts {
		rep.Hosts[i].DANE, rep.Hosts[i].MTASTS = nil, nil
	}
	if o.Target.Direct() || rep.MX == nil || o.NoTransport || ended(ctx) {
		return
	}
	o.setDefaults()
	checkTransport(ctx, &o, rep)
}
