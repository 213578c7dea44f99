package wire

import "net"

// fallbackPeek is for a connection that is not a socket (a pipe, a
// wrapper that does not hand out its socket): it cannot be peeked
// without reading, so it reports "maybe" and lets pending read with a
// one-millisecond wait.
func fallbackPeek(net.Conn) (avail, eof bool) { return true, false }
