//go:build unix

package wire

import (
	"net"
	"syscall"
)

// peekSocket looks, without waiting and without taking them, for bytes
// the kernel holds for c: avail when there are some, eof when the peer
// has closed. A connection that is no socket, nor a wrapper that holds
// no bytes of its own and hands out its socket's SyscallConn, falls back.
func peekSocket(c net.Conn) (avail, eof bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return fallbackPeek(c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fallbackPeek(c)
	}
	var buf [1]byte
	rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		case err != nil:
			eof = err == syscall.ECONNRESET
		case n == 0:
			eof = true
		default:
			avail = true
		}
		return true // never wait for readiness
	})
	return avail, eof
}
