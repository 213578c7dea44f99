package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/explain"
)

const explainSynopsis = `smtpprobe explain [flags] ARG...
       smtpprobe explain [flags] -
       smtpprobe explain [flags] FILE|DIR...

Explain SMTP reply codes: what they mean, when you see them and how to fix
them, in the context of the command that drew them. ARG is a basic code
(252), an enhanced code (5.1.1), both ("550 5.1.1"), or a whole reply line
in quotes; 550 5.1.1 unquoted is one reply too. Two or more ARGs compare
the codes. "-" reads any text from stdin, of any size (a transcript, a
bounce, Postfix, Exim or OpenSMTPD log lines), finds every reply in it
and annotates each in place. When the input is a whole message, an mbox
or Amazon SES JSON, each message is read as a report instead: a bounce
(RFC 3464 or the text of Postfix, Exim, Sendmail, qmail, Exchange, Gmail,
Yahoo, Amazon SES) per recipient, with reason, cause, who must act and
the fix; a feedback report (RFC 5965) or an automatic reply (RFC 3834)
as what it is. FILE is read the same way; DIR is every file under it
(a maildir, a folder of .eml files, mbox files). See docs/bounces.md.

Only the headings are translated by --lang; the explanations are English.`

const explainExamples = `  smtpprobe explain 252                      # general meaning, and how it changes per command
  smtpprobe explain --context vrfy 252       # 252 after VRFY: the server declines to confirm
  smtpprobe explain --context mail 501       # 501 after MAIL FROM: address syntax
  smtpprobe explain 5.1.1                    # an enhanced status code alone
  smtpprobe explain "550 5.1.1"              # both layers: basic code refined by the enhanced one
  smtpprobe explain "550-5.7.26 Unauthenticated email from example.com is not accepted"
  smtpprobe explain 252 501                  # compare: key differences, when you meet which
  smtpprobe explain --lang tr 252 501        # Turkish headings
  smtpprobe explain --json 250 252 550       # VRFY policy codes side by side, as JSON
  grep status=bounced /var/log/mail.log | smtpprobe explain -
  smtpprobe explain bounce.eml               # a bounce: per recipient, verdict first
  smtpprobe explain --json ~/Maildir/new     # every message of a maildir folder, as JSON
`

// lineScanner hands out the lines of "explain -" input with the replies
// found on them (explain.ReplyScanner).
type lineScanner interface {
	Scan() bool
	Line() explain.Line
	Err() error
}

// newLineScanner finds the replies in "explain -" input; tests replace it
// to check the annotator on its own.
var newLineScanner = func(r io.Reader) lineScanner { return explain.NewReplyScanner(r) }

func runExplain(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("explain", explainSynopsis, explainExamples)
	ctxName := fs.StringP("context", "c", "", "the command that drew the reply: greeting, ehlo, helo, starttls, auth, vrfy, expn, mail, rcpt, data, bdat, rset, noop, help, quit, unknown")
	lang := fs.String("lang", "", "language of the headings: "+strings.Join(explain.LanguageTags(), ", ")+" (default from LC_ALL or LANG, else en)")
	replies := fs.Bool("replies", false, "read the input as text with replies in it even when it is a whole message (a bounce is otherwise read per recipient)")
	of := addOutputFlags(fs, "the codes by class")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	out, err := of.options(fs, e)
	if err != nil {
		return usageError(e, "explain", err.Error())
	}
	h, err := explainHeadings(*lang, e.getenv)
	if err != nil {
		return usageError(e, "explain", err.Error())
	}
	var cmd explain.Command
	if *ctxName != "" {
		c, ok := explain.ParseCommand(*ctxName)
		if !ok {
			return usageError(e, "explain", fmt.Sprintf("unknown --context %q (one of greeting, ehlo, helo, starttls, auth, vrfy, expn, mail, rcpt, data, bdat, rset, noop, help, quit, unknown)", *ctxName))
		}
		cmd = c
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError(e, "explain", "give a code, an enhanced code, a reply line, or - to read stdin")
	}
	if len(rest) == 1 && rest[0] == "-" {
		if e.stdin == nil {
			return usageError(e, "explain", "no standard input")
		}
		e.silence(out)
		return explainInput(e, out, h, cmd, "-", e.stdin, *replies)
	}
	for _, a := range rest {
		if a == "-" {
			return usageError(e, "explain", `"-" (read stdin) cannot be combined with other arguments`)
		}
	}
	if paths, err := pathArgs(rest); err != nil {
		return usageError(e, "explain", err.Error())
	} else if len(paths) > 0 {
		e.silence(out)
		return explainPaths(e, out, h, cmd, paths, *replies)
	}
	var items []explain.Explanation
	var inputs []string
	for _, a := range joinCodeArgs(rest) {
		x, err := explainArg(a, cmd)
		if err != nil {
			return explainFailed(e, out, a, err)
		}
		items = append(items, x)
		inputs = append(inputs, a)
	}
	e.silence(out)
	var doc render.Document = render.NewExplainComparison(explain.Compare(items), h)
	if len(items) == 1 {
		doc = render.NewExplainCode(items[0], inputs[0], cmd == "", h)
	}
	if err := renderOut(e, doc, out); err != nil {
		return exitCheck
	}
	return exitOK
}

