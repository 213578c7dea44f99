package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/explain"
)

// rcptRawServer is lenient but refuses a RCPT TO whose path has two dots
// in a row, the way a server checking the syntax would.
func rcptRawServer(line string) string {
	if strings.HasPrefix(strings.ToUpper(line), "RCPT") && strings.Contains(line, "..") {
		return "501 5.1.3 Bad recipient address syntax"
	}
	return lenient(line)
}

// --rcpt-raw puts the text after "RCPT TO:" on the wire byte for byte,
// inside a transaction; its reply is annotated as a reply to RCPT, judged
// against nothing, and a refusal leaves the exit code alone.
func TestProbeRcptRaw(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", rcptRawServer)
	texts := []string{
		"<a..b@cli.test>",            // a malformed local part
		"a b@cli.test",               // no brackets, a space
		" <c@cli.test> NOTIFY=NEVER", // a space after the colon, a parameter
		"<\tx@cli.test>",             // a TAB, which only CR, LF and NUL are refused beside
		"<jörg@exämple.test>",        // UTF-8 as written: no A-label, no SMTPUTF8 check
	}
	args := []string{"probe", "--tls", "none", "--suite", "syntax", "--domain", "cli.test", "--json"}
	for _, s := range texts {
		args = append(args, "--rcpt-raw", s)
	}
	out, errOut, code := runCLI(t, append(args, srv.addr())...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0 (a refused raw line sets no exit code); stderr:\n%s", code, errOut)
	}
	got := srv.Received()
	for _, s := range texts {
		want := []byte("\r\nRCPT TO:" + s + "\r\n")
		if !bytes.Contains(got, want) {
			t.Errorf("the server did not receive %q byte for byte", want)
		}
	}
	var doc struct {
		Hosts []struct {
			Steps []struct {
				Name, Command, Sent, Address, Annotation, Outcome, Conformance, Verdict string
				Connection                                                              int
				Reply                                                                   *struct {
					Code     int
					Enhanced string
					Lines    []string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Hosts) != 1 {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	seen := 0
	for _, s := range doc.Hosts[0].Steps {
		if !strings.HasPrefix(s.Name, "rcpt-raw-") {
			continue
		}
		seen++
		i := int(s.Name[len(s.Name)-1] - '1')
		if i < 0 || i >= len(texts) || s.Sent != "RCPT TO:"+texts[i] || s.Address != texts[i] || s.Command != "rcpt" {
			t.Errorf("%s: sent %q, address %q, command %q", s.Name, s.Sent, s.Address, s.Command)
			continue
		}
		if s.Reply == nil {
			t.Errorf("%s: no reply", s.Name)
			continue
		}
		text := strings.Join(s.Reply.Lines, "\n")
		rcpt := explain.Explain(s.Reply.Code, s.Reply.Enhanced, text, explain.RCPT).Brief()
		if s.Annotation != rcpt {
			t.Errorf("%s: annotation %q, want the RCPT one %q", s.Name, s.Annotation, rcpt)
		}
		if !strings.HasPrefix(s.Verdict, "not judged: ") || s.Conformance != "info" {
			t.Errorf("%s: conformance %s, verdict %q", s.Name, s.Conformance, s.Verdict)
		}
		wantCode := 250
		if strings.Contains(texts[i], "..") {
			wantCode = 501
		}
		if s.Reply.Code != wantCode {
			t.Errorf("%s: reply %d, want %d", s.Name, s.Reply.Code, wantCode)
		}
	}
	if seen != len(texts) {
		t.Errorf("%d rcpt-raw steps in the report, want %d", seen, len(texts))
	}
	mail := explain.Explain(501, "5.1.3", "Bad recipient address syntax", explain.MAIL).Brief()
	rcpt := explain.Explain(501, "5.1.3", "Bad recipient address syntax", explain.RCPT).Brief()
	if mail == rcpt {
		t.Errorf("the annotation of 501 5.1.3 is the same after MAIL and RCPT (%q): the check above proves nothing", rcpt)
	}

	// The text report shows the line and the RCPT annotation.
	out, _, code = runCLI(t, "probe", "--tls", "none", "--suite", "syntax", "--domain", "cli.test", "--color", "never", "--rcpt-raw", "<a..b@cli.test>", srv.addr())
	if code != exitOK || !strings.Contains(out, "RCPT TO:<a..b@cli.test>") || !strings.Contains(out, rcpt) {
		t.Errorf("exit %d; the text report lacks the line or %q:\n%s", code, rcpt, out)
	}
}

// Only what would break the command line is refused, before anything is
// sent: CR, LF, NUL, a line over 512 octets; also an empty text and a
// suite that leaves the RCPT lines out. One line on stderr, exit 2.
func TestProbeRcptRawRefused(t *testing.T) {
	srv := startSMTP(t, "220 cli.test ESMTP", rcptRawServer)
	fits := "<" + strings.Repeat("a", 512-len("RCPT TO:<>\r\n")) + ">" // exactly 512 octets with CRLF
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--rcpt-raw", "<a@cli.test>\r\nDATA"}, "smtpprobe probe: --rcpt-raw #1 has a carriage return (CR) at position 13; refusing to send it\n"},
		{[]string{"--rcpt-raw", "<a@cli.test>", "--rcpt-raw", "<b@cli.test>\nDATA"}, "smtpprobe probe: --rcpt-raw #2 has a line feed (LF) at position 13; refusing to send it\n"},
		{[]string{"--rcpt-raw", "<a\x00@cli.test>"}, "smtpprobe probe: --rcpt-raw #1 has a NUL byte at position 3; refusing to send it\n"},
		{[]string{"--rcpt-raw", fits + "x"}, "smtpprobe probe: --rcpt-raw #1 makes a 513-octet command line, over the 512 octets (CRLF included) RFC 5321 §4.5.3.1.4 has servers accept; refusing to send it\n"},
		{[]string{"--rcpt-raw", ""}, "smtpprobe probe: --rcpt-raw #1 is empty: give the text to send after RCPT TO:, e.g. <a..b@example.com>\n"},
		{[]string{"--suite", "vrfy", "--rcpt-raw", "<a..b@cli.test>"}, "smtpprobe probe: --rcpt-raw goes in the syntax suite, which the suites chosen (vrfy) leave out\n"},
	} {
		args := append([]string{"probe", "--tls", "none", "--domain", "cli.test"}, tc.args...)
		out, errOut, code := runCLI(t, append(args, srv.addr())...)
		if code != exitUsage || errOut != tc.msg+"Run 'smtpprobe probe --help' for usage.\n" || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.msg)
		}
	}
	// --rcpt refuses what is not a mailbox, and names the flag that sends it anyway.
	_, errOut, code := runCLI(t, "probe", "--tls", "none", "--domain", "cli.test", "--rcpt", "a..b@cli.test", srv.addr())
	if first, _, _ := strings.Cut(errOut, "\n"); code != exitUsage || !strings.HasPrefix(first, `smtpprobe probe: --rcpt #1 "a..b@cli.test" is not a mailbox`) ||
		!strings.HasSuffix(first, `; to send it as written anyway: --rcpt-raw "<a..b@cli.test>"`) {
		t.Errorf("--rcpt a..b@cli.test: exit %d, stderr %q", code, errOut)
	}
	if n := srv.Accepted(); n != 0 {
		t.Errorf("%d connections made for refused input, want none", n)
	}
	_, errOut, code = runCLI(t, "probe", "--tls", "none", "--suite", "syntax", "--domain", "cli.test", "--rcpt-raw", fits, srv.addr())
	if code != exitOK || !bytes.Contains(srv.Received(), []byte("\r\nRCPT TO:"+fits+"\r\n")) {
		t.Errorf("a 512-octet line: exit %d, not received as sent; stderr %s", code, errOut)
	}
}
