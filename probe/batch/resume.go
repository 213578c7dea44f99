package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// ReadDone reads an NDJSON output of an earlier run and returns the
// targets it has a complete line for: a line that parses as a JSON object
// with a "target" that is a string, or an object with an "input" (the
// probe report's form). A line cut off by a kill, or that a run marked
// incomplete (it was interrupted before the target was done), does not
// count, so that target is run again. bad counts lines that did not parse.
func ReadDone(r io.Reader) (done map[string]bool, bad int, err error) {
	done = map[string]bool{}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			t, finished, parsed := doneTarget(line)
			switch {
			case finished:
				done[t] = true
			case !parsed && len(bytes.TrimSpace(line)) > 0:
				bad++
			}
		}
		if err == io.EOF {
			return done, bad, nil
		}
		if err != nil {
			return done, bad, err
		}
	}
}

// doneTarget is the target of one finished line; a line cut off
// mid-write does not parse.
func doneTarget(line []byte) (target string, finished, parsed bool) {
	var v struct {
		Target           json.RawMessage `json:"target"`
		Incomplete       bool            `json:"incomplete"`
		IncompleteReason string          `json:"incomplete_reason"`
	}
	if err := json.Unmarshal(line, &v); err != nil || len(v.Target) == 0 {
		return "", false, false
	}
	if v.Incomplete && v.IncompleteReason == "interrupted" {
		return "", false, true
	}
	var s string
	if json.Unmarshal(v.Target, &s) == nil {
		return s, s != "", true
	}
	var o struct {
		Input string `json:"input"`
	}
	if json.Unmarshal(v.Target, &o) == nil {
		return o.Input, o.Input != "", true
	}
	return "", false, false
}
