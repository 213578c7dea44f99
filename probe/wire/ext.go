package wire

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Extension is one EHLO keyword line (RFC 5321 §4.1.1.1): the keyword in
// upper case, its parameters, and the line as the server sent it.
type Extension struct {
	Keyword string
	Params  []string
	Line    string
}

// Extensions are the service extensions a server advertised in its EHLO
// reply, in the order it listed them. Keywords compare case-insensitively.
type Extensions struct {
	list []Extension
	byKW map[string]int // folded keyword → index in list
}

// ParseExtensions parses the keyword lines of an EHLO reply: every line
// after the first, which is the server's greeting. Each known keyword
// (SIZE, PIPELINING, 8BITMIME, SMTPUTF8, STARTTLS, AUTH, CHUNKING, DSN,
// ENHANCEDSTATUSCODES, REQUIRETLS, BINARYMIME...) and every other one is
// kept with its parameters. The old "AUTH=MECH" form some servers still
// send is folded into AUTH.
//
// A keyword listed again has its new parameters merged in, repeats
// dropped. The work is linear in the size of the reply: keywords and
// parameters are found through maps, so a server listing tens of
// thousands of AUTH mechanisms costs milliseconds, not seconds.
func ParseExtensions(lines []string) Extensions {
	e := Extensions{byKW: map[string]int{}}
	seen := map[string]map[string]bool{} // folded keyword → folded parameters kept
	for _, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		kw := strings.ToUpper(fields[0])
		params := fields[1:]
		if rest, ok := strings.CutPrefix(kw, "AUTH="); ok {
			kw = "AUTH"
			params = append([]string{fields[0][len("AUTH="):]}, params...)
			if rest == "" {
				params = params[1:]
			}
		}
		key := fold(kw)
		i, ok := e.byKW[key]
		if !ok {
			i = len(e.list)
			e.byKW[key] = i
			e.list = append(e.list, Extension{Keyword: kw, Params: []string{}, Line: line})
			seen[key] = map[string]bool{}
		}
		have := seen[key]
		for _, p := range params {
			if f := fold(p); !have[f] {
				have[f] = true
				e.list[i].Params = append(e.list[i].Params, p)
			}
		}
	}
	return e
}

// fold is the case-insensitive key of a keyword or parameter.
func fold(s string) string { return strings.ToLower(strings.ToUpper(s)) }

// ExtensionsOf parses the extensions of an EHLO reply.
func ExtensionsOf(r Reply) Extensions {
	if len(r.Lines) < 2 {
		return Extensions{}
	}
	return ParseExtensions(r.Lines[1:])
}

func (e Extensions) index(kw string) int {
	if i, ok := e.byKW[fold(kw)]; ok {
		return i
	}
	return -1
}

// Has reports whether the keyword was advertised.
func (e Extensions) Has(keyword string) bool { return e.index(keyword) >= 0 }

// Params returns the keyword's parameters (AUTH's mechanisms, SIZE's
// limit), nil if it was not advertised.
func (e Extensions) Params(keyword string) []string {
	if i := e.index(keyword); i >= 0 {
		return e.list[i].Params
	}
	return nil
}

// Size returns the SIZE limit in octets (RFC 1870 §4). ok is false when
// SIZE was not advertised or its parameter is not a number; SIZE without
// a parameter, or SIZE 0, means no fixed limit and returns (0, true).
func (e Extensions) Size() (int64, bool) {
	i := e.index("SIZE")
	if i < 0 {
		return 0, false
	}
	p := e.list[i].Params
	if len(p) == 0 {
		return 0, true
	}
	n, err := strconv.ParseInt(p[0], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Keywords returns the advertised keywords in the server's order.
func (e Extensions) Keywords() []string {
	out := make([]string, len(e.list))
	for i, x := range e.list {
		out[i] = x.Keyword
	}
	return out
}

// List returns every extension with its parameters and raw line.
func (e Extensions) List() []Extension { return append([]Extension(nil), e.list...) }

// MarshalJSON writes an object of keyword → parameters (an empty array
// for keywords without parameters).
func (e Extensions) MarshalJSON() ([]byte, error) {
	m := make(map[string][]string, len(e.list))
	for _, x := range e.list {
		p := x.Params
		if p == nil {
			p = []string{}
		}
		m[x.Keyword] = p
	}
	return json.Marshal(m)
}
