package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe"
)

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
	render.Render(&b, render.NewProbe(&r), render.Options{Width: 80})
	text := b.String()
	for i, l := range strings.Split(text, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d is %d runes: %q", i+1, n, l)
		}
	}
	if strings.Contains(text, "…\n") && strings.Contains(text, "5.5.1 M…") {
		t.Errorf("a reply was cut:\n%s", text)
	}
	if !strings.Contains(text, "\n      502 5.5.1 Missing MAIL FROM command.\n") {
		t.Errorf("rcpt-before-mail's reply is not whole on its own line:\n%s", text)
	}
	// Not a terminal: one row a case, as the goldens have it.
	b.Reset()
	render.Render(&b, render.NewProbe(&r), render.Options{})
	if !regexp.MustCompile(`(?m)^  rcpt-before-mail +RCPT TO:<alice@demo\.test> +wrong-code +502 5\.5\.1 Missing MAIL FROM command\.$`).MatchString(b.String()) {
		t.Errorf("without a width the row changed:\n%s", b.String())
	}
}
