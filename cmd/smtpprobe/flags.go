package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// flagSet is one subcommand's pflag FlagSet with its help text.
type flagSet struct {
	*pflag.FlagSet
	synopsis string // one line: "smtpprobe mx [flags] DOMAIN"
	examples string // indented example command lines with a comment each
}

// newFlagSet returns a FlagSet for one subcommand whose --help shows the
// synopsis, the flag list and the examples.
func newFlagSet(name, synopsis, examples string) *flagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, synopsis: synopsis, examples: examples}
}

// parseFlags parses args into fs. It returns done=true with the exit code
// when the run should stop: after --help (exit 0) or a usage error (exit 2,
// one line on stderr plus a hint).
func parseFlags(fs *flagSet, args []string, e *env) (done bool, code int) {
	if e.describe != nil {
		// asked for the flag definitions only (completion, man page)
		e.describe(fs)
		return true, exitOK
	}
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		writeHelp(e.stdout, fs)
		return true, exitOK
	}
	if err != nil {
		// pflag quotes the offending argument as typed: escape it
		return true, usageError(e, fs.Name(), escapeUntrusted(err.Error()))
	}
	return false, exitOK
}

// argCountError is the usage error for a wrong number of arguments, in
// the one wording every subcommand uses: "takes one DOMAIN, got 2
// arguments", with an optional hint after a semicolon.
func argCountError(e *env, sub, want string, got int, hint string) int {
	msg := fmt.Sprintf("takes %s, got %s", want, plural(got, "argument"))
	if hint != "" {
		msg += "; " + hint
	}
	return usageError(e, sub, msg)
}

// plural is "1 answer", "2 answers", "0 answers".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// usageError prints a one-line usage error with a hint and returns exitUsage.
func usageError(e *env, sub, msg string) int {
	msg = strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	fmt.Fprintf(e.stderr, "smtpprobe %s: %s\nRun 'smtpprobe %s --help' for usage.\n", sub, msg, sub)
	return exitUsage
}

func writeHelp(w io.Writer, fs *flagSet) {
	fmt.Fprintf(w, "Usage: %s\n", fs.synopsis)
	if s := fs.FlagUsages(); s != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", s)
	}
	if fs.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s", fs.examples)
		if !strings.HasSuffix(fs.examples, "\n") {
			fmt.Fprintln(w)
		}
	}
}
