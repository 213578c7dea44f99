// Package render turns the results of smtpprobe's subcommands into what
// is written on stdout: a report for people (text), one JSON document
// (json), or one JSON object a line (ndjson), and for --quiet the verdict
// lines alone. Escaping of untrusted text, colour and the fitting of text
// to the terminal's width live here and nowhere else.
//
// A subcommand builds a Document from its result and hands it to Render
// with the writer and Options; a new section of a report is a function
// of the document's text renderer, a new format a case of Render.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Format is an output format: text, json or ndjson.
type Format string

// The formats of --format.
const (
	Text   Format = "text"   // the report for people
	JSON   Format = "json"   // one indented JSON document
	NDJSON Format = "ndjson" // one compact JSON object a line
)

// Formats lists the formats in the order --help names them.
var Formats = []Format{Text, JSON, NDJSON}

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("want text, json or ndjson, not %q", s)
}

// Options shape the output.
type Options struct {
	Format  Format
	Quiet   bool // text: only the verdict lines
	Color   bool // colour reply codes by class
	Width   int  // terminal columns to fit text to; 0 when unknown (no folding)
	Verbose bool // text: add each step's annotation and the full transcript
}

// Document is one subcommand's result, ready for every format.
type Document interface {
	// Text writes the report for people.
	Text(p *Printer)
	// Quiet writes only the verdict lines: a few per host, no evidence.
	Quiet(p *Printer)
	// Records are the values ndjson writes, one to a line; json writes
	// the Document itself as one value.
	Records() []any
}

// Render writes d to w in the format o asks for. It returns the first
// error writing to w.
func Render(w io.Writer, d Document, o Options) error {
	ew := &errWriter{w: w}
	switch o.Format {
	case JSON:
		WriteJSON(ew, d)
	case NDJSON:
		for _, r := range d.Records() {
			WriteNDJSON(ew, r)
		}
	default:
		var tw io.Writer = ew
		var fw *foldWriter
		if o.Width > 0 {
			fw = newFoldWriter(ew, o.Width)
			tw = fw
		}
		p := NewPrinter(tw, o)
		if o.Quiet {
			d.Quiet(p)
		} else {
			d.Text(p)
		}
		if fw != nil {
			fw.Flush()
		}
	}
	return ew.err
}

// errWriter keeps the first write error and writes nothing after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	if err != nil {
		e.err = err
	}
	return n, err
}

// WriteJSON writes v as indented JSON, HTML characters left as they are
// and DEL and C1 controls escaped (see SafeJSON), so a document of server
// text is safe on a terminal.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(SafeJSON(w))
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteNDJSON writes v as one line of compact JSON, escaped as WriteJSON.
func WriteNDJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := SafeJSON(w).Write(b.Bytes())
	return err
}

// SafeJSON wraps w so that what encoding/json leaves raw but a terminal
// may act on or a reader may not see is escaped: DEL, the C1 controls
// U+0080-U+009F (U+009B is an 8-bit CSI) and every character isHidden
// names (above U+FFFF as a UTF-16 surrogate pair, RFC 8259 §7). They only
// occur inside strings, where \u escapes mean the same.
func SafeJSON(w io.Writer) io.Writer {
	if j, ok := w.(jsonSafe); ok {
		return j
	}
	return jsonSafe{w}
}

type jsonSafe struct{ w io.Writer }

func (j jsonSafe) Write(b []byte) (int, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == 0x7f || r >= 0x80 && r < 0xa0 || isHidden(r) && r <= 0xffff:
			out = fmt.Appendf(out, `\u%04x`, r)
		case isHidden(r):
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	if _, err := j.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
