package why

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/address"
	"github.com/smtpprobe/smtpprobe/probe/pool"
	"github.com/smtpprobe/smtpprobe/probe/software"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// Names this package takes from the layers below it.
type (
	// Reply is wire.Reply.
	Reply = wire.Reply
	// Config is wire.Config.
	Config = wire.Config
	// Extensions is wire.Extensions.
	Extensions = wire.Extensions
	// TranscriptLine is wire.TranscriptLine.
	TranscriptLine = wire.TranscriptLine
	// Repair is address.Repair.
	Repair = address.Repair
	// RepairContext is address.RepairContext.
	RepairContext = address.RepairContext
	// Candidate is address.Candidate.
	Candidate = address.Candidate
	// LineFinding is address.LineFinding.
	LineFinding  = address.LineFinding
	envelopeLine = address.EnvelopeLine
)

var (
	ended          = pool.Ended
	isASCII        = address.IsASCII
	lineFindings   = address.LineFindings
	violations     = address.Violations
	strictLine     = address.StrictLine
	candidatesFrom = address.CandidatesFrom
)

func parseEnvelopeLine(line string) (envelopeLine, error) { return address.ParseEnvelopeLine(line) }

func candidateKey(l envelopeLine) string { return l.Key() }

// Defaults of WhyOptions.
const (
	// DefaultWhyAttempts bounds the lines sent for one diagnosis, the
	// original included: enough for every single repair of a badly broken
	// line and the first combinations, few enough not to look like abuse.
	DefaultWhyAttempts = 24
	// DefaultWhyPerConnection is how many refused lines one connection
	// takes before why reconnects. go-smtp hangs up after the fourth
	// error and Exim after more than smtp_max_synprot_errors (3) syntax
	// errors; Postfix slows down after 10 (smtpd_soft_error_limit) and
	// hangs up at 20 (smtpd_hard_error_limit). Three stays under all.
	DefaultWhyPerConnection = 3
	// DefaultWhyCombination is the largest number of repairs combined.
	DefaultWhyCombination = 3
)

// WhyOptions says which line to diagnose and how to reach the server.
type WhyOptions struct {
	Line  string    // the exact MAIL FROM or RCPT TO line the client sent
	Hosts []WhyHost // tried in order; the first that answers is diagnosed
	// Server is what the user named (a domain or host[:port]), for the report.
	Server string
	// Session is the template for every connection; Addr is set per host.
	Session Config
	// From is the reverse-path of the well-formed MAIL FROM sent before a
	// RCPT TO line, without brackets; default postmaster@ the HELO name.
	From string

	MaxAttempts   int // lines sent in all, the original included; default DefaultWhyAttempts
	PerConnection int // refused lines per connection before reconnecting; default DefaultWhyPerConnection
	MaxRepairs    int // largest combination of repairs; default DefaultWhyCombination
}

// WhyHost is one server to try: the address dialled and the name it is
// known by (the MX host name, for TLS SNI; empty to use Addr's host).
type WhyHost = wire.MailHost

// WhyReport is the result of a diagnosis: every attempt and the
// conclusion. It is the --json document of `smtpprobe why`.
type WhyReport struct {
	SchemaVersion int    `json:"schema_version"`
	Line          string `json:"line"`
	Command       string `json:"command"` // "mail" or "rcpt"
	Server        string `json:"server,omitempty"`
	// Proxy names the SOCKS5 proxy the connections went through, if any.
	Proxy      *wire.ProxyInfo `json:"proxy,omitempty"`
	Host       *WhyHost        `json:"host,omitempty"` // the host diagnosed
	HostErrors []WhyHostErr    `json:"host_errors,omitempty"`
	Prelude    string          `json:"prelude,omitempty"` // the MAIL FROM line sent before a RCPT line
	Extensions *Extensions     `json:"extensions,omitempty"`
	Findings   []LineFinding   `json:"findings,omitempty"` // limits no repair may mend
	// Connections is how many connections were dialled, on every host
	// tried, refused ones included. Attempts and the transcript number
	// them 1 to Connections in the order they were dialled.
	Connections int           `json:"connections"`
	Attempts    []WhyAttempt  `json:"attempts"`
	Conclusion  WhyConclusion `json:"conclusion"`
	// Software is the diagnosed host's MTA as its banner, EHLO reply and
	// replies show it; absent when no host answered.
	Software *explain.Software `json:"software,omitempty"`
	// Transcript is every byte of every connection, for -v.
	Transcript []TranscriptLine `json:"-"`
}

// WhyHostErr is a host that could not be diagnosed, and why.
type WhyHostErr struct {
	Host   string             `json:"host"`
	Status wire.SessionStatus `json:"status"` // outcome word, see Status
	Error  string             `json:"error"`
}

// WhyAttempt is one line sent and the server's answer.
type WhyAttempt struct {
	N int `json:"n"` // 1-based
	// Connection is the number of the connection it was sent on, as the
	// transcript numbers it; for "no-reply", of the one that failed.
	Connection   int      `json:"connection"`
	Line         string   `json:"line"`
	Repairs      []Repair `json:"repairs"`           // empty for the line as given
	Prelude      string   `json:"prelude,omitempty"` // the MAIL FROM sent first, for a RCPT line
	PreludeReply *Reply   `json:"prelude_reply,omitempty"`
	Reply        *Reply   `json:"reply,omitempty"` // nil when no reply came
	// Outcome is "accepted" (2xx), "rejected" (5xx), "deferred" (4xx),
	// "prelude-rejected" (the MAIL FROM before a RCPT was refused) or
	// "no-reply" (the connection failed; Error says how).
	Outcome string `json:"outcome"`
	// Cause is why a refused or deferred line was refused: a word of the
	// closed set probe steps use (explain.Causes).
	Cause explain.Cause `json:"cause,omitempty"`
	Error string        `json:"error,omitempty"`
	// ResentFrom is the connection the line was first sent on, when that
	// drew no verdict (a hang-up or a 421) and the line went again on a
	// new connection.
	ResentFrom int `json:"resent_from,omitempty"`

	preludeParams []string // what the repairs added to the prelude
	sent          bool     // something of it went out on Connection
}

