package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

func init() {
	// Other tests of this package may define -update too; register it only
	// once, after every package-level flag exists.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

// mxUpdateGoldens reports whether the test run was given -update.
func mxUpdateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// rttRE and padRE match what varies from run to run in the queries
// table: the times, and the padding that follows the server's port.
var (
	rttRE = regexp.MustCompile(`[0-9]+\.[0-9] ms`)
	padRE = regexp.MustCompile(`  +`)
)

// TestMXGolden compares the text output with testdata/mx/*.golden; the
// server address and query times are normalised. The queries are kept in
// the order shown: it must not vary although the lookups run concurrently.
func TestMXGolden(t *testing.T) {
	s := resolvertest.Start(t, mxZone(t))
	for _, domain := range []string{"explicit.mx.test", "implicit.mx.test", "nullmixed.mx.test", "null.mx.test",
		"nodata.mx.test", "noaddr.mx.test", "looptarget.mx.test", "partial.mx.test", "cnametarget.mx.test", "loop.mx.test", "[IPv6:::1]"} {
		t.Run(domain, func(t *testing.T) {
			_, out, _ := runMXCmd(t, "--dns", s.Addr(), "--color", "never", domain)
			got := normaliseMX(out, s.Addr())
			name := strings.NewReplacer("[", "", "]", "", ":", "_").Replace(domain)
			path := filepath.Join("testdata", "mx", name+".golden")
			if mxUpdateGoldens() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func normaliseMX(out, server string) string {
	out = rttRE.ReplaceAllString(strings.ReplaceAll(out, server, "SERVER"), "N ms")
	head, queries, ok := strings.Cut(out, "\nQueries (")
	if !ok {
		return out
	}
	lines := strings.Split(strings.TrimSuffix(queries, "\n"), "\n")
	body := lines[1:]
	for i, l := range body {
		body[i] = padRE.ReplaceAllString(l, "  ")
	}
	return head + "\nQueries (" + lines[0] + "\n" + strings.Join(body, "\n") + "\n"
}
