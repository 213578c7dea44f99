package probe

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// Expect is what RFC 5321 asks of a server for one step.
type Expect string

const (
	// ExpectAccept: the line is valid and the RFC says the server must
	// take it (2yz), e.g. the null reverse-path (§4.5.5).
	ExpectAccept Expect = "accept"
	// ExpectValid: the line is syntactically valid, so a syntax error
	// (500, 501) is wrong, but a policy rejection (550, 553, 554) is the
	// server's right, e.g. an address literal it will not deliver to.
	ExpectValid Expect = "valid"
	// ExpectReject: the line breaks the RFC's grammar or the command
	// order and must draw a 5yz, usually a specific code (501, 503, 555).
	ExpectReject Expect = "reject"
	// ExpectEither: the RFC lets the server accept or reject (a 65-octet
	// local part, §4.5.3.1); the reply is reported, not judged.
	ExpectEither Expect = "either"
	// ExpectInfo: the reply is judged only by comparison with another
	// step (VRFY of a real and a random mailbox, catch-all detection).
	ExpectInfo Expect = "info"
)

// State is the SMTP state a step must be sent in.
type State int

const (
	// AnyState: the command is valid at any point of a session (VRFY,
	// EXPN, §4.1.4).
	AnyState State = iota
	// Idle: outside a mail transaction; the runner sends RSET first if
	// one is open (RFC 5321 §4.1.1.5).
	Idle
	// InMail: inside a transaction; the runner sends a well-formed MAIL
	// FROM first if none is open.
	InMail
	// InMailSMTPUTF8: inside a transaction opened with the SMTPUTF8
	// parameter (RFC 6531 §3.4), which a UTF-8 forward-path needs; the
	// runner always opens a fresh one.
	InMailSMTPUTF8
	// BeforeHello: first on a connection, after the greeting and before
	// any EHLO or HELO (RFC 5321 §4.1.4); such steps share that one
	// connection, in plan order, and the plan may go on on it after a
	// proper EHLO.
	BeforeHello
)

// Need is a capability a step depends on; a step whose needs the server
// does not advertise is skipped, never sent.
type Need int

const (
	NeedNothing  Need = 0         // sent to every server
	NeedSMTPUTF8 Need = 1 << iota // RFC 6531: only with SMTPUTF8 advertised
	NeedSIZE                      // RFC 1870: only with a SIZE limit advertised
)

// Role marks the steps whose replies feed the summary verdicts.
type Role string

// Roles the verdicts look up.
const (
	RoleNone           Role = ""
	RoleVRFYReal       Role = "vrfy-real"       // VRFY of a mailbox that must exist
	RoleVRFYRandom     Role = "vrfy-random"     // VRFY of a mailbox that cannot exist
	RoleVRFYPostmaster Role = "vrfy-postmaster" // VRFY of postmaster, which every domain has (RFC 5321 §4.5.1)
	RoleVRFYAddress    Role = "vrfy-address"    // VRFY of an address the user asked about
	RoleEXPNList       Role = "expn-list"       // EXPN of a list that should exist
	RoleEXPNRandom     Role = "expn-random"     // EXPN of one that cannot
	RoleMailBaseline   Role = "mail-baseline"   // well-formed MAIL FROM
	RoleRcptBaseline   Role = "rcpt-baseline"   // well-formed RCPT TO of a real mailbox
	RoleRcptRandom     Role = "rcpt-random"     // RCPT TO of a random mailbox (catch-all)
	RoleRcptAddress    Role = "rcpt-address"    // RCPT TO of an address the user asked about
	RoleRcptRaw        Role = "rcpt-raw"        // a RCPT TO line the user wrote, sent as given: no verdict rests on it
	RoleSyntax         Role = "syntax"          // a form RFC 5321 forbids: decides envelope_syntax
	RolePostmaster     Role = "postmaster"      // RCPT TO postmaster (§4.5.1)
	RoleVRFYNoArgs     Role = "vrfy-no-args"    // bare VRFY
	RoleSequence       Role = "sequence"        // commands out of order (503)
	RoleExtensionRule  Role = "extension-rule"  // parameters and SIZE
)

