package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// ErrClosed is returned by Cmd once the server has closed the session or
// sent 421 (RFC 5321 §3.8), or after a failure left it unusable.
var ErrClosed = errors.New("session closed")

// ErrRefusedLine is returned by Cmd for a line it will not send: one
// containing CR, LF or NUL (it would smuggle a second command), or a DATA,
// BDAT or STARTTLS command (smtpprobe never sends mail, and STARTTLS is
// negotiated by Dial only).
var ErrRefusedLine = errors.New("line refused")

// Session is one SMTP connection. It is not safe for concurrent use.
type Session struct {
	cfg      Config
	tr       *Transcript
	raw      net.Conn // the TCP connection
	conn     net.Conn // raw, or the TLS layer over it
	br       *bufio.Reader
	received int

	greeting   Reply
	ehlo       Reply
	helo       *Reply
	ext        Extensions
	tlsInfo    *TLSInfo
	starttls   *Reply // the reply to STARTTLS, when it was sent
	deviations []Deviation
	early      []Deviation     // unsolicited bytes found before the last write
	lastRaw    []byte          // the bytes of the last complete reply, to spot a repeat
	lastArg    string          // the mailbox or list the last command named
	times      []time.Duration // how long each reply of the last Cmd or Pipeline took
	closed     bool            // the server closed, sent 421, or the stream is unusable
	shut       bool            // Close was called
}

// Dial connects to cfg.Addr, reads the greeting, says EHLO (HELO when the
// server answers 500, 502 or 504, RFC 5321 §4.1.4) and negotiates TLS as
// cfg.TLS asks, saying EHLO again over TLS. It returns a non-nil Session
// whenever a TCP connection was made, even with an error, so the
// transcript is never lost; Status(err) names the outcome.
//
// A greeting other than 220 ends the session with an error carrying that
// reply; certificate problems are recorded in TLS() and end the session
// only when cfg.TLSVerify is set. On error the connection is already
// closed; the Session stays readable.
func Dial(ctx context.Context, cfg Config) (*Session, error) {
	cfg = cfg.WithDefaults()
	if err := checkLine("HELO " + cfg.HELO); err != nil {
		return nil, err
	}
	raw, err := cfg.dial(ctx)
	if err != nil {
		return nil, &Error{Status: classify(err, "connect"), Op: "connect", Err: err}
	}
	s := &Session{cfg: cfg, tr: NewTranscript(), raw: raw}
	s.tr.Event("connected to %s", raw.RemoteAddr())
	s.setConn(raw)
	if err := s.open(ctx); err != nil {
		s.markClosed()
		s.Close()
		return s, err
	}
	return s, nil
}

// open runs the session up to the first probe: TLS first if implicit,
// the greeting, EHLO, and STARTTLS.
func (s *Session) open(ctx context.Context) error {
	if s.cfg.TLS == TLSImplicit {
		if err := s.handshake(ctx); err != nil {
			return err
		}
	}
	if err := s.readGreeting(ctx); err != nil {
		return err
	}
	if s.cfg.NoHello {
		return nil
	}
	return s.introduce(ctx)
}

// introduce says EHLO, then STARTTLS as the config asks: the opening
// that follows the greeting.
func (s *Session) introduce(ctx context.Context) error {
	if err := s.hello(ctx); err != nil {
		return err
	}
	return s.negotiateTLS(ctx)
}

// setConn makes c the layer commands go through, with a fresh reader: no
// byte read below TLS ever reaches the TLS stream.
func (s *Session) setConn(c net.Conn) {
	s.conn = c
	s.br = bufio.NewReader(&teeConn{Conn: c, tr: s.tr, received: &s.received, cap: s.cfg.Limits.SessionBytes})
}

func (s *Session) readGreeting(ctx context.Context) error {
	rep, err := s.read(ctx, s.cfg.ReplyTimeout)
	s.greeting = rep
	s.lastRaw = append(s.lastRaw[:0], rep.Raw...)
	if err != nil {
		return err
	}
	switch {
	case rep.Code == 220:
		return nil
	case rep.Code == 421:
		s.markClosed()
		return &Error{Status: StatusClosedByServer, Op: "greeting", Reply: &rep,
			Err: fmt.Errorf("server not available: %d %s", rep.Code, rep.Text())}
	case rep.Code >= 400:
		// RFC 5321 §3.1: after a 554 greeting the server waits for
		// QUIT; RFC 7504 §3 gives 521 the same role. Other refusals
		// are treated alike.
		s.Quit(ctx)
		return &Error{Status: StatusNoService, Op: "greeting", Reply: &rep,
			Err: fmt.Errorf("no SMTP service here: %d %s", rep.Code, rep.Text())}
	}
	return &Error{Status: StatusProtocolError, Op: "greeting", Reply: &rep,
		Err: fmt.Errorf("unexpected greeting code %03d", rep.Code)}
}

