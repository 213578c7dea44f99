package probe

// The names below keep the why package's API reachable under its old
// names in this package.

import "github.com/smtpprobe/smtpprobe/probe/why"

// Types.
type (
	WhyAttempt    = why.WhyAttempt
	WhyHost       = why.WhyHost
	WhyConclusion = why.WhyConclusion
	WhyHostErr    = why.WhyHostErr
	WhyOptions    = why.WhyOptions
	WhyProgress   = why.WhyProgress
	WhyReport     = why.WhyReport
)

// Constants.
const (
	DefaultWhyAttempts      = why.DefaultWhyAttempts
	DefaultWhyCombination   = why.DefaultWhyCombination
	DefaultWhyPerConnection = why.DefaultWhyPerConnection
	WhyAcceptedAsSent       = why.WhyAcceptedAsSent
	WhyDNSError             = why.WhyDNSError
	WhyIncomplete           = why.WhyIncomplete
	WhyNoConnection         = why.WhyNoConnection
	WhyNoMailHost           = why.WhyNoMailHost
	WhyNoRepair             = why.WhyNoRepair
	WhyOtherCause           = why.WhyOtherCause
	WhyPartial              = why.WhyPartial
	WhyPreludeRejected      = why.WhyPreludeRejected
	WhyRepaired             = why.WhyRepaired
	WhySyntaxFixed          = why.WhySyntaxFixed
)

// Variables and functions.
var (
	ErrNoHost = why.ErrNoHost
	Why       = why.Why
)
