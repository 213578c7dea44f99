package probetest

import (
	"net"
	"sync"
)

// TooManyConnections is the greeting of a server with no room for another
// client (RFC 5321 §3.8), as Postfix words it.
const TooManyConnections = "421 4.7.0 Too many connections"

// Refusing wraps l so that the connections refuse picks (1-based, in
// accept order) are greeted with greeting (CRLF added) and closed; the
// rest are handed to whoever serves the listener: a profile server whose
// first session is refused, say.
func Refusing(l net.Listener, greeting string, refuse func(n int) bool) net.Listener {
	return &refusingListener{Listener: l, greeting: greeting, refuse: refuse}
}

type refusingListener struct {
	net.Listener
	greeting string
	refuse   func(n int) bool
	mu       sync.Mutex
	n        int
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.n++
		n := l.n
		l.mu.Unlock()
		if !l.refuse(n) {
			return c, nil
		}
		c.Write([]byte(l.greeting + "\r\n"))
		c.Close()
	}
}
