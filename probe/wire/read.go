package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// LimitError reports that a server exceeded one of the caps in Limits.
type LimitError struct {
	What  string // "reply lines", "reply bytes", "session bytes"
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("server exceeded the %s cap (%d)", e.What, e.Limit)
}

// Valid reports whether the reply carries a usable reply code: three
// digits with a first digit of 2 to 5 (RFC 5321 §4.2.1).
func (r Reply) Valid() bool { return r.Code >= 200 && r.Code <= 599 }

// Has reports whether a deviation of the given kind was recorded.
func (r Reply) Has(kind DeviationKind) bool {
	for _, d := range r.Deviations {
		if d.Kind == kind {
			return true
		}
	}
	return false
}

// Deviation kinds recorded by ReadReply and by the session.
const (
	DevBareLF          DeviationKind = "bare-lf"                      // line ended by LF alone (RFC 5321 §2.3.8 requires CRLF)
	DevBareCR          DeviationKind = "bare-cr"                      // CR not followed by LF inside a line
	DevMissingSpace    DeviationKind = "missing-space"                // code followed by neither SP, "-" nor the line end
	DevInvalidCode     DeviationKind = "invalid-code"                 // not three digits, or outside 2yz-5yz
	DevMixedCodes      DeviationKind = "mixed-codes"                  // a line's code differs from the first line's
	DevNonCodeLine     DeviationKind = "non-code-line"                // continuation line without a reply code
	DevLongLine        DeviationKind = "long-line"                    // over 512 octets (RFC 5321 §4.5.3.1.5)
	DevLineTruncated   DeviationKind = "line-truncated"               // longer than Limits.LineBytes; the rest was discarded
	Dev8Bit            DeviationKind = "8bit-text"                    // bytes above 127 (RFC 5321 §4.2 text is 7-bit)
	DevInvalidUTF8     DeviationKind = "invalid-utf8"                 // 8-bit text that is not UTF-8 either
	DevNUL             DeviationKind = "nul-byte"                     // a NUL byte in the text
	DevControlChar     DeviationKind = "control-char"                 // another control byte (ESC, BEL...) in the text
	DevTruncated       DeviationKind = "truncated"                    // the reply ended before its last line was complete
	DevTooManyLines    DeviationKind = "too-many-lines"               // more than Limits.Lines lines
	DevReplyTooLarge   DeviationKind = "reply-too-large"              // more than Limits.ReplyBytes bytes
	DevEnhancedClass   DeviationKind = "enhanced-class"               // enhanced code class differs from the reply class (RFC 3463 §2)
	DevUnsolicited     DeviationKind = "unsolicited-data"             // bytes the server sent before the command was written
	DevSTARTTLSInject  DeviationKind = "starttls-plaintext-injection" // plain text right behind the 220 to STARTTLS (CVE-2011-0411 class)
	DevTLSPlaintext    DeviationKind = "tls-plaintext"                // the server answered a TLS handshake in plain text
	DevDesync          DeviationKind = "desynchronised"               // bytes arrived right after a complete reply, when no command was outstanding
	DevDesyncSuspect   DeviationKind = "names-other-argument"         // the reply names the previous command's mailbox, not this one's
	DevSTARTTLSRefused DeviationKind = "starttls-refused"             // STARTTLS was offered, but the server refused it; the session goes on in plain text
)

