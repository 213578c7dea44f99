package probe

import (
	"fmt"
	"net/netip"
	"testing"
)

func TestOrderAddresses(t *testing.T) {
	p := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
	in := p("192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1", "2001:db8::2")
	for family, want := range map[string][]netip.Addr{
		FamilyAny: p("2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "192.0.2.3"),
		Family4:   p("192.0.2.1", "192.0.2.2", "192.0.2.3"),
		Family6:   p("2001:db8::1", "2001:db8::2"),
	} {
		if got := OrderAddresses(in, family); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("family %q: %v, want %v", family, got, want)
		}
	}
	hosts := []MailHost{{Addr: "192.0.2.1:25", Name: "a"}, {Addr: "[2001:db8::1]:25", Name: "a"}, {Addr: "192.0.2.9:25", Name: "b"}}
	got := OrderMailHosts(hosts, FamilyAny)
	if got[0].Addr != "[2001:db8::1]:25" || got[1].Addr != "192.0.2.1:25" || got[2].Name != "b" {
		t.Errorf("%v", got)
	}
	if got := OrderMailHosts(hosts, Family6); len(got) != 1 || got[0].Addr != "[2001:db8::1]:25" {
		t.Errorf("-6: %v", got)
	}
}
