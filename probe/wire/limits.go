package wire

// The caps below keep memory bounded whatever a server sends. A server can
// send an endless multi-line reply, a line without end or a flood of bytes;
// each cap turns that into a clear error instead of growing memory.
const (
	// MaxReplyLineOctets is RFC 5321 §4.5.3.1.5: a reply line, code and
	// CRLF included, is at most 512 octets. Longer lines are read and
	// recorded as a "long-line" deviation, not rejected.
	MaxReplyLineOctets = 512

	// DefaultLineBytes is how many bytes of one reply line are kept. The
	// rest of an over-long line is read and discarded up to the reply's
	// byte budget, so the reader stays in step with the server.
	DefaultLineBytes = 4096

	// DefaultLines is how many lines one reply may have. Real EHLO and
	// HELP replies stay well under 50.
	DefaultLines = 100

	// DefaultReplyBytes is how many bytes one reply may take on the wire,
	// discarded parts of over-long lines included.
	DefaultReplyBytes = 256 << 10

	// DefaultSessionBytes is how many bytes one session may receive in
	// all; a server that floods the connection is cut off here.
	DefaultSessionBytes = 4 << 20

	// DefaultTranscriptBytes is how many received and sent bytes the
	// transcript keeps; later bytes are counted but not stored.
	DefaultTranscriptBytes = 1 << 20

	// DefaultTranscriptEntries caps the number of transcript entries, so a
	// server sending one byte per segment cannot grow it without bound.
	DefaultTranscriptEntries = 10000
)

// Limits are the caps applied to what a server sends. A zero field takes
// its Default value.
type Limits struct {
	LineBytes    int // bytes kept per reply line
	Lines        int // lines per reply
	ReplyBytes   int // bytes read per reply
	SessionBytes int // bytes received per session (used by Session, not ReadReply)
}

// withDefaults fills every zero or negative field with its default.
func (l Limits) withDefaults() Limits {
	if l.LineBytes <= 0 {
		l.LineBytes = DefaultLineBytes
	}
	if l.Lines <= 0 {
		l.Lines = DefaultLines
	}
	if l.ReplyBytes <= 0 {
		l.ReplyBytes = DefaultReplyBytes
	}
	if l.SessionBytes <= 0 {
		l.SessionBytes = DefaultSessionBytes
	}
	return l
}