// ReadReply reads one SMTP reply (RFC 5321 §4.2) from r. It records every
// way the reply strays from the grammar as a Deviation instead of failing,
// and stops at the caps in lim so that no server can grow memory or keep
// the reader busy without end.
//
// A reply ends at the first line whose code is followed by a space, by the
// line end, or by anything but "-"; a first line without a code ends the
// reply too (nothing promised more). Lines without a code after a "NNN-"
// line are taken as continuation text.
//
// The error is nil for a complete reply, however odd. io.EOF means the
// connection closed before any byte of a reply; io.ErrUnexpectedEOF, a
// *LimitError or a read error come with the partial reply read so far.
func ReadReply(r *bufio.Reader, lim Limits) (rep Reply, err error) {
	lim = lim.withDefaults()
	defer func() { rep.codes = nil }()
	budget := lim.ReplyBytes
	for n := 1; ; n++ {
		if n > lim.Lines {
			rep.addDev(DevTooManyLines, 0, fmt.Sprintf("more than %d lines", lim.Lines))
			return rep, &LimitError{What: "reply lines", Limit: lim.Lines}
		}
		ln, err := readLine(r, lim.LineBytes, &budget)
		overBudget := err == errBudget
		if overBudget {
			err = &LimitError{What: "reply bytes", Limit: lim.ReplyBytes}
		}
		if err != nil && ln.size == 0 && ln.ending == 0 {
			if n == 1 && err == io.EOF {
				return rep, io.EOF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if overBudget {
				rep.addDev(DevReplyTooLarge, n, fmt.Sprintf("more than %d bytes", lim.ReplyBytes))
			} else {
				rep.addDev(DevTruncated, n, "reply cut short: "+err.Error())
			}
			return rep, err
		}
		more := rep.addLine(n, ln)
		if err != nil {
			if overBudget {
				rep.addDev(DevReplyTooLarge, n, fmt.Sprintf("more than %d bytes", lim.ReplyBytes))
			} else {
				rep.addDev(DevTruncated, n, "reply cut short inside a line: "+err.Error())
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return rep, err
		}
		if !more {
			return rep, nil
		}
	}
}

// errBudget is readLine's signal that the reply's byte budget ran out.
var errBudget = errors.New("reply byte budget exhausted")

// rawLine is one line as read: the kept bytes, the full length and how it
// ended.
type rawLine struct {
	text   []byte // kept content without the line ending
	size   int    // full content length, discarded bytes included
	ending int    // 0: none (the read stopped), 1: LF, 2: CRLF
}

// readLine reads through the next LF, keeping at most keep bytes of the
// content and charging every byte read to *budget. The returned text may
// alias r's buffer: use it before reading again.
func readLine(r *bufio.Reader, keep int, budget *int) (rawLine, error) {
	var ln rawLine
	var last byte // last content byte seen, to spot a CR before LF
	for {
		chunk, err := r.ReadSlice('\n')
		over := false
		if len(chunk) > *budget {
			chunk, over = chunk[:*budget], true
		}
		*budget -= len(chunk)
		body := chunk
		ended := err == nil && !over
		if ended {
			body = chunk[:len(chunk)-1]
		}
		ln.size += len(body)
		if len(body) > 0 {
			last = body[len(body)-1]
		}
		if ln.text == nil && ended {
			// The usual case, a whole line in one chunk: use the
			// buffer's bytes directly; addLine copies them before the
			// next read.
			ln.text = body
		} else if room := keep + 1 - len(ln.text); room > 0 {
			// One byte over the cap is kept for now so a CR at the
			// cap boundary can still be recognised; trimmed below.
			ln.text = append(ln.text, body[:min(room, len(body))]...)
		}
		switch {
		case ended:
			ln.ending = 1
			if last == '\r' && ln.size > 0 {
				ln.ending = 2
				ln.size--
				if len(ln.text) > ln.size {
					ln.text = ln.text[:ln.size]
				}
			}
			if len(ln.text) > keep {
				ln.text = ln.text[:keep]
			}
			return ln, nil
		case over:
			if len(ln.text) > keep {
				ln.text = ln.text[:keep]
			}
			return ln, errBudget
		case err == bufio.ErrBufferFull:
			continue
		default:
			if len(ln.text) > keep {
				ln.text = ln.text[:keep]
			}
			return ln, err
		}
	}
}

// addLine parses one line into rep and reports whether the reply
// continues after it.
func (rep *Reply) addLine(n int, ln rawLine) (more bool) {
	rep.Raw = append(rep.Raw, ln.text...)
	switch ln.ending {
	case 1:
		rep.Raw = append(rep.Raw, '\n')
		rep.addDev(DevBareLF, n, "line ended by LF without CR (RFC 5321 §2.3.8)")
	case 2:
		rep.Raw = append(rep.Raw, '\r', '\n')
	}
	if ln.size+ln.ending > MaxReplyLineOctets {
		rep.addDev(DevLongLine, n, fmt.Sprintf("%d octets, over the 512 of RFC 5321 §4.5.3.1.5", ln.size+ln.ending))
	}
	if ln.size > len(ln.text) {
		rep.addDev(DevLineTruncated, n, fmt.Sprintf("kept %d of %d bytes", len(ln.text), ln.size))
	}
	rep.checkText(n, ln.text)

	b := ln.text
	code, ok := lineCode(b)
	if !ok {
		rep.Lines = append(rep.Lines, string(b))
		if n == 1 {
			rep.addDev(DevInvalidCode, n, "line does not start with a three-digit reply code")
			return false
		}
		rep.addDev(DevNonCodeLine, n, "continuation line without a reply code")
		return true
	}
	text, more := b[3:], false
	switch {
	case len(b) == 3:
	case b[3] == ' ':
		text = b[4:]
	case b[3] == '-':
		text, more = b[4:], true
	default:
		rep.addDev(DevMissingSpace, n, "reply code not followed by a space or \"-\"")
	}
	rep.Lines = append(rep.Lines, string(text))
	if n == 1 {
		rep.Code = code
		rep.codes = []int{code}
		if !rep.Valid() {
			rep.addDev(DevInvalidCode, n, fmt.Sprintf("code %03d is outside 200-599 (RFC 5321 §4.2.1)", code))
		}
		if enh, ok := ParseEnhanced(string(text)); ok {
			rep.Enhanced = enh
			if rep.Valid() && enh[0] != byte('0'+code/100) {
				rep.addDev(DevEnhancedClass, n, fmt.Sprintf("enhanced code %s does not match reply class %dxx (RFC 3463 §2)", enh, code/100))
			}
		}
		return more
	}
	rep.codes = append(rep.codes, code)
	if code != rep.codes[0] {
		rep.addDev(DevMixedCodes, n, fmt.Sprintf("code %03d differs from the first line's %03d; the reply is judged by its last line (RFC 5321 §4.2.1)", code, rep.codes[0]))
	}
	if !more && code != rep.Code {
		// The last line decides (RFC 5321 §4.2.1: a client may look
		// for the line with the code followed by a space and ignore
		// the ones before it).
		rep.Code, rep.Enhanced = code, ""
		if enh, ok := ParseEnhanced(string(text)); ok {
			rep.Enhanced = enh
		}
	}
	if rep.Has(DevMixedCodes) {
		rep.LineCodes = rep.codes
	}
	return more
}

// lineCode returns the three-digit code at the start of b. Four or more
// digits ("2500") are not a code.
func lineCode(b []byte) (int, bool) {
	if len(b) < 3 || !isDigit(b[0]) || !isDigit(b[1]) || !isDigit(b[2]) {
		return 0, false
	}
	if len(b) > 3 && isDigit(b[3]) {
		return 0, false
	}
	c, _ := strconv.Atoi(string(b[:3]))
	return c, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// checkText records the byte-level oddities of a line: 8-bit text, NUL
// and other control bytes, and CRs that do not end the line.
func (rep *Reply) checkText(n int, b []byte) {
	var high, nul, ctl, cr bool
	for _, c := range b {
		switch {
		case c >= 0x80:
			high = true
		case c == 0:
			nul = true
		case c == '\r':
			cr = true
		case c < 0x20 && c != '\t', c == 0x7f:
			ctl = true
		}
	}
	if high {
		rep.addDev(Dev8Bit, n, "text has bytes above 127 (RFC 5321 §4.2)")
		if !utf8.Valid(b) {
			rep.addDev(DevInvalidUTF8, n, "text is not valid UTF-8")
		}
	}
	if nul {
		rep.addDev(DevNUL, n, "text contains a NUL byte")
	}
	if cr {
		rep.addDev(DevBareCR, n, "CR not followed by LF inside the line")
	}
	if ctl {
		rep.addDev(DevControlChar, n, "text contains control bytes such as ESC")
	}
}

func (rep *Reply) addDev(kind DeviationKind, line int, detail string) {
	rep.Deviations = append(rep.Deviations, Deviation{Kind: kind, Line: line, Detail: detail})
}

// ParseEnhanced returns the enhanced status code that starts text
// (RFC 3463 §2, placed as RFC 2034 §4 asks): class "2", "4" or "5", then
// subject and detail of one to three digits each, followed by a space or
// the end of the text.
func ParseEnhanced(text string) (string, bool) {
	if len(text) < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.' {
		return "", false
	}
	i := 2
	for part := 0; part < 2; part++ {
		j := i
		for j < len(text) && isDigit(text[j]) && j-i < 4 {
			j++
		}
		if j == i || j-i > 3 {
			return "", false
		}
		i = j
		if part == 0 {
			if i >= len(text) || text[i] != '.' {
				return "", false
			}
			i++
		}
	}
	if i < len(text) && text[i] != ' ' {
		return "", false
	}
	return text[:i], true
}
