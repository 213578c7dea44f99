package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/explain"
)

// bounceSource is one input of "explain" that holds messages: stdin, a
// file, or a file found in a directory.
type bounceSource struct {
	name string // shown in the output: "-", the path
	r    io.Reader
}

// explainMessages reads every message of the sources and reports each,
// streaming: one message at a time is held, whatever the input's size.
func explainMessages(e *env, out render.Options, sources []bounceSource) int {
	w := render.NewBounceStream(e.stdout, out)
	failed := false
	for _, src := range sources {
		if w.Err() != nil {
			break // stdout failed: Close reports it
		}
		sc := explain.NewMessageScanner(src.r)
		mbox := sc.Kind() == explain.InputMbox
		for w.Err() == nil && sc.Scan() {
			name := src.name
			if mbox || sc.Number() > 1 {
				name = fmt.Sprintf("%s#%d", src.name, sc.Number())
			}
			rep := sc.Report()
			if rep.Kind == "none" {
				fmt.Fprintf(e.stderr, "smtpprobe explain: %s: no delivery report, feedback report or automatic reply found\n", escapeUntrusted(name))
			}
			w.Add(name, rep)
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(e.stderr, "smtpprobe explain: reading %s: %v\n", escapeUntrusted(src.name), err)
			failed = true
		}
		if c, ok := src.r.(io.Closer); ok {
			c.Close()
		}
	}
	if err := w.Close(); err != nil {
		return exitCheck
	}
	sum := w.Summary()
	if failed || sum.Messages == 0 || sum.Kinds["none"] == sum.Messages {
		if sum.Messages == 0 {
			fmt.Fprintln(e.stderr, "smtpprobe explain: no message found in the input")
		}
		return exitCheck
	}
	return exitOK
}

// pathSources opens the files named: a file as itself, a directory as
// every regular file under it, in name order, skipping dot files.
func pathSources(paths []string) ([]bounceSource, error) {
	var out []bounceSource
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, bounceSource{name: p, r: &lazyFile{path: p}})
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, bounceSource{name: f, r: &lazyFile{path: f}})
		}
	}
	return out, nil
}

// lazyFile opens its file on the first Read, so that a directory of
// thousands of files holds one open at a time.
type lazyFile struct {
	path string
	f    *os.File
	err  error
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		l.f, l.err = os.Open(l.path)
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Read(p)
}

func (l *lazyFile) Close() error {
	if l.f != nil {
		return l.f.Close()
	}
	return nil
}

// sniffSize is how much of an input is looked at to tell a message from
// reply lines.
const sniffSize = 4 << 10

// explainInput reads one input: a message, an mbox or SES JSON is read as
// reports; anything else, or any input with --replies, goes to the reply
// annotator.
func explainInput(e *env, out render.Options, h explain.Headings, cmd explain.Command, name string, r io.Reader, replies bool) int {
	br := bufio.NewReaderSize(r, sniffSize)
	head, _ := br.Peek(sniffSize)
	if replies || explain.SniffInput(head) == explain.InputText {
		return explainStdin(e, out, h, cmd, br)
	}
	return explainMessages(e, out, []bounceSource{{name: name, r: br}})
}

// explainPaths reads the files and directories named: one file alone
// goes the way stdin does (see explainInput); files in a directory and
// several files are read as messages.
func explainPaths(e *env, out render.Options, h explain.Headings, cmd explain.Command, paths []string, replies bool) int {
	if len(paths) == 1 {
		if st, err := os.Stat(paths[0]); err == nil && !st.IsDir() {
			f, err := os.Open(paths[0])
			if err != nil {
				return usageError(e, "explain", err.Error())
			}
			defer f.Close()
			return explainInput(e, out, h, cmd, paths[0], f, replies)
		}
	}
	sources, err := pathSources(paths)
	if err != nil {
		return usageError(e, "explain", err.Error())
	}
	if len(sources) == 0 {
		return usageError(e, "explain", "no files in "+strings.Join(paths, ", "))
	}
	return explainMessages(e, out, sources)
}

// pathArgs tells whether the arguments name files: an argument that is
// not a code or reply and names an existing file or directory. It
// returns nil when none does, and an error when files and codes are mixed.
func pathArgs(args []string) ([]string, error) {
	var paths []string
	codes := 0
	for _, a := range args {
		if _, err := explain.ParseQuery(a); err == nil {
			codes++
			continue
		}
		if _, err := os.Stat(a); err == nil {
			paths = append(paths, a)
		} else if strings.ContainsRune(a, os.PathSeparator) && !strings.ContainsRune(a, ' ') {
			return nil, fmt.Errorf("cannot read %s: %v", a, errors.Unwrap(err))
		} else {
			codes++
		}
	}
	if len(paths) > 0 && codes > 0 {
		return nil, errors.New("give either codes and replies or files, not both")
	}
	return paths, nil
}
