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
	Code       int         `json:"code"`               // the reply code: the last line's (RFC 5321 §4.2.1); 0 if none could be read
	Enhanced   string      `json:"enhanced,omitempty"` // RFC 3463 enhanced status code from the line that gave Code, if any
	Lines      []string    `json:"lines"`              // each line's text after the code and separator, CRLF stripped
	Raw        []byte      `json:"-"`                  // the bytes exactly as received, capped
	Deviations []Deviation `json:"deviations"`
	// LineCodes is the code of every line, set only when they disagree
	// (a "mixed-codes" deviation): "250-ok" then "421 closing" is judged
	// 421, and LineCodes shows the 250 it came with.
	LineCodes []int `json:"line_codes,omitempty"`

	codes []int // every line's code so far, while the reply is read
}

// Closing reports whether any line of the reply carries 421: the server
// is closing the channel (RFC 5321 §3.8), whatever the other lines say.
func (r Reply) Closing() bool {
	if r.Code == 421 {
		return true
	}
	for _, c := range r.LineCodes {
		if c == 421 {
			return true
		}
	}
	return false
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
	Kind   DeviationKind `json:"kind"`             // kebab-case word, e.g. "bare-lf", "mixed-codes"
	Line   int           `json:"line"`             // 1-based line of the reply it was seen on; 0 for the whole reply
	Detail string        `json:"detail,omitempty"` // a short human explanation
}

// DeviationKind names one way of departing from the protocol, stable in
// the JSON report (kebab-case); the Dev constants list them.
type DeviationKind string

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
