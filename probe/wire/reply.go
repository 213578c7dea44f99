// Package wire owns the bytes on the wire: it dials SMTP servers through a
// Dialer, reads their replies without trusting them (every deviation from
// RFC 5321 §4.2 recorded, every size capped), negotiates TLS, writes one
// checked line at a time or a pipelined group (RFC 2920), and keeps a
// transcript of every byte. It never sends DATA. It imports only the
// standard library.
//
// An SMTP 4xx or 5xx reply is a finding, not a Go error: errors are for
// transport and framing (timeouts, closed connections, TLS failures).
package wire

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Reply is one SMTP reply as the server sent it, with every way it strayed
// from RFC 5321 §4.2 recorded rather than rejected.
type Reply struct {
	Code       int         `json:"code"`               // the reply code of the first line; 0 if none could be read
	Enhanced   string      `json:"enhanced,omitempty"` // RFC 3463 enhanced status code from the first line, if any
	Lines      []string    `json:"lines"`              // each line's text after the code and separator, CRLF stripped
	Raw        []byte      `json:"-"`                  // the bytes exactly as received, capped
	Deviations []Deviation `json:"deviations"`
}

// MarshalJSON writes the reply with "deviations" always present ([] for
// a clean reply), so scripts need not test for the key.
func (r Reply) MarshalJSON() ([]byte, error) {
	type plain Reply // no MarshalJSON: no recursion
	p := plain(r)
	if p.Deviations == nil {
		p.Deviations = []Deviation{}
	}
	return marshalPlain(p)
}

// Deviation is one way a reply departed from the protocol.
type Deviation struct {
	Kind   string `json:"kind"`             // kebab-case word, e.g. "bare-lf", "mixed-codes"
	Line   int    `json:"line"`             // 1-based line of the reply it was seen on; 0 for the whole reply
	Detail string `json:"detail,omitempty"` // a short human explanation
}

// Text is the reply's lines joined by a single space, for display.
func (r Reply) Text() string { return strings.Join(r.Lines, " ") }

// marshalPlain is json.Marshal without HTML escaping: "<" must stay "<" in
// SMTP paths for people reading the JSON.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
