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
	"time"
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
	// SIGTERM and SIGHUP end a run the same way, with 128 + their number
	// (143, 129); see interruptedExit.
	exitInterrupted = 130
	// exitTerminated is 128 + 15, a run ended by SIGTERM (kill, a
	// Kubernetes pod stopping).
	exitTerminated = 143
)

// stopSignals are the signals that end a run with a partial report: Ctrl-C,
// a service manager's or kill's TERM, and a closed terminal's HUP.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalGrace is how long a run may take to write its partial report
// after a stop signal before the process exits regardless (a read of
// stdin, say, that no context reaches).
const signalGrace = 5 * time.Second

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals...)
	go func() {
		s := <-sigs
		// A second signal acts as if none were caught: it ends the
		// process at once.
		signal.Reset(stopSignals...)
		cancel(interruption{s})
		time.Sleep(signalGrace)
		fmt.Fprintf(os.Stderr, "smtpprobe: %s: stopped after %s without finishing the report\n", signalName(s), signalGrace)
		os.Exit(exitForSignal(s))
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(code)
}

// interruption is the cause of a run's context when a signal stopped it.
type interruption struct{ sig os.Signal }

func (i interruption) Error() string { return "interrupted by " + signalName(i.sig) }

// signalName is "SIGTERM" for syscall.SIGTERM.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// exitForSignal is 128 plus the signal's number, the shell's convention.
func exitForSignal(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return exitInterrupted
}

// interruptedExit is the exit code of a run whose context a signal
// cancelled: 128 + the signal's number, and a line on stderr when the
// subcommand did not say it was interrupted itself. A usage error stays
// exit 2. ok is false when no signal stopped the run.
func interruptedExit(ctx context.Context, code int, sub string, stderr io.Writer) (int, bool) {
	var in interruption
	if !errors.As(context.Cause(ctx), &in) || code == exitUsage {
		return code, false
	}
	if code < 128 { // a subcommand that says so itself returns 128 + N
		fmt.Fprintf(stderr, "%s: %s; the output is incomplete\n", sub, in.Error())
	}
	return exitForSignal(in.sig), true
}

// signalExit is the exit code of a run whose context was canceled: 128 +
// the signal's number after a stop signal (143 for SIGTERM), 130 after
// any other cancellation; ok is false while ctx is live or when only its
// deadline passed.
func signalExit(ctx context.Context) (code int, ok bool) {
	if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return exitOK, false
	}
	var in interruption
	if errors.As(context.Cause(ctx), &in) {
		return exitForSignal(in.sig), true
	}
	return exitInterrupted, true
}

// env is what a subcommand may touch of the outside world; tests build
// their own.
type env struct {
	// describe, when set, receives the subcommand's flags instead of a
	// run: the completion scripts and the man page are made from them.
	describe func(*flagSet)

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
	sub := "smtpprobe"
	if len(args) > 0 && findCommand(args[0]) != nil {
		sub += " " + args[0]
	}
	if out.err != nil {
		fmt.Fprintf(stderr, "%s: writing the output failed: %s\n", sub, escapeUntrusted(out.err.Error()))
		return exitCheck
	}
	if c, ok := interruptedExit(ctx, code, sub, inner.stderr); ok {
		return c
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
