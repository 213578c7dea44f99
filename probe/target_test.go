package probe

import (
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want Target
	}{
		{"example.com", Target{Kind: TargetDomain, Domain: "example.com"}},
		{"example.com.", Target{Kind: TargetDomain, Domain: "example.com"}},
		{"alice@example.com", Target{Kind: TargetAddress, User: "alice", Domain: "example.com"}},
		{`"a@b"@example.com`, Target{Kind: TargetAddress, User: `"a@b"`, Domain: "example.com"}},
		{"alice@[127.0.0.1]", Target{Kind: TargetAddress, User: "alice", Domain: "[127.0.0.1]", Host: "127.0.0.1"}},
		{"mx.example.com:2525", Target{Kind: TargetHost, Host: "mx.example.com", Port: 2525}},
		{"127.0.0.1:25", Target{Kind: TargetIP, Host: "127.0.0.1", Port: 25}},
		{"127.0.0.1", Target{Kind: TargetIP, Host: "127.0.0.1"}},
		{"::1", Target{Kind: TargetIP, Host: "::1"}},
		{"[::1]:2525", Target{Kind: TargetIP, Host: "::1", Port: 2525}},
		{"[IPv6:::1]:25", Target{Kind: TargetIP, Host: "::1", Port: 25}},
		{"[127.0.0.1]", Target{Kind: TargetIP, Host: "127.0.0.1"}},
		{"bücher.example", Target{Kind: TargetDomain, Domain: "bücher.example"}},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		tt.want.Input = tt.in
		if err != nil || got != tt.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTargetErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "empty target"},
		{"  ", "empty target"},
		{"a@", "nothing after the @"},
		{"@b", "nothing before the @"},
		{"host:99999", "1 to 65535"},
		{"host:0", "1 to 65535"},
		{"host:", "1 to 65535"},
		{"host:smtp", "1 to 65535"},
		{"[::1", "without a closing ]"},
		{"[::1]x", "expected :PORT"},
		{"[not-an-ip]:25", "not an IP address"},
		{"[IPv6:127.0.0.1]", "not an IPv6 address"},
		{"2001:db8::1:25x", "in brackets"},
		{"exa mple.com", "white space"},
		{"example..com", "empty label"},
		{"-bad.example", "hyphen"},
		{"a/b.example", "cannot contain"},
		{"example.com\r\nMAIL FROM:<x>", "carriage return (CR) at position 12"},
		{"a\x00b", "NUL byte at position 2"},
		{"alice@" + strings.Repeat("a", 64) + ".com", "63"},
	}
	for _, tt := range tests {
		_, err := ParseTarget(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseTarget(%q) error = %v; want one containing %q", tt.in, err, tt.msg)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("ParseTarget(%q): error is not one line: %q", tt.in, err)
		}
	}
}

func TestCheckLine(t *testing.T) {
	if err := CheckLine("HELO name", "ok.example"); err != nil {
		t.Errorf("CheckLine refused a clean name: %v", err)
	}
	err := CheckLine("--from", "a@b\nRSET")
	if err == nil || !strings.Contains(err.Error(), "--from has a line feed (LF) at position 4") {
		t.Errorf("CheckLine = %v", err)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"example.com", "a@b.test", "[::1]:25", "[IPv6:::1]", "host:2525", "a@[127.0.0.1]", "@", "[", "a\r\nb", "bücher.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			return
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			t.Errorf("accepted %q with CR, LF or NUL", s)
		}
		if tg.Port < 0 || tg.Port > 65535 || tg.Kind == "" || (tg.Host == "" && tg.Domain == "") {
			t.Errorf("ParseTarget(%q) = %+v", s, tg)
		}
	})
}

func TestCheckMailboxArg(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice@lab.test", "alice@lab.test", true},
		{"<alice@lab.test>", "alice@lab.test", true},
		{"prüfung@lab.test", "prüfung@lab.test", true},
		{`"a b"@lab.test`, `"a b"@lab.test`, true},
		{"x@lab.test> SIZE=999999999", "", false},
		{"<<alice@lab.test>>", "", false},
		{"<alice@lab.test", "", false},
		{"al ice@lab.test", "", false},
		{"alice", "", false},
		{"<>", "", false},
		{"", "", false},
		{"<@relay.test:alice@lab.test>", "", false},
		{"alice@lab.test\r\nRSET", "", false},
	}
	for _, tt := range tests {
		got, err := CheckMailboxArg("--rcpt", tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("CheckMailboxArg(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "--rcpt") || strings.ContainsAny(err.Error(), "\r\n")) {
			t.Errorf("CheckMailboxArg(%q): error %q is not one line naming the flag", tt.in, err)
		}
	}
	for _, u := range []string{"alice", `"al ice"`, "a.b"} {
		if err := CheckLocalPartArg("--user", u); err != nil {
			t.Errorf("CheckLocalPartArg(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"al ice", "alice@lab.test", "", "a..b", "<alice>"} {
		if err := CheckLocalPartArg("--user", u); err == nil {
			t.Errorf("CheckLocalPartArg(%q) accepted it", u)
		}
	}
	for _, d := range []string{"lab.test", "[127.0.0.1]", "localhost"} {
		if err := CheckDomainArg("--domain", d); err != nil {
			t.Errorf("CheckDomainArg(%q) = %v", d, err)
		}
	}
	for _, d := range []string{"a b", "lab.test>", "", "x@lab.test"} {
		if err := CheckDomainArg("--domain", d); err == nil {
			t.Errorf("CheckDomainArg(%q) accepted it", d)
		}
	}
}

func TestParseTargetRefusesTwoAts(t *testing.T) {
	if _, err := ParseTarget("x@y@z.test"); err == nil || !strings.Contains(err.Error(), "more than one @") {
		t.Errorf("ParseTarget(x@y@z.test) error = %v, want one naming the second @", err)
	}
	tg, err := ParseTarget(`"x@y"@z.test`)
	if err != nil || tg.User != `"x@y"` || tg.Domain != "z.test" {
		t.Errorf(`ParseTarget("x@y"@z.test) = %+v, %v; want user "x@y" at z.test`, tg, err)
	}
}