// Hello finishes the opening of a session dialled with Config.NoHello,
// as Dial would have: EHLO (HELO when EHLO is not understood), then
// STARTTLS when the config asks for it. A later EHLO resets the session
// as RSET does (RFC 5321 §4.1.4), so what was sent before it does not
// carry over. On error the connection is closed.
func (s *Session) Hello(ctx context.Context) error {
	err := s.introduce(ctx)
	if err != nil {
		s.markClosed()
		s.Close()
	}
	return err
}

// hello says EHLO, or HELO when EHLO is not understood, and records the
// extensions.
func (s *Session) hello(ctx context.Context) error {
	rep, err := s.cmd(ctx, "EHLO "+s.cfg.HELO)
	s.ehlo, s.helo, s.ext = rep, nil, Extensions{}
	if err != nil {
		return err
	}
	switch rep.Code {
	case 250:
		s.ext = ExtensionsOf(rep)
	case 500, 502, 504:
		h, err := s.cmd(ctx, "HELO "+s.cfg.HELO)
		s.helo = &h
		if err != nil {
			return err
		}
		rep = h
	}
	if rep.Code == 421 {
		return &Error{Status: StatusClosedByServer, Op: "hello", Reply: &rep,
			Err: fmt.Errorf("server closing: %d %s", rep.Code, rep.Text())}
	}
	return nil
}

// negotiateTLS runs STARTTLS (RFC 3207 §4) when cfg.TLS asks for it.
func (s *Session) negotiateTLS(ctx context.Context) error {
	mode := s.cfg.TLS
	if mode != TLSAuto && mode != TLSStartTLS || s.tlsInfo != nil {
		return nil
	}
	if !s.ext.Has("STARTTLS") {
		if mode == TLSStartTLS {
			return &Error{Status: StatusTLSUnavailable, Op: "starttls", Err: errors.New("server does not offer STARTTLS")}
		}
		return nil
	}
	rep, err := s.cmd(ctx, "STARTTLS")
	s.starttls = &rep
	if err != nil {
		return err
	}
	if rep.Code != 220 {
		s.note(Deviation{Kind: DevSTARTTLSRefused, Detail: fmt.Sprintf("STARTTLS was offered but answered %03d %s", rep.Code, rep.Text())})
		if mode == TLSStartTLS {
			return &Error{Status: StatusTLSUnavailable, Op: "starttls", Reply: &rep,
				Err: fmt.Errorf("STARTTLS refused: %03d %s", rep.Code, rep.Text())}
		}
		return nil
	}
	// The server speaks again only after our ClientHello, so any byte
	// waiting now was sent in plain text after the 220: the STARTTLS
	// injection of CVE-2011-0411. It is discarded, never read as TLS.
	if b := s.pending(); len(b) > 0 {
		s.note(Deviation{Kind: DevSTARTTLSInject, Detail: fmt.Sprintf("%d plain-text bytes followed the 220 to STARTTLS; discarded", len(b))})
		s.tr.Event("discarded %d plain-text bytes sent after 220 to STARTTLS", len(b))
	}
	if err := s.handshake(ctx); err != nil {
		return err
	}
	return s.hello(ctx)
}