// Form is the argument form of a VRFY/EXPN step: servers differ in which
// they parse (Exim answers 501 to "VRFY alice" and 252 to "VRFY alice@domain").
type Form string

// The argument forms of VRFY.
const (
	FormNone     Form = ""
	FormUser     Form = "user"
	FormAddress  Form = "user@domain"
	FormBrackets Form = "<user@domain>"
)

// Step is one row of a probe plan: a named line to send and what RFC 5321
// expects of the reply. A new probe case is a new row.
type Step struct {
	Name    string          // stable kebab-case id, e.g. "mail-no-brackets"
	Suite   string          // "vrfy" or "syntax"
	Case    string          // what the step tries, for people: "a path without angle brackets"
	Command explain.Command // the command, for annotating its reply
	Line    string          // the line, a template filled by Fill: {from}, {rcpt}, {domain}...
	Expect  Expect
	Codes   []int  // the reply codes the RFC names for a rejection, first preferred
	Ref     string // the citation, e.g. "RFC 5321 §4.1.2"
	Draws   bool   // expected to draw an error reply: counts against the server's error limit
	State   State
	Needs   Need
	Role    Role
	Form    Form
	Setup   bool   // housekeeping the runner added (RSET, MAIL before RCPT), not a probe case
	Exact   bool   // the RFC requires Codes[0] itself: another 5yz is a wrong code, not just another wording
	Address string // the address the user asked about, for RoleVRFYAddress and RoleRcptAddress steps; the text as given for RoleRcptRaw
	// Depends is the baseline whose failure leaves this step's refusal
	// without meaning: RoleMailBaseline for a line carrying the prober's
	// sender, RoleRcptBaseline for one carrying the mailbox under test.
	// Plan sets it from the line's template.
	Depends Role
	// Lenient is the sentence for a server that accepts a line it must
	// refuse, when the general "accepted {what}, which {ref} does not
	// allow" would say it badly; empty for the general one.
	Lenient string
	// Info is the sentence for an ExpectInfo step that no summary verdict
	// compares, a template with {what}, {outcome} and {code}; empty for
	// the general one.
	Info string
}

