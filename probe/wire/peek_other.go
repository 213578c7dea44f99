//go:build !unix

package wire

import "net"

// peekSocket has no non-blocking peek here: it falls back to a short
// read wait.
func peekSocket(c net.Conn) (avail, eof bool) { return fallbackPeek(c) }
