package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
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
	fs := newFlagSet("address", "smtpprobe address [flags] ADDRESS", addressExamples)
	of := addOutputFlags(fs, "the findings")
	var b batchFlags
	b.register(fs, false)
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	if code, done := b.dispatch(ctx, "address", batch.ModeAddress, fs, nil, e); done {
		return code
	}
	out, err := of.options(fs, e)
	if err != nil {
		return usageError(e, "address", err.Error())
	}
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

	e.silence(out)
	r := probe.AnalyzeAddress(addr)
	if err := renderOut(e, render.NewAddress(r), out); err != nil {
		return exitCheck
	}
	if !r.ValidMailbox {
		return exitCheck
	}
	return exitOK
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
