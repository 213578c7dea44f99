package wire

import (
	"context"
	"testing"
	"time"
)

// Once the run is over, QUIT gets only a short wait for its reply; while
// the run goes on it outlives a later cancelation and has no deadline of
// its own (Quit adds QuitTimeout).
func TestQuitContext(t *testing.T) {
	live, stop := context.WithCancel(context.Background())
	q, cancel := QuitContext(live)
	defer cancel()
	stop()
	if q.Err() != nil {
		t.Fatalf("the QUIT context of a live run ended with it: %v", q.Err())
	}
	if _, ok := q.Deadline(); ok {
		t.Error("the QUIT context of a live run has a deadline")
	}

	q2, cancel2 := QuitContext(live)
	defer cancel2()
	dl, ok := q2.Deadline()
	if !ok || time.Until(dl) > StoppedQuitTimeout {
		t.Errorf("the QUIT context of a stopped run: deadline %v (set %v), want at most %v away", dl, ok, StoppedQuitTimeout)
	}
}
