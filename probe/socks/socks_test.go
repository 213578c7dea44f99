package socks

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxyServer is a scripted SOCKS5 proxy on loopback: serve handles each
// connection as the test needs (a real relay, a refusal, silence, lies).
func proxyServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// relay is a correct SOCKS5 proxy for one connection: it checks the
// credentials when user is set and connects where asked.
func relay(user, pass string) func(c net.Conn) {
	return func(c net.Conn) {
		b := make([]byte, 262)
		io.ReadFull(c, b[:2])
		methods := make([]byte, b[1])
		io.ReadFull(c, methods)
		if user != "" {
			c.Write([]byte{5, 2})
			io.ReadFull(c, b[:2])
			u := make([]byte, b[1])
			io.ReadFull(c, u)
			io.ReadFull(c, b[:1])
			p := make([]byte, b[0])
			io.ReadFull(c, p)
			if string(u) != user || string(p) != pass {
				c.Write([]byte{1, 1})
				return
			}
			c.Write([]byte{1, 0})
		} else {
			c.Write([]byte{5, 0})
		}
		io.ReadFull(c, b[:4])
		var host string
		switch b[3] {
		case 1:
			io.ReadFull(c, b[:4])
			host = net.IP(b[:4]).String()
		case 3:
			io.ReadFull(c, b[:1])
			h := make([]byte, b[0])
			io.ReadFull(c, h)
			host = string(h)
		}
		io.ReadFull(c, b[:2])
		port := int(b[0])<<8 | int(b[1])
		up, err := net.Dial("tcp", net.JoinHostPort(host, itoa(port)))
		if err != nil {
			c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
			return
		}
		defer up.Close()
		c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38})
		c.SetDeadline(time.Time{})
		go io.Copy(up, c)
		io.Copy(c, up)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); c.Write([]byte("220 hello\r\n")) }()
		}
	}()
	return ln.Addr().String()
}

func dialVia(t *testing.T, proxyURL, dest string, timeout time.Duration) (net.Conn, error) {
	t.Helper()
	d, err := Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, "tcp", dest)
}

func TestRelayWithAndWithoutAuth(t *testing.T) {
	dest := echoServer(t)
	for _, tc := range []struct{ url, user, pass string }{
		{"socks5://" + "%s", "", ""},
		{"socks5://alice:s3cret@" + "%s", "alice", "s3cret"},
	} {
		addr := proxyServer(t, relay(tc.user, tc.pass))
		c, err := dialVia(t, strings.Replace(tc.url, "%s", addr, 1), dest, 3*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		got, _ := io.ReadAll(c)
		c.Close()
		if string(got) != "220 hello\r\n" {
			t.Errorf("through the proxy: %q", got)
		}
	}
}

func statusOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.SessionStatus()
	}
	return "not a proxy error: " + err.Error()
}

// Each way a proxy fails has its own word, and what it reports for the
// destination keeps the destination's.
func TestProxyFailures(t *testing.T) {
	dest := echoServer(t)
	refuseRules := func(c net.Conn) {
		b := make([]byte, 3)
		io.ReadFull(c, b)
		c.Write([]byte{5, 0})
		io.ReadFull(c, make([]byte, 10))
		c.Write([]byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0})
	}
	hang := func(c net.Conn) { io.ReadFull(c, make([]byte, 3)); time.Sleep(2 * time.Second) }
	httpLies := func(c net.Conn) { io.ReadFull(c, make([]byte, 3)); c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }
	successLie := func(c net.Conn) {
		io.ReadFull(c, make([]byte, 3))
		c.Write([]byte{5, 0})
		io.ReadFull(c, make([]byte, 10))
		c.Write([]byte{5, 0, 0, 9, 0, 0})
	}
	noAuth := func(c net.Conn) { io.ReadFull(c, make([]byte, 3)); c.Write([]byte{5, 0xff}) }
	destRefused := func(c net.Conn) {
		io.ReadFull(c, make([]byte, 3))
		c.Write([]byte{5, 0})
		io.ReadFull(c, make([]byte, 10))
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
	}
	closed := func(c net.Conn) { io.ReadFull(c, make([]byte, 3)) }
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	for _, tc := range []struct {
		name, proxy, want, says string
	}{
		{"rules", proxyServer(t, refuseRules), StatusRefused, "not allowed by the proxy's rules (reply 2)"},
		{"hangs", proxyServer(t, hang), StatusTimeout, "did not answer the greeting in time"},
		{"http", proxyServer(t, httpLies), StatusBadReply, `"HT"`},
		{"bad-atyp", proxyServer(t, successLie), StatusBadReply, "address type 9"},
		{"no-method", proxyServer(t, noAuth), StatusRefused, "none of the authentication methods"},
		{"dest-refused", proxyServer(t, destRefused), "connection-refused", "says the proxy"},
		{"closes", proxyServer(t, closed), StatusRefused, "closed the connection at the greeting"},
		{"unreachable", deadAddr, StatusUnreachable, "cannot reach the proxy"},
	} {
		start := time.Now()
		_, err := dialVia(t, "socks5://"+tc.proxy, dest, 300*time.Millisecond)
		if err == nil {
			t.Errorf("%s: connected", tc.name)
			continue
		}
		if got := statusOf(err); got != tc.want || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: status %s, %v; want %s saying %q", tc.name, got, err, tc.want, tc.says)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("%s: took %s, past the deadline", tc.name, time.Since(start))
		}
	}
	// wrong password
	addr := proxyServer(t, relay("alice", "right"))
	if _, err := dialVia(t, "socks5://alice:wrong@"+addr, dest, time.Second); statusOf(err) != StatusRefused || !strings.Contains(err.Error(), "RFC 1929") {
		t.Errorf("wrong password: %v", err)
	}
}

func TestParse(t *testing.T) {
	d, err := Parse("socks5://bob:pw@127.0.0.1:1080")
	if err != nil || d.Addr != "127.0.0.1:1080" || d.User != "bob" || d.Password != "pw" || d.String() != "socks5://bob@127.0.0.1:1080" {
		t.Fatalf("%+v %v", d, err)
	}
	for _, bad := range []string{"http://127.0.0.1:3128", "socks5://127.0.0.1", "socks4://h:1", "socks5://h:99999", "127.0.0.1:1080", "socks5://h:1/path"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
