package probe_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/probe"
)

// Seeds: the rows of TestParseTarget and the CLI's malformed targets.
var targetSeeds = []string{
	"example.com", "example.com.", "alice@example.com", `"a@b"@example.com`, "alice@[127.0.0.1]",
	"mx.example.com:2525", "127.0.0.1:25", "127.0.0.1", "::1", "[::1]:2525", "[IPv6:::1]:25",
	"[127.0.0.1]", "bücher.example", "a@", "@b", "host:99999", "[::1", "", "[256.1.1.1]",
	"[IPv6:127.0.0.1]:25", "a b.test", "-.test", "x..test", "host:0", "[127.0.0.1]:x",
	"2001:db8::25", "mx.test:25\r\nQUIT", "a\x00@b", "[fe80::1%eth0]:25", "a@[IPv6:::1]",
}

// FuzzParseTargetFields checks that ParseTarget never panics, that each
// kind of target it accepts has the fields that kind needs (an IP target a
// plain address without a zone), none holding what would break a command
// line, and that its errors are one printable line.
func FuzzParseTargetFields(f *testing.F) {
	for _, s := range targetSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := probe.ParseTarget(s)
		if err != nil {
			msg := err.Error()
			if msg == "" || strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("ParseTarget(%q): error %q is empty or holds a control character", s, msg)
			}
			return
		}
		if tg.Input != s {
			t.Fatalf("Input %q, want %q", tg.Input, s)
		}
		for _, f := range []string{tg.User, tg.Domain, tg.Host} {
			if strings.ContainsAny(f, "\r\n\x00 \t") {
				t.Fatalf("ParseTarget(%q) accepted a field with CR, LF, NUL or white space: %+v", s, tg)
			}
		}
		if tg.Port < 0 || tg.Port > 65535 {
			t.Fatalf("ParseTarget(%q): port %d", s, tg.Port)
		}
		switch tg.Kind {
		case probe.TargetDomain:
			if tg.Domain == "" || tg.Host != "" || tg.User != "" {
				t.Fatalf("domain target %+v", tg)
			}
		case probe.TargetAddress:
			if tg.User == "" || tg.Domain == "" {
				t.Fatalf("address target %+v", tg)
			}
		case probe.TargetHost:
			if tg.Host == "" || tg.Port == 0 {
				t.Fatalf("host target %+v", tg)
			}
		case probe.TargetIP:
			ip, err := netip.ParseAddr(tg.Host)
			if err != nil || ip.Zone() != "" {
				t.Fatalf("ip target %+v: host is not a plain IP address", tg)
			}
		default:
			t.Fatalf("ParseTarget(%q): kind %q", s, tg.Kind)
		}
		if tg.Direct() != (tg.Host != "") {
			t.Fatalf("Direct() = %v for %+v", tg.Direct(), tg)
		}
	})
}

// FuzzCheckWhyLine checks that the why line checker never passes a line
// that would break out of one command, and names a position inside it.
func FuzzCheckWhyLine(f *testing.F) {
	for _, s := range []string{"MAIL FROM:<a@b>", "RCPT TO:<c@d>", "MAIL FROM: <a@b> BODY=8BITMIME", "mail from:a@b",
		"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>", "MAIL FROM:<a\x00@b>", "RCPT TO:<jörg@exämple.com>", "", "DATA", "RCPT", "MAIL FROM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		err := probe.CheckWhyLine(line)
		if err == nil {
			if strings.ContainsAny(line, "\r\n\x00") {
				t.Fatalf("CheckWhyLine(%q) passed a line with CR, LF or NUL", line)
			}
			return
		}
		var le *probe.LineError
		if errors.As(err, &le) && (le.Pos < 0 || le.Pos > len(line)+1) {
			t.Fatalf("CheckWhyLine(%q): position %d outside the line", line, le.Pos)
		}
	})
}

// FuzzASCIIAddress checks that what may go to a server without SMTPUTF8
// is ASCII and that converting it again changes nothing.
func FuzzASCIIAddress(f *testing.F) {
	for _, s := range []string{"bob@bücher.test", "jörg@x.test", "a@b", "postmaster", "x@[127.0.0.1]", "@ü", "a@ü.", "a@xn--bcher-kva.test", "a@\u200b.test", "a@0\xfd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		got, err := probe.ASCIIAddress("ADDRESS", addr)
		if err != nil {
			return
		}
		if !utf8.ValidString(addr) {
			t.Fatalf("ASCIIAddress(%q) = %q: invalid UTF-8 has no A-label", addr, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x80 {
				t.Fatalf("ASCIIAddress(%q) = %q, not ASCII", addr, got)
			}
		}
		if again, err := probe.ASCIIAddress("ADDRESS", got); err != nil || again != got {
			t.Fatalf("ASCIIAddress(%q) = %q, then %q, %v", addr, got, again, err)
		}
	})
}
