package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want SessionStatus
	}{
		{nil, StatusOK},
		{&Error{Status: StatusNoService}, StatusNoService},
		{fmt.Errorf("wrapped: %w", &Error{Status: StatusTLSUnavailable}), StatusTLSUnavailable},
		{context.Canceled, StatusCanceled},
		{context.DeadlineExceeded, StatusIOTimeout},
		{os.ErrDeadlineExceeded, StatusIOTimeout},
		{io.EOF, StatusClosedByServer},
		{io.ErrUnexpectedEOF, StatusClosedByServer},
		{syscall.ECONNRESET, StatusClosedByServer},
		{&LimitError{What: "reply lines", Limit: 100}, StatusProtocolError},
		{ErrRefusedLine, StatusInvalidInput},
		{errors.New("anything else"), StatusProtocolError},
	} {
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := classify(syscall.ECONNREFUSED, "connect"); got != StatusConnectionRefused {
		t.Errorf("refused: %q", got)
	}
	if got := classify(syscall.EHOSTUNREACH, "connect"); got != StatusConnectionFailed {
		t.Errorf("unreachable: %q", got)
	}
}

func TestParseTLSMode(t *testing.T) {
	for in, want := range map[string]TLSMode{"": TLSAuto, "auto": TLSAuto, "STARTTLS": TLSStartTLS, "implicit": TLSImplicit, "none": TLSNone} {
		if got, err := ParseTLSMode(in); err != nil || got != want {
			t.Errorf("ParseTLSMode(%q) = %q %v", in, got, err)
		}
	}
	if _, err := ParseTLSMode("ssl"); err == nil {
		t.Error("ssl accepted")
	}
}
