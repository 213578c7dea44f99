package probe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
)

// Many mailboxes ride few connections: one VRFY each, and RCPTs many to a
// transaction; a server that takes only three recipients per transaction
// and answers 452 to the fourth (RFC 5321 §4.5.3.1.10) gets the rest in
// further transactions, and every address ends with its own answer.
func TestRunMailboxesBatchesAndHonoursRecipientLimit(t *testing.T) {
	const limit = 3
	inTx := map[int]int{} // connection → recipients in the open transaction
	most := 0
	srv := probetest.StartLineServer(t, "220 mx.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		up := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(up, "EHLO"):
			return probetest.LineReply{Out: "250-mx.test\r\n250 8BITMIME\r\n"}
		case strings.HasPrefix(up, "MAIL"):
			inTx[c.N] = 0
			return probetest.LineReply{Out: "250 2.1.0 ok\r\n"}
		case strings.HasPrefix(up, "RCPT"):
			if strings.Contains(line, "nobody") {
				return probetest.LineReply{Out: "550 5.1.1 no such user\r\n"}
			}
			if inTx[c.N] >= limit {
				return probetest.LineReply{Out: "452 4.5.3 too many recipients\r\n"}
			}
			inTx[c.N]++
			most = max(most, inTx[c.N])
			return probetest.LineReply{Out: "250 2.1.5 ok\r\n"}
		case strings.HasPrefix(up, "VRFY"):
			return probetest.LineReply{Out: "252 2.0.0 try it\r\n"}
		case up == "RSET":
			return probetest.LineReply{Out: "250 ok\r\n"}
		case up == "QUIT":
			return probetest.LineReply{Out: "221 bye\r\n", Close: true}
		}
		return probetest.LineReply{Out: "502 no\r\n"}
	})
	var addrs []string
	for i := range 10 {
		addrs = append(addrs, fmt.Sprintf("u%d@example.com", i))
	}
	addrs = append(addrs, "nobody@example.com")
	host, port, _ := net.SplitHostPort(srv.Addr())
	var p int
	fmt.Sscan(port, &p)
	o := Options{Port: p, HELO: "client.test", TLS: "none", Timeout: 5 * time.Second}
	h := RunMailboxes(context.Background(), o, "mx.test", host, Mailboxes{Addresses: addrs, VRFY: true, RCPT: true, PerTransaction: 5})
	if h.Status != StatusOK {
		t.Fatalf("status %s: %s", h.Status, h.Error)
	}
	vrfy, rcpt := map[string]int{}, map[string]int{}
	for _, s := range h.Steps {
		if s.Reply == nil {
			continue
		}
		switch s.Step().Role {
		case RoleVRFYAddress:
			vrfy[s.Address] = s.Reply.Code
		case RoleRcptAddress:
			if _, dup := rcpt[s.Address]; dup {
				t.Errorf("%s has two RCPT results", s.Address)
			}
			rcpt[s.Address] = s.Reply.Code
		}
	}
	for _, a := range addrs {
		want := 250
		if strings.HasPrefix(a, "nobody") {
			want = 550
		}
		if vrfy[a] != 252 || rcpt[a] != want {
			t.Errorf("%s: VRFY %d RCPT %d, want 252 and %d", a, vrfy[a], rcpt[a], want)
		}
	}
	if most > limit {
		t.Errorf("%d recipients in one transaction, the server allows %d", most, limit)
	}
	if srv.Accepted() > 3 {
		t.Errorf("%d connections for 11 mailboxes", srv.Accepted())
	}
	if strings.Contains(string(srv.Received()), "DATA") {
		t.Error("DATA was sent")
	}
}