// vrfySteps are the VRFY and EXPN cases: the same mailbox in every
// argument form, a real one and a random one, so the policy is judged by
// comparison (RFC 5321 §3.5.3, §7.3).
var vrfySteps = []Step{
	{Name: "vrfy-user", Case: "VRFY of a real mailbox, local part only", Command: explain.VRFY, Line: "VRFY {user}", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYReal, Form: FormUser},
	{Name: "vrfy-random-user", Case: "VRFY of a random mailbox, local part only", Command: explain.VRFY, Line: "VRFY {random}", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYRandom, Form: FormUser, Draws: true},
	{Name: "vrfy-address", Case: "VRFY of a real mailbox as user@domain", Command: explain.VRFY, Line: "VRFY {user}@{domain}", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYReal, Form: FormAddress},
	{Name: "vrfy-random-address", Case: "VRFY of a random mailbox as user@domain", Command: explain.VRFY, Line: "VRFY {random}@{domain}", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYRandom, Form: FormAddress, Draws: true},
	{Name: "vrfy-brackets", Case: "VRFY of a real mailbox as <user@domain>", Command: explain.VRFY, Line: "VRFY <{user}@{domain}>", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYReal, Form: FormBrackets},
	{Name: "vrfy-random-brackets", Case: "VRFY of a random mailbox as <user@domain>", Command: explain.VRFY, Line: "VRFY <{random}@{domain}>", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYRandom, Form: FormBrackets, Draws: true},
	{Name: "vrfy-postmaster", Case: "VRFY of postmaster@domain (every domain has it)", Command: explain.VRFY, Line: "VRFY postmaster@{domain}", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3, §4.5.1", Role: RoleVRFYPostmaster, Form: FormAddress},
	{Name: "vrfy-no-argument", Case: "VRFY with no argument", Command: explain.VRFY, Line: "VRFY", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §4.1.1.6", Role: RoleVRFYNoArgs, Draws: true,
		Lenient: "lenient: accepted VRFY with no argument, which {ref} requires one for"},
	{Name: "expn-list", Case: "EXPN of a list", Command: explain.EXPN, Line: "EXPN {list}", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.2", Role: RoleEXPNList, Form: FormUser,
		Draws: true}, // most servers refuse EXPN outright (RFC 5321 §7.3 lets them)
	{Name: "expn-random", Case: "EXPN of a random name", Command: explain.EXPN, Line: "EXPN {random}", Expect: ExpectInfo, Ref: "RFC 5321 §3.5.2", Role: RoleEXPNRandom, Form: FormUser, Draws: true},
}

// syntaxSteps is the envelope syntax suite: each form of MAIL FROM and
// RCPT TO that RFC 5321 allows or forbids, one row each.
var syntaxSteps = []Step{
	// What the server does before it was greeted with EHLO: these go on a
	// connection of their own that never says EHLO.
	{Name: "mail-before-ehlo", Case: "MAIL FROM before any EHLO or HELO", Command: explain.MAIL, Line: "MAIL FROM:<{from}>", Expect: ExpectReject, Codes: []int{503}, Ref: "RFC 5321 §4.1.4", Draws: true, Exact: true, State: BeforeHello, Role: RoleSequence,
		Lenient: "lenient: accepted MAIL FROM before any EHLO or HELO, though {ref} has a session that carries mail begin with EHLO"},
	{Name: "ehlo-invalid-name", Case: "an EHLO name that is not a domain", Command: explain.EHLO, Line: "EHLO -bad_name..", Expect: ExpectReject, Codes: []int{501, 550}, Ref: "RFC 5321 §4.1.1.1, §2.3.5", Draws: true, State: BeforeHello,
		Lenient: "lenient: accepted EHLO -bad_name.., which is neither a domain nor an address literal as {ref} requires; some servers delay that check to RCPT, so the name may still be refused there"},

	// Command order first, while the session is fresh.
	{Name: "rcpt-before-mail", Case: "RCPT TO before any MAIL FROM", Command: explain.RCPT, Line: "RCPT TO:<{rcpt}>", Expect: ExpectReject, Codes: []int{503}, Ref: "RFC 5321 §3.3", Draws: true, Exact: true, State: Idle, Role: RoleSequence},

	{Name: "mail-well-formed", Case: "a well-formed reverse-path", Command: explain.MAIL, Line: "MAIL FROM:<{from}>", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.1.2", State: Idle, Role: RoleMailBaseline},
	{Name: "mail-twice", Case: "a second MAIL FROM inside a transaction", Command: explain.MAIL, Line: "MAIL FROM:<{from}>", Expect: ExpectReject, Codes: []int{503}, Ref: "RFC 5321 §4.1.4", Draws: true, Exact: true, State: InMail, Role: RoleSequence},
	{Name: "mail-null-reverse-path", Case: "the null reverse-path <>", Command: explain.MAIL, Line: "MAIL FROM:<>", Expect: ExpectAccept, Ref: "RFC 5321 §4.5.5", State: Idle},
	{Name: "mail-lowercase-verb", Case: "a lower-case verb", Command: explain.MAIL, Line: "mail from:<{from}>", Expect: ExpectAccept, Ref: "RFC 5321 §2.4", State: Idle},
	{Name: "mail-no-brackets", Case: "a path without angle brackets", Command: explain.MAIL, Line: "MAIL FROM:{from}", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §4.1.2", Draws: true, State: Idle, Role: RoleSyntax},
	{Name: "mail-space-after-colon", Case: "a space after the colon", Command: explain.MAIL, Line: "MAIL FROM: <{from}>", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §3.3", Draws: true, State: Idle, Role: RoleSyntax},
	{Name: "mail-unbalanced-bracket", Case: "an unbalanced angle bracket", Command: explain.MAIL, Line: "MAIL FROM:<{from}", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §4.1.2", Draws: true, State: Idle, Role: RoleSyntax},
	{Name: "mail-trailing-bracket-only", Case: "a path with a closing > and no opening <", Command: explain.MAIL, Line: "MAIL FROM:{from}>", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §4.1.2", Draws: true, State: Idle, Role: RoleSyntax},
	{Name: "mail-space-before-close", Case: "a space before the closing >", Command: explain.MAIL, Line: "MAIL FROM:<{from} >", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §4.1.2", Draws: true, State: Idle, Role: RoleSyntax,
		Lenient: "lenient: accepted a path with a space before its closing >, which the path grammar of {ref} has no room for"},
	{Name: "mail-unqualified", Case: "a sender with no @domain", Command: explain.MAIL, Line: "MAIL FROM:<{from_local}>", Expect: ExpectReject, Codes: []int{501, 553, 504, 550}, Ref: "RFC 5321 §4.1.2", Draws: true, State: Idle, Role: RoleSyntax,
		Lenient: "lenient: accepted a sender with no @domain, which {ref} requires; a server that takes it usually appends its own domain, so bounces go to an address the sender never gave"},
	{Name: "mail-double-at", Case: "two @ signs in the mailbox", Command: explain.MAIL, Line: "MAIL FROM:<{from_local}@@{from_domain}>", Expect: ExpectReject, Codes: []int{501, 553}, Ref: "RFC 5321 §4.1.2", Draws: true, State: Idle, Role: RoleSyntax},
	{Name: "mail-unknown-parameter", Case: "an ESMTP parameter the server did not advertise", Command: explain.MAIL, Line: "MAIL FROM:<{from}> XSMTPPROBE=1", Expect: ExpectReject, Codes: []int{555, 501}, Ref: "RFC 5321 §4.1.1.11", Draws: true, Exact: true, State: Idle, Role: RoleExtensionRule},
	{Name: "mail-quoted-local-part", Case: "a quoted local part", Command: explain.MAIL, Line: `MAIL FROM:<"{from_local} probe"@{from_domain}>`, Expect: ExpectValid, Ref: "RFC 5321 §4.1.2", State: Idle},
	{Name: "mail-ipv4-literal", Case: "an [IPv4] address literal", Command: explain.MAIL, Line: "MAIL FROM:<{from_local}@[192.0.2.1]>", Expect: ExpectValid, Ref: "RFC 5321 §4.1.3", State: Idle},
	{Name: "mail-ipv6-literal", Case: "an [IPv6:...] address literal", Command: explain.MAIL, Line: "MAIL FROM:<{from_local}@[IPv6:2001:db8::1]>", Expect: ExpectValid, Ref: "RFC 5321 §4.1.3", State: Idle},
	{Name: "mail-utf8-without-smtputf8", Case: "a UTF-8 local part without SMTPUTF8", Command: explain.MAIL, Line: "MAIL FROM:<prüfung@{from_domain}>", Expect: ExpectReject, Codes: []int{553, 550, 501, 500}, Ref: "RFC 6531 §3.2, RFC 5321 §2.4", Draws: true, State: Idle, Role: RoleSyntax},
	{Name: "mail-utf8-with-smtputf8", Case: "a UTF-8 local part with SMTPUTF8", Command: explain.MAIL, Line: "MAIL FROM:<prüfung@{from_domain}> SMTPUTF8", Expect: ExpectValid, Ref: "RFC 6531 §3.4", State: Idle, Needs: NeedSMTPUTF8},
	{Name: "mail-local-part-65", Case: "a 65-octet local part", Command: explain.MAIL, Line: "MAIL FROM:<{long_local}@{from_domain}>", Expect: ExpectEither, Codes: []int{501, 553}, Ref: "RFC 5321 §4.5.3.1.1", State: Idle},
	{Name: "mail-path-over-256", Case: "a path longer than 256 octets", Command: explain.MAIL, Line: "MAIL FROM:<{long_path}>", Expect: ExpectEither, Codes: []int{501, 553}, Ref: "RFC 5321 §4.5.3.1.3", State: Idle},
	{Name: "mail-source-route", Case: "a source route <@a,@b:user@c>", Command: explain.MAIL, Line: "MAIL FROM:<@relay1.invalid,@relay2.invalid:{from}>", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.2, Appendix C", State: Idle},
	{Name: "mail-size-over-limit", Case: "SIZE above the advertised limit", Command: explain.MAIL, Line: "MAIL FROM:<{from}> SIZE={size_over}", Expect: ExpectReject, Codes: []int{552}, Ref: "RFC 1870 §6.1", Draws: true, Exact: true, State: Idle, Needs: NeedSIZE, Role: RoleExtensionRule},

	{Name: "rcpt-well-formed", Case: "a well-formed forward-path to a real mailbox", Command: explain.RCPT, Line: "RCPT TO:<{rcpt}>", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.1.3", State: InMail, Role: RoleRcptBaseline},
	{Name: "rcpt-random-mailbox", Case: "a random mailbox that cannot exist", Command: explain.RCPT, Line: "RCPT TO:<{random}@{domain}>", Expect: ExpectInfo, Ref: "RFC 5321 §3.3", Draws: true, State: InMail, Role: RoleRcptRandom},
	{Name: "rcpt-postmaster", Case: "postmaster at the domain", Command: explain.RCPT, Line: "RCPT TO:<postmaster@{domain}>", Expect: ExpectAccept, Ref: "RFC 5321 §4.5.1", State: InMail, Role: RolePostmaster},
	{Name: "rcpt-postmaster-bare", Case: "<postmaster> with no domain", Command: explain.RCPT, Line: "RCPT TO:<postmaster>", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.1.3, §4.5.1", State: InMail, Role: RolePostmaster},
	{Name: "rcpt-lowercase-verb", Case: "a lower-case verb", Command: explain.RCPT, Line: "rcpt to:<{rcpt}>", Expect: ExpectAccept, Ref: "RFC 5321 §2.4", State: InMail},
	{Name: "rcpt-no-brackets", Case: "a path without angle brackets", Command: explain.RCPT, Line: "RCPT TO:{rcpt}", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §4.1.2", Draws: true, State: InMail, Role: RoleSyntax},
	{Name: "rcpt-space-after-colon", Case: "a space after the colon", Command: explain.RCPT, Line: "RCPT TO: <{rcpt}>", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §3.3", Draws: true, State: InMail, Role: RoleSyntax},
	{Name: "rcpt-unbalanced-bracket", Case: "an unbalanced angle bracket", Command: explain.RCPT, Line: "RCPT TO:<{rcpt}", Expect: ExpectReject, Codes: []int{501}, Ref: "RFC 5321 §4.1.2", Draws: true, State: InMail, Role: RoleSyntax},
	{Name: "rcpt-double-at", Case: "two @ signs in the mailbox", Command: explain.RCPT, Line: "RCPT TO:<{rcpt_local}@@{domain}>", Expect: ExpectReject, Codes: []int{501, 553}, Ref: "RFC 5321 §4.1.2", Draws: true, State: InMail, Role: RoleSyntax},
	{Name: "rcpt-unknown-parameter", Case: "an ESMTP parameter the server did not advertise", Command: explain.RCPT, Line: "RCPT TO:<{rcpt}> XSMTPPROBE=1", Expect: ExpectReject, Codes: []int{555, 501}, Ref: "RFC 5321 §4.1.1.11", Draws: true, Exact: true, State: InMail, Role: RoleExtensionRule},
	{Name: "rcpt-quoted-local-part", Case: "a quoted local part", Command: explain.RCPT, Line: `RCPT TO:<"{rcpt_local}"@{domain}>`, Expect: ExpectValid, Ref: "RFC 5321 §4.1.2", State: InMail},
	{Name: "rcpt-ipv4-literal", Case: "an [IPv4] address literal", Command: explain.RCPT, Line: "RCPT TO:<postmaster@[{literal4}]>", Expect: ExpectValid, Ref: "RFC 5321 §4.1.3", State: InMail},
	{Name: "rcpt-ipv6-literal", Case: "an [IPv6:...] address literal", Command: explain.RCPT, Line: "RCPT TO:<postmaster@[IPv6:{literal6}]>", Expect: ExpectValid, Ref: "RFC 5321 §4.1.3", State: InMail},
	{Name: "rcpt-utf8-without-smtputf8", Case: "a UTF-8 local part without SMTPUTF8", Command: explain.RCPT, Line: "RCPT TO:<prüfung@{domain}>", Expect: ExpectReject, Codes: []int{553, 550, 501, 500}, Ref: "RFC 6531 §3.2, RFC 5321 §2.4", Draws: true, State: InMail, Role: RoleSyntax},
	{Name: "rcpt-utf8-with-smtputf8", Case: "a UTF-8 local part in a SMTPUTF8 transaction", Command: explain.RCPT, Line: "RCPT TO:<prüfung@{domain}>", Expect: ExpectValid, Ref: "RFC 6531 §3.4", State: InMailSMTPUTF8, Needs: NeedSMTPUTF8,
		Draws: true}, // a made-up mailbox: unknown, unless the domain catches all
	{Name: "rcpt-local-part-65", Case: "a 65-octet local part", Command: explain.RCPT, Line: "RCPT TO:<{long_local}@{domain}>", Expect: ExpectEither, Codes: []int{501, 553, 550}, Ref: "RFC 5321 §4.5.3.1.1", Draws: true, State: InMail},
	{Name: "rcpt-path-over-256", Case: "a path longer than 256 octets", Command: explain.RCPT, Line: "RCPT TO:<{long_path_rcpt}>", Expect: ExpectEither, Codes: []int{501, 553, 550}, Ref: "RFC 5321 §4.5.3.1.3", Draws: true, State: InMail},
	{Name: "rcpt-source-route", Case: "a source route <@a:user@c>", Command: explain.RCPT, Line: "RCPT TO:<@relay1.invalid:{rcpt}>", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.2, §4.1.1.3, Appendix C", State: InMail},
}

// PlanInput is what a plan's templates are filled from.
type PlanInput struct {
	Domain   string   // the mail domain probed
	User     string   // local part of a mailbox that should exist; "postmaster" when none given
	From     string   // reverse-path used for MAIL FROM
	List     string   // EXPN argument; "postmaster" when empty
	Random   string   // a local part that cannot exist; generated when empty
	Literal4 string   // IPv4 address literal for RCPT; the server's own address when known
	Literal6 string   // IPv6 address literal for RCPT (without the "IPv6:" tag)
	VRFY     []string // more addresses to VRFY
	RCPT     []string // more addresses to RCPT
	RCPTRaw  []string // texts to send after "RCPT TO:" as they are
	Suites   []string // "vrfy", "syntax"; empty means both
}

// Plan builds the step list for in: the VRFY/EXPN suite and the envelope
// syntax suite, each step's line filled in, in the order they are sent.
func Plan(in PlanInput) []Step {
	if in.User == "" {
		in.User = "postmaster"
	}
	if in.List == "" {
		in.List = "postmaster"
	}
	if in.Random == "" {
		in.Random = RandomLocalPart()
	}
	// A literal that names no address of the server's is mail for
	// another host: expect a relay refusal.
	foreign := map[string]bool{"{literal4}": in.Literal4 == "", "{literal6}": in.Literal6 == ""}
	if in.Literal4 == "" {
		in.Literal4 = "192.0.2.1"
	}
	if in.Literal6 == "" {
		in.Literal6 = "2001:db8::1"
	}
	want := func(suite string) bool {
		if len(in.Suites) == 0 {
			return true
		}
		for _, s := range in.Suites {
			if s == suite || s == "all" {
				return true
			}
		}
		return false
	}
	var steps []Step
	if want("vrfy") {
		for _, s := range vrfySteps {
			if s.Role == RoleVRFYPostmaster && strings.EqualFold(in.User, "postmaster") {
				continue // vrfy-address already asks about postmaster
			}
			s.Suite = "vrfy"
			steps = append(steps, s)
		}
		for i, a := range in.VRFY {
			steps = append(steps, Step{Name: fmt.Sprintf("vrfy-given-%d", i+1), Suite: "vrfy", Case: "VRFY of " + a,
				Command: explain.VRFY, Line: "VRFY " + escapeBraces(a), Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYAddress, Form: FormAddress, Address: a})
		}
	}
	if want("syntax") {
		for _, s := range syntaxSteps {
			s.Suite = "syntax"
			steps = append(steps, s)
		}
		for i, a := range in.RCPT {
			steps = append(steps, Step{Name: fmt.Sprintf("rcpt-given-%d", i+1), Suite: "syntax", Case: "RCPT TO " + a,
				Command: explain.RCPT, Line: "RCPT TO:<" + escapeBraces(a) + ">", Expect: ExpectInfo, Ref: "RFC 5321 §4.1.1.3", State: InMail, Role: RoleRcptAddress, Address: a,
				Info: "{what}: {outcome} with {code}, the server's answer about this mailbox (RFC 5321 §3.3); on a catch-all domain every mailbox is accepted, so read an acceptance with the catch-all verdict"})
		}
		for i, a := range in.RCPTRaw {
			steps = append(steps, rcptRawStep(i+1, a))
		}
	}
	r := templateReplacer(in)
	for i := range steps {
		for lit, far := range foreign {
			if far && steps[i].Command == explain.RCPT && strings.Contains(steps[i].Line, lit) {
				steps[i].Draws = true
			}
		}
		steps[i].Depends = dependsOn(steps[i])
		steps[i].Line = r.Replace(steps[i].Line)
	}
	return steps
}

// rcptRawStep is the step that sends text n after "RCPT TO:" as it is,
// inside a transaction the prober's sender opened. Its reply is annotated
// as a reply to RCPT and judged against nothing: the line is the user's.
func rcptRawStep(n int, text string) Step {
	return Step{Name: fmt.Sprintf("rcpt-raw-%d", n), Suite: "syntax", Case: "a RCPT TO line as written",
		Command: explain.RCPT, Line: rcptRawPrefix + escapeBraces(text), Expect: ExpectInfo, Ref: "RFC 5321 §4.1.1.3, §4.1.2",
		Draws: true, State: InMail, Role: RoleRcptRaw, Address: text,
		Info: "not judged: {what} drew {code} ({outcome}); it is held to no rule, the reply shows how this server treats it"}
}

// dependsOn is the baseline a step rests on, read from its template: a
// line with the prober's sender in it rests on MAIL FROM being accepted,
// one with the mailbox under test on that mailbox being accepted. The
// baselines themselves rest on nothing.
func dependsOn(s Step) Role {
	switch {
	case s.Role == RoleMailBaseline || s.Role == RoleRcptBaseline:
		return RoleNone
	case s.Command == explain.RCPT && strings.Contains(s.Line, "{rcpt"):
		return RoleRcptBaseline
	case s.Command == explain.RCPT && s.State != Idle:
		return RoleMailBaseline // sent inside a transaction our sender opened
	case s.Command == explain.MAIL && strings.Contains(s.Line, "{from"):
		return RoleMailBaseline
	}
	return RoleNone
}

// escapeBraces keeps a user's address from being read as a template.
func escapeBraces(s string) string {
	return strings.NewReplacer("{", "{lbrace}", "}", "{rbrace}").Replace(s)
}

func templateReplacer(in PlanInput) *strings.Replacer {
	fromLocal, fromDomain := splitAddress(in.From)
	rcpt := in.User + "@" + in.Domain
	return strings.NewReplacer(
		"{lbrace}", "{", "{rbrace}", "}",
		"{from_local}", fromLocal,
		"{from_domain}", fromDomain,
		"{from}", in.From,
		"{rcpt_local}", in.User,
		"{rcpt}", rcpt,
		"{user}", in.User,
		"{domain}", in.Domain,
		"{random}", in.Random,
		"{list}", in.List,
		"{literal4}", in.Literal4,
		"{literal6}", in.Literal6,
		"{long_local}", strings.Repeat("l", 65),
		"{long_path_rcpt}", longPath(in.Domain),
		"{long_path}", longPath(fromDomain),
		// {size_over} is filled per connection from the advertised SIZE.
	)
}

// longPath is a mailbox whose path, with its brackets, is over the 256
// octets RFC 5321 §4.5.3.1.3 sets as the limit every server must handle.
func longPath(domain string) string {
	local := strings.Repeat("p", 64)
	d := domain
	label := strings.Repeat("d", 63)
	for len(local)+1+len(d)+2 <= 256 {
		d = label + "." + d
	}
	return local + "@" + d
}

// splitAddress splits at the last @; an address without one is all
// local part.
func splitAddress(addr string) (local, domain string) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, ""
	}
	return addr[:i], addr[i+1:]
}

// RandomLocalPart is a local part no real mailbox has: a fixed prefix, so a
// server's logs show what it was, and ten random letters and digits.
func RandomLocalPart() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "smtpprobe-" + string(b)
}