// handshake starts TLS on the raw connection under one absolute deadline.
func (s *Session) handshake(ctx context.Context) error {
	tc := tls.Client(s.raw, s.tlsConfig())
	dl := replyDeadline(ctx, s.cfg.ReplyTimeout)
	s.raw.SetDeadline(dl)
	hctx, cancel := context.WithDeadline(ctx, dl)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		s.markClosed()
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) {
			s.note(Deviation{Kind: DevTLSPlaintext, Detail: fmt.Sprintf("server answered the TLS handshake in plain text: %q", rh.RecordHeader[:])})
			err = fmt.Errorf("server answered the TLS handshake in plain text: %w", err)
		}
		st := StatusTLSHandshakeError
		if ctx.Err() != nil {
			st = classify(ctx.Err(), "")
		} else if isTimeout(err) {
			st = StatusIOTimeout
		}
		s.tr.Event("TLS handshake failed: %v", err)
		return &Error{Status: st, Op: "tls", Err: err}
	}
	s.raw.SetDeadline(time.Time{})
	s.setConn(tc)
	s.tlsInfo = inspectTLS(tc.ConnectionState(), s.cfg.ServerName, s.cfg.RootCAs, time.Now())
	s.tr.Event("TLS established: %s %s", s.tlsInfo.Version, s.tlsInfo.Cipher)
	if s.cfg.TLSVerify && len(s.tlsInfo.Problems) > 0 {
		s.markClosed()
		return &Error{Status: StatusTLSHandshakeError, Op: "tls",
			Err: fmt.Errorf("certificate not accepted: %s", strings.Join(s.tlsInfo.Problems, "; "))}
	}
	return nil
}

// Cmd sends line and CRLF exactly as given and reads one reply under the
// per-reply deadline and ctx. A 4xx or 5xx reply is not an error. The
// error is set when the line is refused (nothing sent), when the
// transport fails (the partial reply is returned), or when the reply has
// no usable code (StatusProtocolError). Bytes the server sent before the
// command are recorded as an "unsolicited-data" deviation on the reply.
func (s *Session) Cmd(ctx context.Context, line string) (Reply, error) {
	if err := checkLine(line); err != nil {
		return Reply{}, err
	}
	return s.cmd(ctx, line)
}

// checkLine refuses what Cmd must never send.
func checkLine(line string) error {
	if i := strings.IndexAny(line, "\r\n\x00"); i >= 0 {
		return &Error{Status: StatusInvalidInput, Op: "write",
			Err: fmt.Errorf("%w: CR, LF or NUL at byte %d", ErrRefusedLine, i+1)}
	}
	switch verb := strings.ToUpper(verbOf(line)); verb {
	case "DATA", "BDAT", "STARTTLS":
		return &Error{Status: StatusInvalidInput, Op: "write",
			Err: fmt.Errorf("%w: %s is never sent by a probe", ErrRefusedLine, verb)}
	}
	return nil
}

func (s *Session) cmd(ctx context.Context, line string) (Reply, error) {
	s.times = s.times[:0]
	dl, err := s.send(ctx, line+"\r\n", verbOf(line))
	if err != nil {
		return Reply{Deviations: s.early}, err
	}
	start := time.Now()
	rep, err := s.readUntil(ctx, dl)
	s.times = append(s.times, time.Since(start))
	rep.Deviations = append(s.early, rep.Deviations...)
	if v := strings.ToUpper(verbOf(line)); err == nil && v != "QUIT" && v != "STARTTLS" {
		// STARTTLS has its own check: plain text behind its 220 is the
		// injection negotiateTLS looks for.
		err = s.checkInStep(&rep, verbOf(line))
	}
	arg := argumentOf(line)
	if err == nil && s.lastArg != "" && arg != "" && namesOther(rep.Text(), s.lastArg, arg) {
		rep.addDev(DevDesyncSuspect, 0, fmt.Sprintf("the reply names %q, the argument of the command before, and not %q: it may answer that command", s.lastArg, arg))
	}
	s.lastArg = arg
	return rep, err
}

// argumentOf is the mailbox or list a command names: what is inside the
// angle brackets of MAIL FROM and RCPT TO, the argument of VRFY and EXPN;
// "" for other commands.
func argumentOf(line string) string {
	verb := strings.ToUpper(verbOf(line))
	switch verb {
	case "MAIL", "RCPT":
		i := strings.IndexByte(line, '<')
		j := strings.IndexByte(line, '>')
		if i >= 0 && j > i+1 {
			return line[i+1 : j]
		}
	case "VRFY", "EXPN":
		if len(line) > len(verb) {
			return strings.Trim(strings.TrimSpace(line[len(verb):]), "<>")
		}
	}
	return ""
}

// namesOther reports whether reply text names prev, the argument of the
// command before, but not cur, this command's own: a sign the reply
// belongs to the command before. Short or overlapping arguments prove
// nothing and are not compared.
func namesOther(text, prev, cur string) bool {
	t, p, c := strings.ToLower(text), strings.ToLower(prev), strings.ToLower(cur)
	if len(p) < 4 || p == c || strings.Contains(c, p) || strings.Contains(p, c) {
		return false
	}
	return strings.Contains(t, p) && !strings.Contains(t, c)
}

