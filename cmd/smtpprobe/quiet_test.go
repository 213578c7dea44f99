package main

import (
	"net"
	"strings"
	"testing"
)

// probe -q is the verdict lines only: HOST KEY VALUE, at most a dozen per
// host, every host of --all-mx, nothing on stderr, and the exit code of
// the full run.
func TestProbeQuietDozen(t *testing.T) {
	lab := startDemoTestLab(t, net.Listen)
	args := append([]string{"probe", "--all-mx", "-q"}, lab.probeArgs()...)
	out, errOut, code := runCLI(t, args...)
	_, _, fullCode := runCLI(t, append([]string{"probe", "--all-mx"}, lab.probeArgs()...)...)
	if code != fullCode {
		t.Errorf("-q: exit %d, the full run %d", code, fullCode)
	}
	if errOut != "" {
		t.Errorf("-q wrote to stderr:\n%s", errOut)
	}
	perHost := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			t.Errorf("not a HOST KEY VALUE line: %q", l)
			continue
		}
		perHost[f[0]]++
	}
	if len(perHost) < 2 {
		t.Fatalf("--all-mx -q names %d hosts, want every MX host of the demo (2):\n%s", len(perHost), out)
	}
	for h, n := range perHost {
		if n > 12 || n < 5 {
			t.Errorf("%s: %d verdict lines, want 5 to 12:\n%s", h, n, out)
		}
	}
}
