package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/probe"
)

func TestPrinterWrap(t *testing.T) {
	var b bytes.Buffer
	p := &printer{w: &b, o: reportOptions{width: 40}}
	p.wrap("  - ", strings.Repeat("word ", 30))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) < 4 {
		t.Fatalf("not wrapped:\n%s", b.String())
	}
	for i, l := range lines {
		if utf8.RuneCountInString(l) > 40 {
			t.Errorf("line %d is %d wide: %q", i+1, utf8.RuneCountInString(l), l)
		}
		if i > 0 && !strings.HasPrefix(l, "    word") {
			t.Errorf("continuation line %d not indented under the text: %q", i+1, l)
		}
	}
	b.Reset()
	p.o.width = 0
	p.wrap("  - ", strings.Repeat("word ", 30))
	if strings.Count(b.String(), "\n") != 1 {
		t.Errorf("wrapped without a known width")
	}
}

func TestReplyText(t *testing.T) {
	r := &probe.Reply{Code: 550, Enhanced: "5.1.1", Lines: []string{"5.1.1 <a@b>: no such user", "5.1.1 try again", "5.1.10 other"}}
	if got := replyText(r); got != "<a@b>: no such user try again 5.1.10 other" {
		t.Errorf("replyText = %q", got)
	}
}

func TestVerboseTranscript(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", lenient)
	out, _, code := runCLI(t, "probe", "--tls", "none", "--suite", "vrfy", "-v", srv.addr())
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Transcript", "-- connection 1", "C: EHLO ", "S: 220 cli.test ESMTP", "C: VRFY", "C: QUIT", "S: 221"} {
		if !strings.Contains(out, want) {
			t.Errorf("-v output lacks %q", want)
		}
	}
	// every transcript line starts with the time since the connection opened
	timed := regexp.MustCompile(`(?m)^ +\d+\.\dms [CS]: `)
	if n := len(timed.FindAllString(out, -1)); n < 6 {
		t.Errorf("-v transcript has %d lines with a timing column; want every line timed:\n%s", n, out)
	}
	if !regexp.MustCompile(`(?m)^ +\d+\.\dms C: QUIT$`).MatchString(out) {
		t.Errorf("QUIT has no timing:\n%s", out)
	}
	// The EHLO reply arrives in one write: still one transcript line a line.
	if !regexp.MustCompile(`(?m)^ +\d+\.\dms S: 250-SIZE 2048\n +\d+\.\dms S: 250 8BITMIME$`).MatchString(out) || strings.Contains(out, `\r\n`) {
		t.Errorf("the EHLO reply is not shown a line at a time:\n%s", out)
	}
	out, _, _ = runCLI(t, "probe", "--tls", "none", "--suite", "vrfy", srv.addr())
	if strings.Contains(out, "Transcript") {
		t.Error("transcript printed without -v")
	}
}

// A DNS failure leaves no rcode: no empty brackets.
func TestWriteTargetNoEmptyRcode(t *testing.T) {
	var b bytes.Buffer
	writeReport(&b, &probe.Report{Target: probe.Target{Input: "x.test", Kind: probe.TargetDomain, Domain: "x.test"}, MX: &probe.MXResult{Kind: "unresolved"}}, reportOptions{})
	if strings.Contains(b.String(), "()") || !strings.Contains(b.String(), "mx          unresolved\n") {
		t.Errorf("report:\n%s", b.String())
	}
}

// A whole report at 80 columns keeps every line within 80 runes, and the
// syntax table moves a reply that does not fit under its row instead of
// cutting it.
func TestReportFitsWidth(t *testing.T) {
	out, _, code := runCLI(t, "demo", "--json")
	if code != exitOK {
		t.Fatalf("demo exit %d", code)
	}
	var r probe.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	writeReport(&b, &r, reportOptions{width: 80})
	text := b.String()
	for i, l := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d is %d runes: %q", i+1, n, l)
		}
	}
	if strings.Contains(text, "…\n") && strings.Contains(text, "5.5.1 M…") {
		t.Errorf("a reply was cut:\n%s", text)
	}
	if !strings.Contains(text, "\n"+replyIndent+"502 5.5.1 Missing MAIL FROM command.\n") {
		t.Errorf("rcpt-before-mail's reply is not whole on its own line:\n%s", text)
	}
	// Not a terminal: one row a case, as the goldens have it.
	b.Reset()
	writeReport(&b, &r, reportOptions{})
	if !regexp.MustCompile(`(?m)^  rcpt-before-mail +RCPT TO:<alice@demo\.test> +wrong-code +502 5\.5\.1 Missing MAIL FROM command\.$`).MatchString(b.String()) {
		t.Errorf("without a width the row changed:\n%s", b.String())
	}
}

// Characters that take no room or turn the text around are shown as
// escapes, so two replies that print alike are alike.
func TestEscapeUntrustedInvisible(t *testing.T) {
	for in, want := range map[string]string{
		"a\u200bb":        `a\u200bb`,
		"a\u200eb":        `a\u200eb`,
		"a\u200fb":        `a\u200fb`,
		"a\u061cb":        `a\u061cb`,
		"\ufeff250 ok":    `\ufeff250 ok`,
		"a\u2060b":        `a\u2060b`,
		"a\u202eb":        `a\u202eb`,
		"a\u2067b":        `a\u2067b`,
		"ok \u200d emoji": `ok \u200d emoji`, // a format character like the rest: server text needs no ZWJ
		"prüfung ünïcode": "prüfung ünïcode",
	} {
		if got := escapeUntrusted(in); got != want {
			t.Errorf("escapeUntrusted(%q) = %q, want %q", in, got, want)
		}
	}
}

// An IPv6 address and port keep their own brackets in the host title; an
// IPv4 one is put in brackets.
func TestHostTitleAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"[::1]:25":     "Host mx6.lab.test [::1]:25\n",
		"127.0.0.1:25": "Host mx.lab.test [127.0.0.1:25]\n",
	} {
		name := "mx.lab.test"
		if strings.HasPrefix(addr, "[") {
			name = "mx6.lab.test"
		}
		var b bytes.Buffer
		writeReport(&b, &probe.Report{Target: probe.Target{Input: name, Kind: probe.TargetDomain, Domain: "lab.test"},
			Hosts: []probe.HostReport{{Host: name, Address: addr, Status: "ok"}}}, reportOptions{})
		if !strings.Contains(b.String(), want) {
			t.Errorf("address %s: no %q in\n%s", addr, want, b.String())
		}
	}
}
