package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// libraryDirs are the library's packages, relative to this one: they
// state facts and never word them as this program's command line.
var libraryDirs = []string{"../../probe", "../../resolver", "../../explain"}

// ourFlags are the long flag names of every subcommand's FlagSet.
func ourFlags(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for i := range commands {
		for _, f := range flagsOf(commandFlags(&commands[i])) {
			names[f.Name] = true
		}
	}
	for _, must := range []string{"dns", "timeout", "all-mx", "max-time", "tls"} {
		if !names[must] {
			t.Fatalf("no --%s among the FlagSets' %d flags: the list is not the CLI's", must, len(names))
		}
	}
	return names
}

// flagMention finds "--name" not inside a longer word.
var flagMention = regexp.MustCompile(`(?:^|[^A-Za-z0-9-])--([a-z][a-z0-9-]*[a-z0-9])`)

// TestLibraryNamesNoFlag: no string literal in a non-test file of probe/,
// resolver/ or explain/ names a flag of this program. The library's
// results carry facts (a remedy kind, a cause); the CLI words them with
// its flag names. Comments may name flags; strings reach users.
func TestLibraryNamesNoFlag(t *testing.T) {
	flags := ourFlags(t)
	files := 0
	for _, dir := range libraryDirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			files++
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
					return true
				}
				for _, m := range flagMention.FindAllStringSubmatch(s, -1) {
					if flags[m[1]] {
						t.Errorf("%s: a string names the flag --%s: %q", fset.Position(lit.Pos()), m[1], s)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 50 {
		t.Fatalf("only %d library files read", files)
	}
}

// TestFlagMentionPattern: the pattern finds a flag wherever prose puts it
// and not inside a longer word.
func TestFlagMentionPattern(t *testing.T) {
	for s, want := range map[string]string{
		"ask another server with --dns.": "dns",
		"(probe --all-mx, or tls)":       "all-mx",
		"--timeout 5s":                   "timeout",
		"give a longer --max-time":       "max-time",
		"a--dns":                         "", "---": "", "- -dns": "",
	} {
		got := ""
		if m := flagMention.FindStringSubmatch(s); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%q: found %q; want %q", s, got, want)
		}
	}
}
