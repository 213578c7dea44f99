package probe

import (
	"fmt"
	"sync"
)

// MaxKeptBytes bounds the server text one run keeps for its report: the
// lines of every step's reply and the data of every transcript entry, over
// all hosts and connections. The caps in wire bound one reply and one
// session; this bounds their sum, so fifty sessions of replies just under
// those caps cannot make a report of hundreds of megabytes. Past it, a
// reply keeps its code and the start of its first line, marked with a
// "not-kept" deviation; a transcript ends with an event saying how much
// was left out; the report carries a warning.
const MaxKeptBytes = 8 << 20

// DevNotKept marks a reply whose text was cut because the run had kept
// MaxKeptBytes of server text already.
const DevNotKept DeviationKind = "not-kept"

// keptReplyStart is how much of the first line a reply keeps past the cap.
const keptReplyStart = 200

// memBudget is the room left for server text in one run. It is safe for
// concurrent use; a nil budget keeps everything.
type memBudget struct {
	mu      sync.Mutex
	left    int
	dropped int // bytes not kept
}

func newMemBudget(n int) *memBudget { return &memBudget{left: n} }

// take charges n bytes and reports whether they may be kept.
func (b *memBudget) take(n int) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= b.left {
		b.left -= n
		return true
	}
	b.dropped += n
	return false
}

// Dropped is the number of bytes of server text not kept.
func (b *memBudget) Dropped() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// keepReply prepares a step's reply for the report: the raw bytes are
// dropped (the transcript has them), and past the cap the lines are cut
// to the start of the first, with a deviation saying so.
func (b *memBudget) keepReply(rep *Reply) {
	rep.Raw = nil
	n := 0
	for _, l := range rep.Lines {
		n += len(l)
	}
	if b.take(n) || len(rep.Lines) == 0 {
		return
	}
	first := rep.Lines[0]
	if len(first) > keptReplyStart {
		first = first[:keptReplyStart]
	}
	rep.Lines = []string{first}
	rep.Deviations = append(rep.Deviations, Deviation{Kind: DevNotKept,
		Detail: fmt.Sprintf("%d bytes of this reply's text not kept: the run had kept its cap of %d MiB of server text", n-len(first), MaxKeptBytes>>20)})
}

// keepTranscript appends the entries of connection conn to lines while
// the budget has room, then one event saying what was left out. It
// returns the bytes left out.
func (b *memBudget) keepTranscript(lines []TranscriptLine, conn int, entries []TranscriptEntry) ([]TranscriptLine, int) {
	if b == nil {
		for _, e := range entries {
			lines = append(lines, e.Line(conn))
		}
		return lines, 0
	}
	for i, e := range entries {
		if b.take(len(e.Data)) {
			lines = append(lines, e.Line(conn))
			continue
		}
		left := 0
		for _, r := range entries[i:] {
			left += len(r.Data)
		}
		b.mu.Lock()
		b.dropped += left - len(e.Data) // take counted e already
		b.mu.Unlock()
		marker := TranscriptEntry{At: e.At, Dir: DirEvent,
			Data: fmt.Appendf(nil, "transcript truncated: %d bytes not kept, the run had kept its cap of %d MiB of server text", left, MaxKeptBytes>>20)}
		return append(lines, marker.Line(conn)), left
	}
	return lines, 0
}
