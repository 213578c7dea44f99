package resolver_test

import (
	"context"
	"testing"

	"github.com/smtpprobe/smtpprobe/resolver"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// benchLookup measures one LookupMX against the in-process server; the
// allocation figures show the work stays bounded for hostile zones.
func benchLookup(b *testing.B, domain string) {
	s := resolvertest.Start(b, zoneText(b))
	c := resolver.New([]string{s.Addr()})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.LookupMX(context.Background(), domain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupMXExplicit(b *testing.B) { benchLookup(b, "explicit.mx.test") }

// BenchmarkLookupMX1000 is 1000 MX records (over TCP), 32 resolved.
func BenchmarkLookupMX1000(b *testing.B) { benchLookup(b, "many.mx.test") }

// BenchmarkLookupMXWide is two hosts with 100 addresses each.
func BenchmarkLookupMXWide(b *testing.B) { benchLookup(b, "wide.mx.test") }
