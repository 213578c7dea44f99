package probe

import (
	"sort"
)

// Throttling is the server slowing its replies down as errors grow on a
// connection: measured from the round-trip times, never announced (Postfix
// sleeps smtpd_error_sleep_time per error past smtpd_soft_error_limit,
// Sendmail's BadRcptThrottle a second per bad recipient).
type Throttling struct {
	Connection  int     `json:"connection"`   // the first connection it was seen on
	AfterErrors int     `json:"after_errors"` // error replies on that connection before the first slow one
	MinDelayMS  float64 `json:"min_delay_ms"` // the smallest extra delay of a slow reply
	MaxDelayMS  float64 `json:"max_delay_ms"` // the largest
	SlowReplies int     `json:"slow_replies"` // replies that came late
}

// throttleDelay is how much slower than the connection's usual reply a
// reply must be to count as held back: well above loopback and LAN jitter,
// below the one second the common MTAs sleep.
const throttleDelayMS = 700

// measureThrottling looks, connection by connection, for replies that came
// throttleDelayMS or more later than the connection's fastest replies, and
// only after error replies had been drawn. It marks those replies' cause
// throttled when their reply gave no more specific one.
func measureThrottling(results []StepResult) *Throttling {
	var found *Throttling
	byConn := map[int][]int{}
	var conns []int
	for i, r := range results {
		if r.Reply == nil || r.Outcome == Skipped {
			continue
		}
		if _, ok := byConn[r.Connection]; !ok {
			conns = append(conns, r.Connection)
		}
		byConn[r.Connection] = append(byConn[r.Connection], i)
	}
	for _, c := range conns {
		idx := byConn[c]
		rtts := make([]float64, 0, len(idx))
		for _, i := range idx {
			rtts = append(rtts, results[i].RTTMS)
		}
		sort.Float64s(rtts)
		base := rtts[len(rtts)/4] // the fast quarter: what the server takes when it does not hold back
		errs := 0
		for _, i := range idx {
			r := &results[i]
			extra := r.RTTMS - base
			if errs > 0 && extra >= throttleDelayMS {
				if found == nil {
					found = &Throttling{Connection: c, AfterErrors: errs, MinDelayMS: extra, MaxDelayMS: extra}
				}
				found.SlowReplies++
				found.MinDelayMS = min(found.MinDelayMS, extra)
				found.MaxDelayMS = max(found.MaxDelayMS, extra)
				if r.Cause == "" || r.Cause == "policy" || r.Cause == "server-error" {
					if r.Outcome == Rejected || r.Outcome == Deferred {
						r.Cause = "throttled"
					}
				}
			}
			if r.Reply.Code >= 400 && r.Reply.Code != 421 {
				errs++
			}
		}
	}
	if found != nil && found.SlowReplies < 2 {
		return nil // one slow reply is a hiccup, not a policy
	}
	return found
}
