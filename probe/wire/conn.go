package wire

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"
)

// TLSMode says when a session uses TLS.
type TLSMode string

// TLS modes.
const (
	TLSAuto     TLSMode = "auto"     // STARTTLS when the server offers it (RFC 3207)
	TLSStartTLS TLSMode = "starttls" // STARTTLS required: fail without it
	TLSImplicit TLSMode = "implicit" // TLS from the first byte (RFC 8314 §3, port 465)
	TLSNone     TLSMode = "none"     // never TLS
)

// ParseTLSMode checks a --tls value; "" is auto.
func ParseTLSMode(s string) (TLSMode, error) {
	switch m := TLSMode(strings.ToLower(s)); m {
	case "":
		return TLSAuto, nil
	case TLSAuto, TLSStartTLS, TLSImplicit, TLSNone:
		return m, nil
	}
	return "", fmt.Errorf("unknown TLS mode %q (want auto, starttls, implicit or none)", s)
}

// Default timeouts, as swaks uses: generous, since a slow server is a
// finding, not a failure.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultReplyTimeout   = 30 * time.Second
	// QuitTimeout caps the wait for the reply to QUIT: the session is
	// over either way.
	QuitTimeout = 5 * time.Second
	// StoppedQuitTimeout caps that wait once the run itself is over
	// (interrupted, or its time budget spent): the QUIT still goes out,
	// but a server that does not answer cannot hold up the report.
	StoppedQuitTimeout = 250 * time.Millisecond
)

// QuitContext is the context to send QUIT under when ctx may already be
// over: it outlives ctx's cancelation, and when ctx is done it allows
// only StoppedQuitTimeout for the reply.
func QuitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() != nil {
		return context.WithTimeout(context.WithoutCancel(ctx), StoppedQuitTimeout)
	}
	return context.WithoutCancel(ctx), func() {}
}

// Config says how to open one SMTP session.
type Config struct {
	Addr       string  // host:port to dial
	ServerName string  // TLS SNI and the name the certificate must match; default: the host of Addr
	HELO       string  // EHLO/HELO argument; default HELOToward(Addr)
	TLS        TLSMode // default auto
	TLSVerify  bool    // certificate problems end the session

	ConnectTimeout time.Duration // TCP connect
	ReplyTimeout   time.Duration // absolute deadline for each whole reply, and for a TLS handshake

	// Dialer opens the TCP connection; nil uses a net.Dialer. A proxy
	// client (SOCKS5) or a politeness limiter goes here.
	Dialer Dialer
	// RootCAs verifies the server's chain; nil uses the system roots.
	RootCAs *x509.CertPool
	// Limits caps what the server may send; zero fields take defaults.
	Limits Limits
	// NoHello stops the opening after the greeting (and the handshake of
	// implicit TLS): no EHLO, no STARTTLS. It is for asking how a server
	// treats commands sent before any EHLO (RFC 5321 §4.1.4).
	NoHello bool
}

// WithDefaults fills every field left zero with its default.
func (c Config) WithDefaults() Config {
	if c.TLS == "" {
		c.TLS = TLSAuto
	}
	if c.HELO == "" {
		c.HELO, _ = HELOToward(c.Addr)
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ReplyTimeout <= 0 {
		c.ReplyTimeout = DefaultReplyTimeout
	}
	if c.ServerName == "" {
		if h, _, err := net.SplitHostPort(c.Addr); err == nil {
			c.ServerName = h
		}
	}
	c.Limits = c.Limits.withDefaults()
	return c
}

// Dialer opens the connections sessions run on. *net.Dialer is one; so is
// a proxy client that tunnels each connection (SOCKS5, RFC 1928).
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// DialFunc makes a function a Dialer.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// DialContext calls f.
func (f DialFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// dial opens the TCP connection within the connect timeout and ctx.
func (c Config) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.ConnectTimeout)
	defer cancel()
	if c.Dialer != nil {
		return c.Dialer.DialContext(ctx, "tcp", c.Addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", c.Addr)
}

// teeConn records every byte through the connection in the transcript and
// stops reading once the session's byte cap is reached.
type teeConn struct {
	net.Conn
	tr       *Transcript
	received *int // shared across the plain and TLS layers of one session
	cap      int
}

func (c *teeConn) Read(p []byte) (int, error) {
	room := c.cap - *c.received
	if room <= 0 {
		return 0, &LimitError{What: "session bytes", Limit: c.cap}
	}
	if len(p) > room {
		p = p[:room]
	}
	n, err := c.Conn.Read(p)
	*c.received += n
	c.tr.Record(DirServer, p[:n])
	return n, err
}

func (c *teeConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.tr.Record(DirClient, p[:n])
	return n, err
}

// longAgo is a deadline in the past: setting it makes a blocked read or
// write return at once.
var longAgo = time.Unix(1, 0)

// replyDeadline is the absolute deadline for one reply: ReplyTimeout from
// now, or the context's deadline if that comes first. It is set once per
// reply, so bytes trickling in do not push it back.
func replyDeadline(ctx context.Context, timeout time.Duration) time.Time {
	d := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	return d
}

// interruptOnDone makes a blocked read or write on conn return once ctx
// is done (Ctrl-C, or the overall budget running out). Call the returned
// func when the I/O is over.
func interruptOnDone(ctx context.Context, conn net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { conn.SetDeadline(longAgo) })
}
