package main

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func startDemoTestLab(t *testing.T, listen listenFunc) *demoLab {
	t.Helper()
	lab, err := startDemoLab(listen)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	return lab
}

// banner dials addr and returns the server's first line.
func demoBanner(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("banner from %s: %v", addr, err)
	}
	fmt.Fprint(c, "QUIT\r\n")
	return strings.TrimRight(line, "\r\n")
}

func TestDemoLabSamePort(t *testing.T) {
	lab := startDemoTestLab(t, net.Listen)
	if len(lab.hosts) != 2 || len(lab.servers()) != 2 {
		t.Fatalf("lab has %d hosts, %d servers; want 2 and 2", len(lab.hosts), len(lab.servers()))
	}
	for i, h := range lab.hosts {
		if h.ip != demoMX[i].ip {
			t.Errorf("host %s on %s, want %s", h.name, h.ip, demoMX[i].ip)
		}
		addr := net.JoinHostPort(h.ip, fmt.Sprint(lab.port))
		if got, want := demoBanner(t, addr), "220 "+h.name+" ESMTP Service Ready"; got != want {
			t.Errorf("banner at %s = %q, want %q", addr, got, want)
		}
	}
	if err := lab.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, h := range lab.hosts {
		addr := net.JoinHostPort(h.ip, fmt.Sprint(lab.port))
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepting after Close", addr)
		}
	}
}

// onlyLocalhost is a machine with no loopback address but 127.0.0.1.
func onlyLocalhost(network, addr string) (net.Listener, error) {
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		return nil, &net.OpError{Op: "listen", Net: network, Err: syscall.EADDRNOTAVAIL}
	}
	return net.Listen(network, addr)
}

func TestDemoLabFallsBackToLocalhost(t *testing.T) {
	lab := startDemoTestLab(t, onlyLocalhost)
	if len(lab.hosts) != 2 || len(lab.servers()) != 1 {
		t.Fatalf("lab has %d hosts, %d servers; want 2 and 1", len(lab.hosts), len(lab.servers()))
	}
	for _, h := range lab.hosts {
		if h.ip != "127.0.0.1" {
			t.Errorf("host %s on %s, want 127.0.0.1", h.name, h.ip)
		}
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(lab.port))
	if got := demoBanner(t, addr); got != "220 mx1.demo.test ESMTP Service Ready" {
		t.Errorf("banner = %q", got)
	}
}

func TestListenSamePortRetriesOnConflict(t *testing.T) {
	var opened []net.Listener
	conflicts := 2
	listen := func(network, addr string) (net.Listener, error) {
		if strings.HasPrefix(addr, "127.0.0.3:") && conflicts > 0 {
			conflicts--
			return nil, &net.OpError{Op: "listen", Net: network, Err: syscall.EADDRINUSE}
		}
		l, err := net.Listen(network, addr)
		if err == nil {
			opened = append(opened, l)
		}
		return l, err
	}
	ls, err := listenSamePort(listen, []string{"127.0.0.2", "127.0.0.3"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	if len(ls) != 2 || len(opened) != 4 {
		t.Fatalf("got %d listeners after %d opened, want 2 after 4 (two failed tries)", len(ls), len(opened))
	}
	a, b := ls[0].Addr().(*net.TCPAddr), ls[1].Addr().(*net.TCPAddr)
	if a.Port != b.Port || a.IP.String() != "127.0.0.2" || b.IP.String() != "127.0.0.3" {
		t.Errorf("listeners on %v and %v, want 127.0.0.2 and 127.0.0.3 on one port", a, b)
	}
	// The listeners of the failed tries were closed.
	for _, l := range opened[:2] {
		if c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
			c.Close()
			t.Errorf("listener %v of a failed try is still open", l.Addr())
		}
	}
}

func TestListenSamePortGivesUpOnOtherErrors(t *testing.T) {
	calls := 0
	listen := func(network, addr string) (net.Listener, error) {
		calls++
		return onlyLocalhost(network, addr)
	}
	if _, err := listenSamePort(listen, []string{"127.0.0.2", "127.0.0.3"}); err == nil {
		t.Fatal("err = nil where 127.0.0.2 cannot be bound")
	}
	if calls != 1 {
		t.Errorf("listen called %d times, want 1: only a port conflict is worth a retry", calls)
	}
}

func TestDemoZone(t *testing.T) {
	lab := &demoLab{hosts: []demoLabHost{
		{name: "mx1.demo.test", pref: 10, ip: "127.0.0.2"},
		{name: "mx2.demo.test", pref: 20, ip: "127.0.0.3"},
	}}
	zp := dns.NewZoneParser(strings.NewReader(lab.zone()), "", "")
	var mx, a []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch rr := rr.(type) {
		case *dns.MX:
			mx = append(mx, fmt.Sprintf("%s %d %s", rr.Hdr.Name, rr.Preference, rr.Mx))
		case *dns.A:
			a = append(a, rr.Hdr.Name+" "+rr.A.String())
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone does not parse: %v\n%s", err, lab.zone())
	}
	if want := []string{"demo.test. 10 mx1.demo.test.", "demo.test. 20 mx2.demo.test."}; !slices.Equal(mx, want) {
		t.Errorf("MX = %q, want %q", mx, want)
	}
	if want := []string{"ns.demo.test. 127.0.0.1", "mx1.demo.test. 127.0.0.2", "mx2.demo.test. 127.0.0.3"}; !slices.Equal(a, want) {
		t.Errorf("A = %q, want %q", a, want)
	}
}
