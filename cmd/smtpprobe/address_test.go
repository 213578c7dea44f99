package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// runAddressCLI runs `smtpprobe address args...` through runEnv.
func runAddressCLI(t *testing.T, getenv map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return getenv[k] }}
	code = runEnv(context.Background(), append([]string{"address"}, args...), e)
	return code, out.String(), errb.String()
}

func TestAddressExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // substring expected on stdout
		stderr   string // substring expected on stderr
		emptyOut bool   // nothing may reach stdout (usage errors)
	}{
		{"valid", []string{"alice@example.com"}, exitOK, "valid SMTP mailbox", "", false},
		{"valid with brackets", []string{"<alice@example.com>"}, exitOK, "angle-brackets: given with surrounding <>", "", false},
		{"valid with warning", []string{"\"john doe\"@example.com"}, exitOK, "quoted-local-part", "", false},
		{"idn shows a-label", []string{"alice@bücher.example"}, exitOK, "xn--bcher-kva.example", "", false},
		{"invalid dots", []string{"a..b@example.com"}, exitCheck, "local-part-consecutive-dots", "", false},
		{"invalid missing at", []string{"alice"}, exitCheck, "missing-at", "", false},
		{"invalid display name", []string{"Alice <alice@example.com>"}, exitCheck, "display-name", "", false},
		{"invalid null path", []string{"<>"}, exitCheck, "null-path", "", false},
		{"no argument", nil, exitUsage, "", "takes one ADDRESS, got 0 arguments", true},
		{"two arguments", []string{"a@b.example", "c@d.example"}, exitUsage, "", "takes one ADDRESS, got 2 arguments; quote", true},
		{"empty argument", []string{""}, exitUsage, "", "ADDRESS is empty", true},
		{"CR", []string{"a\r@b.example"}, exitUsage, "", "CR at byte offset 1", true},
		{"LF", []string{"ab@c.example\nRSET"}, exitUsage, "", "LF at byte offset 12", true},
		{"NUL", []string{"a\x00b@c.example"}, exitUsage, "", "NUL at byte offset 1", true},
		{"unknown flag", []string{"--bogus", "a@b.example"}, exitUsage, "", "unknown flag", true},
		{"bad colour", []string{"--color=purple", "a@b.example"}, exitUsage, "", `invalid argument "purple" for "--color" flag: want auto, always or never`, true},
		{"help", []string{"--help"}, exitOK, "Usage: smtpprobe address", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAddressCLI(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if tc.emptyOut && out != "" {
				t.Errorf("usage error wrote to stdout: %q", out)
			}
			if code == exitUsage && strings.Count(errOut, "\n") > 2 {
				t.Errorf("usage error is not one line plus a hint: %q", errOut)
			}
		})
	}
}

func TestAddressJSON(t *testing.T) {
	code, out, _ := runAddressCLI(t, nil, "--json", "<jörg@bücher.example>")
	if code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Input         string `json:"input"`
		Address       string `json:"address"`
		Bracketed     bool   `json:"bracketed"`
		ALabel        string `json:"a_label"`
		NeedsSMTPUTF8 bool   `json:"needs_smtputf8"`
		ValidMailbox  bool   `json:"valid_mailbox"`
		Findings      []struct {
			Severity, ID, Message, Ref string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if doc.SchemaVersion != 1 || doc.Input != "<jörg@bücher.example>" || doc.Address != "jörg@bücher.example" ||
		!doc.Bracketed || doc.ALabel != "xn--bcher-kva.example" || !doc.NeedsSMTPUTF8 || !doc.ValidMailbox {
		t.Errorf("unexpected document: %+v", doc)
	}
	ids := map[string]string{}
	for _, f := range doc.Findings {
		ids[f.ID] = f.Severity
		if f.Ref == "" || f.Message == "" {
			t.Errorf("finding %q lacks ref or message", f.ID)
		}
	}
	if ids["smtputf8-required"] != "warning" || ids["angle-brackets"] != "note" {
		t.Errorf("findings = %v, want smtputf8-required warning and angle-brackets note", ids)
	}
	if strings.Contains(out, `\u003c`) {
		t.Errorf("JSON escapes the angle brackets: %s", out)
	}

	code, out, _ = runAddressCLI(t, nil, "--json", "a b@example.com")
	if code != exitCheck {
		t.Fatalf("invalid address: exit %d, want 1", code)
	}
	if !strings.Contains(out, `"valid_mailbox": false`) || !strings.Contains(out, `"id": "unquoted-space"`) {
		t.Errorf("invalid address JSON lacks the verdict or the finding:\n%s", out)
	}
}

func TestAddressColor(t *testing.T) {
	_, plain, _ := runAddressCLI(t, nil, "a..b@example.com")
	if strings.Contains(plain, "\x1b[") {
		t.Errorf("colour written to a non-terminal without --color:\n%q", plain)
	}
	_, colored, _ := runAddressCLI(t, nil, "--color", "always", "a..b@example.com")
	if !strings.Contains(colored, "\x1b[31merror") {
		t.Errorf("--color did not colour the error:\n%q", colored)
	}
	_, never, _ := runAddressCLI(t, map[string]string{"NO_COLOR": "1"}, "--color=never", "a..b@example.com")
	if strings.Contains(never, "\x1b[") {
		t.Errorf("--color=never still coloured:\n%q", never)
	}
}

// TestAddressEscapesInput: an escape sequence in the argument is shown,
// never sent to the terminal.
func TestAddressEscapesInput(t *testing.T) {
	code, out, _ := runAddressCLI(t, nil, "a\x1b[2Jb@example.com")
	if code != exitCheck {
		t.Errorf("exit %d, want 1 (control character)", code)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("raw ESC reached stdout:\n%q", out)
	}
	if !strings.Contains(out, `a\x1b[2Jb`) {
		t.Errorf("the escaped input is not shown:\n%s", out)
	}
}

// TestAddressSendAsIsExact: the "send as" line can be copied: a quoted
// pair keeps its one backslash.
func TestAddressSendAsIsExact(t *testing.T) {
	code, out, _ := runAddressCLI(t, nil, "--color=never", `"a\"b"@x.com`)
	if code != exitOK || !strings.Contains(out, "send as    <\"a\\\"b\"@x.com>\n") || strings.Contains(out, `\\`) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestEscapeExact(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		changed  bool
	}{
		{`MAIL FROM:<"a\"b"@x.com>`, `MAIL FROM:<"a\"b"@x.com>`, false},
		{`<"a\\b"@x>`, `<"a\\b"@x>`, false},
		{"jörg@bücher.example", "jörg@bücher.example", false},
		{"a\x01\\@b", `a\x01\@b`, true},
		{"a\x1b[2J@b", `a\x1b[2J@b`, true},
		{"a\xff@b", `a\xff@b`, true},
		{"a\u202e@b", `a\u202e@b`, true},
	} {
		got, changed := escapeExact(tc.in)
		if got != tc.want || changed != tc.changed {
			t.Errorf("escapeExact(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
		}
	}
	if got := showExact("a\x01@b"); !strings.HasSuffix(got, exactNote) {
		t.Errorf("showExact does not flag the escape: %q", got)
	}
	if got := showExact("a@b"); got != "a@b" {
		t.Errorf("showExact(%q) = %q", "a@b", got)
	}
}
