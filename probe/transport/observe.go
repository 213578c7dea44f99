// Package transport judges how well mail to a domain is protected in
// transit, as a mail admin must know it: per MX host, whether STARTTLS is
// offered, the handshake, the PKIX chain, the name match and the DANE
// verdict, each a separate layer so one failure never hides another; for
// the domain, the DANE, MTA-STS and TLS-RPT verdicts, with the DNSSEC status
// of every lookup behind them.
package transport

import (
	"context"
	"fmt"

	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// Layer words.
const (
	// STARTTLS layer.
	Offered    = "offered"     // advertised in the EHLO reply and accepted with 220
	NotOffered = "not-offered" // EHLO answered without STARTTLS
	Refused    = "refused"     // advertised, but STARTTLS answered with an error (454, 421...)
	// Unknown: the session never reached a usable EHLO reply (a 421 or
	// other refusal, a failed connection); nothing is known of STARTTLS,
	// and it is never read as "not offered".
	Unknown = "unknown"

	// Handshake, PKIX and name layers.
	OK       = "ok"
	Failed   = "failed"
	Valid    = "valid"
	Invalid  = "invalid"
	Match    = "match"
	Mismatch = "mismatch"
	Skipped  = "skipped" // the layer below did not succeed

	// Enforcement: what the server does with MAIL FROM before STARTTLS.
	Required    = "required"     // refused (530 5.7.0): TLS is mandatory
	NotRequired = "not-required" // accepted in plain text
)

// Layer is one step of the TLS checks of one host.
type Layer struct {
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	RFC    string `json:"rfc,omitempty"`
	// Cause names, as a fact for the caller to word, why the layer is
	// unknown when the caller can change it: CauseFirstMXOnly.
	Cause string `json:"cause,omitempty"`
}

// CauseFirstMXOnly is the Cause of a host left undialled (Options.NoDial):
// the caller stopped at the first reachable MX host, and checking every
// host would tell.
const CauseFirstMXOnly = "first-mx-only"

// Observation is what sessions to one MX host showed of its TLS.
type Observation struct {
	Address   string        `json:"address"` // host:port dialled
	STARTTLS  Layer         `json:"starttls"`
	Handshake Layer         `json:"handshake"`
	PKIX      Layer         `json:"pkix"`
	Name      Layer         `json:"name"`
	TLS       *wire.TLSInfo `json:"tls"` // the certificate and cipher; null without TLS
	// Enforcement is what a MAIL FROM sent before STARTTLS drew; null
	// when not checked.
	Enforcement *Layer `json:"enforcement"`
}

// usable reports whether TLS came up, and why not when it did not.
func (o Observation) usable() (bool, string) {
	switch {
	case o.Handshake.Status == OK:
		return true, ""
	case o.STARTTLS.Status != Offered:
		return false, o.STARTTLS.Detail
	}
	return false, o.Handshake.Detail
}

// Observe reads the layers from a session Dial returned (s may be nil
// when no connection was made) with its error. The session must have been
// dialled with TLS auto or starttls and the MX host name as ServerName.
func Observe(s *wire.Session, err error) Observation {
	var o Observation
	if s != nil {
		o.Address = s.Addr()
	}
	o.Handshake, o.PKIX, o.Name = Layer{Status: Skipped}, Layer{Status: Skipped}, Layer{Status: Skipped}
	ehloDone := s != nil && s.EHLOReply().Code == 250
	switch {
	case s == nil || !ehloDone && s.TLS() == nil:
		o.STARTTLS = Layer{Status: Unknown, Detail: "the session ended before an EHLO reply: " + sessionProblem(s, err), RFC: "RFC 3207 §4"}
		return o
	case s.STARTTLSReply() == nil && s.TLS() == nil:
		if s.Extensions().Has("STARTTLS") {
			o.STARTTLS = Layer{Status: Unknown, Detail: "STARTTLS is advertised but was not tried: " + sessionProblem(s, err)}
			return o
		}
		o.STARTTLS = Layer{Status: NotOffered, Detail: "the EHLO reply does not advertise STARTTLS, so mail to this host travels in plain text", RFC: "RFC 3207 §4"}
		return o
	case s.STARTTLSReply() != nil && s.STARTTLSReply().Code != 220:
		r := s.STARTTLSReply()
		o.STARTTLS = Layer{Status: Refused, Detail: fmt.Sprintf("STARTTLS is advertised, but answered %03d %s", r.Code, r.Text()), RFC: "RFC 3207 §4"}
		if r.Code == 0 {
			o.STARTTLS.Status, o.STARTTLS.Detail = Unknown, "STARTTLS was sent but drew no reply: "+sessionProblem(s, err)
		}
		return o
	}
	o.STARTTLS = Layer{Status: Offered, Detail: "advertised and accepted with 220", RFC: "RFC 3207 §4"}
	info := s.TLS()
	if info == nil {
		o.Handshake = Layer{Status: Failed, Detail: "the TLS handshake failed: " + sessionProblem(s, err), RFC: "RFC 3207 §4"}
		return o
	}
	o.TLS = info
	o.Handshake = Layer{Status: OK, Detail: info.Version + ", " + info.Cipher}
	if info.Version == "TLS 1.0" || info.Version == "TLS 1.1" {
		o.Handshake.Detail += " (deprecated, RFC 8996)"
		o.Handshake.RFC = "RFC 8996"
	}
	o.PKIX = Layer{Status: Valid, Detail: "the chain leads to a trusted root and is within its dates", RFC: "RFC 5280 §6"}
	if !info.Verified {
		o.PKIX = Layer{Status: Invalid, Detail: pkixProblem(info), RFC: "RFC 5280 §6"}
	}
	o.Name = Layer{Status: Match, Detail: "the certificate is valid for the MX host name", RFC: "RFC 6125 §6"}
	if !info.NameMatch {
		o.Name = Layer{Status: Mismatch, Detail: nameProblem(info), RFC: "RFC 6125 §6"}
	}
	return o
}

func sessionProblem(s *wire.Session, err error) string {
	if s != nil {
		if g := s.Greeting(); g.Code != 0 && g.Code != 220 {
			return fmt.Sprintf("the greeting was %03d %s", g.Code, g.Text())
		}
		if e := s.EHLOReply(); e.Code != 0 && e.Code != 250 {
			return fmt.Sprintf("EHLO was answered %03d %s", e.Code, e.Text())
		}
	}
	if err != nil {
		return err.Error()
	}
	return "no reason given"
}

func pkixProblem(info *wire.TLSInfo) string {
	for _, p := range info.Problems {
		if !isNameProblem(p) {
			return p
		}
	}
	return "the chain does not verify"
}

func nameProblem(info *wire.TLSInfo) string {
	for _, p := range info.Problems {
		if isNameProblem(p) {
			return p
		}
	}
	return "the certificate is not valid for the MX host name"
}

func isNameProblem(p string) bool {
	return len(p) > 27 && p[:27] == "certificate is not valid fo"
}

// enforcement sends MAIL FROM on a plain-text session and reads what the
// answer says of TLS enforcement (RFC 3207 §4: a server may require TLS
// and answer 530 5.7.0).
func enforcement(ctx context.Context, cfg wire.Config, from string) *Layer {
	cfg.TLS = wire.TLSNone
	s, err := wire.Dial(ctx, cfg)
	if err != nil {
		return &Layer{Status: Unknown, Detail: "a plain-text session for the check failed: " + sessionProblem(s, err)}
	}
	defer s.Close()
	rep, err := s.Cmd(ctx, "MAIL FROM:<"+from+">")
	if err != nil {
		return &Layer{Status: Unknown, Detail: "MAIL FROM drew no reply: " + err.Error()}
	}
	s.Cmd(ctx, "RSET")
	s.Quit(ctx)
	switch {
	case rep.Code == 530 || rep.Code/100 == 5 && rep.Enhanced == "5.7.0":
		return &Layer{Status: Required, Detail: fmt.Sprintf("MAIL FROM before STARTTLS was answered %03d %s: TLS is mandatory here", rep.Code, rep.Text()), RFC: "RFC 3207 §4"}
	case rep.Code/100 == 2:
		return &Layer{Status: NotRequired, Detail: fmt.Sprintf("MAIL FROM before STARTTLS was accepted (%03d): the server takes mail in plain text, which a publicly referenced MX may do", rep.Code), RFC: "RFC 3207 §4"}
	}
	return &Layer{Status: Unknown, Detail: fmt.Sprintf("MAIL FROM before STARTTLS was answered %03d %s, which says nothing of TLS", rep.Code, rep.Text())}
}
