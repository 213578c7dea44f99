package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// What `go install …@v1.2.3` stamps is what version reports: the module
// version, the commit, whether the tree was modified, and the platform.
func TestVersionFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Path: "github.com/smtpprobe/smtpprobe", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}}}
	v := versionFrom(bi)
	if v.Version != "v1.2.3" || v.Commit != "abc123" || v.CommitTime != "2026-01-02T03:04:05Z" || !v.Modified ||
		v.GoVersion != "go1.99" || v.OS != "linux" || v.Arch != "arm64" || v.Module != "github.com/smtpprobe/smtpprobe" {
		t.Errorf("versionFrom = %+v", *v)
	}
	if v := versionFrom(nil); v.Version != version || v.Commit != "" {
		t.Errorf("versionFrom(nil) = %+v", *v)
	}
}

// A binary built from a git checkout names that checkout's commit.
func TestVersionNamesTheCommit(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs in a git clone, but git rev-parse failed: %v", err)
		}
		t.Skipf("not a git checkout: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(root, ".git")); err != nil || !fi.IsDir() {
		t.Skip("a linked worktree: the go command stamps no VCS information there")
	}
	bin := filepath.Join(t.TempDir(), "smtpprobe")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Commit, Version string
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if want := strings.TrimSpace(string(head)); v.Commit != want {
		t.Errorf("version --json commit %q, want %q (HEAD)", v.Commit, want)
	}
	if !strings.HasPrefix(v.Version, "v") && v.Version != "(devel)" {
		t.Errorf("version %q is neither a module version nor (devel)", v.Version)
	}
}