// Conclusion kinds of WhyConclusion.
const (
	WhyAcceptedAsSent  = "accepted-as-sent" // the line was accepted unchanged
	WhyRepaired        = "repaired"         // a repair turned rejection into acceptance
	WhyOtherCause      = "other-cause"      // no repair helped; the reply names another cause
	WhySyntaxFixed     = "syntax-fixed"     // a repair got past the syntax check, then another cause refused it
	WhyPartial         = "partial"          // repairs got the line further through the server's checks, but not accepted
	WhyNoRepair        = "no-repair"        // no repair helped and the cause is not recognised
	WhyPreludeRejected = "prelude-rejected" // the MAIL FROM before a RCPT line was refused
	WhyIncomplete      = "incomplete"       // the server stopped answering before a conclusion
	WhyNoConnection    = "no-connection"    // no host could be reached
	WhyNoMailHost      = "no-mail-host"     // the domain has no host to try (NXDOMAIN, null MX, no address)
	WhyDNSError        = "dns-error"        // DNS could not answer for the server's domain
)

// WhyConclusion is what the attempts show, in plain words and as data.
type WhyConclusion struct {
	Kind     string `json:"kind"`
	Summary  string `json:"summary"`            // plain words; quotes no server text
	Original *Reply `json:"original,omitempty"` // the reply to the line as given
	Accepted *Reply `json:"accepted,omitempty"` // the reply that accepted the repaired line
	Fixed    string `json:"fixed_line,omitempty"`
	// FixedPrelude is the MAIL FROM the fixed RCPT TO line needs, when a
	// repair changed it (SMTPUTF8 is declared on MAIL FROM).
	FixedPrelude string `json:"fixed_prelude,omitempty"`
	// RepairedReply is the reply to the repaired line when the repair got
	// it past the syntax check but the server still refused it.
	RepairedReply *Reply   `json:"repaired_reply,omitempty"`
	Repairs       []Repair `json:"repairs,omitempty"` // the repairs that worked, or got the line furthest
	// Progress lists, in order, the repairs kept because they moved the
	// refusal to a later check of the server's.
	Progress []WhyProgress `json:"progress,omitempty"`
	// Cause is the likely different cause when no repair helped, or when
	// a repair got past the syntax check: "policy", "relay-denied",
	// "auth-required", "unknown-domain", "unknown-mailbox",
	// "non-ascii-unsupported", "unsupported-parameter", "message-too-big", "temporary",
	// "syntax", "control-character" (the address holds one: no form of it
	// can be sent), "server-closing" or "unknown".
	Cause       string   `json:"cause,omitempty"`
	CauseDetail string   `json:"cause_detail,omitempty"`
	Explanation string   `json:"explanation,omitempty"` // the knowledge base's note on the original reply
	Violations  []Repair `json:"violations,omitempty"`  // RFC 5321 breaches left in the accepted line, which this server tolerates
	Strict      string   `json:"strict_line,omitempty"` // the accepted line with those breaches mended, to the letter of RFC 5321
	// Mended lists the breaches of RFC 5321 that the line to send (Fixed)
	// mends beyond Repairs, the changes the server required: the server
	// was sent that line too, and accepted it.
	Mended   []Repair `json:"mended,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// WhyProgress is one step of the search that got the line further: the
// repairs made at that step, the line they gave and the server's reply,
// and the checks the refusal moved between.
type WhyProgress struct {
	Repairs []Repair `json:"repairs"`
	Line    string   `json:"line"`
	Prelude string   `json:"prelude,omitempty"` // the MAIL FROM the line needs, when a repair changed it
	Reply   *Reply   `json:"reply"`
	From    string   `json:"from"` // the check that refused the line before: "the command's syntax"
	To      string   `json:"to"`   // the check that refuses it now: "the address syntax"
}

// Found reports whether the diagnosis ended in acceptance: as sent or
// after a repair.
func (c WhyConclusion) Found() bool { return c.Kind == WhyAcceptedAsSent || c.Kind == WhyRepaired }

// ErrNoHost is returned by Why when no host could be connected to; the
// report still lists each host's failure.
var ErrNoHost = errors.New("no host could be reached")

// Why sends the line to the first host that answers, exactly as given,
// and when it is refused tries repaired lines, smallest change first,
// until one is accepted or the attempts run out. It never sends DATA;
// it sends RSET between attempts, spreads attempts over several
// connections to stay under servers' error limits, and ends each
// connection with QUIT.
//
// A line that cannot be a MAIL FROM or RCPT TO command, or contains CR,
// LF or NUL, is refused with a *LineError before anything is sent.
func Why(ctx context.Context, o WhyOptions) (*WhyReport, error) {
	l, err := parseEnvelopeLine(o.Line)
	if err != nil {
		return nil, err
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultWhyAttempts
	}
	if o.PerConnection <= 0 {
		o.PerConnection = DefaultWhyPerConnection
	}
	if o.MaxRepairs <= 0 {
		o.MaxRepairs = DefaultWhyCombination
	}
	if o.From == "" {
		o.From = "postmaster@" + o.Session.WithDefaults().HELO
	}
	rep := &WhyReport{SchemaVersion: 1, Line: o.Line, Command: "mail", Server: o.Server, Attempts: []WhyAttempt{}}
	if !l.IsMail() {
		rep.Command = "rcpt"
		rep.Prelude = "MAIL FROM:<" + o.From + ">"
	}
	rep.Findings = lineFindings(o.Line)

	w := &whyRun{o: o, rep: rep}
	defer w.finish(ctx)
	if !w.connectFirst(ctx) {
		rep.Conclusion = WhyConclusion{Kind: WhyNoConnection, Summary: "No host could be reached; nothing was sent."}
		if ended(ctx) {
			rep.Conclusion.Summary = "The time allowed ran out before a host answered; nothing was sent."
		}
		return rep, ErrNoHost
	}
	w.diagnose(ctx, l)
	rep.Software = w.identify(l.IsMail())
	for _, h := range o.Hosts {
		if h.Warning != "" && !h.Skip {
			rep.Conclusion.Warnings = append(rep.Conclusion.Warnings, h.Warning)
		}
	}
	return rep, nil
}

// whyRun is the state of one diagnosis.
type whyRun struct {
	o    WhyOptions
	rep  *WhyReport
	pool *pool.Pool
	conn *pool.Conn
	// before is how many connections the hosts tried before pool's took:
	// a connection's number in the report is before + its pool number.
	before int
	dials  []dial // every connection dialled, in order, for the transcript

	progress []WhyProgress // repairs kept because they got the line further

	banner, ehlo *Reply // of the first connection, for identifying the server
}

// connectFirst connects to the first host that answers.
func (w *whyRun) connectFirst(ctx context.Context) bool {
	for _, h := range w.o.Hosts {
		if h.Skip {
			w.rep.HostErrors = append(w.rep.HostErrors, WhyHostErr{Host: h.Addr, Status: wire.StatusNotDialled, Error: h.Warning})
			continue
		}
		w.pool = w.newPool(h)
		c, _, err := w.pool.Open(ctx)
		if err != nil {
			w.rep.HostErrors = append(w.rep.HostErrors, WhyHostErr{Host: h.Addr, Status: wire.Status(err), Error: err.Error()})
			w.before += w.pool.Opened()
			w.pool = nil
			if ended(ctx) {
				return false
			}
			continue
		}
		w.rep.Host = &h
		if s, ok := c.S.(*wire.Session); ok {
			g, e := s.Greeting(), s.EHLOReply()
			w.banner, w.ehlo = &g, &e
		}
		w.conn = c
		ext := c.S.Extensions()
		w.rep.Extensions = &ext
		return true
	}
	return false
}

// dial is one connection dialled: its number in the report, and its
// session, or when there is none the address and why it failed.
type dial struct {
	n    int
	s    *wire.Session
	addr string
	err  error
}

// newPool is the pool of connections to one host: PerConnection refused
// lines each, one connection at a time. Every dial is kept for the
// transcript under the number the pool gave it, after those of the hosts
// tried before.
func (w *whyRun) newPool(h WhyHost) *pool.Pool {
	cfg := w.o.Session
	cfg.Addr = h.Addr
	if h.Name != "" && cfg.ServerName == "" {
		cfg.ServerName = h.Name
	}
	before := w.before
	return pool.New(pool.Config{Budget: w.o.PerConnection, Parallel: 1, Dial: func(ctx context.Context, n int) (pool.Session, error) {
		s, err := wire.Dial(ctx, cfg)
		w.dials = append(w.dials, dial{n: before + n, s: s, addr: cfg.Addr, err: err})
		if s == nil {
			return nil, err
		}
		return s, err
	}})
}

// number is a connection's number in the report: the pool's own, after
// the connections of the hosts tried before.
func (w *whyRun) number(c *pool.Conn) int { return w.before + c.N }

// connection returns a usable connection, reconnecting to the same host
// when the last one is gone or has taken its share of refusals. On error
// it returns the number the failed dial took (0 when none was made).
func (w *whyRun) connection(ctx context.Context) (*pool.Conn, int, error) {
	if w.conn != nil && !w.conn.Spent() {
		return w.conn, w.number(w.conn), nil
	}
	w.hangUp(ctx)
	c, n, err := w.pool.Open(ctx)
	if err != nil {
		if n > 0 {
			n += w.before
		}
		return nil, n, err
	}
	w.conn = c
	return c, w.number(c), nil
}

// hangUp ends the current connection politely when it is still open. The
// QUIT is sent even when ctx has run out (the time limit), under the
// session's own short QUIT deadline.
func (w *whyRun) hangUp(ctx context.Context) {
	if w.conn != nil {
		w.conn.Release(ctx)
		w.conn = nil
	}
}

// finish ends the last connection, counts the connections dialled and
// puts every one's transcript in the report under its number: a dial
// that got no session is one event saying why.
func (w *whyRun) finish(ctx context.Context) {
	w.hangUp(ctx)
	w.rep.Connections = w.before
	if w.pool != nil {
		w.rep.Connections += w.pool.Opened()
	}
	for _, d := range w.dials {
		if d.s == nil {
			w.rep.Transcript = append(w.rep.Transcript, TranscriptLine{Connection: d.n, Dir: wire.DirEvent,
				Data: fmt.Sprintf("connecting to %s failed: %v", d.addr, d.err)})
			continue
		}
		for _, e := range d.s.Transcript().Entries() {
			w.rep.Transcript = append(w.rep.Transcript, e.Line(d.n))
		}
	}
}

// try sends one candidate (the original has no repairs) and records the
// attempt. A connection that fails before a reply, or a 421, is not the
// server's verdict on the line: the line is sent once more on a fresh
// connection.
func (w *whyRun) try(ctx context.Context, line string, prelude []string, repairs []Repair) WhyAttempt {
	a := w.tryOnce(ctx, line, prelude, repairs)
	if (a.Outcome == "no-reply" || a.Reply != nil && a.Reply.Code == 421) && !ended(ctx) {
		first := a
		a = w.tryOnce(ctx, line, prelude, repairs)
		if first.sent {
			a.ResentFrom = first.Connection
		}
	}
	a.N = len(w.rep.Attempts) + 1
	if a.Repairs == nil {
		a.Repairs = []Repair{}
	}
	w.rep.Attempts = append(w.rep.Attempts, a)
	return a
}

func (w *whyRun) tryOnce(ctx context.Context, line string, prelude []string, repairs []Repair) WhyAttempt {
	a := WhyAttempt{Line: line, Repairs: repairs}
	c, n, err := w.clean(ctx)
	a.Connection = n
	if err != nil {
		a.Outcome, a.Error = "no-reply", err.Error()
		return a
	}
	a.sent = true
	if w.rep.Command == "rcpt" {
		a.Prelude = strings.Join(append([]string{w.rep.Prelude}, prelude...), " ")
		r, err := c.Cmd(ctx, a.Prelude)
		if err != nil {
			a.Outcome, a.Error = "no-reply", err.Error()
			return a
		}
		a.PreludeReply = &r
		if r.Code/100 != 2 {
			a.Outcome = "prelude-rejected"
			if r.Code == 421 {
				a.Outcome = "no-reply"
			}
			return a
		}
	}
	r, err := c.Cmd(ctx, line)
	if err != nil && !r.Valid() {
		a.Outcome, a.Error = "no-reply", err.Error()
		return a
	}
	a.Reply = &r
	switch r.Code / 100 {
	case 2:
		a.Outcome = "accepted"
	case 4:
		a.Outcome = "deferred"
	default:
		a.Outcome = "rejected"
	}
	cmd := explain.MAIL
	if w.rep.Command == "rcpt" {
		cmd = explain.RCPT
	}
	a.Cause = explain.ClassifyRefusal(r.Code, r.Enhanced, r.Text(), cmd).Cause
	return a
}

// clean returns a connection with no transaction open: a fresh one, or
// the current one after RSET (RFC 5321 §4.1.1.5), so every attempt starts
// as the first did. A server that does not take the RSET cleanly (a stray
// reply left by a hang-up, say) is left for a fresh connection.
func (w *whyRun) clean(ctx context.Context) (*pool.Conn, int, error) {
	c, n, err := w.connection(ctx)
	if err != nil || c.Clean(ctx) {
		return c, n, err
	}
	w.hangUp(ctx)
	return w.connection(ctx)
}

// diagnose sends the original line, then the repairs, and concludes.
//
// The search is greedy along the order in which servers check a command
// (replyStages): when a repair moves the refusal to a later check (a
// command-syntax error becomes an address-syntax error, that becomes an
// unsupported parameter), the repair is kept and the search goes on from
// the repaired line, so the fixes of different problems add up instead of
// having to be guessed together.
func (w *whyRun) diagnose(ctx context.Context, l envelopeLine) {
	c := &w.rep.Conclusion
	first := w.try(ctx, w.o.Line, nil, nil)
	switch {
	case first.Outcome == "prelude-rejected":
		w.concludePrelude(first)
		return
	case first.Reply == nil && ended(ctx):
		w.outOfTime()
		return
	case first.Reply == nil:
		c.Kind = WhyIncomplete
		c.Summary = "The server did not answer the line; nothing can be concluded."
		return
	}
	c.Original = first.Reply
	c.Explanation = explainReply(*first.Reply, w.rep.Command)
	if first.Reply.Code == 421 {
		c.Kind = WhyIncomplete
		c.Cause, c.CauseDetail = likelyCause(*first.Reply, w.rep.Command, RepairContext{})
		c.Summary = "The server closed the connection instead of answering the line, twice; nothing can be concluded. " + capitalize(c.CauseDetail)
		return
	}
	if first.Outcome == "accepted" {
		w.concludeAccepted()
		return
	}
	rc := w.repairContext()
	cur := searchPoint{line: l, reply: *first.Reply}
	sent := map[string]bool{candidateKey(l): true}
	var pastSyntax *searchPoint // the first repair that got past every syntax check
	pastSize := 0
search:
	for {
		// Never more candidates than could still be sent (and those already
		// sent, which are skipped): a line with hundreds of parameters has
		// millions of triples.
		limit := w.o.MaxAttempts - len(w.rep.Attempts) + len(sent)
		cands := keepHonest(candidatesFrom(cur.line, rc, w.o.MaxRepairs, limit, cur.applied), rc, cur.reply, 0)
		namedFirst(cands, cur.reply)
		moved := false
		for _, cand := range cands {
			switch {
			case len(w.rep.Attempts) >= w.o.MaxAttempts:
				break search
			case ended(ctx):
				break search
			case pastSyntax != nil && len(cand.Repairs) > pastSize:
				break search // larger combinations only pile more changes on a line already past the syntax check
			case sent[candidateKey(cand.Envelope())]:
				continue
			}
			sent[candidateKey(cand.Envelope())] = true
			repairs := append(append([]Repair(nil), cur.repairs...), cand.Repairs...)
			a := w.try(ctx, cand.Line, cand.PreludeParams, repairs)
			if a.Outcome == "no-reply" && a.Reply == nil {
				if ended(ctx) {
					break search
				}
				c.Kind = WhyIncomplete
				c.Summary = "The server stopped answering after " + plural(len(w.rep.Attempts), "attempt") + "; no repair was found before that."
				c.Progress = w.progress
				w.addCause(first)
				return
			}
			if a.Outcome == "accepted" {
				c.Kind = WhyRepaired
				c.Accepted, c.Fixed, c.Repairs = a.Reply, cand.Line, repairs
				c.FixedPrelude = w.fixedPrelude(cand.PreludeParams)
				c.Progress = w.progress
				c.Summary = repairedSummary(repairs)
				if c.Violations = violations(cand.Line); len(c.Violations) > 0 {
					c.Strict = strictLine(cand.Line)
					if w.confirmStrict(ctx, cand.PreludeParams, repairs) {
						return
					}
					c.Summary += " The accepted line still breaks RFC 5321 in ways this server tolerates and stricter ones do not: " + violationsPhrase(c.Violations) + ". Written to the letter: " + c.Strict
				}
				return
			}
			if a.Reply == nil || a.Reply.Code == 421 || pastSyntax != nil {
				continue
			}
			next := searchPoint{line: cand.Envelope(), reply: *a.Reply, repairs: repairs, applied: cloneSet(cur.applied)}
			for _, r := range cand.Repairs {
				// A line may carry a parameter twice: dropping one leaves
				// the other to drop, under the same repair name.
				if !strings.HasPrefix(r.Name, "drop-parameter-") {
					next.applied[r.Name] = true
				}
			}
			if stageOf(*a.Reply).order == stagePastSyntax && stageOf(cur.reply).order < stagePastSyntax {
				pastSyntax, pastSize = &next, len(cand.Repairs)
				continue // a sibling of the same size may yet be accepted
			}
			if madeProgress(cur.reply, *a.Reply, cand) {
				w.progress = append(w.progress, WhyProgress{
					Repairs: cand.Repairs, Line: cand.Line, Prelude: w.fixedPrelude(cand.PreludeParams),
					Reply: a.Reply, From: stageOf(cur.reply).name, To: stageOf(*a.Reply).name,
				})
				cur, moved = next, true
				break
			}
		}
		if !moved {
			break
		}
	}
	c.Progress = w.progress
	if pastSyntax != nil {
		c.Kind = WhySyntaxFixed
		c.Repairs = pastSyntax.repairs
		c.Fixed = pastSyntax.line.String()
		c.FixedPrelude = w.fixedPrelude(pastSyntax.line.Prelude())
		c.RepairedReply = &pastSyntax.reply
		cause, detail := likelyCause(pastSyntax.reply, w.rep.Command, rc)
		c.Cause, c.CauseDetail = cause, detail
		c.Summary = fmt.Sprintf("%s gets the line past the server's syntax checks, but the server then refuses it for another reason: %s",
			capitalize(changesPhrase(pastSyntax.repairs)), detail)
		c.Explanation = explainReply(pastSyntax.reply, w.rep.Command)
		return
	}
	if len(w.progress) > 0 {
		w.concludePartial(ctx, cur, rc)
		return
	}
	if ended(ctx) {
		w.outOfTime()
		w.addCause(first)
		return
	}
	w.addCause(first)
	tried := "No repair applies: the line's syntax is already what RFC 5321 asks for"
	if n := len(w.rep.Attempts) - 1; n > 0 {
		tried = fmt.Sprintf("No repair made the server accept the line or got it further through the server's checks (%s tried)", plural(n, "repaired line"))
	}
	if f, ok := w.finding("control-character"); ok && (c.Cause == "syntax" || c.Cause == "unknown") {
		c.Kind = WhyNoRepair
		c.Cause, c.CauseDetail = f.Kind, f.Detail+" ("+f.Ref+")."
		c.Summary = tried + ". " + capitalize(c.CauseDetail)
	} else if c.Cause == "syntax" || c.Cause == "unknown" {
		c.Kind = WhyNoRepair
		c.Summary = tried + ". " + capitalize(c.CauseDetail)
	} else {
		c.Kind = WhyOtherCause
		c.Summary = tried + "; the reply points to another cause: " + c.CauseDetail
	}
}

// finding returns the line's finding of that kind, if it has one.
func (w *whyRun) finding(kind string) (LineFinding, bool) {
	for _, f := range w.rep.Findings {
		if f.Kind == kind {
			return f, true
		}
	}
	return LineFinding{}, false
}

// searchPoint is where the greedy search stands: the line with the
// repairs kept so far, and the server's reply to it.
type searchPoint struct {
	line    envelopeLine
	reply   Reply
	repairs []Repair        // kept so far, in order
	applied map[string]bool // their names, not to be offered again
}

func cloneSet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// concludePartial reports a search that moved the refusal forward but
// ended, out of repairs, attempts or time, without acceptance.
func (w *whyRun) concludePartial(ctx context.Context, cur searchPoint, rc RepairContext) {
	c := &w.rep.Conclusion
	c.Kind = WhyPartial
	c.Repairs = cur.repairs
	c.Fixed = cur.line.String()
	c.FixedPrelude = w.fixedPrelude(cur.line.Prelude())
	c.RepairedReply = &cur.reply
	c.Cause, c.CauseDetail = likelyCause(cur.reply, w.rep.Command, rc)
	c.Explanation = explainReply(cur.reply, w.rep.Command)
	var steps []string
	for i, p := range w.progress {
		also := ""
		if i > 0 {
			also = "also "
		}
		steps = append(steps, fmt.Sprintf("once you %s%s, the refusal moves from %s to %s (%s)", also, changesPhrase(p.Repairs), p.From, p.To, replyCodes(*p.Reply)))
	}
	why := "no further repair helped"
	switch {
	case ended(ctx):
		why = "the time allowed ran out"
	case len(w.rep.Attempts) >= w.o.MaxAttempts:
		why = "the attempts ran out (" + plural(w.o.MaxAttempts, "attempt") + ")"
	}
	c.Summary = fmt.Sprintf("Partly repaired: %s. Then %s, and the line with those changes is still refused: %s",
		strings.Join(steps, "; "), why, c.CauseDetail)
}

// replyCodes is a reply's codes without its text: "501 5.1.7".
func replyCodes(r Reply) string {
	if r.Enhanced != "" {
		return fmt.Sprintf("%d %s", r.Code, r.Enhanced)
	}
	return fmt.Sprint(r.Code)
}

// madeProgress tells whether the reply to a candidate shows it got further
// through the server's checks than the line it was made from: a later
// stage, or the same stage with the parameter the server named dropped
// and no longer named (555 for XFOO=1 becoming 555 for BAR=2).
func madeProgress(before, after Reply, cand Candidate) bool {
	sb, sa := stageOf(before), stageOf(after)
	if sa.order != sb.order {
		return sa.order > sb.order
	}
	if len(cand.Repairs) != 1 {
		return false
	}
	name, ok := strings.CutPrefix(cand.Repairs[0].Name, "drop-parameter-")
	return ok && namesParam(before, name) && !namesParam(after, name)
}

// namesParam reports whether a reply's text names the parameter keyword.
func namesParam(r Reply, keyword string) bool {
	text := strings.ToLower(r.Text())
	for _, f := range strings.FieldsFunc(text, func(c rune) bool { return c == ' ' || c == ':' || c == ',' || c == '"' || c == '\'' }) {
		k, _, _ := strings.Cut(f, "=")
		if k == keyword {
			return true
		}
	}
	return false
}

// namedFirst moves the single repairs that drop a parameter the reply
// names to the front of the candidates: the server said which one it
// refuses.
func namedFirst(cands []Candidate, r Reply) {
	sort.SliceStable(cands, func(i, j int) bool {
		return named(cands[i], r) && !named(cands[j], r)
	})
}

func named(c Candidate, r Reply) bool {
	if len(c.Repairs) != 1 {
		return false
	}
	name, ok := strings.CutPrefix(c.Repairs[0].Name, "drop-parameter-")
	return ok && namesParam(r, name)
}

// replyStage is how far a line got through a server's checks, read from
// its reply: servers check the command, then its arguments, the address,
// the characters, the parameters, and only then policy and mailboxes.
type replyStage struct {
	order int
	name  string
	codes []int    // basic codes; nil matches any
	sub   []string // enhanced subject.detail prefixes; "" matches a reply without one; nil matches any
}

// stagePastSyntax is the order of a refusal that is not about syntax.
const stagePastSyntax = 6

// replyStages, first match wins; a refusal no row matches is past the
// syntax checks, and 2yz is acceptance. RFC 5321 §4.2.2 (500 command
// unrecognised, 501 arguments, 553 mailbox name, 555 parameters,
// §4.1.1.11), RFC 3463 (X.5.1 invalid command, X.5.2 syntax, X.1.3 and
// X.1.7 address syntax), RFC 6531 §3.5 (X.6.7 non-ASCII).
var replyStages = []replyStage{
	{1, "the command itself", []int{500, 502}, nil},
	{1, "the command itself", nil, []string{"5.1"}},
	{5, "a parameter", []int{555, 504}, nil},
	{4, "the address's characters", nil, []string{"6.7"}},
	{3, "the address syntax", nil, []string{"1.3", "1.7"}},
	{3, "the address syntax", []int{553}, []string{""}},
	{2, "the command's syntax", []int{501}, nil},
	{2, "the command's syntax", nil, []string{"5.2", "5.4"}},
}

// stageOf reads how far a reply shows the line got.
func stageOf(r Reply) replyStage {
	if r.Code/100 == 2 {
		return replyStage{order: stagePastSyntax + 1, name: "acceptance"}
	}
	_, sd, _ := splitEnhanced(r.Enhanced)
	for _, st := range replyStages {
		if st.codes != nil && !slices.Contains(st.codes, r.Code) {
			continue
		}
		if st.sub != nil && !matchesSub(st.sub, r.Enhanced, sd) {
			continue
		}
		return st
	}
	return replyStage{order: stagePastSyntax, name: "a refusal for another reason"}
}

func matchesSub(subs []string, enhanced, sd string) bool {
	for _, s := range subs {
		if (s == "" && enhanced == "") || (s != "" && strings.HasPrefix(sd, s)) {
			return true
		}
	}
	return false
}

// outOfTime concludes a diagnosis cut short by the caller's deadline
// (the CLI's --max-time) or cancellation.
func (w *whyRun) outOfTime() {
	c := &w.rep.Conclusion
	c.Kind = WhyIncomplete
	c.Summary = "The time allowed ran out after " + plural(len(w.rep.Attempts), "attempt") + ", before the diagnosis was complete; allow more time or fewer attempts."
}

func (w *whyRun) addCause(first WhyAttempt) {
	c := &w.rep.Conclusion
	rc := w.repairContext()
	c.Cause, c.CauseDetail = likelyCause(*first.Reply, w.rep.Command, rc)
	if c.Cause == "message-too-big" && w.rep.Extensions != nil {
		if n, ok := w.rep.Extensions.Size(); ok && n > 0 {
			c.CauseDetail += fmt.Sprintf(" The server's limit (EHLO SIZE) is %d octets; leaving SIZE= out only moves the refusal to the end of DATA.", n)
		}
	}
	if c.Cause != "non-ascii-unsupported" && !isASCII(w.o.Line) && !rc.SMTPUTF8 {
		c.Warnings = append(c.Warnings, "the line is not ASCII and the server does not advertise SMTPUTF8 (RFC 6531 §3.2): a local part that is not ASCII cannot reach this server in any form")
	}
}

// fixedPrelude is the MAIL FROM line a repaired RCPT line needs, when the
// repairs added parameters to it; "" otherwise.
func (w *whyRun) fixedPrelude(params []string) string {
	if len(params) == 0 || w.rep.Command != "rcpt" {
		return ""
	}
	return strings.Join(append([]string{w.rep.Prelude}, params...), " ")
}

// keepHonest drops candidates that would only hide the refusal: dropping
// a parameter the server advertised, when the refusal is not about syntax
// (a SIZE over the limit refused with 552 is refused again after DATA
// without it). At most limit candidates are kept.
func keepHonest(cands []Candidate, rc RepairContext, original Reply, limit int) []Candidate {
	var out []Candidate
	for _, c := range cands {
		hides := false
		for _, r := range c.Repairs {
			if name, ok := strings.CutPrefix(r.Name, "drop-parameter-"); ok && !isSyntaxReply(original) {
				if _, advertised := rc.Advertises(name); advertised {
					hides = true
				}
			}
		}
		if !hides {
			out = append(out, c)
		}
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}

// repairContext is what the repairs may know of the server: its EHLO.
func (w *whyRun) repairContext() RepairContext {
	if w.rep.Extensions == nil {
		return RepairContext{}
	}
	return RepairContext{SMTPUTF8: w.rep.Extensions.Has("SMTPUTF8"), Advertised: w.rep.Extensions.Keywords()}
}

func (w *whyRun) concludeAccepted() {
	c := &w.rep.Conclusion
	c.Kind = WhyAcceptedAsSent
	c.Accepted = c.Original
	c.Violations = violations(w.o.Line)
	if _, ok := w.finding("control-character"); ok {
		c.Summary = "The server accepted the line as sent, but the address has a control character, which RFC 5321 §4.1.2 allows in no form of a mailbox, quoted or not: this server is lenient, stricter ones refuse it, and no change to the line mends it. Correct the address where it comes from."
		return
	}
	if f, ok := w.finding("address-invalid"); ok {
		c.Summary = "The server accepted the line as sent, but " + f.Detail + ". This server is lenient; stricter servers refuse the address."
		return
	}
	if len(c.Violations) == 0 {
		c.Summary = "The server accepted the line as sent: its syntax is not the problem with this server. A later refusal (at RCPT, or after DATA) has another cause."
		if w.rep.Command == "rcpt" {
			c.Summary = "The server accepted the line as sent. Acceptance at RCPT does not prove the mailbox exists: a server may accept now and bounce later (RFC 5321 §3.3, §7.3)."
		}
	} else {
		c.Strict = strictLine(w.o.Line)
		c.Summary = "The server accepted the line as sent, but the line breaks RFC 5321: this server is lenient, and stricter servers will refuse it. To be safe: " + violationsPhrase(c.Violations) + ". Written to the letter: " + c.Strict
	}
}

// confirmStrict sends the accepted line written to the letter of RFC 5321
// (c.Strict) once more, so the line recommended is one every server must
// take, not merely one this server tolerates. When the server accepts it
// too, it becomes the line to send and no breach is left to report.
func (w *whyRun) confirmStrict(ctx context.Context, prelude []string, repairs []Repair) bool {
	c := &w.rep.Conclusion
	if len(w.rep.Attempts) >= w.o.MaxAttempts || ended(ctx) {
		return false
	}
	a := w.try(ctx, c.Strict, prelude, append(append([]Repair(nil), repairs...), c.Violations...))
	if a.Outcome != "accepted" {
		return false
	}
	c.Summary = repairedSummary(repairs) + " The line to send also mends what this server tolerates and stricter ones refuse, and the server accepted it so: " + violationsPhrase(c.Violations) + "."
	c.Accepted, c.Fixed, c.Mended = a.Reply, c.Strict, c.Violations
	c.Violations, c.Strict = nil, ""
	return true
}

func (w *whyRun) concludePrelude(a WhyAttempt) {
	c := &w.rep.Conclusion
	c.Kind = WhyPreludeRejected
	c.Original = a.PreludeReply
	cause, detail := likelyCause(*a.PreludeReply, "mail", RepairContext{})
	c.Cause, c.CauseDetail = cause, detail
	c.Explanation = explainReply(*a.PreludeReply, "mail")
	c.Summary = "The server refused the well-formed MAIL FROM sent before the RCPT TO line, so the RCPT TO line could not be tested; " + detail + " Try another sender."
}

func violationsPhrase(vs []Repair) string {
	var what []string
	for _, v := range vs {
		what = append(what, v.Change+" ("+v.Ref+")")
	}
	return strings.Join(what, "; ")
}

func repairedSummary(repairs []Repair) string {
	var rules []string
	seen := map[string]bool{}
	for _, r := range repairs {
		if rule := r.Rule + " (" + r.Ref + ")"; !seen[rule] {
			seen[rule] = true
			rules = append(rules, rule)
		}
	}
	return fmt.Sprintf("Accepted once you %s. Why: %s. Fix the line in your client's template or configuration.",
		changesPhrase(repairs), strings.Join(rules, "; "))
}

// changesPhrase joins the repairs' changes: "remove the space after
// `FROM:` and put the address in angle brackets".
func changesPhrase(rs []Repair) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.Change)
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// explainReply is the knowledge base's one-line note on a reply to the
// command the line is.
func explainReply(r Reply, command string) string {
	cmd := explain.MAIL
	if command == "rcpt" {
		cmd = explain.RCPT
	}
	return explain.Explain(r.Code, r.Enhanced, r.Text(), cmd).Brief()
}

// isSyntaxReply tells whether a reply refuses the form of the command:
// 500/501 (RFC 5321 §4.2.1, x0z), 555 (parameters, §4.1.1.11), or an
// enhanced code about syntax: X.5.2 and X.5.4 (commands), X.1.3 and X.1.7
// (address syntax), X.6.7 (non-ASCII, RFC 6531 §3.5).
func isSyntaxReply(r Reply) bool {
	switch r.Code {
	case 500, 501, 555:
		return true
	}
	_, sub, _ := splitEnhanced(r.Enhanced)
	switch sub {
	case "5.2", "5.4", "1.3", "1.7", "6.7":
		return true
	}
	return false
}

// splitEnhanced cuts "5.1.7" into class "5" and "1.7" (subject.detail).
func splitEnhanced(e string) (class, subjectDetail string, ok bool) {
	class, rest, ok := strings.Cut(e, ".")
	return class, rest, ok
}

// causeRule is one row of the table that reads a likely cause from a
// reply: by enhanced code (subject.detail), basic code and, for RCPT or
// MAIL only, the command.
type causeRule struct {
	enhanced string // subject.detail prefix, e.g. "7." for every X.7.Z; "" matches any
	codes    []int  // basic codes; nil matches any
	command  string // "mail", "rcpt" or "" for both
	cause    string
	detail   string
}

// causeRules, first match wins.
var causeRules = []causeRule{
	{"", []int{421}, "", "server-closing", "the server is closing the connection (421, RFC 5321 §3.8); try again later."},
	{"", []int{530}, "", "auth-required", "the server requires authentication before it takes this command (530, RFC 4954 §6); log in first, or use the submission port."},
	{"7.0", []int{530, 550, 553, 554}, "", "auth-required", "the server refuses unauthenticated clients (X.7.0); authenticate first."},
	{"1.8", nil, "", "unknown-domain", "the server does not find the sender's domain in DNS (X.1.8, RFC 3463): publish an MX or address record for it, or use another sender domain."},
	{"1.2", nil, "rcpt", "unknown-domain", "the recipient's domain does not exist or does not receive mail (X.1.2, RFC 3463)."},
	{"1.1", nil, "rcpt", "unknown-mailbox", "the server has no such mailbox (X.1.1); the syntax is fine, the address is not."},
	{"", []int{550}, "rcpt", "unknown-mailbox", "the server refuses the recipient (550); usually no such mailbox, sometimes policy."},
	{"6.7", nil, "", "non-ascii-unsupported", "the server refuses an address that is not ASCII (X.6.7, RFC 6531 §3.5)."},
	{"7.1", []int{554, 550}, "rcpt", "relay-denied", "the server does not relay for you: it does not receive mail for that domain and you are not authorised to send through it (554 5.7.1). Send to the domain's own MX, or authenticate to your own server."},
	{"7.", []int{550, 553, 554}, "", "policy", "a policy refuses the line (X.7.Z, RFC 3463 security or policy status): the syntax passed; ask the server's administrator or check the sender's reputation and authentication."},
	{"", []int{555}, "", "unsupported-parameter", "the server does not support a parameter on the line (555, RFC 5321 §4.1.1.11)."},
	{"3.4", []int{552}, "mail", "message-too-big", "the size declared with SIZE= is over the server's limit (552 X.3.4, RFC 1870 §6.1); the message must be smaller, or go another way."},
	{"", []int{500, 501, 553}, "", "syntax", "the server refuses the line's syntax and none of the repairs tried satisfied it."},
	{"", []int{450, 451, 452}, "", "temporary", "the refusal is temporary (4yz): greylisting, a lookup failure or a full queue; send again later."},
}

// likelyCause reads a reply for the cause of a refusal that no repair of
// the syntax could fix.
func likelyCause(r Reply, command string, rc RepairContext) (cause, detail string) {
	_, sd, _ := splitEnhanced(r.Enhanced)
	for _, c := range causeRules {
		if c.command != "" && c.command != command {
			continue
		}
		if c.enhanced != "" && !strings.HasPrefix(sd, c.enhanced) {
			continue
		}
		if c.codes != nil && !slices.Contains(c.codes, r.Code) {
			continue
		}
		if c.cause == "non-ascii-unsupported" && !rc.SMTPUTF8 {
			return c.cause, c.detail + " It does not advertise SMTPUTF8, so a local part that is not ASCII cannot reach it in any form; a domain can, as its A-label."
		}
		return c.cause, c.detail
	}
	if r.Code/100 == 4 {
		return "temporary", "the refusal is temporary (4yz); send again later."
	}
	return "unknown", "the reply names no cause that can be read from its codes; read the server's text and the explanation below."
}

// identify reads the server's software from the first connection's banner
// and EHLO reply and every reply the attempts drew.
func (w *whyRun) identify(mail bool) *explain.Software {
	cmd := explain.RCPT
	if mail {
		cmd = explain.MAIL
	}
	var rs []software.CommandReply
	for _, a := range w.rep.Attempts {
		rs = append(rs, software.CommandReply{Command: explain.MAIL, Reply: a.PreludeReply}, software.CommandReply{Command: cmd, Reply: a.Reply})
	}
	return software.Identify(w.banner, w.ehlo, rs)
}
