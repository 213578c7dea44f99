package probetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Form is one way a MAIL FROM or RCPT TO line can depart from RFC 5321's
// grammar (or from what a server advertised). A profile server looks for
// these in every line and answers the first one its Profile rejects.
type Form string

// The forms a profile server recognises, in the order it checks them.
const (
	FormLowerCaseVerb      Form = "lower-case-verb"     // "mail from:" (allowed by RFC 5321 §2.4)
	FormSpaceBeforeColon   Form = "space-before-colon"  // "MAIL FROM :<a@b>" (RFC 5321 §3.3)
	FormNoColon            Form = "no-colon"            // "MAIL FROM <a@b>"
	FormSpaceAfterColon    Form = "space-after-colon"   // "MAIL FROM: <a@b>" (RFC 5321 §3.3)
	FormTrailingSpace      Form = "trailing-space"      // white space before CRLF (RFC 5321 §4.1.1)
	FormNoBrackets         Form = "no-brackets"         // "MAIL FROM:a@b" (RFC 5321 §4.1.2)
	FormUnbalancedBrackets Form = "unbalanced-brackets" // "<a@b" or "a@b>"
	FormStrayBrackets      Form = "stray-brackets"      // "<<a@b>>"
	FormUnquotedSpecial    Form = "unquoted-special"    // a local part that needs quotes and has none
	FormNeedlessQuotes     Form = "needless-quotes"     // "\"john\"@b" (RFC 5321 §4.1.2: minimum quoting)
	FormTrailingDot        Form = "trailing-dot"        // "<a@b.example.>"
	FormNonASCIILocal      Form = "non-ascii-local"     // local part not ASCII, SMTPUTF8 not declared (RFC 6531 §3.2)
	FormNonASCIIDomain     Form = "non-ascii-domain"    // domain not ASCII (a U-label), SMTPUTF8 not declared
	FormUnknownParam       Form = "unknown-parameter"   // a parameter whose extension was not advertised
)

// Profile is how strictly one kind of server parses MAIL FROM and RCPT TO,
// as a row of data: the reply to a line showing each form it refuses (a
// form absent from Reject is accepted), the EHLO keywords it advertises,
// and how many errors it takes before it hangs up.
//
// Reply texts may use {syntax} ("MAIL FROM:<address>" or "RCPT TO:<address>"),
// {who} ("sender" or "recipient"), {dsn} (5.1.7 or 5.1.3), {arg} (the text
// after the colon) and {param} (the offending parameter).
type Profile struct {
	Name       string
	Extensions []string        // EHLO keywords after the first line, e.g. "8BITMIME", "SIZE 1000000"
	Reject     map[Form]string // reply to a line showing the form
	MailReply  string          // reply to a MAIL that passes every check; "" means "250 2.1.0 Ok"
	RcptReply  string          // the same for RCPT; "" means "250 2.1.5 Ok"
	// DropAfter is the number of error replies after which the server
	// sends DropReply on its own and closes, as Postfix does at
	// smtpd_hard_error_limit and go-smtp after three errors; 0 never.
	DropAfter int
	DropReply string
	// DropJoined makes DropReply the last line of the error reply itself,
	// with the same code, as Exim does when smtp_max_synprot_errors is
	// exceeded; DropReply is then only the text.
	DropJoined bool
	// CountOnly are the reply codes counted toward DropAfter; nil counts
	// every error. Exim counts its syntax and protocol errors (500, 501,
	// 503, 504 from synprot_error), not its ACL refusals.
	CountOnly []int
}

