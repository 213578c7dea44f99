package wire

import (
	"context"
	"io"
	"time"
)

// ServerCloseWait is how long a session, once its QUIT is answered, waits
// for the server to close its end. The server counts the session until
// it has (Postfix's anvil, a firewall's connection count), so a client
// that opened its next connection at the 221 could have one more open
// there than it means to. A server that closes at once costs nothing; one
// that has not closed by then is not waited for longer.
const ServerCloseWait = 500 * time.Millisecond

// drainCap bounds what awaitServerClose reads and throws away.
const drainCap = 64 << 10

// awaitServerClose, after the reply to QUIT, ends this side's sending
// (a server that waits for the client to go first then goes too) and
// reads, discarding, until the server closes its end: at most
// ServerCloseWait, never past ctx's deadline, and not at all once ctx is
// done.
func (s *Session) awaitServerClose(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	dl := time.Now().Add(ServerCloseWait)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	if cw, ok := s.raw.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	s.raw.SetReadDeadline(dl)
	stop := interruptOnDone(ctx, s.raw)
	defer stop()
	io.CopyN(io.Discard, s.raw, drainCap) // until EOF, a reset, the deadline or the cap
}
