package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

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
			checkGolden(t, path, got)
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
