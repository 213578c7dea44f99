package explain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// InputKind is what a stream of text holds, judged from its start.
type InputKind string

// The kinds of input SniffInput tells apart.
const (
	InputText    InputKind = "text"    // reply lines, logs, transcripts: for a ReplyScanner
	InputMessage InputKind = "message" // one message (RFC 5322)
	InputMbox    InputKind = "mbox"    // messages, each after a "From " line
	InputJSON    InputKind = "json"    // Amazon SES notifications
)

// messageHeaders are header fields a message may start with; a first
// line naming one of them makes the input a message.
var messageHeaders = map[string]bool{
	"return-path": true, "received": true, "from": true, "to": true, "subject": true, "date": true,
	"message-id": true, "mime-version": true, "content-type": true, "delivered-to": true, "reply-to": true,
	"sender": true, "dkim-signature": true, "authentication-results": true, "auto-submitted": true,
	"precedence": true, "envelope-to": true, "in-reply-to": true, "references": true, "thread-topic": true,
	"thread-index": true, "x-failed-recipients": true, "reporting-mta": true, "final-recipient": true,
	"original-recipient": true, "arrival-date": true, "feedback-type": true, "received-spf": true,
	"arc-seal": true, "arc-message-signature": true, "arc-authentication-results": true,
}

// SniffInput tells what the input starting with head holds: an mbox, one
// message, Amazon SES JSON notifications, or plain text.
func SniffInput(head []byte) InputKind {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(head, []byte("From ")):
		return InputMbox
	case len(h) > 0 && (h[0] == '{' || h[0] == '['):
		if bytes.Contains(h, []byte(`"notificationType"`)) || bytes.Contains(h, []byte(`"eventType"`)) ||
			bytes.Contains(h, []byte(`"Type"`)) && bytes.Contains(h, []byte(`"Message"`)) {
			return InputJSON
		}
		return InputText
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	name, _, ok := bytes.Cut(first, []byte(":"))
	if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
		return InputText
	}
	n := strings.ToLower(string(name))
	if messageHeaders[n] || strings.HasPrefix(n, "x-") && len(n) > 2 {
		return InputMessage
	}
	return InputText
}

// MessageScanner reads the messages of a stream one at a time: an mbox
// (mboxo or mboxrd; each message starts at a "From " line after a blank
// line or at the start), a single message, or Amazon SES notifications
// (JSON values one after another, or an SNS envelope). Each message is
// read into at most MaxMessageBytes, with lines cut at MaxMessageLine,
// so memory stays bounded whatever the input's size.
type MessageScanner struct {
	br      *bufio.Reader
	kind    InputKind
	next    []byte // a "From " line read that starts the next message
	started bool
	eof     bool
	err     error
	rep     Report
	queue   []Report // SES reports decoded, not yet handed out
	dec     *json.Decoder
	cr      *capReader
	number  int
}

// NewMessageScanner returns a scanner reading r, whose kind it sniffs.
func NewMessageScanner(r io.Reader) *MessageScanner {
	br := bufio.NewReaderSize(r, 16<<10)
	head, _ := br.Peek(4 << 10)
	kind := SniffInput(head)
	if kind == InputText {
		kind = InputMessage
	}
	return &MessageScanner{br: br, kind: kind}
}

// Kind is what the input was sniffed as.
func (s *MessageScanner) Kind() InputKind { return s.kind }

// Report is the report of the message the last Scan read.
func (s *MessageScanner) Report() Report { return s.rep }

// Number is the 1-based position of the last message in the input.
func (s *MessageScanner) Number() int { return s.number }

// Err is the first read error, other than io.EOF.
func (s *MessageScanner) Err() error { return s.err }

// Scan reads the next message; false at the end of the input or on a
// read error.
func (s *MessageScanner) Scan() bool {
	if s.kind == InputJSON {
		return s.scanJSON()
	}
	if s.eof {
		return false
	}
	var buf bytes.Buffer
	truncated := false
	add := func(line []byte, cut bool) {
		if cut {
			truncated = true
		}
		if buf.Len()+len(line) > MaxMessageBytes {
			truncated = true
			return
		}
		buf.Write(line)
	}
	prevBlank := true
	if s.next != nil {
		s.next = nil // the separator line is not part of the message
	}
	for {
		line, cut, err := readCappedLine(s.br)
		if len(line) > 0 {
			switch {
			case s.kind == InputMbox && prevBlank && bytes.HasPrefix(line, []byte("From ")):
				if s.started || buf.Len() > 0 {
					s.next = line
					s.started = true
					return s.emit(buf.Bytes(), truncated)
				}
				s.started = true
			case s.kind == InputMbox && isQuotedFrom(line):
				add(line[1:], cut)
			default:
				add(line, cut)
			}
			t := bytes.TrimRight(line, "\r\n")
			prevBlank = len(t) == 0
		}
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			if buf.Len() == 0 && !truncated {
				return false
			}
			return s.emit(buf.Bytes(), truncated)
		}
	}
}

// isQuotedFrom tells whether line is an mboxrd-quoted ">From " line
// (">From ", ">>From "…), which loses one '>'.
func isQuotedFrom(line []byte) bool {
	t := bytes.TrimLeft(line, ">")
	return len(t) < len(line) && bytes.HasPrefix(t, []byte("From "))
}

func (s *MessageScanner) emit(raw []byte, truncated bool) bool {
	s.number++
	s.rep = ParseReport(raw)
	s.rep.Truncated = s.rep.Truncated || truncated
	return true
}

// errValueTooLarge stops a JSON value larger than MaxMessageBytes.
var errValueTooLarge = errors.New("a JSON value is larger than the per-message cap")

// capReader fails once more than limit bytes were read since reset.
type capReader struct {
	r     io.Reader
	n     int
	limit int
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n >= c.limit {
		return 0, errValueTooLarge
	}
	if len(p) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func (s *MessageScanner) scanJSON() bool {
	if s.dec == nil {
		s.cr = &capReader{r: s.br, limit: MaxMessageBytes + 64<<10}
		s.dec = json.NewDecoder(s.cr)
	}
	for len(s.queue) == 0 {
		if s.eof {
			return false
		}
		var v json.RawMessage
		if err := s.dec.Decode(&v); err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			return false
		}
		s.cr.n = 0
		s.queue = append(s.queue, parseSESJSON(v)...)
	}
	s.number++
	s.rep, s.queue = s.queue[0], s.queue[1:]
	return true
}
