package probe

// The names below keep the address package's API reachable under its old
// names in this package.

import "github.com/smtpprobe/smtpprobe/probe/address"

// Types.
type (
	AddressFinding = address.AddressFinding
	AddressReport  = address.AddressReport
	Candidate      = address.Candidate
	EnvelopeLine   = address.EnvelopeLine
	LineError      = address.LineError
	LineFinding    = address.LineFinding
	Repair         = address.Repair
	RepairContext  = address.RepairContext
)

// Constants.
const (
	SeverityError   = address.SeverityError
	SeverityNote    = address.SeverityNote
	SeverityWarning = address.SeverityWarning
)

// Variables and functions.
var (
	AnalyzeAddress    = address.AnalyzeAddress
	CandidatesFrom    = address.CandidatesFrom
	CheckWhyLine      = address.CheckWhyLine
	IsASCII           = address.IsASCII
	IsMailbox         = address.IsMailbox
	LineFindings      = address.LineFindings
	ParseEnvelopeLine = address.ParseEnvelopeLine
	RepairCandidates  = address.RepairCandidates
	StrictLine        = address.StrictLine
	ToALabel          = address.ToALabel
	UnquotedAts       = address.UnquotedAts
	Violations        = address.Violations
)
