package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const bounceFixtures = "../../explain/testdata/bounce"

// TestExplainBounceFile: a bounce file is read per recipient, the verdict
// line before its evidence, for every recipient.
func TestExplainBounceFile(t *testing.T) {
	code, out, errs := runExplainTest(t, "", nil, filepath.Join(bounceFixtures, "postfix-dsn.eml"))
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"delivery status notification (RFC 3464) from Postfix at mx1.lab.example",
		"nobody@example.net: FAILED — reason userunknown, cause mailbox-unknown; sender must act",
		"full@example.org: FAILED — reason mailboxfull, cause mailbox-full; recipient must act",
		"list@example.com: FAILED — reason blocked, cause ip-blocklisted; sender's admin must act",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	verdict := strings.Index(out, "nobody@example.net: FAILED")
	evidence := strings.Index(out, "remote mta  mx.example.net")
	if verdict < 0 || evidence < verdict {
		t.Errorf("verdict at %d, evidence at %d: the verdict must come first", verdict, evidence)
	}
}

// TestExplainBounceStdinSniffed: the same message on stdin is read as a
// bounce; with --replies it goes to the reply annotator as before.
func TestExplainBounceStdinSniffed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(bounceFixtures, "qmail.eml"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runExplainTest(t, string(raw), nil, "-")
	if code != exitOK || !strings.Contains(out, "Message 1 (-): qmail bounce text from qmail") ||
		!strings.Contains(out, "nolocal@q.lab.example: FAILED — reason userunknown") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out, _ = runExplainTest(t, string(raw), nil, "--replies", "-")
	if code != exitOK || strings.Contains(out, "Message 1") || !strings.Contains(out, "  => 550 5.1.1") {
		t.Fatalf("--replies: exit %d:\n%s", code, out)
	}
}

