package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
)

// The renderer's escaping under the names the subcommands use for the
// messages they write on stderr.
var (
	escapeUntrusted = render.Escape
	escapeExact     = render.EscapeExact
	showExact       = render.ShowExact
	plainExact      = render.PlainExact
)

// exactNote marks a copyable line that escapeExact had to change.
const exactNote = render.ExactNote

// colorMode is the user's --color choice.
type colorMode = render.ColorMode

const (
	colorAuto   = render.ColorAuto
	colorAlways = render.ColorAlways
	colorNever  = render.ColorNever
)

// colorValue is the --color flag's value: it refuses anything but auto,
// always or never as the flag is parsed.
type colorValue colorMode

func (c *colorValue) String() string { return string(*c) }
func (c *colorValue) Type() string   { return "WHEN" }

func (c *colorValue) Set(s string) error {
	m, err := render.ParseColorMode(s)
	if err != nil {
		return errors.New("want auto, always or never")
	}
	*c = colorValue(m)
	return nil
}

// addColorFlag registers --color WHEN, the same on every subcommand: it
// takes a value (auto, always or never; default auto), so that a flag
// never swallows the argument after it by accident. what names what gets
// coloured.
func addColorFlag(fs *flagSet, what string) *colorMode {
	m := colorAuto
	fs.Var((*colorValue)(&m), "color", "colour "+what+": auto, always or never (NO_COLOR and TERM=dumb are honoured)")
	return &m
}

// formatValue is the --format flag's value.
type formatValue render.Format

func (f *formatValue) String() string { return string(*f) }
func (f *formatValue) Type() string   { return "FORMAT" }

func (f *formatValue) Set(s string) error {
	v, err := render.ParseFormat(s)
	if err != nil {
		return err
	}
	*f = formatValue(v)
	return nil
}

// outputFlags are the flags that shape what a subcommand writes on
// stdout: the same names and meanings on every subcommand.
type outputFlags struct {
	format  formatValue
	json    bool
	quiet   bool
	color   *colorMode
	verbose *bool // nil for a subcommand without -v
}

// addOutputFlags registers --format, --json (an alias of --format json),
// -q/--quiet and --color on fs; what names what --color colours.
func addOutputFlags(fs *flagSet, what string) *outputFlags {
	o := &outputFlags{format: formatValue(render.Text)}
	fs.Var(&o.format, "format", "output format: text, json (one document, schema_version 1) or ndjson (one JSON object a line)")
	fs.BoolVar(&o.json, "json", false, "the same as --format json")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print only the verdict lines and nothing on stderr; the exit code is unchanged")
	o.color = addColorFlag(fs, what)
	return o
}

// addVerboseFlag registers -v/--verbose with its help text.
func (o *outputFlags) addVerboseFlag(fs *flagSet, usage string) {
	o.verbose = fs.BoolP("verbose", "v", false, usage)
}

// options resolves the flags into render.Options for output to e.stdout.
// --json with another --format is a usage error.
func (o *outputFlags) options(fs *flagSet, e *env) (render.Options, error) {
	f := render.Format(o.format)
	if o.json {
		if fs.Changed("format") && f != render.JSON {
			return render.Options{}, fmt.Errorf("--json and --format %s contradict each other", f)
		}
		f = render.JSON
	}
	opts := render.Options{
		Format: f,
		Quiet:  o.quiet,
		Color:  render.UseColor(*o.color, e.stdout, e.getenv),
		Width:  render.TerminalWidth(e.stdout, e.getenv),
	}
	if o.verbose != nil {
		opts.Verbose = *o.verbose
	}
	return opts, nil
}

// structured tells whether the output is JSON or NDJSON.
func structured(o render.Options) bool { return o.Format != render.Text }

// silence, under --quiet, sends whatever the subcommand would say on
// stderr from now on nowhere. Usage errors come before it; a failed
// write to stdout is still said (see runEnv).
func (e *env) silence(o render.Options) {
	if o.Quiet {
		e.stderr = io.Discard
	}
}

// renderOut writes d to stdout in the format o asks for. A write error
// is returned; runEnv says it on stderr and exits 1.
func renderOut(e *env, d render.Document, o render.Options) error {
	return render.Render(e.stdout, d, o)
}

// writeJSON writes v as indented JSON with DEL and C1 controls escaped.
func writeJSON(w io.Writer, v any) error { return render.WriteJSON(w, v) }

// checkedWriter is stdout as the subcommands see it: it keeps the first
// write error, so that a full disk or a closed pipe is an error of the
// run, and tells its file descriptor so that terminal checks still work.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(b)
	if err != nil {
		c.err = err
	}
	return n, err
}

// Fd is the descriptor of the file written to, or an invalid one.
func (c *checkedWriter) Fd() uintptr {
	if f, ok := c.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}