// DesyncWindow is how long a session watches the connection after each
// complete reply for bytes no command asked for. A server sends nothing
// between its reply and the next command; bytes that arrive then (a
// duplicate reply, the real reply behind a late one) mean every reply
// from here on would be taken for the wrong command's.
const DesyncWindow = 3 * time.Millisecond

// checkInStep looks for bytes that follow a complete reply to verb while
// no command is outstanding. Bytes behind a reply that is new are extra
// lines the server sent unasked: they are left for the next command to
// find and discard as "unsolicited-data", and the reply stands. Bytes
// behind a reply identical to the one before it, when nothing came unasked
// before the command, mean that reply was a repeat arriving late and the
// real one is behind it: the replies are out
// of step with the commands and none can be trusted, so the reply is
// marked "desynchronised", the bytes are discarded (the transcript keeps
// them) and the session ends with StatusDesync.
func (s *Session) checkInStep(rep *Reply, verb string) error {
	last := s.lastRaw
	s.lastRaw = bytes.Clone(rep.Raw) // a fresh array: last must keep the reply before
	if s.closed {
		return nil
	}
	if len(last) == 0 || !bytes.Equal(last, rep.Raw) || len(s.early) > 0 {
		// A new reply, or one from a server already seen sending lines
		// unasked before this command: extra lines, not a shift. Any
		// bytes behind it are the next command's to find, so only a
		// repeat is worth the wait below.
		return nil
	}
	if s.br.Buffered() == 0 {
		s.conn.SetReadDeadline(time.Now().Add(DesyncWindow))
		_, err := s.br.Peek(1)
		if err != nil && s.br.Buffered() == 0 {
			// Nothing, or the server hung up: the next command finds
			// out which, as it always has.
			return nil
		}
	}
	n := s.br.Buffered()
	if s.hangsUpAfter(n) {
		// A last word before hanging up ("too many errors"), not a reply
		// shifted by one: the next command finds it, and the hang-up.
		return nil
	}
	b, _ := s.br.Peek(n)
	d := Deviation{Kind: DevDesync, Detail: fmt.Sprintf("%d bytes arrived right after the reply to %s, when no command was outstanding: %.80q; the replies are out of step with the commands", n, verb, b)}
	s.br.Discard(n)
	s.note(d)
	rep.Deviations = append(rep.Deviations, d)
	s.tr.Event("replies out of step with the commands: session ended")
	s.markClosed()
	return &Error{Status: StatusDesync, Op: "read", Reply: rep,
		Err: fmt.Errorf("the server's replies are out of step with the commands: %d bytes followed the reply to %s unasked", n, verb)}
}

// hangsUpAfter tells whether the n bytes buffered are one or more whole
// replies after which the server closed the connection, within
// hangUpWindow: a server that says why it is leaving and goes (go-smtp's
// "500 5.5.1 Too many errors" after the reply that was one error too
// many) has not shifted its replies.
func (s *Session) hangsUpAfter(n int) bool {
	b, _ := s.br.Peek(n)
	if !bytes.HasSuffix(b, []byte("\n")) {
		return false
	}
	lines := bytes.Split(bytes.TrimRight(b, "\r\n"), []byte("\n"))
	if last := bytes.TrimRight(lines[len(lines)-1], "\r"); len(last) < 3 || len(last) > 3 && last[3] != ' ' {
		return false // not a reply's last line
	}
	if n+1 > s.br.Size() {
		return false
	}
	s.conn.SetReadDeadline(time.Now().Add(hangUpWindow))
	_, err := s.br.Peek(n + 1)
	return err != nil && !isTimeout(err)
}

// hangUpWindow is how long hangsUpAfter waits for the connection to
// close. It is spent only when a reply repeated the one before and more
// bytes followed, which a well-behaved server never makes happen.
const hangUpWindow = 50 * time.Millisecond

