package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is -update: rewrite every golden file of the package from the
// current output instead of comparing with it.
var update = flag.Bool("update", false, "rewrite the golden files")

// checkGolden compares got with the golden file at path, or, under
// -update, writes got there (creating its directory).
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
