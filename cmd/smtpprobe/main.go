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

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

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

func runEnv(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "--version", "-version":
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
