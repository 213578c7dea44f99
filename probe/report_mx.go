package probe

import "github.com/smtpprobe/smtpprobe/resolver"

// MXResult is the resolver's answer as it appears in a report.
type MXResult = resolver.Result