// send writes data under a fresh absolute deadline, which it returns for
// the reply. Bytes the server sent beforehand are recorded in s.early.
func (s *Session) send(ctx context.Context, data, verb string) (time.Time, error) {
	s.early = nil
	if s.closed || s.shut {
		return time.Time{}, &Error{Status: StatusClosedByServer, Op: "write", Err: ErrClosed}
	}
	if err := ctx.Err(); err != nil {
		return time.Time{}, &Error{Status: classify(err, ""), Op: "write", Err: err}
	}
	if b := s.pending(); len(b) > 0 {
		d := Deviation{Kind: DevUnsolicited, Detail: fmt.Sprintf("%d bytes arrived before %s was sent: %.80q", len(b), verb, b)}
		s.note(d)
		s.early = append(s.early, d)
	}
	if s.closed {
		return time.Time{}, &Error{Status: StatusClosedByServer, Op: "write", Err: ErrClosed}
	}
	dl := replyDeadline(ctx, s.cfg.ReplyTimeout)
	s.conn.SetWriteDeadline(dl)
	stop := interruptOnDone(ctx, s.conn)
	_, err := s.writer().Write([]byte(data))
	stop()
	if err != nil {
		return dl, s.ioError(ctx, "write", err)
	}
	return dl, nil
}

// writer returns the writer for commands: the tee over the current layer.
func (s *Session) writer() *teeConn {
	return &teeConn{Conn: s.conn, tr: s.tr, received: &s.received, cap: s.cfg.Limits.SessionBytes}
}

// verbOf is the line's first word, as a server would split it.
func verbOf(line string) string {
	if f := strings.Fields(line); len(f) > 0 {
		return f[0]
	}
	return ""
}

// read reads one reply with a deadline timeout from now.
func (s *Session) read(ctx context.Context, timeout time.Duration) (Reply, error) {
	return s.readUntil(ctx, replyDeadline(ctx, timeout))
}

// readUntil reads one reply that must be complete by the absolute
// deadline dl; ctx being done interrupts it.
func (s *Session) readUntil(ctx context.Context, dl time.Time) (Reply, error) {
	s.conn.SetReadDeadline(dl)
	stop := interruptOnDone(ctx, s.conn)
	rep, err := ReadReply(s.br, s.cfg.Limits)
	stop()
	if err != nil {
		return rep, s.ioError(ctx, "read", err)
	}
	if rep.Closing() {
		// RFC 5321 §3.8: the server is closing the channel, even when
		// the 421 is one line of a reply whose last line says more.
		s.markClosed()
	}
	if !rep.Valid() {
		return rep, &Error{Status: StatusProtocolError, Op: "read", Err: fmt.Errorf("reply without a usable code: %q", firstLine(rep))}
	}
	return rep, nil
}

func firstLine(r Reply) string {
	if len(r.Lines) == 0 {
		return ""
	}
	return r.Lines[0]
}

// ioError wraps a transport error with its outcome word, preferring the
// context's reason when it is done.
func (s *Session) ioError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	st := classify(err, op)
	if st == StatusIOTimeout && ctx.Err() == nil {
		err = fmt.Errorf("no complete reply within %v: %w", s.cfg.ReplyTimeout, err)
	}
	// After a timeout, a cap or a closed peer the stream cannot be
	// trusted: a late reply would be taken for the next command's.
	s.markClosed()
	return &Error{Status: st, Op: op, Err: err}
}

// pending returns, and discards, bytes the server has already sent that
// no command asked for: what is buffered, and what the kernel holds for
// the socket, found without waiting (waiting would pace every command).
// An EOF seen on the way marks the session closed.
func (s *Session) pending() []byte {
	if s.br.Buffered() == 0 {
		switch avail, eof := peekSocket(s.raw); {
		case eof:
			s.markClosed()
		case avail:
			// Bytes are there (for TLS, a record): read what they give
			// without blocking for more.
			s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			_, err := s.br.Peek(1)
			if err != nil && s.br.Buffered() == 0 && !isTimeout(err) {
				s.markClosed()
			}
		}
	}
	n := s.br.Buffered()
	if n == 0 {
		return nil
	}
	b, _ := s.br.Peek(n)
	b = append([]byte(nil), b...)
	s.br.Discard(n)
	return b
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *Session) markClosed() {
	if !s.closed {
		s.closed = true
		s.tr.Event("session ended")
	}
}

func (s *Session) note(d Deviation) { s.deviations = append(s.deviations, d) }

