package probe_test

import (
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe"
)

// postfixSoftLimit is Postfix's smtpd_soft_error_limit: once a session
// has drawn this many errors, Postfix delays every further reply by
// smtpd_error_sleep_time (1 s).
const postfixSoftLimit = 10

// TestPostfixGroupsKeepTheRules: at the lab's strict and lenient Postfix,
// in the default and the one-connection modes, every pipelined write
// keeps RFC 2920 §3.1 (VRFY, EXPN, EHLO, NOOP and QUIT only last, which
// Postfix ≥ 3.9 enforces), no session draws as many errors as Postfix's soft
// limit, and no more connections are open at once than the cap.
func TestPostfixGroupsKeepTheRules(t *testing.T) {
	for _, addr := range []string{postfixStrict, postfixLenient} {
		for _, conns := range []int{1, 3} {
			h := probePostfix(t, addr, func(o *probe.Options) { o.Connections = conns })
			if h.Schedule == nil || !h.Schedule.Pipelining {
				t.Fatalf("%s: schedule %+v", addr, h.Schedule)
			}
			if h.Schedule.Peak > conns {
				t.Errorf("%s, %d connections: %d open at once", addr, conns, h.Schedule.Peak)
			}
			for _, l := range h.Transcript {
				if l.Dir != "C" {
					continue
				}
				lines := strings.Split(strings.TrimSuffix(l.Data, "\r\n"), "\r\n")
				for i, line := range lines[:len(lines)-1] {
					switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
					case "VRFY", "EXPN", "EHLO", "HELO", "NOOP", "QUIT":
						t.Errorf("%s, %d connections: connection %d sent %s as line %d of %d in one group: %q", addr, conns, l.Connection, verb, i+1, len(lines), l.Data)
					}
				}
			}
			errs := map[int]int{}
			for _, s := range h.Steps {
				if s.Reply != nil && s.Reply.Code >= 400 && s.Reply.Code != 421 {
					errs[s.Connection]++
				}
			}
			for c, n := range errs {
				if n >= postfixSoftLimit {
					t.Errorf("%s, %d connections: connection %d drew %d errors, Postfix's soft limit is %d", addr, conns, c, n, postfixSoftLimit)
				}
			}
			t.Logf("%s, %d connections: errors per connection %v, schedule %+v", addr, conns, errs, *h.Schedule)
		}
	}
}
