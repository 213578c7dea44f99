package explain

import (
	"fmt"
	"strings"
)

// replySequence lists the replies one command may draw: RFC 5321 §4.3.2's
// command-reply sequences, and the replies the extensions that define or
// extend the command add.
type replySequence struct {
	codes string // space-separated basic codes
	ref   string // where the list comes from
}

// anyCommandReplies may answer any command: RFC 5321 §4.3.2 lists 500, 501
// and 421 for "unusual circumstances"; RFC 4954 §6 and RFC 3207 §4 let a
// server that requires AUTH or STARTTLS answer 530 to the other commands.
const anyCommandReplies = "421 500 501 530"

// commandReplies is the table of which replies each command may get. A
// command missing here (Unknown) is not checked.
var commandReplies = map[Command][]replySequence{
	Greeting: {{"220 554", "RFC 5321 §4.3.2"}, {"421", "RFC 5321 §3.8"}, {"521", "RFC 7504 §2"}},
	EHLO:     {{"250 504 550 502", "RFC 5321 §4.3.2"}},
	HELO:     {{"250 504 550 502", "RFC 5321 §4.3.2"}},
	STARTTLS: {{"220 454 501", "RFC 3207 §4"}, {"503", "RFC 5321 §4.1.4"}},
	AUTH:     {{"235 334 432 454 500 501 503 504 530 534 535 538", "RFC 4954 §4, §6"}},
	MAIL:     {{"250 552 451 452 550 553 503 455 555", "RFC 5321 §4.3.2"}},
	RCPT:     {{"250 251 550 551 552 553 450 451 452 503 455 555", "RFC 5321 §4.3.2"}, {"556", "RFC 7504 §3"}},
	// DATA: 354 and the errors to the command, then the replies at the
	// end of the data.
	DATA: {{"354 503 554 250 552 451 452 450 550", "RFC 5321 §4.3.2"}},
	BDAT: {{"250 552 554 451 452 450 550 503", "RFC 3030 §2, §4"}},
	RSET: {{"250", "RFC 5321 §4.3.2"}},
	VRFY: {{"250 251 252 550 551 553 502 504", "RFC 5321 §4.3.2"}},
	EXPN: {{"250 252 550 500 502 504", "RFC 5321 §4.3.2"}},
	HELP: {{"211 214 502 504", "RFC 5321 §4.3.2"}},
	NOOP: {{"250", "RFC 5321 §4.3.2"}},
	QUIT: {{"221", "RFC 5321 §4.3.2"}},
}

// sequenceListed tells whether code is a listed reply to cmd, and which
// references hold the lists; checked is false when cmd is not in the table.
func sequenceListed(code int, cmd Command) (listed, checked bool, refs []string) {
	seqs, ok := commandReplies[cmd]
	if !ok {
		return false, false, nil
	}
	c := fmt.Sprint(code)
	if cmd != Greeting && strings.Contains(" "+anyCommandReplies+" ", " "+c+" ") {
		return true, true, nil
	}
	for _, s := range seqs {
		refs = append(refs, s.ref)
		if strings.Contains(" "+s.codes+" ", " "+c+" ") {
			return true, true, refs
		}
	}
	return false, true, refs
}

// sequenceRemark says plainly when code is not a reply cmd may get. A
// success or intermediate reply out of place is a warning: a client that
// acts on it goes wrong (354 to MAIL, 252 to RCPT). A failure out of place
// is only a note: servers refuse with codes the list does not name (554 to
// RCPT for relaying), and a client reads a failure by its first digit
// (RFC 5321 §4.2.1).
func sequenceRemark(code int, cmd Command) (warning, note string) {
	listed, checked, refs := sequenceListed(code, cmd)
	if listed || !checked || !ValidCode(code) {
		return "", ""
	}
	if !strings.Contains(strings.Join(refs, " "), "RFC 5321 §4.3.2") {
		refs = append(refs, "RFC 5321 §4.3.2")
	}
	src := CompactRefs(refs) + " does not list"
	if len(refs) > 1 {
		src = CompactRefs(refs) + " do not list"
	}
	what := "a reply to " + strings.ToUpper(string(cmd))
	if cmd == Greeting {
		what = "a greeting"
	}
	if class := code / 100; class == 2 || class == 3 {
		return fmt.Sprintf("%s %d as %s: the server is misbehaving or the reply was matched to the wrong command", src, code, what), ""
	}
	return "", fmt.Sprintf("%s %d as %s; servers do use other failure codes, and a client acts on the first digit (RFC 5321 §4.2.1)", src, code, what)
}
