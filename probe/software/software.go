// Package software names the server software behind an SMTP session: it
// hands the replies the wire layer read to the explain package's
// fingerprints. It sits between the two, so the wire layer needs nothing
// of this module.
package software

import (
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// CommandReply is a reply and the command that drew it.
type CommandReply struct {
	Command explain.Command
	Reply   *wire.Reply // nil when none came
}

// Identify reads the server's software from a session's greeting, EHLO
// reply and the other replies it drew; nil when no greeting was read.
func Identify(banner, ehlo *wire.Reply, replies []CommandReply) *explain.Software {
	if banner == nil {
		return nil
	}
	ev := explain.SessionEvidence{Banner: strings.Join(banner.Lines, " ")}
	if ehlo != nil && ehlo.Code/100 == 2 {
		ev.EHLO = ehlo.Lines
	}
	for _, r := range replies {
		if r.Reply == nil || r.Reply.Code == 0 {
			continue
		}
		ev.Replies = append(ev.Replies, explain.SessionReply{Command: r.Command, Code: r.Reply.Code,
			Enhanced: r.Reply.Enhanced, Text: textAfterEnhanced(*r.Reply)})
	}
	sw := explain.Identify(ev)
	return &sw
}

// textAfterEnhanced is the reply's text without the enhanced code the
// first line starts with, lines joined by a space.
func textAfterEnhanced(r wire.Reply) string {
	t := r.Text()
	if r.Enhanced != "" {
		t = strings.TrimSpace(strings.TrimPrefix(t, r.Enhanced))
	}
	return t
}
