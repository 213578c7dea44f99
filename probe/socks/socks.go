// Package socks is a SOCKS5 client (RFC 1928, with the user name and
// password method of RFC 1929) that opens the TCP connections of a probe
// through a proxy. It is written here rather than taken from
// golang.org/x/net/proxy because a probe must say which side failed: a
// proxy that cannot be reached, one that refuses, one that hangs and one
// that answers something other than SOCKS5 each get a status word of
// their own, and a refusal the proxy reports on the destination's behalf
// (connection refused, host unreachable) keeps the destination's word.
package socks

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Status words of a proxy failure, as in a host report's status.
const (
	StatusUnreachable = "proxy-unreachable" // no TCP connection to the proxy
	StatusRefused     = "proxy-refused"     // the proxy refused: authentication, its rules, a failure of its own
	StatusTimeout     = "proxy-timeout"     // the proxy took the connection but did not finish the handshake in time
	StatusBadReply    = "proxy-bad-reply"   // the proxy's answer is not SOCKS5: it is not the proxy it claims to be
	// Failures the proxy reports on the destination's behalf keep the
	// words a direct connection would have got.
	statusConnRefused = "connection-refused"
	statusConnTimeout = "connection-timeout"
	statusConnFailed  = "connection-failed"
)

// DefaultHandshakeTimeout bounds the SOCKS5 exchange when the context has
// no deadline.
const DefaultHandshakeTimeout = 30 * time.Second

// Dialer opens connections through a SOCKS5 proxy.
type Dialer struct {
	Addr     string // host:port of the proxy
	User     string // with Password, the RFC 1929 method; empty: no authentication
	Password string
	// Forward reaches the proxy; nil uses a net.Dialer.
	Forward interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	}
}

// Parse reads socks5://[user:password@]host:port (socks5h:// is taken as
// the same: the destination is passed to the proxy as given).
func Parse(raw string) (*Dialer, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("proxy %q is not socks5://[user:password@]host:port", raw)
	}
	if u.Scheme != "socks5" && u.Scheme != "socks5h" {
		return nil, fmt.Errorf("proxy %q: only socks5:// proxies are supported, not %s://", raw, u.Scheme)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("proxy %q: a proxy address has no path or query", raw)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, fmt.Errorf("proxy %q needs a port (socks5://host:1080)", raw)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("proxy %q: port must be 1-65535", raw)
	}
	d := &Dialer{Addr: net.JoinHostPort(host, port)}
	if u.User != nil {
		d.User = u.User.Username()
		d.Password, _ = u.User.Password()
		if len(d.User) > 255 || len(d.Password) > 255 || d.User == "" {
			return nil, fmt.Errorf("proxy %q: user name and password must be 1-255 and 0-255 bytes (RFC 1929)", raw)
		}
	}
	return d, nil
}

// String names the proxy for reports: its URL without the password.
func (d *Dialer) String() string {
	if d.User != "" {
		return "socks5://" + url.User(d.User).String() + "@" + d.Addr
	}
	return "socks5://" + d.Addr
}

// Error is a connection the proxy did not make.
type Error struct {
	Status string // one of the Status words, or the destination's
	Proxy  string // the proxy, as String names it
	Dest   string // the address asked for
	Reason string
	Err    error // the transport error underneath, if any
}

