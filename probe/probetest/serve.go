package probetest

import (
	"net"
	"sync"
	"testing"
)

// Serve listens on 127.0.0.1:0 and runs handle on each accepted
// connection, in a goroutine of its own, n counting from 1 in accept
// order; the connection is closed when handle returns. In t.Cleanup it
// stops listening, closes every connection still open and waits for the
// handlers. It returns the listener, for its address.
func Serve(t testing.TB, handle func(c net.Conn, n int)) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c, n)
			}()
		}
	}()
	return l
}