// TestExplainBounceDirJSON reads the whole fixture directory as JSON:
// one document, every recipient with the documented fields, the summary
// counting each kind.
func TestExplainBounceDirJSON(t *testing.T) {
	code, out, errs := runExplainTest(t, "", nil, "--json", bounceFixtures)
	// plain-mail.eml holds no report: said on stderr, but others did.
	if code != exitOK || !strings.Contains(errs, "plain-mail.eml: no delivery report") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var doc struct {
		SchemaVersion int              `json:"schema_version"`
		Recipients    []map[string]any `json:"recipients"`
		Summary       struct {
			Messages int            `json:"messages"`
			Kinds    map[string]int `json:"kinds"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(bounceFixtures, "*"))
	if doc.SchemaVersion != 1 || doc.Summary.Messages < len(files) || len(doc.Recipients) < len(files) {
		t.Fatalf("schema %d, %d messages, %d recipients for %d files", doc.SchemaVersion, doc.Summary.Messages, len(doc.Recipients), len(files))
	}
	for _, k := range []string{"bounce", "delay", "feedback", "auto-reply", "none"} {
		if doc.Summary.Kinds[k] == 0 {
			t.Errorf("no message of kind %q in the summary: %v", k, doc.Summary.Kinds)
		}
	}
	for _, r := range doc.Recipients {
		for _, f := range []string{"message", "source", "kind", "recipient", "action", "status", "reply_code", "remote_mta", "diagnostic", "reason", "cause", "actor", "fix"} {
			if _, ok := r[f]; !ok {
				t.Errorf("recipient %v lacks %q", r["recipient"], f)
			}
		}
	}
}

// TestExplainBounceMboxStdin: an mbox on stdin is read message by message.
func TestExplainBounceMboxStdin(t *testing.T) {
	var mbox bytes.Buffer
	for _, f := range []string{"exim-text.eml", "arf.eml", "vacation-rfc3834.eml"} {
		raw, err := os.ReadFile(filepath.Join(bounceFixtures, f))
		if err != nil {
			t.Fatal(err)
		}
		mbox.WriteString("From MAILER-DAEMON Tue Dec  1 10:00:00 2026\n")
		mbox.Write(raw)
		mbox.WriteString("\n")
	}
	code, out, errs := runExplainTest(t, mbox.String(), nil, "-")
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"Message 1 (-#1): exim bounce text from Exim",
		"ghost@example.net: FAILED — reason userunknown",
		"Message 2 (-#2): feedback report (RFC 5965)",
		"reader@isp.example: feedback report (abuse), not a bounce",
		"Message 3 (-#3): automatic reply (RFC 3834)",
		"robin@example.org: automatic reply, not a bounce; reason vacation",
		"3 messages: 1 bounced, 1 feedback reports, 1 automatic replies; 4 recipients.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestExplainBounceEscapes: server text in a bounce reaches the terminal
// escaped.
func TestExplainBounceEscapes(t *testing.T) {
	msg := "From: MAILER-DAEMON@mx.example\nSubject: failure notice \x1b[31m\n\n" +
		"Hi. This is the qmail-send program at mx.example.\n\n<a@example.net>:\n" +
		"Remote host said: 550 5.1.1 no such user \x1b]0;owned\x07 here\u202e\n"
	code, out, _ := runExplainTest(t, msg, nil, "-")
	if code != exitOK || strings.ContainsAny(out, "\x1b\x07\u202e") || !strings.Contains(out, `\x1b]0;owned\x07`) {
		t.Fatalf("exit %d, output not escaped:\n%q", code, out)
	}
}

// TestExplainNotABounce: a message with no report is exit 1 with a word
// on stderr.
func TestExplainNotABounce(t *testing.T) {
	code, _, errs := runExplainTest(t, "", nil, filepath.Join(bounceFixtures, "plain-mail.eml"))
	if code != exitCheck || !strings.Contains(errs, "no delivery report") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runExplainTest(t, "", nil, "550", filepath.Join(bounceFixtures, "plain-mail.eml"))
	if code != exitUsage || !strings.Contains(errs, "not both") {
		t.Fatalf("mixed: exit %d, stderr %q", code, errs)
	}
}

// TestExplainLongLineBounded: replies on one very long line are annotated
// up to the cap and the rest counted, so the held annotations stay
// bounded however long the line.
func TestExplainLongLineBounded(t *testing.T) {
	defer func(n int) { maxLineAnnotations = n }(maxLineAnnotations)
	maxLineAnnotations = 5
	line := strings.Repeat("said: 550 5.1.1 <a@b.example> user unknown; ", 20000) // 0.9 MB, 14 replies found
	code, out, _ := runExplainTest(t, line+"\nnext line\n", nil, "-")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(out, "\n  => 550 5.1.1"); n != maxLineAnnotations {
		t.Errorf("%d annotations after the long line, want %d", n, maxLineAnnotations)
	}
	if !strings.Contains(out, "more replies on this line, not annotated") {
		t.Errorf("no count of the replies left out")
	}
}

// TestExplainBounceGolden: the sample bounce on stdin, read per
// recipient, as text and as JSON.
func TestExplainBounceGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(explainTestdata, "bounce.eml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-"}, {"--json", "-"}} {
		code, out, errs := runExplainTest(t, string(in), nil, args...)
		if code != exitOK || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		name := "bounce.eml.recipients.golden"
		if args[0] == "--json" {
			name = "bounce.eml.recipients.json.golden"
		}
		checkGolden(t, filepath.Join(explainTestdata, name), out)
	}
}

// TestExplainLogFile: a file of log lines goes to the reply annotator,
// as the same text on stdin does.
func TestExplainLogFile(t *testing.T) {
	path := filepath.Join(explainTestdata, "postfix.log")
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	code, fromFile, _ := runExplainTest(t, "", nil, path)
	_, fromStdin, _ := runExplainTest(t, string(in), nil, "-")
	if code != exitOK || fromFile != fromStdin || !strings.Contains(fromFile, "  => ") {
		t.Fatalf("exit %d; file and stdin differ or nothing annotated:\n%s", code, fromFile)
	}
}
