package batch

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Progress redraws one status line: targets done of the total, the rate,
// the time left at that rate, and the failures by kind. The caller
// decides whether to make one (the CLI: only when stderr is a terminal).
type Progress struct {
	w     io.Writer
	total int
	start time.Time
	now   func() time.Time

	mu     sync.Mutex
	done   int
	errs   map[string]int
	drawn  bool
	stop   chan struct{}
	closed chan struct{}
}

// NewProgress draws on w every interval until Stop; total is the number
// of targets the run will do.
func NewProgress(w io.Writer, total int, interval time.Duration) *Progress {
	p := &Progress{w: w, total: total, start: time.Now(), now: time.Now, errs: map[string]int{},
		stop: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		defer close(p.closed)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

// Done counts one finished target; kind is "" for a target that was
// probed, else the word for what stopped it (a status or error kind).
func (p *Progress) Done(kind string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.done++
	if kind != "" {
		p.errs[kind]++
	}
	p.mu.Unlock()
}

// Line is the status line as drawn now.
func (p *Progress) Line() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := p.now().Sub(p.start).Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d targets", p.done, p.total)
	if p.total > 0 {
		fmt.Fprintf(&b, " (%d%%)", p.done*100/p.total)
	}
	if elapsed > 0 && p.done > 0 {
		rate := float64(p.done) / elapsed
		fmt.Fprintf(&b, ", %.1f/s", rate)
		if left := p.total - p.done; left > 0 {
			fmt.Fprintf(&b, ", ETA %s", time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	if len(p.errs) > 0 {
		b.WriteString(", failed:")
		for _, k := range slices.Sorted(maps.Keys(p.errs)) {
			fmt.Fprintf(&b, " %s %d", k, p.errs[k])
		}
	}
	return b.String()
}

func (p *Progress) draw() {
	line := p.Line()
	p.mu.Lock()
	p.drawn = true
	p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

// Stop draws the final state, ends the line and stops redrawing.
func (p *Progress) Stop() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.closed
	p.draw()
	fmt.Fprintln(p.w)
}
