package probe

import (
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// sessionEvidence gathers what identifies the server: the greeting, the
// EHLO reply, and each reply with the command that drew it.
func sessionEvidence(banner, ehlo *Reply, replies []commandReply) explain.SessionEvidence {
	var ev explain.SessionEvidence
	if banner != nil {
		ev.Banner = strings.Join(banner.Lines, " ")
	}
	if ehlo != nil && ehlo.Code/100 == 2 {
		ev.EHLO = ehlo.Lines
	}
	for _, r := range replies {
		if r.reply == nil || r.reply.Code == 0 {
			continue
		}
		ev.Replies = append(ev.Replies, explain.SessionReply{Command: r.command, Code: r.reply.Code,
			Enhanced: r.reply.Enhanced, Text: replyText(*r.reply)})
	}
	return ev
}

// commandReply is a reply and the command that drew it.
type commandReply struct {
	command explain.Command
	reply   *Reply
}

// replyText is the reply's text without the enhanced code the first line
// starts with, lines joined by a space.
func replyText(r Reply) string {
	t := r.Text()
	if r.Enhanced != "" {
		t = strings.TrimSpace(strings.TrimPrefix(t, r.Enhanced))
	}
	return t
}

// identifySteps reads the server's software from a host's banner, EHLO
// reply and step replies; nil when no greeting was read.
func identifySteps(h HostReport) *explain.Software {
	if h.Banner == nil {
		return nil
	}
	var rs []commandReply
	for _, s := range h.Steps {
		rs = append(rs, commandReply{s.Command, s.Reply})
	}
	sw := explain.Identify(sessionEvidence(h.Banner, h.EHLO, rs))
	return &sw
}
