package probe

// The names below keep the wire package's API reachable under its old
// names in this package.

import "github.com/smtpprobe/smtpprobe/probe/wire"

// Types.
type (
	Config          = wire.Config
	Deviation       = wire.Deviation
	DeviationKind   = wire.DeviationKind
	DialFunc        = wire.DialFunc
	Dialer          = wire.Dialer
	Error           = wire.Error
	Extension       = wire.Extension
	Extensions      = wire.Extensions
	LimitError      = wire.LimitError
	Limits          = wire.Limits
	MailHost        = wire.MailHost
	Reply           = wire.Reply
	Session         = wire.Session
	SessionStatus   = wire.SessionStatus
	TLSInfo         = wire.TLSInfo
	TLSMode         = wire.TLSMode
	Transcript      = wire.Transcript
	TranscriptEntry = wire.TranscriptEntry
	TranscriptLine  = wire.TranscriptLine
)

// Constants.
const (
	DefaultConnectTimeout    = wire.DefaultConnectTimeout
	DefaultLineBytes         = wire.DefaultLineBytes
	DefaultLines             = wire.DefaultLines
	DefaultReplyBytes        = wire.DefaultReplyBytes
	DefaultReplyTimeout      = wire.DefaultReplyTimeout
	DefaultSessionBytes      = wire.DefaultSessionBytes
	DefaultTranscriptBytes   = wire.DefaultTranscriptBytes
	DefaultTranscriptEntries = wire.DefaultTranscriptEntries
	Dev8Bit                  = wire.Dev8Bit
	DevBareCR                = wire.DevBareCR
	DevBareLF                = wire.DevBareLF
	DevControlChar           = wire.DevControlChar
	DevEnhancedClass         = wire.DevEnhancedClass
	DevInvalidCode           = wire.DevInvalidCode
	DevInvalidUTF8           = wire.DevInvalidUTF8
	DevLineTruncated         = wire.DevLineTruncated
	DevLongLine              = wire.DevLongLine
	DevMissingSpace          = wire.DevMissingSpace
	DevMixedCodes            = wire.DevMixedCodes
	DevDesync                = wire.DevDesync
	DevDesyncSuspect         = wire.DevDesyncSuspect
	DevNUL                   = wire.DevNUL
	DevNonCodeLine           = wire.DevNonCodeLine
	DevReplyTooLarge         = wire.DevReplyTooLarge
	DevSTARTTLSInject        = wire.DevSTARTTLSInject
	DevSTARTTLSRefused       = wire.DevSTARTTLSRefused
	DevTLSPlaintext          = wire.DevTLSPlaintext
	DevTooManyLines          = wire.DevTooManyLines
	DevTruncated             = wire.DevTruncated
	DevUnsolicited           = wire.DevUnsolicited
	DirClient                = wire.DirClient
	DirEvent                 = wire.DirEvent
	DirServer                = wire.DirServer
	MaxReplyLineOctets       = wire.MaxReplyLineOctets
	QuitTimeout              = wire.QuitTimeout
	StatusCanceled           = wire.StatusCanceled
	StatusClosedByServer     = wire.StatusClosedByServer
	StatusConnectionFailed   = wire.StatusConnectionFailed
	StatusConnectionRefused  = wire.StatusConnectionRefused
	StatusConnectionTimeout  = wire.StatusConnectionTimeout
	StatusIOTimeout          = wire.StatusIOTimeout
	StatusInvalidInput       = wire.StatusInvalidInput
	StatusNotDialled         = wire.StatusNotDialled
	StatusDesync             = wire.StatusDesync
	StatusNoService          = wire.StatusNoService
	StatusOK                 = wire.StatusOK
	StatusProtocolError      = wire.StatusProtocolError
	StatusTLSHandshakeError  = wire.StatusTLSHandshakeError
	StatusTLSUnavailable     = wire.StatusTLSUnavailable
	TLSAuto                  = wire.TLSAuto
	TLSImplicit              = wire.TLSImplicit
	TLSNone                  = wire.TLSNone
	TLSStartTLS              = wire.TLSStartTLS
)

// Variables and functions.
var (
	ErrClosed       = wire.ErrClosed
	ErrRefusedLine  = wire.ErrRefusedLine
	Dial            = wire.Dial
	ExtensionsOf    = wire.ExtensionsOf
	NewTranscript   = wire.NewTranscript
	ParseEnhanced   = wire.ParseEnhanced
	ParseExtensions = wire.ParseExtensions
	ParseTLSMode    = wire.ParseTLSMode
	ReadReply       = wire.ReadReply
	Status          = wire.Status
)
