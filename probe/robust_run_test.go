package probe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// answerAll is a LineServer rule for a lenient server with the given EHLO
// keyword lines: 250 to everything, 221 to QUIT.
func answerAll(ehlo ...string) probetest.AnswerFunc {
	return func(c *probetest.LineConn, line string) probetest.LineReply {
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			out := "250-lenient.test\r\n"
			for i, l := range ehlo {
				sep := "-"
				if i == len(ehlo)-1 {
					sep = " "
				}
				out += "250" + sep + l + "\r\n"
			}
			if len(ehlo) == 0 {
				out = "250 lenient.test\r\n"
			}
			return probetest.LineReply{Out: out}
		case "QUIT":
			return probetest.LineReply{Out: "221 bye\r\n", Close: true}
		}
		return probetest.LineReply{Out: "250 ok\r\n"}
	}
}

func runAt(t *testing.T, addr string, o probe.Options) *probe.Report {
	t.Helper()
	target, err := probe.ParseTarget(addr)
	if err != nil {
		t.Fatal(err)
	}
	o.Target = target
	if o.Domain == "" {
		o.Domain = "rule.test"
	}
	o.HELO, o.From, o.TLS, o.Random = "client.test", "probe@client.test", "none", "smtpprobe-r4nd0m"
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := probe.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestRunSizeMaxInt64: SIZE 9223372036854775807 is the largest limit an
// int64 holds; one octet over it is sent as 9223372036854775808, never as
// a wrapped negative number.
func TestRunSizeMaxInt64(t *testing.T) {
	srv := probetest.StartLineServer(t, "220 lenient.test ESMTP\r\n", answerAll("SIZE 9223372036854775807"))
	rep := runAt(t, srv.Addr(), probe.Options{Suites: []string{"syntax"}})
	s := stepsByName(rep.Hosts[0])["mail-size-over-limit"]
	if !strings.HasSuffix(s.Sent, " SIZE=9223372036854775808") {
		t.Errorf("sent %q; want SIZE=9223372036854775808", s.Sent)
	}
	if got := string(srv.Received()); strings.Contains(got, "SIZE=-") || !strings.Contains(got, "SIZE=9223372036854775808\r\n") {
		t.Errorf("the server received %q", got)
	}
}
