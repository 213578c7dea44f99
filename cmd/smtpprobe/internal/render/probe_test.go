package render

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/probe"
)

func TestPrinterWrap(t *testing.T) {
	var b bytes.Buffer
	p := NewPrinter(&b, Options{Width: 40})
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
	p.o.Width = 0
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

// A DNS failure leaves no rcode: no empty brackets.
func TestWriteTargetNoEmptyRcode(t *testing.T) {
	var b bytes.Buffer
	writeReport(NewPrinter(&b, Options{}), &probe.Report{Target: probe.Target{Input: "x.test", Kind: probe.TargetDomain, Domain: "x.test"}, MX: &probe.MXResult{Kind: "unresolved"}})
	if strings.Contains(b.String(), "()") || !strings.Contains(b.String(), "mx          unresolved\n") {
		t.Errorf("report:\n%s", b.String())
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
		writeReport(NewPrinter(&b, Options{}), &probe.Report{Target: probe.Target{Input: name, Kind: probe.TargetDomain, Domain: "lab.test"},
			Hosts: []probe.HostReport{{Host: name, Address: addr, Status: "ok"}}})
		if !strings.Contains(b.String(), want) {
			t.Errorf("address %s: no %q in\n%s", addr, want, b.String())
		}
	}
}

// TestScheduleTextSaysWhatTheServerChanged: the report says how many
// steps went again after a hang-up, that a 421 lowered the cap, and that
// a tarpit moved the errors; a plain schedule says none of it.
func TestScheduleTextSaysWhatTheServerChanged(t *testing.T) {
	sc := &probe.Schedule{Mode: probe.ModePipelinedParallel, Pipelining: true, Connections: 2, Groups: 9, RoundTrips: 12, Resent: 3, Lowered: 1, Tarpit: true}
	var steps []probe.StepResult
	for i, name := range []string{"rcpt-a", "rcpt-b", "rcpt-c", "rcpt-d", "rcpt-e"} {
		steps = append(steps, probe.StepResult{Name: name, Connection: 4, ResentFrom: 2 + i%2})
	}
	steps = append(steps, probe.StepResult{Name: "rcpt-kept", Connection: 1})
	got := scheduleText(sc, &probe.HostReport{Steps: steps})
	for _, want := range []string{"3 steps sent again after the server hung up", "(rcpt-a: connection 2, again on 4; rcpt-b: connection 3, again on 4;",
		"rcpt-d: connection 3, again on 4; 1 more)", "cap was lowered 1 time", "(a tarpit)"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
	if strings.Contains(got, "rcpt-kept") {
		t.Errorf("a step sent once is named among those sent again: %q", got)
	}
	plain := scheduleText(&probe.Schedule{Mode: probe.ModePipelinedParallel, Pipelining: true, Connections: 3}, &probe.HostReport{})
	for _, not := range []string{"sent again", "421", "tarpit", "PIPELINING"} {
		if strings.Contains(plain, not) {
			t.Errorf("%q in a plain schedule: %q", not, plain)
		}
	}
	// Lock-step because the server offered no PIPELINING: said; lock-step
	// asked for of a server that offers it: not.
	ehlo := &probe.Reply{Code: 250, Lines: []string{"mx.test"}}
	lock := &probe.Schedule{Mode: probe.ModeLockStep, Connections: 1}
	if got := scheduleText(lock, &probe.HostReport{EHLO: ehlo}); !strings.Contains(got, "does not advertise PIPELINING") {
		t.Errorf("lock-step without PIPELINING: %q", got)
	}
	withPipe := &probe.HostReport{EHLO: ehlo, Extensions: probe.ParseExtensions([]string{"mx.test", "PIPELINING"})}
	if got := scheduleText(lock, withPipe); strings.Contains(got, "PIPELINING") {
		t.Errorf("lock-step asked for: %q", got)
	}
}
