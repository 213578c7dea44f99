package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Transcript directions.
const (
	DirClient = "C" // bytes sent to the server
	DirServer = "S" // bytes received from the server
	DirEvent  = "*" // something that happened: connected, TLS established, closed
)

// TranscriptEntry is one piece of a session: bytes in one direction, or an
// event, stamped with the time since the session started.
type TranscriptEntry struct {
	At   time.Duration
	Dir  string
	Data []byte
}

// MarshalJSON writes {"at_ms": 12.345, "dir": "S", "data": "250 OK\r\n"}:
// milliseconds since the session started, and the bytes as a string
// (JSON escapes control bytes; invalid UTF-8 becomes U+FFFD).
func (e TranscriptEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AtMS float64 `json:"at_ms"`
		Dir  string  `json:"dir"`
		Data string  `json:"data"`
	}{float64(e.At.Microseconds()) / 1000, e.Dir, string(e.Data)})
}

// Transcript records every byte sent and received in a session, as it
// happened, and survives the session dying half-way. It is safe for
// concurrent use. It keeps at most DefaultTranscriptBytes of data and
// DefaultTranscriptEntries entries; past that it counts what it drops.
type Transcript struct {
	mu      sync.Mutex
	start   time.Time
	entries []TranscriptEntry
	bytes   int
	dropped int
}

// NewTranscript starts an empty transcript whose clock starts now.
func NewTranscript() *Transcript { return &Transcript{start: time.Now()} }

// Entries returns a copy of the entries recorded so far.
func (t *Transcript) Entries() []TranscriptEntry {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TranscriptEntry, len(t.entries))
	for i, e := range t.entries {
		out[i] = TranscriptEntry{At: e.At, Dir: e.Dir, Data: append([]byte(nil), e.Data...)}
	}
	return out
}

// Dropped is the number of bytes received or sent that the caps kept
// out of the transcript.
func (t *Transcript) Dropped() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dropped
}

// Record appends data in direction dir. Consecutive pieces of the same
// line in the same direction join one entry, stamped with its first byte,
// so a server dripping a byte at a time yields one entry per line.
func (t *Transcript) Record(dir string, data []byte) {
	if len(data) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	room := DefaultTranscriptBytes - t.bytes
	if room <= 0 {
		t.dropped += len(data)
		return
	}
	if len(data) > room {
		t.dropped += len(data) - room
		data = data[:room]
	}
	t.bytes += len(data)
	if n := len(t.entries); n > 0 && dir != DirEvent {
		last := &t.entries[n-1]
		if last.Dir == dir && last.Data[len(last.Data)-1] != '\n' {
			last.Data = append(last.Data, data...)
			return
		}
	}
	if len(t.entries) >= DefaultTranscriptEntries {
		t.dropped += len(data)
		t.bytes -= len(data)
		return
	}
	t.entries = append(t.entries, TranscriptEntry{At: time.Since(t.start), Dir: dir, Data: append([]byte(nil), data...)})
}

// Event records something that happened, such as "TLS established".
func (t *Transcript) Event(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) >= DefaultTranscriptEntries+100 {
		return
	}
	t.entries = append(t.entries, TranscriptEntry{At: time.Since(t.start), Dir: DirEvent, Data: []byte(msg)})
}

// TranscriptLine is one line of a connection's transcript: in the JSON
// always (within the transcript's caps, DefaultTranscriptBytes and
// DefaultTranscriptEntries per connection), in the text report with -v.
type TranscriptLine struct {
	Connection int     `json:"connection"` // 1-based, as in steps[].connection
	AtMS       float64 `json:"at_ms"`      // milliseconds since that connection opened
	Dir        string  `json:"dir"`        // "C" sent, "S" received, "*" an event
	// Data is the bytes as text, CRLF included. Bytes that are not valid
	// UTF-8 appear as \xNN, and then DataBase64 holds the exact bytes.
	Data       string `json:"data"`
	DataBase64 string `json:"data_base64,omitempty"`
}

// Line turns a recorded entry of connection conn (1-based) into a report
// line.
func (e TranscriptEntry) Line(conn int) TranscriptLine {
	l := TranscriptLine{Connection: conn, AtMS: float64(e.At.Microseconds()) / 1000, Dir: e.Dir, Data: string(e.Data)}
	if !utf8.Valid(e.Data) {
		var b strings.Builder
		for d := e.Data; len(d) > 0; {
			r, n := utf8.DecodeRune(d)
			if r == utf8.RuneError && n == 1 {
				fmt.Fprintf(&b, "\\x%02x", d[0])
			} else {
				b.Write(d[:n])
			}
			d = d[n:]
		}
		l.Data = b.String()
		l.DataBase64 = base64.StdEncoding.EncodeToString(e.Data)
	}
	return l
}
