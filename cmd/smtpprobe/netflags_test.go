package main

import (
	"encoding/json"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// Without -4/-6 a host with both families is tried IPv6 first (RFC 8305
// §4); -4 keeps to IPv4 and -6 to IPv6.
func TestAddressFamilies(t *testing.T) {
	if _, err := exec.LookPath("smtpprobe"); err != nil {
		t.Skip("the smtpprobe command is not on PATH")
	}
	sink := batchSink(t, 0)
	_, port, _ := net.SplitHostPort(sink.Addr())
	dns := resolvertest.Start(t, "$ORIGIN f.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ MX 10 mx\nmx A 127.0.0.1\nmx AAAA ::1\n")
	hosts := func(extra ...string) []string {
		args := append([]string{"probe", "--format", "json", "--dns", dns.Addr(), "--port", port, "--tls", "none", "--timeout", "5s", "--suite", "vrfy"}, extra...)
		out, _ := exec.Command("smtpprobe", append(args, "f.test")...).Output()
		var doc struct{ Hosts []struct{ Address string } }
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		var addrs []string
		for _, h := range doc.Hosts {
			addrs = append(addrs, h.Address)
		}
		return addrs
	}
	v4 := net.JoinHostPort("127.0.0.1", port)
	v6 := net.JoinHostPort("::1", port)
	if got := hosts(); len(got) != 2 || got[0] != v6 || got[1] != v4 {
		t.Errorf("both families: tried %v, want %s then %s", got, v6, v4)
	}
	if got := hosts("-4"); len(got) != 1 || got[0] != v4 {
		t.Errorf("-4: tried %v", got)
	}
	if got := hosts("-6"); len(got) != 1 || got[0] != v6 {
		t.Errorf("-6: tried %v", got)
	}
}

// --source binds the local end of the connection.
func TestSourceAddress(t *testing.T) {
	if _, err := exec.LookPath("smtpprobe"); err != nil {
		t.Skip("the smtpprobe command is not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	from := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			from <- c.RemoteAddr().(*net.TCPAddr).IP.String()
			c.Write([]byte("554 5.3.2 not today\r\n"))
			c.Close()
		}
	}()
	exec.Command("smtpprobe", "probe", "--source", "127.0.0.2", "--domain", "example.com", "--timeout", "5s", ln.Addr().String()).Run()
	select {
	case ip := <-from:
		if ip != "127.0.0.2" {
			t.Errorf("the server saw the connection from %s, not --source 127.0.0.2", ip)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
	}
}
