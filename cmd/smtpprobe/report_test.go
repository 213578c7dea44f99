package main

import (
	"bytes"
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
