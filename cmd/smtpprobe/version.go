package main

import (
	"context"
	"runtime/debug"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
)

const versionExamples = `  smtpprobe version           # version, commit and Go version
  smtpprobe -V                # the same
  smtpprobe version --json    # as JSON
  smtpprobe version -q        # the version alone
`

// runVersion prints the build: the module version (as `go install
// …@vX` stamps it), the VCS commit and time when built from a checkout,
// and the Go version. It takes no arguments: a stray one is a mistake
// worth saying, not ignoring.
func runVersion(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("version", "smtpprobe version [flags]", versionExamples)
	of := addOutputFlags(fs, "nothing (accepted for uniformity)")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() > 0 {
		return argCountError(e, "version", "no arguments", fs.NArg(), "")
	}
	out, err := of.options(fs, e)
	if err != nil {
		return usageError(e, "version", err.Error())
	}
	if err := renderOut(e, buildVersion(), out); err != nil {
		return exitCheck
	}
	return exitOK
}

// buildVersion reads the build information the Go toolchain stamped into
// the binary. The -ldflags "-X main.version=…" value wins when it was
// set; otherwise the module version, or "(devel)" for a plain go build.
func buildVersion() *render.Version {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionFrom(bi)
}

// versionFrom is the version report for the build information bi (nil
// when the binary carries none).
func versionFrom(bi *debug.BuildInfo) *render.Version {
	v := &render.Version{SchemaVersion: 1, Version: version}
	if bi == nil {
		return v
	}
	v.GoVersion = bi.GoVersion
	v.Module = bi.Main.Path
	if version == defaultVersion && bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS":
			v.OS = s.Value
		case "GOARCH":
			v.Arch = s.Value
		}
	}
	return v
}
