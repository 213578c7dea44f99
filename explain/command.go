// Package explain is smtpprobe's knowledge base of SMTP replies: every basic
// reply code, every registered enhanced status code, recognizers for the
// texts real receivers send, and the way a code's meaning shifts with the
// command that drew it. It imports nothing of smtpprobe's own.
package explain

import "strings"

// Command names the SMTP command (or event) a reply answered. The meaning
// of a reply code depends on it: 501 after MAIL FROM is about the address,
// 501 after VRFY about a missing argument.
type Command string

// The commands and events a reply can answer.
const (
	Greeting Command = "greeting" // the 220/421/554 sent on connect (RFC 5321 §3.1)
	EHLO     Command = "ehlo"
	HELO     Command = "helo"
	STARTTLS Command = "starttls" // RFC 3207
	AUTH     Command = "auth"     // RFC 4954
	VRFY     Command = "vrfy"
	EXPN     Command = "expn"
	MAIL     Command = "mail"
	RCPT     Command = "rcpt"
	DATA     Command = "data"
	BDAT     Command = "bdat" // RFC 3030
	RSET     Command = "rset"
	NOOP     Command = "noop"
	HELP     Command = "help"
	QUIT     Command = "quit"
	Unknown  Command = "unknown" // a verb the server does not know, or no context
)

// Commands lists every Command in protocol order.
var Commands = []Command{Greeting, EHLO, HELO, STARTTLS, AUTH, VRFY, EXPN, MAIL, RCPT, DATA, BDAT, RSET, NOOP, HELP, QUIT, Unknown}

// commandAliases maps what a user may type after --context to a Command.
var commandAliases = map[string]Command{
	"greeting": Greeting, "banner": Greeting, "connect": Greeting,
	"ehlo": EHLO, "helo": HELO, "lhlo": EHLO,
	"starttls": STARTTLS, "tls": STARTTLS,
	"auth": AUTH,
	"vrfy": VRFY, "expn": EXPN,
	"mail": MAIL, "mail from": MAIL, "from": MAIL,
	"rcpt": RCPT, "rcpt to": RCPT, "to": RCPT,
	"data": DATA, "bdat": BDAT,
	"rset": RSET, "noop": NOOP, "help": HELP, "quit": QUIT,
	"unknown": Unknown,
}

// ParseCommand maps a context name such as "mail", "MAIL FROM", "rcpt" or
// "banner" to its Command. ok is false for a name it does not know.
func ParseCommand(name string) (cmd Command, ok bool) {
	cmd, ok = commandAliases[strings.ToLower(strings.Join(strings.Fields(name), " "))]
	return cmd, ok
}

// verbs maps an SMTP verb, lower-cased, to its Command.
var verbs = map[string]Command{
	"ehlo": EHLO, "lhlo": EHLO, "helo": HELO, "starttls": STARTTLS, "auth": AUTH,
	"vrfy": VRFY, "expn": EXPN, "mail": MAIL, "rcpt": RCPT, "data": DATA,
	"bdat": BDAT, "rset": RSET, "noop": NOOP, "help": HELP, "quit": QUIT,
}

// CommandOf tells which command a line sent on the wire is, by its verb,
// case-insensitively: "MAIL FROM:<a@b>" and "mail from: a@b" are MAIL.
// A line with a verb it does not know is Unknown.
func CommandOf(line string) Command {
	f := strings.Fields(line)
	if len(f) == 0 {
		return Unknown
	}
	verb, _, _ := strings.Cut(strings.ToLower(f[0]), ":")
	if c, ok := verbs[verb]; ok {
		return c
	}
	return Unknown
}
