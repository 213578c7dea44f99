package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// SessionStatus is the outcome word of a session, stable in the JSON
// report (kebab-case, in the style of zgrab2's status values). Besides
// the words below, a proxy's failure carries the proxy's own word.
type SessionStatus string

// Outcome words for a session.
const (
	StatusOK                SessionStatus = "ok"
	StatusConnectionRefused SessionStatus = "connection-refused"
	StatusConnectionTimeout SessionStatus = "connection-timeout"
	StatusConnectionFailed  SessionStatus = "connection-failed" // any other dial failure (unreachable, no route)
	StatusIOTimeout         SessionStatus = "io-timeout"
	StatusClosedByServer    SessionStatus = "closed-by-server" // EOF, reset, or a 421 reply
	StatusProtocolError     SessionStatus = "protocol-error"   // an unusable reply, or a cap exceeded
	StatusTLSHandshakeError SessionStatus = "tls-handshake-error"
	StatusTLSUnavailable    SessionStatus = "tls-unavailable" // --tls starttls but STARTTLS not offered or refused
	StatusNoService         SessionStatus = "no-smtp-service" // greeting 554 (RFC 5321 §3.1)
	StatusCanceled          SessionStatus = "canceled"
	StatusInvalidInput      SessionStatus = "invalid-input"  // a line the session refuses to send
	StatusNotDialled        SessionStatus = "not-dialled"    // an MX host at 0.0.0.0 or ::, which names no host (RFC 1122 §3.2.1.3)
	StatusDesync            SessionStatus = "desynchronised" // the server's replies fell out of step with the commands
)

// sessionStatuser is an error that names its own outcome word: a proxy's
// failure (probe/socks), which is not the server's doing.
type sessionStatuser interface{ SessionStatus() string }

// Error is a session failure with its outcome word. Reply is the reply
// that ended the session, if one did (a 421 or 554 greeting).
type Error struct {
	Status SessionStatus
	Op     string // "connect", "greeting", "read", "write", "starttls", "tls"
	Err    error
	Reply  *Reply
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Op + ": " + string(e.Status)
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Status maps an error from this package to its outcome word; nil is
// "ok". Errors from elsewhere are classified by what they wrap.
func Status(err error) SessionStatus {
	if err == nil {
		return StatusOK
	}
	var pe *Error
	if errors.As(err, &pe) && pe.Status != "" {
		return pe.Status
	}
	return classify(err, "")
}

// classify names the outcome of a transport error; op "connect" turns
// timeouts and refusals into connection-* words.
func classify(err error, op string) SessionStatus {
	var le *LimitError
	var ne net.Error
	var own sessionStatuser
	switch {
	case errors.As(err, &own):
		return SessionStatus(own.SessionStatus())
	case errors.Is(err, context.Canceled):
		return StatusCanceled
	case errors.As(err, &le):
		return StatusProtocolError
	case op == "connect" && errors.Is(err, syscall.ECONNREFUSED):
		return StatusConnectionRefused
	case op == "connect" && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()):
		return StatusConnectionTimeout
	case op == "connect":
		return StatusConnectionFailed
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return StatusIOTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed), errors.Is(err, ErrClosed):
		return StatusClosedByServer
	case errors.Is(err, ErrRefusedLine):
		return StatusInvalidInput
	}
	return StatusProtocolError
}
