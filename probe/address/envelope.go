package address

// EnvelopeLine is a MAIL FROM or RCPT TO line taken apart by the grammar
// the repairs work on, for a search that sends repaired lines one after
// another.
type EnvelopeLine struct{ l envelopeLine }

// ParseEnvelopeLine takes a MAIL FROM or RCPT TO line apart. A line that
// cannot be one, or has CR, LF or NUL in it, is a *LineError.
func ParseEnvelopeLine(line string) (EnvelopeLine, error) {
	l, err := parseEnvelopeLine(line)
	return EnvelopeLine{l}, err
}

// String is the line as it goes on the wire, without CRLF.
func (e EnvelopeLine) String() string { return e.l.String() }

// IsMail reports whether the line is a MAIL FROM (else RCPT TO).
func (e EnvelopeLine) IsMail() bool { return e.l.isMail() }

// Prelude is the parameters the MAIL FROM before a RCPT TO line needs
// (SMTPUTF8, RFC 6531 §3.4); nil for a MAIL FROM line.
func (e EnvelopeLine) Prelude() []string { return append([]string(nil), e.l.prelude...) }

// Key tells lines apart for de-duplication: the line and its prelude.
func (e EnvelopeLine) Key() string { return candidateKey(e.l) }

// Envelope is the candidate's parsed line, to search on from.
func (c Candidate) Envelope() EnvelopeLine { return EnvelopeLine{c.l} }

// CandidatesFrom is RepairCandidates for a line already parsed, leaving
// out the repairs named in skip (those already applied).
func CandidatesFrom(e EnvelopeLine, rc RepairContext, maxRepairs, limit int, skip map[string]bool) []Candidate {
	return candidatesFrom(e.l, rc, maxRepairs, limit, skip)
}

// Advertises tells whether the server advertised the extension that
// defines the MAIL or RCPT parameter param, and names it.
func (rc RepairContext) Advertises(param string) (extension string, ok bool) {
	return rc.advertises(param)
}

// IsASCII reports whether s is plain ASCII.
func IsASCII(s string) bool { return isASCII(s) }

// UnquotedAts are the byte offsets of the @ signs in s outside quoted
// strings.
func UnquotedAts(s string) []int { return unquotedAts(s) }
