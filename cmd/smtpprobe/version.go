package main

import (
	"context"
	"fmt"
)

const versionExamples = `  smtpprobe version
  smtpprobe --version
`

// runVersion prints the version. It takes no arguments and no flags but
// --help: a stray argument is a mistake worth saying, not ignoring.
func runVersion(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("version", "smtpprobe version", versionExamples)
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		return argCountError(e, "version", "no arguments", fs.NArg(), "")
	}
	fmt.Fprintf(e.stdout, "smtpprobe %s\n", version)
	return exitOK
}