// Pipeline sends lines in one write and reads one reply per line, as RFC
// 2920 allows when the server advertises PIPELINING. Each reply has its
// own absolute deadline, counted from the end of the previous one. The
// replies read so far come back with an error; lines are checked as Cmd
// checks them, and none is sent if one is refused. A QUIT may close the
// group: its reply ends the session, and the server's close is awaited
// as Quit awaits it.
func (s *Session) Pipeline(ctx context.Context, lines []string) ([]Reply, error) {
	var buf strings.Builder
	for _, l := range lines {
		if err := checkLine(l); err != nil {
			return nil, err
		}
		buf.WriteString(l + "\r\n")
	}
	if len(lines) == 0 {
		return nil, nil
	}
	s.times = s.times[:0]
	first, err := s.send(ctx, buf.String(), verbOf(lines[0]))
	if err != nil {
		return nil, err
	}

	replies := make([]Reply, 0, len(lines))
	var firstErr error
	prev := time.Now()
	for dl := first; ; dl = replyDeadline(ctx, s.cfg.ReplyTimeout) {
		rep, err := s.readUntil(ctx, dl)
		now := time.Now()
		s.times = append(s.times, now.Sub(prev))
		prev = now
		if len(replies) == 0 {
			rep.Deviations = append(s.early, rep.Deviations...)
		}
		replies = append(replies, rep)
		if firstErr == nil {
			firstErr = err
		}
		if s.closed || len(replies) == len(lines) {
			// A 421 or a failure ends the pipeline; an unusable code
			// alone does not.
			last := verbOf(lines[len(lines)-1])
			switch {
			case len(replies) < len(lines):
			case strings.EqualFold(last, "QUIT"):
				// QUIT may close a group (RFC 2920 §3.1): its reply
				// ends the session, as Quit's does.
				if err == nil {
					s.markClosed()
					s.awaitServerClose(ctx)
				}
			case firstErr == nil:
				firstErr = s.checkInStep(&replies[len(replies)-1], last)
			}
			return replies, firstErr
		}
	}
}

// ReplyTimes are how long each reply of the last Cmd or Pipeline took:
// from the write to the reply for the first, from the reply before for
// the others. A tarpit shows here as error replies that take ever longer.
func (s *Session) ReplyTimes() []time.Duration { return append([]time.Duration(nil), s.times...) }

// Quit sends QUIT and waits a short while for the 221 (RFC 5321 §4.1.1.10),
// then, within the same while and at most ServerCloseWait, for the server
// to close its end, and closes the connection.
func (s *Session) Quit(ctx context.Context) (Reply, error) {
	defer s.Close()
	ctx, cancel := context.WithTimeout(ctx, min(QuitTimeout, s.cfg.ReplyTimeout))
	defer cancel()
	rep, err := s.cmd(ctx, "QUIT")
	if err == nil {
		s.markClosed()
		s.awaitServerClose(ctx)
	}
	return rep, err
}

// Close closes the connection, first keeping in the transcript whatever
// the server had already sent. It is safe to call more than once.
func (s *Session) Close() error {
	if s.shut {
		return nil
	}
	if !s.closed {
		if b := s.pending(); len(b) > 0 {
			s.note(Deviation{Kind: DevUnsolicited, Detail: fmt.Sprintf("%d bytes arrived after the last reply: %.80q", len(b), b)})
		}
	}
	s.shut = true
	s.tr.Event("closed")
	return s.raw.Close()
}

// Greeting is the server's opening reply (RFC 5321 §4.3.1).
func (s *Session) Greeting() Reply { return s.greeting }

// EHLOReply is the reply to the last EHLO (the one over TLS after
// STARTTLS).
func (s *Session) EHLOReply() Reply { return s.ehlo }

// HELOReply is the reply to HELO when EHLO was refused, else nil.
func (s *Session) HELOReply() *Reply { return s.helo }

// Extensions are the extensions of the last EHLO reply.
func (s *Session) Extensions() Extensions { return s.ext }

// TLS describes the TLS layer, nil when the session is in plain text.
func (s *Session) TLS() *TLSInfo { return s.tlsInfo }

// STARTTLSReply is the server's reply to STARTTLS, or nil when it was not
// sent (not offered, not asked for, or the session ended before).
func (s *Session) STARTTLSReply() *Reply { return s.starttls }

// Transcript is every byte sent and received so far.
func (s *Session) Transcript() *Transcript { return s.tr }

// Closed reports whether the server closed the connection or said 421,
// or a failure left the session unusable.
func (s *Session) Closed() bool { return s.closed || s.shut }

// Deviations are the session-level oddities: unsolicited bytes, a refused
// STARTTLS, plain text injected after the 220 to STARTTLS.
func (s *Session) Deviations() []Deviation { return append([]Deviation(nil), s.deviations...) }

// Addr is the address the session is connected to.
func (s *Session) Addr() string { return s.raw.RemoteAddr().String() }