// joinCodeArgs joins a basic code followed by an enhanced code, typed
// without quotes (explain 550 5.1.1), into one reply, and drops repeated
// arguments, so that neither is compared with itself.
func joinCodeArgs(args []string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := strings.TrimSpace(args[i])
		next := ""
		if i+1 < len(args) {
			next = strings.TrimSpace(args[i+1])
		}
		// The classes must agree (RFC 3463 §2): "252 5.1.1" stays a
		// comparison of two codes.
		if bareBasicCode.MatchString(a) && bareEnhancedCode.MatchString(next) && a[0] == next[0] {
			a += " " + next
			i++
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	return out
}

var (
	bareBasicCode    = regexp.MustCompile(`^[0-9]{3}$`)
	bareEnhancedCode = regexp.MustCompile(`^[0-9]\.[0-9]{1,3}\.[0-9]{1,3}$`)
)

// explainHeadings picks the headings: --lang first, then LC_ALL, then LANG
// (POSIX precedence). An unknown --lang is a usage error; an unknown
// locale in the environment falls back to English.
func explainHeadings(flag string, getenv func(string) string) (explain.Headings, error) {
	if flag != "" {
		h, ok := explain.LookupLanguage(flag)
		if !ok {
			return h, fmt.Errorf("no headings for language %q (available: %s)", flag, strings.Join(explain.LanguageTags(), ", "))
		}
		return h, nil
	}
	for _, v := range []string{"LC_ALL", "LANG"} {
		if s := getenv(v); s != "" {
			if h, ok := explain.LookupLanguage(s); ok {
				return h, nil
			}
			break
		}
	}
	return explain.Languages["en"], nil
}

// explainArg explains one command-line argument.
func explainArg(arg string, cmd explain.Command) (explain.Explanation, error) {
	q, err := explain.ParseQuery(arg)
	if err != nil {
		return explain.Explanation{}, err
	}
	if q.Code == 0 {
		st, err := explain.LookupEnhanced(q.Enhanced)
		if err != nil {
			return explain.Explanation{}, err
		}
		if st.Level == "class" {
			return explain.Explanation{}, &explain.CodeError{Input: q.Enhanced, Class: st.Class,
				Reason: fmt.Sprintf("not a registered enhanced status code: subject %s is not defined (RFC 3463 §3 defines 0-7)", strings.Split(q.Enhanced, ".")[1]),
				Said:   fmt.Sprintf("Its class says: %s (%s).", st.ClassName, strings.TrimSuffix(st.Meaning, "."))}
		}
	}
	return explain.Explain(q.Code, q.Enhanced, q.Text, cmd), nil
}

// explainFailed reports a code that cannot be explained, with what can be
// said about it, and returns exitCheck.
func explainFailed(e *env, out render.Options, arg string, err error) int {
	msg := err.Error()
	var ce *explain.CodeError
	doc := &render.ExplainError{SchemaVersion: 1, Input: arg, Error: msg}
	if errors.As(err, &ce) {
		doc.Class = ce.Class
	}
	if err := renderOut(e, doc, out); err != nil {
		return exitCheck
	}
	fmt.Fprintf(e.stderr, "smtpprobe explain: %s\n", escapeUntrusted(msg))
	return exitCheck
}

// explainStdin reads text from stdin as a stream, finds every reply in it
// and hands each line and the replies ending on it to the renderer, which
// writes them as they come (render.ExplainStream). Input of any size is
// read in bounded memory. cmd, from --context, is used for replies whose
// command the text does not tell.
func explainStdin(e *env, out render.Options, h explain.Headings, cmd explain.Command, in io.Reader) int {
	sc := newLineScanner(in)
	st := render.NewExplainStream(e.stdout, out, h)
	var found []render.AnnotatedReply
	cache := newExplainCache()
	held := 0 // annotations held for the input line being read
	for sc.Scan() {
		ln := sc.Line()
		found = found[:0]
		for _, f := range ln.Replies {
			// Text holds a line's annotations until the line ends, and a
			// line may be of any length: past the cap they are counted.
			if !structured(out) && !out.Quiet && held >= maxLineAnnotations {
				st.Skip(1)
				continue
			}
			held++
			found = append(found, cache.annotated(f, ln.Number, cmd))
		}
		st.Line(ln.Text, ln.Continued, found)
		if !ln.Continued {
			held = 0
		}
	}
	if err := st.Close(); err != nil {
		return exitCheck
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe explain: reading stdin: %v\n", err)
		return exitCheck
	}
	if st.Replies() == 0 {
		fmt.Fprintln(e.stderr, "smtpprobe explain: no SMTP reply found in the input")
		return exitCheck
	}
	return exitOK
}

// maxLineAnnotations caps the annotations held for one input line of
// text output: they are written when the line ends, a line may be of any
// length, and each holds its reply's text. The rest are counted, not
// explained. A variable so that tests can lower it.
var maxLineAnnotations = 100

// explainCache remembers the explanations of recent replies: logs and
// transcripts repeat the same reply many times, and explaining is the
// costly part of annotating.
type explainCache struct {
	m map[explainKey]explain.Explanation
}

type explainKey struct {
	code     int
	enhanced string
	text     string
	cmd      explain.Command
}

// explainCacheSize bounds the cache; when full it starts over.
const explainCacheSize = 512

func newExplainCache() *explainCache {
	return &explainCache{m: make(map[explainKey]explain.Explanation)}
}

// annotated is annotatedFor through the cache.
func (c *explainCache) annotated(f explain.Found, number int, cmd explain.Command) render.AnnotatedReply {
	if f.Context == "" {
		f.Context = cmd
	}
	code := f.Code
	if f.Inferred {
		code = 0
	}
	k := explainKey{code, f.Enhanced, f.Text, f.Context}
	x, ok := c.m[k]
	if !ok {
		if len(c.m) >= explainCacheSize {
			clear(c.m)
		}
		x = explain.Explain(code, f.Enhanced, f.Text, f.Context)
		c.m[k] = x
	}
	return render.AnnotatedReply{Line: number, Start: f.Start, End: f.End, Reply: f.Raw, Inferred: f.Inferred, Explanation: x, Brief: x.Brief()}
}

// annotatedFor explains one reply found on input line number.
func annotatedFor(f explain.Found, number int, cmd explain.Command) render.AnnotatedReply {
	if f.Context == "" {
		f.Context = cmd
	}
	code := f.Code
	if f.Inferred {
		// Only an enhanced code was in the text; the basic code was
		// made up from its class, so explain the enhanced code alone.
		code = 0
	}
	x := explain.Explain(code, f.Enhanced, f.Text, f.Context)
	return render.AnnotatedReply{Line: number, Start: f.Start, End: f.End, Reply: f.Raw, Inferred: f.Inferred, Explanation: x, Brief: x.Brief()}
}
