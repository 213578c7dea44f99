package probe

import (
	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/software"
)

// identifySteps reads the server's software from a host's banner, EHLO
// reply and step replies; nil when no greeting was read.
func identifySteps(h HostReport) *explain.Software {
	var rs []software.CommandReply
	for _, s := range h.Steps {
		rs = append(rs, software.CommandReply{Command: s.Command, Reply: s.Reply})
	}
	return software.Identify(h.Banner, h.EHLO, rs)
}
