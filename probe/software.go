package probe

import (
	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/wire"
)

// identifySteps reads the server's software from a host's banner, EHLO
// reply and step replies; nil when no greeting was read.
func identifySteps(h HostReport) *explain.Software {
	var rs []wire.CommandReply
	for _, s := range h.Steps {
		rs = append(rs, wire.CommandReply{Command: s.Command, Reply: s.Reply})
	}
	return wire.Identify(h.Banner, h.EHLO, rs)
}