// Profiles are the strictness profiles the tests of why run against. The
// reply texts of Postfix and Exim follow their stock texts; what each
// accepts follows their parsers (see the notes on Postfix's tokenizer with
// strict_rfc821_envelopes=yes, and Exim's literal "mail from:" match).
var Profiles = []Profile{
	{
		// Postfix with strict_rfc821_envelopes=yes: its tokenizer skips the
		// white space after "from:", so the space passes; a path without
		// brackets does not.
		Name:       "postfix-strict",
		Extensions: []string{"PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"},
		Reject: map[Form]string{
			FormSpaceBeforeColon:   "501 5.5.4 Syntax: {syntax}",
			FormNoColon:            "501 5.5.4 Syntax: {syntax}",
			FormNoBrackets:         "501 5.1.{dsn} Bad {who} address syntax",
			FormUnbalancedBrackets: "501 5.1.{dsn} Bad {who} address syntax",
			FormStrayBrackets:      "501 5.1.{dsn} Bad {who} address syntax",
			FormUnquotedSpecial:    "501 5.1.{dsn} Bad {who} address syntax",
			// Seen in the lab (Postfix 3.x, strict and lenient alike): a
			// U-label domain without SMTPUTF8 is a syntax error, while a
			// local part that is not ASCII passes.
			FormNonASCIIDomain: "501 5.1.{dsn} Bad {who} address syntax",
			FormUnknownParam:   "555 5.5.4 Unsupported option: {param}",
		},
		DropAfter: 20,
		DropReply: "421 4.7.0 profile.test Error: too many errors",
	},
	{
		// Exim matches "mail from:" literally and skips white space after
		// it, then extracts an address from an RFC 822 mailbox: the space
		// after the colon and a bare address pass, a space before the
		// colon is an unknown command. No SMTPUTF8 without i18n support.
		Name:       "exim",
		Extensions: []string{"SIZE 52428800", "8BITMIME", "PIPELINING", "HELP"},
		Reject: map[Form]string{
			FormSpaceBeforeColon:   "500 unrecognized command",
			FormNoColon:            "500 unrecognized command",
			FormUnbalancedBrackets: "501 {arg}: malformed address: missing >",
			FormStrayBrackets:      "501 {arg}: malformed address",
			FormUnquotedSpecial:    "501 {arg}: malformed address",
			FormNonASCIILocal:      "501 {arg}: malformed address: non-ASCII character",
			FormNonASCIIDomain:     "501 {arg}: malformed address: non-ASCII character",
			FormUnknownParam:       "555 Unsupported parameter {param}",
		},
		DropAfter:  4,
		DropReply:  "Too many syntax or protocol errors",
		DropJoined: true,
		CountOnly:  []int{500, 501, 503, 504},
	},
	{
		// A lenient server takes whatever it can make an address of.
		Name:       "lenient",
		Extensions: []string{"8BITMIME", "SMTPUTF8", "SIZE"},
		Reject:     map[Form]string{},
	},
	{
		// A server without SMTPUTF8 that refuses non-ASCII addresses, as
		// RFC 5321 §2.4 and RFC 6531 §3.5 describe.
		Name:       "ascii-only",
		Extensions: []string{"8BITMIME", "ENHANCEDSTATUSCODES"},
		Reject: map[Form]string{
			FormNonASCIILocal:  "553 5.6.7 Non-ASCII addresses are not permitted",
			FormNonASCIIDomain: "553 5.6.7 Non-ASCII addresses are not permitted",
			FormNoBrackets:     "501 5.1.{dsn} Bad {who} address syntax",
			FormUnknownParam:   "555 5.5.4 Unsupported option: {param}",
		},
	},
	{
		// A server that requires <> but lets the space after the colon pass.
		Name:       "brackets-required",
		Extensions: []string{"8BITMIME"},
		Reject: map[Form]string{
			FormNoBrackets:         "553 5.1.{dsn} Path must be in angle brackets",
			FormUnbalancedBrackets: "553 5.1.{dsn} Path must be in angle brackets",
		},
	},
	{
		// A server that follows §3.3 to the letter and refuses any space
		// around the colon; go-smtp's error limit.
		Name:       "rfc-literal",
		Extensions: []string{"8BITMIME", "ENHANCEDSTATUSCODES"},
		Reject: map[Form]string{
			FormSpaceAfterColon:  "501 5.5.2 Syntax error: no space allowed after the colon",
			FormSpaceBeforeColon: "501 5.5.2 Syntax error: no space allowed before the colon",
			FormNoColon:          "501 5.5.2 Syntax error: expected {syntax}",
			FormNoBrackets:       "501 5.5.2 Syntax error: path must be in angle brackets",
			FormTrailingSpace:    "501 5.5.2 Syntax error: trailing white space",
			FormLowerCaseVerb:    "500 5.5.1 Command unrecognized",
			FormTrailingDot:      "501 5.1.{dsn} Bad domain",
			FormNeedlessQuotes:   "501 5.1.{dsn} Needless quoting",
		},
		DropAfter: 4,
		DropReply: "500 5.5.1 Too many errors. Quiting now",
	},
}

