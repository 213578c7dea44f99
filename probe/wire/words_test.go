package wire

import (
	"encoding/json"
	"testing"
)

// TestWordsInJSON pins the words the report carries: a status or a
// deviation kind is marshalled as its plain word, and each keeps the
// word it has always had.
func TestWordsInJSON(t *testing.T) {
	statuses := map[SessionStatus]string{
		StatusOK: "ok", StatusConnectionRefused: "connection-refused", StatusConnectionTimeout: "connection-timeout",
		StatusConnectionFailed: "connection-failed", StatusIOTimeout: "io-timeout", StatusClosedByServer: "closed-by-server",
		StatusProtocolError: "protocol-error", StatusTLSHandshakeError: "tls-handshake-error", StatusTLSUnavailable: "tls-unavailable",
		StatusNoService: "no-smtp-service", StatusCanceled: "canceled", StatusInvalidInput: "invalid-input",
		StatusNotDialled: "not-dialled", StatusDesync: "desynchronised",
	}
	for s, want := range statuses {
		if got := asJSON(t, s); got != `"`+want+`"` {
			t.Errorf("status %s marshals as %s, want %q", want, got, want)
		}
	}
	kinds := map[DeviationKind]string{
		DevBareLF: "bare-lf", DevBareCR: "bare-cr", DevMissingSpace: "missing-space", DevInvalidCode: "invalid-code",
		DevMixedCodes: "mixed-codes", DevNonCodeLine: "non-code-line", DevLongLine: "long-line", DevLineTruncated: "line-truncated",
		Dev8Bit: "8bit-text", DevInvalidUTF8: "invalid-utf8", DevNUL: "nul-byte", DevControlChar: "control-char",
		DevTruncated: "truncated", DevTooManyLines: "too-many-lines", DevReplyTooLarge: "reply-too-large",
		DevEnhancedClass: "enhanced-class", DevUnsolicited: "unsolicited-data", DevSTARTTLSInject: "starttls-plaintext-injection",
		DevTLSPlaintext: "tls-plaintext", DevDesync: "desynchronised", DevDesyncSuspect: "names-other-argument",
		DevSTARTTLSRefused: "starttls-refused",
	}
	for k, want := range kinds {
		if got := asJSON(t, k); got != `"`+want+`"` {
			t.Errorf("deviation kind %s marshals as %s, want %q", want, got, want)
		}
	}
	got := asJSON(t, Reply{Code: 250, Lines: []string{"ok"}, Deviations: []Deviation{{Kind: DevBareLF, Line: 1}}})
	want := `{"code":250,"lines":["ok"],"deviations":[{"kind":"bare-lf","line":1}]}`
	if got != want {
		t.Errorf("reply marshals as %s, want %s", got, want)
	}
}

// asJSON is v marshalled as JSON.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
