package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/batch"
)

const addressExamples = `  smtpprobe address alice@example.com           # plain address: exit 0
  smtpprobe address '<"john doe"@example.com>'  # brackets are accepted and noted
  smtpprobe address 'jörg@bücher.example'        # needs SMTPUTF8; shows the A-label
  smtpprobe address --json 'a..b@example.com'   # findings as JSON; exit 1
`

// runAddress analyses one address offline (probe.AnalyzeAddress) and exits
// 0 when it is a valid SMTP mailbox, 1 when it is not.
func runAddress(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("address", "smtpprobe address [--json] [--color auto|always|never] ADDRESS", addressExamples)
	jsonOut := fs.Bool("json", false, "print the analysis as one JSON object")
	color := addColorFlag(fs, "the findings")
	var b batchFlags
	b.register(fs, false)
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	if code, done := b.dispatch(ctx, "address", batch.ModeAddress, fs, nil, e); done {
		return code
	}
	mode := *color
	if fs.NArg() != 1 {
		return argCountError(e, "address", "one ADDRESS", fs.NArg(), "quote an address that contains spaces")
	}
	addr := fs.Arg(0)
	if addr == "" {
		return usageError(e, "address", "ADDRESS is empty")
	}
	if i := strings.IndexAny(addr, "\r\n\x00"); i >= 0 {
		return usageError(e, "address", fmt.Sprintf("ADDRESS contains %s at byte offset %d; CR, LF and NUL would split or end an SMTP command, so it is refused", byteName(addr[i]), i))
	}

	r := probe.AnalyzeAddress(addr)
	if *jsonOut {
		if err := writeAddressJSON(e.stdout, r); err != nil {
			fmt.Fprintf(e.stderr, "smtpprobe address: %v\n", err)
			return exitUsage
		}
	} else {
		writeAddressText(e.stdout, r, useColor(mode, e.stdout, e.getenv))
	}
	if !r.ValidMailbox {
		return exitCheck
	}
	return exitOK
}

// addressDocument is the --json output: the report with the schema version.
type addressDocument struct {
	SchemaVersion int `json:"schema_version"`
	probe.AddressReport
}

func writeAddressJSON(w io.Writer, r probe.AddressReport) error {
	enc := json.NewEncoder(jsonSafe{w})
	enc.SetEscapeHTML(false) // keep <> readable: they are the subject here
	enc.SetIndent("", "  ")
	return enc.Encode(addressDocument{SchemaVersion: 1, AddressReport: r})
}

// escapeExact is escapeUntrusted that leaves backslashes alone, for a line
// or address the user is to copy: every printable character is shown as
// it is, so `"a\"b"@x.com` stays exactly that. Control bytes, invalid
// UTF-8 and characters that disguise text are still escaped; changed
// says whether anything was, so the caller can say so.
func escapeExact(s string) (shown string, changed bool) {
	parts := strings.Split(s, `\`)
	for i, p := range parts {
		parts[i] = escapeUntrusted(p)
	}
	shown = strings.Join(parts, `\`)
	return shown, shown != s
}

// exactNote marks a copyable line that escapeExact had to change.
const exactNote = `  (control or invalid bytes shown as \xNN or \uNNNN: this is not the literal text)`

// showExact is escapeExact with exactNote added when it escaped anything.
func showExact(s string) string {
	shown, changed := escapeExact(s)
	if changed {
		shown += exactNote
	}
	return shown
}

// plainExact is escapeExact without the flag, for text around the lines.
func plainExact(s string) string {
	shown, _ := escapeExact(s)
	return shown
}

// writeAddressText prints the analysis for a person: the parts, the
// verdict, then every finding with its RFC section.
func writeAddressText(w io.Writer, r probe.AddressReport, color bool) {
	row := func(label, value string) { fmt.Fprintf(w, "%-10s %s\n", label, value) }
	row("input", showExact(r.Input))
	if r.Bracketed || r.Address != r.Input {
		row("address", showExact(r.Address))
	}
	if r.Route != "" {
		row("route", plainExact(r.Route)+"  (ignored by servers)")
	}
	octets := "octets"
	if len(r.LocalPart) == 1 {
		octets = "octet"
	}
	row("local", fmt.Sprintf("%s  (%s, %d %s)", plainExact(r.LocalPart), r.LocalPartForm, len(r.LocalPart), octets))
	if r.Domain != "" {
		row("domain", fmt.Sprintf("%s  (%s)", plainExact(r.Domain), r.DomainForm))
	}
	if r.ALabel != "" && r.ALabel != r.Domain {
		row("a-label", showExact(r.ALabel))
	}
	if r.ValidMailbox {
		// Exactly what goes between MAIL FROM: and the parameters.
		row("send as", showExact(r.Path))
	}
	if r.NeedsSMTPUTF8 {
		row("smtputf8", "required (the local part is not ASCII)")
	} else {
		row("smtputf8", "not needed")
	}
	verdict := paint(color, 250, "valid SMTP mailbox")
	if !r.ValidMailbox {
		verdict = paint(color, 550, "not a valid SMTP mailbox")
	}
	if r.ValidAddrSpec {
		verdict += "; valid RFC 5322 addr-spec"
	} else {
		verdict += "; not a valid RFC 5322 addr-spec"
	}
	row("verdict", verdict)
	if len(r.Findings) == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, f := range r.Findings {
		sev := fmt.Sprintf("%-7s", f.Severity)
		switch f.Severity {
		case probe.SeverityError:
			sev = paint(color, 550, sev)
		case probe.SeverityWarning:
			sev = paint(color, 450, sev)
		}
		fmt.Fprintf(w, "%s  %s: %s (%s)\n", sev, f.ID, plainExact(f.Message), f.Ref)
	}
}

// byteName names a byte refused in input.
func byteName(c byte) string {
	switch c {
	case '\r':
		return "CR"
	case '\n':
		return "LF"
	case 0:
		return "NUL"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
