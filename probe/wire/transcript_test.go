package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTranscriptJoinsLinePieces(t *testing.T) {
	tr := NewTranscript()
	tr.Event("connected")
	for _, b := range []string{"2", "5", "0", " ok\r\n", "250 next\r\n"} {
		tr.Record(DirServer, []byte(b))
	}
	tr.Record(DirClient, []byte("QUIT\r\n"))
	e := tr.Entries()
	if len(e) != 4 || string(e[1].Data) != "250 ok\r\n" || string(e[2].Data) != "250 next\r\n" || e[3].Dir != DirClient {
		t.Fatalf("entries %q", e)
	}
	if e[1].At > e[2].At || e[2].At > e[3].At {
		t.Error("timestamps go backwards")
	}
	b, err := json.Marshal(e[1])
	if err != nil || !strings.Contains(string(b), `"dir":"S","data":"250 ok\r\n"`) || !strings.Contains(string(b), `"at_ms":`) {
		t.Errorf("JSON %s %v", b, err)
	}
}

func TestTranscriptCaps(t *testing.T) {
	tr := NewTranscript()
	line := []byte(strings.Repeat("x", 1000) + "\n")
	for range 2 * DefaultTranscriptBytes / len(line) {
		tr.Record(DirServer, line)
	}
	kept := 0
	for _, e := range tr.Entries() {
		kept += len(e.Data)
	}
	if kept > DefaultTranscriptBytes || tr.Dropped() == 0 || kept+tr.Dropped() != 2*DefaultTranscriptBytes/len(line)*len(line) {
		t.Errorf("kept %d dropped %d", kept, tr.Dropped())
	}

	tr = NewTranscript()
	for range DefaultTranscriptEntries + 50 {
		tr.Record(DirServer, []byte("\n"))
	}
	if n := len(tr.Entries()); n != DefaultTranscriptEntries || tr.Dropped() != 50 {
		t.Errorf("%d entries, %d dropped", n, tr.Dropped())
	}
}
