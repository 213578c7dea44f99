package batch

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
)

// Writer writes one JSON object a line, each line whole and written at
// once, so a run killed at any point leaves only complete lines and at
// most one cut-off last line (which ReadDone ignores). It is safe for
// concurrent use. The first write error sticks: every later Write returns
// it, and the run should stop.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	err error
	n   int
}

// NewWriter writes lines to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write encodes v as one line, without HTML escaping, so the < and > of
// SMTP paths stay readable.
func (w *Writer) Write(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return w.WriteLine(b.Bytes())
}

// WriteLine writes line, which must end in a newline, as one write.
func (w *Writer) WriteLine(line []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Write(line); err != nil {
		w.err = err
		return err
	}
	w.n++
	return nil
}

// Lines is how many lines were written.
func (w *Writer) Lines() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Err is the write error that stopped the writer, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
