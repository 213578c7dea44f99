package main

import (
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// spamhausServer is strict about the hello (EHLO first, a valid name)
// and MAIL FROM (brackets, no space, one transaction at a time) and
// refuses every RCPT with Postfix's stock text for a Spamhaus hit.
func spamhausServer(t *testing.T) *probetest.LineServer {
	var mu sync.Mutex
	inTx, greeted := map[int]bool{}, map[int]bool{}
	return probetest.StartLineServer(t, "220 cli.test ESMTP\r\n", func(c *probetest.LineConn, line string) probetest.LineReply {
		mu.Lock()
		defer mu.Unlock()
		reply := func(s string) probetest.LineReply { return probetest.LineReply{Out: s + "\r\n"} }
		switch strings.ToUpper(strings.Fields(line + " x")[0]) {
		case "EHLO":
			if strings.Contains(line, "_") {
				return reply("501 5.5.2 Syntax: EHLO hostname")
			}
			greeted[c.N] = true
			return reply("250-cli.test\r\n250 8BITMIME")
		case "QUIT":
			return probetest.LineReply{Out: "221 2.0.0 bye\r\n", Close: true}
		case "RSET":
			inTx[c.N] = false
			return reply("250 2.0.0 ok")
		case "VRFY":
			if line == "VRFY" {
				return reply("501 5.5.4 Syntax: VRFY address")
			}
			return reply("252 2.0.0 Cannot VRFY user")
		case "MAIL":
			switch {
			case !greeted[c.N]:
				return reply("503 5.5.1 Error: send HELO/EHLO first")
			case inTx[c.N]:
				return reply("503 5.5.1 Error: nested MAIL command")
			case strings.Contains(line, "XSMTPPROBE"):
				return reply("555 5.5.4 Unsupported option: XSMTPPROBE=1")
			case !rfcPath(line[len("MAIL FROM:"):]):
				return reply("501 5.1.7 Bad sender address syntax")
			}
			inTx[c.N] = true
			return reply("250 2.1.0 Ok")
		case "RCPT":
			if !inTx[c.N] {
				return reply("503 5.5.1 Error: need MAIL command")
			}
			return reply("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1")
		}
		return reply("502 5.5.2 Error: command not recognized")
	})
}

// A blocklist hit is policy about the client: --fail-on nonconforming
// does not fire, and the report leads with what failed and what to change.
func TestProbeBlocklistedIsNoBreach(t *testing.T) {
	srv := spamhausServer(t)
	out, errs, code := runCLI(t, "probe", "--tls", "none", "--helo", "client.test", "--from", "probe@client.test",
		"--domain", "cli.test", "--user", "alice", "--fail-on", "nonconforming", srv.Addr())
	if code != exitOK {
		t.Fatalf("exit %d; a blocklist refusal is no RFC breach\n%s%s", code, out, errs)
	}
	failed := strings.Index(out, "FAILED      mailbox baseline")
	vrfy := strings.Index(out, "VRFY and EXPN")
	if failed < 0 || vrfy < 0 || failed > vrfy {
		t.Errorf("the failed baseline does not lead the host's report:\n%s", out)
	}
	if !strings.Contains(out, "zen.spamhaus.org) and it lists the address") {
		t.Errorf("no advice naming the list:\n%s", out)
	}
	if regexp.MustCompile(`(?m)^  rcpt-\S+ .* strict `).MatchString(out) {
		t.Errorf("a step is judged strict on a blocklist answer:\n%s", out)
	}
	if !strings.Contains(out, "withheld") {
		t.Errorf("the withheld verdicts are not shown:\n%s", out)
	}
}

// rfcPath tells whether a MAIL FROM argument is <>, or one pair of
// brackets around an optional source route and a mailbox the address
// checker takes, with nothing after it.
func rfcPath(arg string) bool {
	if !strings.HasPrefix(arg, "<") || !strings.HasSuffix(arg, ">") {
		return false
	}
	path := arg[1 : len(arg)-1]
	if path == "" {
		return true
	}
	if strings.HasPrefix(path, "@") {
		_, rest, ok := strings.Cut(path, ":")
		if !ok {
			return false
		}
		path = rest
	}
	return probe.IsMailbox(path) && isASCII(path)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// A host target's name goes to --dns too, and DNS failing is exit 3.
func TestProbeHostTargetDNSFailureIsExit3(t *testing.T) {
	bad := resolvertest.StartBehavior(t, mxZone(t), resolvertest.Behavior{Rcode: dns.RcodeServerFailure})
	_, errs, code := runCLI(t, "probe", "--tls", "none", "--helo", "client.test", "--dns", bad.Addr(), "host.mx.test:25")
	if code != exitDNS {
		t.Errorf("exit %d, want %d (DNS failed)\n%s", code, exitDNS, errs)
	}
}
