// Command smtpprobe is a live SMTP probing diagnostic client: it resolves MX
// records, opens real SMTP sessions, sends VRFY, EXPN and well-formed and
// malformed MAIL FROM / RCPT TO commands, and explains every reply in the
// context of the command that drew it. It never sends DATA.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version may be set at link time with -ldflags "-X main.version=...";
// otherwise `smtpprobe version` reads the module version the Go
// toolchain stamped into the binary (see buildVersion).
var version = defaultVersion

// defaultVersion is version when the link did not set it.
const defaultVersion = "(devel)"

// Exit codes shared by every subcommand; see `smtpprobe help exit-codes`.
const (
	exitOK         = 0 // the run completed; 4xx/5xx replies are findings
	exitCheck      = 1 // the check asked for failed
	exitUsage      = 2 // bad flags, arguments or input
	exitDNS        = 3 // DNS could not answer
	exitConnection = 4 // every connection failed

	// exitInterrupted is the shell's convention for a run ended by SIGINT
	// (128 + 2): the user pressed Ctrl-C, so the findings are incomplete.
	exitInterrupted = 130
	// exitTerminated is 128 + 15, a run ended by SIGTERM (kill, a
	// Kubernetes pod stopping).
	exitTerminated = 143
)

func main() {
	code := run(signalContext(), os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(code)
}

// signalError is the cause of a context a signal ended.
type signalError struct{ sig os.Signal }

func (s signalError) Error() string { return "received " + s.sig.String() }

// signalContext is canceled by the first SIGINT or SIGTERM, with the
// signal as its cause; a second one ends the process at once, as the
// signal does by default.
func signalContext() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-ch
		signal.Stop(ch)
		cancel(signalError{s})
	}()
	return ctx
}

// signalExit is the exit code of a run whose context was canceled: 143
// after SIGTERM, 130 after SIGINT or any other cancellation; ok is false
// while ctx is live or when only its deadline passed.
func signalExit(ctx context.Context) (code int, ok bool) {
	if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return exitOK, false
	}
	var se signalError
	if errors.As(context.Cause(ctx), &se) && se.sig == syscall.SIGTERM {
		return exitTerminated, true
	}
	return exitInterrupted, true
}

// env is what a subcommand may touch of the outside world; tests build
// their own.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// run is the whole program behind main: it dispatches to a subcommand and
// returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv})
}

// progress is the Progress function of probe runs: a line on stderr for
// each step of the run (nothing under --quiet, see silence).
func (e *env) progress() func(string) {
	stderr := e.stderr
	return func(msg string) { fmt.Fprintf(stderr, "smtpprobe: %s\n", escapeUntrusted(msg)) }
}

// runEnv runs one subcommand with stdout checked: a write that fails (a
// full disk, a closed pipe) makes the run fail with exit 1 and one line
// on stderr, whatever the subcommand found.
func runEnv(ctx context.Context, args []string, e *env) int {
	out := &checkedWriter{w: e.stdout}
	stderr := e.stderr
	inner := *e
	inner.stdout = out
	code := dispatch(ctx, args, &inner)
	if out.err != nil {
		sub := "smtpprobe"
		if len(args) > 0 && findCommand(args[0]) != nil {
			sub += " " + args[0]
		}
		fmt.Fprintf(stderr, "%s: writing the output failed: %s\n", sub, escapeUntrusted(out.err.Error()))
		return exitCheck
	}
	return code
}

func dispatch(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "--version", "-version", "-V":
		return runVersion(ctx, args[1:], e)
	case "-h", "--help":
		printUsage(e.stdout)
		return exitOK
	}
	cmd := findCommand(name)
	if cmd == nil {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(e.stderr, "smtpprobe: unknown flag %q before a subcommand\nRun 'smtpprobe help' for usage.\n", name)
		} else {
			fmt.Fprintf(e.stderr, "smtpprobe: unknown subcommand %q\nRun 'smtpprobe help' for usage.\n", name)
		}
		return exitUsage
	}
	return cmd.run(ctx, args[1:], e)
}