// ProfileByName returns the profile of that name from Profiles.
func ProfileByName(name string) (Profile, bool) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// FormsOf lists the forms a MAIL FROM or RCPT TO line shows, in the order
// of the Form constants. smtputf8 is whether the transaction declared
// SMTPUTF8; advertised is the keywords the server offered. The checks are
// written apart from the client's own parser on purpose, so the two can
// disagree in a test.
func FormsOf(line string, smtputf8 bool, advertised []string) []Form {
	var forms []Form
	add := func(f Form) { forms = append(forms, f) }
	if len(line) >= 4 && line[:4] != strings.ToUpper(line[:4]) {
		add(FormLowerCaseVerb)
	}
	body := strings.TrimRight(line, " \t")
	trailing := body != line
	// after the verb and the keyword
	rest := strings.TrimLeft(body[min(4, len(body)):], " \t")
	if kw := keywordOf(line); len(rest) >= len(kw) && strings.EqualFold(rest[:len(kw)], kw) {
		rest = rest[len(kw):]
	}
	switch {
	case strings.HasPrefix(strings.TrimLeft(rest, " \t"), ":") && strings.TrimLeft(rest, " \t") != rest:
		add(FormSpaceBeforeColon)
		rest = strings.TrimLeft(rest, " \t")[1:]
	case strings.HasPrefix(rest, ":"):
		rest = rest[1:]
	default:
		add(FormNoColon)
	}
	if trimmed := strings.TrimLeft(rest, " \t"); trimmed != rest {
		if !containsForm(forms, FormNoColon) {
			add(FormSpaceAfterColon)
		}
		rest = trimmed
	}
	if trailing {
		add(FormTrailingSpace)
	}
	path, params := rest, ""
	if strings.HasPrefix(path, "<") && strings.Contains(path, ">") {
		end := strings.LastIndex(path, ">")
		if sp := strings.IndexAny(path[end:], " \t"); sp >= 0 {
			path, params = rest[:end+sp], rest[end+sp:]
		}
	} else if sp := strings.IndexAny(path, " \t"); sp >= 0 {
		path, params = rest[:sp], rest[sp:]
	}
	opens, closes := strings.Count(path, "<"), strings.Count(path, ">")
	switch {
	case path == "":
	case opens == 0 && closes == 0:
		add(FormNoBrackets)
	case opens != closes:
		add(FormUnbalancedBrackets)
	case opens > 1 || !strings.HasPrefix(path, "<") || !strings.HasSuffix(path, ">"):
		add(FormStrayBrackets)
	}
	box := strings.Trim(path, "<>")
	if at := strings.LastIndex(box, "@"); at > 0 {
		local, domain := box[:at], box[at+1:]
		quoted := len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"'
		switch {
		case quoted && plainLocal(local[1:len(local)-1]):
			add(FormNeedlessQuotes)
		case !quoted && !plainLocal(local):
			add(FormUnquotedSpecial)
		}
		if strings.HasSuffix(domain, ".") {
			add(FormTrailingDot)
		}
	}
	if !smtputf8 {
		local, domain := box, ""
		if at := strings.LastIndex(box, "@"); at >= 0 {
			local, domain = box[:at], box[at+1:]
		}
		if !ascii(local) {
			add(FormNonASCIILocal)
		}
		if !ascii(domain) {
			add(FormNonASCIIDomain)
		}
	}
	for _, p := range strings.Fields(params) {
		if !paramAdvertised(p, advertised) {
			add(FormUnknownParam)
			break
		}
	}
	return forms
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func containsForm(forms []Form, f Form) bool {
	for _, x := range forms {
		if x == f {
			return true
		}
	}
	return false
}

func keywordOf(line string) string {
	if strings.EqualFold(line[:min(4, len(line))], "RCPT") {
		return "TO"
	}
	return "FROM"
}

// plainLocal: letters, digits, non-ASCII and the atext specials, with
// single dots between atoms.
func plainLocal(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r < 0x80 && !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+-/=?^_`{|}~", r) {
			return false
		}
	}
	return true
}

// paramAdvertised: which EHLO keyword each parameter needs (RFC 1652
// BODY, RFC 1870 SIZE, RFC 6531 SMTPUTF8, RFC 3461 the DSN ones).
func paramAdvertised(param string, advertised []string) bool {
	name, _, _ := strings.Cut(strings.ToUpper(param), "=")
	need := map[string]string{"BODY": "8BITMIME", "SIZE": "SIZE", "SMTPUTF8": "SMTPUTF8",
		"RET": "DSN", "ENVID": "DSN", "NOTIFY": "DSN", "ORCPT": "DSN", "AUTH": "AUTH"}[name]
	if need == "" {
		return false
	}
	for _, a := range advertised {
		if kw, _, _ := strings.Cut(strings.ToUpper(a), " "); kw == need {
			return true
		}
	}
	return false
}

// ProfileServer is a raw TCP SMTP server on loopback that answers MAIL
// FROM and RCPT TO as its Profile says, records every line it receives,
// and never accepts DATA. Each connection is served by its own goroutine.
type ProfileServer struct {
	Profile Profile

	l     net.Listener
	errs  chan error
	wg    sync.WaitGroup
	mu    sync.Mutex
	lines []string // every line received, each prefixed with its connection number: "1 MAIL FROM:<a@b>"
	conns int
	open  map[net.Conn]bool // connections being served, closed by Close
}

// NewProfileServer serves p on l until Close.
func NewProfileServer(l net.Listener, p Profile) *ProfileServer {
	s := &ProfileServer{Profile: p, l: l, errs: make(chan error, 64)}
	s.wg.Add(1)
	go s.accept()
	return s
}

// StartProfile starts a profile server on a fresh 127.0.0.1 listener and
// closes it when the test ends.
func StartProfile(t testing.TB, p Profile) *ProfileServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := NewProfileServer(l, p)
	t.Cleanup(func() { s.Close() })
	return s
}

// Addr is the server's "127.0.0.1:PORT".
func (s *ProfileServer) Addr() string { return s.l.Addr().String() }

// Close stops the server, closes the connections it is serving and
// waits for their goroutines to end.
func (s *ProfileServer) Close() error {
	err := s.l.Close()
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Err returns the first failure a connection met on the server side (a
// client that broke the protocol, e.g. by sending DATA), or nil.
func (s *ProfileServer) Err() error {
	select {
	case err := <-s.errs:
		return err
	default:
		return nil
	}
}

// Lines returns every line received so far, each prefixed with the
// 1-based number of its connection and a space.
func (s *ProfileServer) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Connections is how many connections the server has accepted.
func (s *ProfileServer) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *ProfileServer) report(err error) {
	select {
	case s.errs <- err:
	default:
	}
}

func (s *ProfileServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		n := s.conns
		if s.open == nil {
			s.open = map[net.Conn]bool{}
		}
		s.open[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.open, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c, n)
		}()
	}
}

// session is one connection's transaction state.
type session struct {
	mail, rcpt bool
	smtputf8   bool
	errors     int
}

func (s *ProfileServer) serve(c net.Conn, n int) {
	p := s.Profile
	w := bufio.NewWriter(c)
	r := bufio.NewReader(c)
	send := func(lines ...string) bool {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	if !send("220 profile.test ESMTP " + p.Name) {
		return
	}
	var st session
	for {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		raw, err := r.ReadString('\n')
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.report(fmt.Errorf("connection %d: read: %w", n, err))
			}
			return
		}
		if !strings.HasSuffix(raw, "\r\n") {
			s.report(fmt.Errorf("connection %d: line %q does not end in CRLF", n, raw))
			return
		}
		line := strings.TrimSuffix(raw, "\r\n")
		s.mu.Lock()
		s.lines = append(s.lines, fmt.Sprintf("%d %s", n, line))
		s.mu.Unlock()
		reply, quit := s.answer(&st, line)
		if last := reply[len(reply)-1]; (last[0] == '4' || last[0] == '5') && p.counts(last) {
			st.errors++
			if p.DropAfter > 0 && st.errors >= p.DropAfter {
				if p.DropJoined { // Exim: the last straw is one more line of the same reply
					reply[len(reply)-1] = last[:3] + "-" + last[4:]
					send(append(reply, last[:3]+" "+p.DropReply)...)
				} else {
					send(reply...)
					send(p.DropReply)
				}
				return
			}
		}
		if !send(reply...) || quit {
			return
		}
	}
}

// counts tells whether the error reply line counts toward DropAfter.
func (p Profile) counts(line string) bool {
	if p.CountOnly == nil {
		return true
	}
	code, err := strconv.Atoi(line[:3])
	return err == nil && slices.Contains(p.CountOnly, code)
}

// answer is the server's reply to one line, and whether to hang up.
func (s *ProfileServer) answer(st *session, line string) (reply []string, quit bool) {
	p := s.Profile
	verb := strings.ToUpper(strings.Fields(line + " x")[0])
	if len(verb) > 4 {
		verb = verb[:4]
	}
	switch verb {
	case "EHLO":
		*st = session{errors: st.errors}
		out := []string{"250-profile.test"}
		for i, e := range p.Extensions {
			sep := "-"
			if i == len(p.Extensions)-1 {
				sep = " "
			}
			out = append(out, "250"+sep+e)
		}
		if len(p.Extensions) == 0 {
			out = []string{"250 profile.test"}
		}
		return out, false
	case "HELO":
		return []string{"250 profile.test"}, false
	case "RSET":
		st.mail, st.rcpt, st.smtputf8 = false, false, false
		return []string{"250 2.0.0 Ok"}, false
	case "NOOP":
		return []string{"250 2.0.0 Ok"}, false
	case "QUIT":
		return []string{"221 2.0.0 Bye"}, true
	case "DATA", "BDAT":
		s.report(fmt.Errorf("the client sent %q; why must never send DATA", line))
		return []string{"554 5.5.1 Error: this server takes no data"}, false
	case "MAIL":
		if st.mail {
			return []string{"503 5.5.1 Error: nested MAIL command"}, false
		}
		return s.envelope(st, line, true)
	case "RCPT":
		if !st.mail {
			return []string{"503 5.5.1 Error: need MAIL command"}, false
		}
		return s.envelope(st, line, false)
	}
	return []string{"502 5.5.2 Error: command not recognized"}, false
}

func (s *ProfileServer) envelope(st *session, line string, mail bool) ([]string, bool) {
	p := s.Profile
	declared := st.smtputf8
	if mail {
		for _, f := range strings.Fields(line)[1:] {
			if strings.EqualFold(f, "SMTPUTF8") {
				declared = true
			}
		}
	}
	for _, f := range FormsOf(line, declared, p.Extensions) {
		if text, ok := p.Reject[f]; ok {
			return []string{expandReply(text, line, mail, p.Extensions)}, false
		}
	}
	if mail {
		st.mail, st.smtputf8 = true, declared
		return []string{orDefault(p.MailReply, "250 2.1.0 Ok")}, false
	}
	st.rcpt = true
	return []string{orDefault(p.RcptReply, "250 2.1.5 Ok")}, false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func expandReply(text, line string, mail bool, advertised []string) string {
	syntax, who, dsn := "RCPT TO:<address>", "recipient", "3"
	if mail {
		syntax, who, dsn = "MAIL FROM:<address>", "sender", "7"
	}
	arg := line
	if i := strings.IndexByte(line, ':'); i >= 0 {
		arg = strings.TrimSpace(line[i+1:])
	}
	param := ""
	fields := strings.Fields(arg)
	for _, f := range fields[min(1, len(fields)):] {
		if !paramAdvertised(f, advertised) {
			param = f
			break
		}
	}
	return strings.NewReplacer("{syntax}", syntax, "{who}", who, "{dsn}", dsn, "{arg}", arg, "{param}", param).Replace(text)
}
