package wire

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyStandardLibrary keeps the wire layer free of this
// module and of third-party code: every non-test file of the package,
// whatever its build constraints, may import only the standard library
// (a path whose first element has no dot) and golang.org/x.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatalf("%s: import %s: %v", name, imp.Path.Value, err)
			}
			if !allowedImport(path) {
				t.Errorf("%s imports %q; package wire may use only the standard library and golang.org/x", fset.Position(imp.Pos()), path)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no Go files of the package were found")
	}
}

// allowedImport reports whether path is in the standard library or under
// golang.org/x.
func allowedImport(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") || strings.HasPrefix(path, "golang.org/x/")
}

func TestAllowedImport(t *testing.T) {
	for path, want := range map[string]bool{
		"net":                                    true,
		"crypto/tls":                             true,
		"golang.org/x/net/idna":                  true,
		"golang.org/xyz/pkg":                     false,
		"github.com/smtpprobe/smtpprobe/explain": false,
		"github.com/miekg/dns":                   false,
	} {
		if got := allowedImport(path); got != want {
			t.Errorf("allowedImport(%q) = %v, want %v", path, got, want)
		}
	}
}