func (e *Error) Error() string {
	return fmt.Sprintf("SOCKS5 proxy %s, connecting to %s: %s", e.Proxy, e.Dest, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// SessionStatus is the word a host report shows for this failure.
func (e *Error) SessionStatus() string { return e.Status }

// replies are the REP codes of RFC 1928 §6: what they mean, and the
// status word when the proxy speaks for the destination.
var replies = map[byte]struct {
	text, status string
}{
	1: {"general SOCKS server failure", StatusRefused},
	2: {"connection not allowed by the proxy's rules", StatusRefused},
	3: {"network unreachable, says the proxy", statusConnFailed},
	4: {"host unreachable, says the proxy", statusConnFailed},
	5: {"connection refused by the destination, says the proxy", statusConnRefused},
	6: {"TTL expired: the destination did not answer the proxy in time", statusConnTimeout},
	7: {"the proxy does not support CONNECT", StatusRefused},
	8: {"the proxy does not support this address type", StatusRefused},
}

// DialContext opens a TCP connection to addr through the proxy.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	fail := func(status, reason string, err error) (net.Conn, error) {
		return nil, &Error{Status: status, Proxy: d.String(), Dest: addr, Reason: reason, Err: err}
	}
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return fail(StatusRefused, "SOCKS5 CONNECT carries TCP only, not "+network, nil)
	}
	req, err := connectRequest(addr)
	if err != nil {
		return fail(StatusRefused, err.Error(), err)
	}
	var fwd interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	} = &net.Dialer{}
	if d.Forward != nil {
		fwd = d.Forward
	}
	c, err := fwd.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, ctx.Err()
		}
		return fail(StatusUnreachable, "cannot reach the proxy: "+err.Error(), err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultHandshakeTimeout)
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	status, reason, err := d.handshake(c, req)
	stop()
	if status != "" {
		c.Close()
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, ctx.Err()
		}
		return fail(status, reason, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// handshake runs the method negotiation, authentication and CONNECT on
// c; a non-empty status is the failure.
func (d *Dialer) handshake(c net.Conn, req []byte) (status, reason string, err error) {
	ioFail := func(step string, err error) (string, string, error) {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return StatusTimeout, "the proxy did not answer the " + step + " in time", err
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return StatusRefused, "the proxy closed the connection at the " + step, err
		}
		return StatusRefused, "the " + step + " failed: " + err.Error(), err
	}
	methods := []byte{5, 1, 0} // version 5, one method: no authentication
	if d.User != "" {
		methods = []byte{5, 1, 2} // user name and password only (RFC 1929)
	}
	if _, err := c.Write(methods); err != nil {
		return ioFail("greeting", err)
	}
	var b [4]byte
	if _, err := io.ReadFull(c, b[:2]); err != nil {
		return ioFail("greeting", err)
	}
	if b[0] != 5 {
		return StatusBadReply, fmt.Sprintf("the proxy answered the greeting with %s, which is not SOCKS5 (RFC 1928 §3)", showBytes(b[:2])), nil
	}
	switch b[1] {
	case 0:
		if d.User != "" {
			return StatusBadReply, "the proxy chose no authentication, which was not offered", nil
		}
	case 2:
		if d.User == "" {
			return StatusBadReply, "the proxy chose user name and password, which was not offered", nil
		}
		auth := append([]byte{1, byte(len(d.User))}, d.User...)
		auth = append(append(auth, byte(len(d.Password))), d.Password...)
		if _, err := c.Write(auth); err != nil {
			return ioFail("authentication", err)
		}
		if _, err := io.ReadFull(c, b[:2]); err != nil {
			return ioFail("authentication", err)
		}
		if b[0] != 1 {
			return StatusBadReply, fmt.Sprintf("the proxy answered the authentication with %s, not an RFC 1929 reply", showBytes(b[:2])), nil
		}
		if b[1] != 0 {
			return StatusRefused, "the proxy refused the user name and password (RFC 1929)", nil
		}
	case 0xff:
		return StatusRefused, "the proxy accepts none of the authentication methods offered", nil
	default:
		return StatusBadReply, fmt.Sprintf("the proxy chose method %d, which was not offered", b[1]), nil
	}
	if _, err := c.Write(req); err != nil {
		return ioFail("CONNECT", err)
	}
	if _, err := io.ReadFull(c, b[:4]); err != nil {
		return ioFail("CONNECT", err)
	}
	if b[0] != 5 || b[2] != 0 {
		return StatusBadReply, fmt.Sprintf("the proxy answered CONNECT with %s, not a SOCKS5 reply (RFC 1928 §6)", showBytes(b[:4])), nil
	}
	if b[1] != 0 {
		r, ok := replies[b[1]]
		if !ok {
			return StatusBadReply, fmt.Sprintf("the proxy answered CONNECT with reply code %d, which RFC 1928 §6 does not define", b[1]), nil
		}
		return r.status, fmt.Sprintf("%s (reply %d)", r.text, b[1]), nil
	}
	var skip int
	switch b[3] {
	case 1:
		skip = 4
	case 4:
		skip = 16
	case 3:
		if _, err := io.ReadFull(c, b[:1]); err != nil {
			return ioFail("CONNECT", err)
		}
		skip = int(b[0])
	default:
		return StatusBadReply, fmt.Sprintf("the proxy's CONNECT reply has address type %d, which RFC 1928 §5 does not define", b[3]), nil
	}
	if _, err := io.ReadFull(c, make([]byte, skip+2)); err != nil {
		return ioFail("CONNECT", err)
	}
	return "", "", nil
}

// connectRequest is the CONNECT request for addr (RFC 1928 §4).
func connectRequest(addr string) ([]byte, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return nil, fmt.Errorf("port %q is not 1-65535", port)
	}
	req := []byte{5, 1, 0}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is4() {
			req = append(req, 1)
		} else {
			req = append(req, 4)
		}
		req = append(req, ip.AsSlice()...)
	} else {
		if len(host) > 255 {
			return nil, errors.New("host name longer than 255 bytes")
		}
		req = append(append(req, 3, byte(len(host))), host...)
	}
	return binary.BigEndian.AppendUint16(req, uint16(p)), nil
}

// showBytes shows the first bytes of an answer, as hex and, when they
// are text (an HTTP proxy's "HTTP/1.1 400"), as text.
func showBytes(b []byte) string {
	s := fmt.Sprintf("% x", b)
	text := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			text = false
		}
	}
	if text {
		s += fmt.Sprintf(" (%q)", string(b))
	}
	return strings.TrimSpace(s)
}
