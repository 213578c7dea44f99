package probe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// Outcome is what the server did with one step, by reply class.
type Outcome string

// The outcomes of a step.
const (
	Accepted     Outcome = "accepted"      // 2yz (or 3yz)
	CannotVerify Outcome = "cannot-verify" // 252 to VRFY or EXPN: neither a yes nor a no (RFC 5321 §3.5.3)
	Deferred     Outcome = "deferred"      // 4yz: try again later
	Rejected     Outcome = "rejected"      // 5yz
	NoReply      Outcome = "no-reply"      // the connection failed before a reply
	Skipped      Outcome = "skipped"       // not sent: a need was not advertised, or the run ended
	Inconclusive Outcome = "inconclusive"  // a reply with no valid code
)

// Conformance says whether an outcome is what RFC 5321 asks.
type Conformance string

// The conformance judgments of a step.
const (
	Conforms    Conformance = "conforms"     // what the RFC asks
	Lenient     Conformance = "lenient"      // accepted what the RFC forbids
	TooStrict   Conformance = "strict"       // rejected what the RFC says must be accepted
	Policy      Conformance = "policy"       // rejected for policy, which the RFC allows
	WrongCode   Conformance = "wrong-code"   // refused, but not with the code the RFC requires
	Undecided   Conformance = "inconclusive" // refused with a mailbox or policy answer: says nothing about the syntax
	Transient   Conformance = "transient"
	Informative Conformance = "info" // judged by comparison, or the RFC allows either
	NotJudged   Conformance = "not-judged"
)

// outcomeOf classifies a reply code.
func outcomeOf(code int) Outcome {
	switch code / 100 {
	case 2, 3:
		return Accepted
	case 4:
		return Deferred
	case 5:
		return Rejected
	}
	return Inconclusive
}

// isSyntaxCode tells whether a code says the line itself was wrong rather
// than the request refused: 500/501 (syntax), 555 (parameter).
func isSyntaxCode(code int) bool {
	return code == 500 || code == 501 || code == 555
}

// replyKind sorts a reply to one step for the verdict table.
type replyKind int

const (
	kindAccepted  replyKind = iota // 2yz/3yz
	kindSyntax                     // 500, 501, 555: the line was not understood
	kindRefused                    // another 5yz
	kindMailbox                    // a 5yz whose enhanced code blames the mailbox or policy
	kindListed                     // a 5yz the RFC names, not its preferred one
	kindUnlisted                   // a 5yz the RFC does not name
	kindWrongCode                  // not the code the RFC requires
	kindOther                      // any reply to a step judged by comparison
	kindElsewhere                  // a refusal whose cause lies outside the line: the mailbox, the domain, the client
)

// stepVerdict is one row of the verdict table: the conformance and the
// sentence, a template with {what}, {code}, {ref}, {codes} and {want}.
type stepVerdict struct {
	conf Conformance
	text string
}

type verdictKey struct {
	expect Expect
	kind   replyKind
}

// stepVerdicts says what each kind of reply means for each kind of step.
// A new judgment is a new row.
var stepVerdicts = map[verdictKey]stepVerdict{
	{ExpectAccept, kindAccepted}: {Conforms, "ok: accepted {what}, as {ref} asks"},
	{ExpectAccept, kindSyntax}:   {TooStrict, "strict: rejected {what} with {code}, though {ref} says it must be accepted"},
	{ExpectAccept, kindRefused}:  {TooStrict, "rejected {what} with {code}, though {ref} says it must be accepted"},

	{ExpectValid, kindAccepted}: {Conforms, "ok: accepted {what}, which {ref} allows"},
	{ExpectValid, kindSyntax}:   {TooStrict, "strict: rejected {what} as a syntax error ({code}), though {ref} allows it"},
	{ExpectValid, kindRefused}:  {Policy, "policy: rejected {what} with {code}; the syntax is valid ({ref}), the refusal is the server's choice"},

	{ExpectAccept, kindElsewhere}: {Undecided, "inconclusive: {what} drew {code}, {cause}: an answer about {about}, not about the form; it tells nothing about whether the server follows {ref}"},
	{ExpectValid, kindElsewhere}:  {Policy, "policy: rejected {what} with {code} ({cause}); the syntax is valid ({ref}), the refusal is about {about}"},

	{ExpectReject, kindAccepted}:  {Lenient, "lenient: accepted {what}, which {ref} does not allow"},
	{ExpectReject, kindMailbox}:   {Undecided, "inconclusive: {what} drew {code}, {cause}: a mailbox or policy answer, not a syntax one; it tells nothing about whether the server checks the form ({ref})"},
	{ExpectReject, kindWrongCode}: {WrongCode, "wrong code: rejected {what} with {code}, but {ref} asks for {want}"},
	{ExpectReject, kindListed}:    {Conforms, "ok: rejected {what} with {code}, which is acceptable; {want} is the specific code {ref} names for it"},
	{ExpectReject, kindUnlisted}:  {Conforms, "ok: rejected {what} with {code} ({ref} names {codes})"},
	{ExpectReject, kindRefused}:   {Conforms, "ok: rejected {what} with {code}, as {ref} asks"},

	{ExpectEither, kindAccepted}: {Informative, "accepted {what}; {ref} lets a server accept or refuse it"},
	{ExpectEither, kindRefused}:  {Informative, "rejected {what} with {code}; {ref} lets a server refuse it"},
}

// elsewhere tells whether a refusal's cause lies outside the line sent:
// the mailbox, the domain, or the client (its address, its identity).
func elsewhere(ref explain.Refusal) bool {
	switch explain.CauseAbout(ref.Cause) {
	case "mailbox", "domain", "client":
		return true
	}
	return false
}

// kindOf sorts a 2yz or 5yz reply to step s, whose refusal (if it is one)
// has cause ref.
func kindOf(s Step, code int, enhanced string, ref explain.Refusal) replyKind {
	switch {
	case s.Expect == ExpectInfo:
		return kindOther
	case outcomeOf(code) == Accepted:
		return kindAccepted
	case s.Expect == ExpectReject && (mailboxOrPolicy(enhanced) || elsewhere(ref)):
		return kindMailbox
	case (s.Expect == ExpectAccept || s.Expect == ExpectValid) && elsewhere(ref):
		return kindElsewhere
	case s.Expect == ExpectValid && ref.Cause == explain.CauseSyntax && ref.Basis == "text":
		return kindSyntax // "553 5.1.0 Sender address syntax error" to a valid form
	case s.Expect == ExpectReject && len(s.Codes) > 0 && code != s.Codes[0]:
		switch {
		case !slices.Contains(s.Codes, code) && s.Exact:
			return kindWrongCode
		case !slices.Contains(s.Codes, code):
			return kindUnlisted
		case s.Exact:
			return kindListed
		}
		return kindRefused
	case isSyntaxCode(code) && (s.Expect == ExpectAccept || s.Expect == ExpectValid):
		return kindSyntax
	}
	return kindRefused
}

// JudgeStep gives one step's outcome, conformance and the sentence that
// explains it, from its reply code and enhanced status code (RFC 3463).
// code 0 means no reply.
func JudgeStep(s Step, code int, enhanced string) (Outcome, Conformance, string) {
	return judgeReply(s, code, enhanced, explain.ClassifyRefusal(code, enhanced, "", s.Command))
}

// causePhrases word a cause inside a verdict sentence.
var causePhrases = map[explain.Cause]string{
	explain.CauseUnknownMailbox: "no such mailbox",
	explain.CauseUnknownDomain:  "an unknown domain",
	explain.CauseRelayDenied:    "relaying denied",
	explain.CauseSyntax:         "a syntax error",
	explain.CauseSequence:       "a command out of order",
	explain.CauseBlocklisted:    "a blocklist hit",
	explain.CauseGreylisted:     "greylisting",
	explain.CauseRateLimited:    "a rate limit",
	explain.CauseThrottled:      "throttling",
	explain.CauseSenderRejected: "our sender refused",
	explain.CauseHELORejected:   "our EHLO name refused",
	explain.CauseAuthRequired:   "authentication required",
	explain.CauseTLSRequired:    "STARTTLS required",
	explain.CauseSizeLimit:      "a size limit",
	explain.CausePolicy:         "a policy refusal",
	explain.CauseNotImplemented: "a command the server does not implement",
	explain.CauseDisabled:       "a command switched off",
	explain.CauseServerError:    "a server-side failure",
}

// aboutPhrases word explain.CauseAbout for a verdict sentence.
var aboutPhrases = map[string]string{
	"mailbox": "the mailbox", "domain": "the domain", "client": "the client (its address or identity)",
	"line": "the line", "server": "the server",
}

// causePhrase words a refusal's cause, with the list or delay it names.
func causePhrase(ref explain.Refusal) string {
	p := causePhrases[ref.Cause]
	if p == "" {
		p = string(ref.Cause)
	}
	if ref.List != "" {
		p += " (" + ref.List + ")"
	}
	return p
}

// deferredVerdict is the sentence for a 4yz, by its cause.
func deferredVerdict(what string, code int, ref explain.Refusal) string {
	retry := ""
	if ref.RetryAfter > 0 {
		retry = fmt.Sprintf(" after %s", ref.RetryAfter)
	}
	switch ref.Cause {
	case explain.CauseGreylisted:
		return fmt.Sprintf("deferred: %s drew %d, greylisting: the first attempt is refused on purpose and a retry%s passes; nothing about syntax can be concluded", what, code, retry)
	case explain.CauseRateLimited:
		return fmt.Sprintf("deferred: %s drew %d, a rate limit: the server wants fewer connections or commands per minute (slow down, retry%s); nothing about syntax can be concluded", what, code, retry)
	case explain.CauseBlocklisted, explain.CauseSenderRejected, explain.CauseHELORejected:
		return fmt.Sprintf("deferred: %s drew a temporary %d, %s; nothing about syntax can be concluded", what, code, causePhrase(ref))
	}
	return fmt.Sprintf("deferred: %s drew a temporary %d; nothing about syntax can be concluded", what, code)
}

// judgeReply is JudgeStep with the refusal's cause, read from the whole
// reply: a refusal about the mailbox, the domain or the client is never a
// verdict about the line.
func judgeReply(s Step, code int, enhanced string, ref explain.Refusal) (Outcome, Conformance, string) {
	if code == 0 {
		return NoReply, NotJudged, "no reply: the connection ended before the server answered"
	}
	o := outcomeOf(code)
	what := s.Case
	switch {
	case o == Inconclusive:
		return o, NotJudged, fmt.Sprintf("inconclusive: %d is not a valid reply code", code)
	case o == Deferred:
		return o, Transient, deferredVerdict(what, code, ref)
	case code == 252 && (s.Command == explain.VRFY || s.Command == explain.EXPN) && s.Expect != ExpectReject:
		// RFC 5321 §3.5.3: 252 means "cannot verify", never "exists".
		// A line that must be refused (a bare VRFY) is judged below:
		// there is no mailbox in it to verify.
		return CannotVerify, Informative, fmt.Sprintf("cannot verify: %s drew 252, which neither confirms nor denies the mailbox (RFC 5321 §3.5.3); it is not a sign that the user exists", what)
	}
	v, ok := stepVerdicts[verdictKey{s.Expect, kindOf(s, code, enhanced, ref)}]
	if !ok && s.Info != "" {
		return o, Informative, strings.NewReplacer("{what}", what, "{outcome}", string(o), "{code}", fmt.Sprint(code)).Replace(s.Info)
	}
	if !ok {
		return o, Informative, fmt.Sprintf("%s: %s with %d; judged by comparison in the summary verdicts", what, o, code)
	}
	if v.conf == Lenient && s.Lenient != "" {
		v.text = s.Lenient
	}
	want := ""
	if len(s.Codes) > 0 {
		want = fmt.Sprint(s.Codes[0])
	}
	codeText := fmt.Sprint(code)
	if enhanced != "" && v.conf == Undecided {
		codeText += " " + enhanced
	}
	return o, v.conf, strings.NewReplacer("{what}", what, "{code}", codeText, "{ref}", s.Ref,
		"{codes}", codeList(s.Codes), "{want}", want, "{cause}", causePhrase(ref),
		"{about}", aboutPhrases[explain.CauseAbout(ref.Cause)]).Replace(v.text)
}

func codeList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}

// The VRFY/EXPN policies (RFC 5321 §3.5.3, §7.3).
const (
	PolicyReveals        = "reveals"         // 250/251 for a real mailbox, a refusal for a random one: it confirms mailboxes
	PolicyAcceptsAll     = "accepts-all"     // 250/251 for a random mailbox too: a 250 on syntax alone, against §3.5.3; tells nothing
	PolicyLeaks          = "leaks"           // real and random mailboxes get different answers: enumeration possible
	PolicyHides          = "hides"           // 252 for both, what §7.3 asks of a server that will not verify
	PolicyDisabled       = "disabled"        // 502: switched off; common, but §7.3 says such a server MUST answer 252
	PolicyNotImplemented = "not-implemented" // 500: the server does not know the command (EXPN is optional, RFC 5321 §4.5.1)
	PolicyRefuses        = "refuses"         // 550/553/554 for both, also against §7.3
	PolicyAuthRequired   = "auth-required"   // 530
	PolicyUnknown        = "unknown"
)

// PolicyVerdict is a VRFY or EXPN policy with the evidence that decided it.
type PolicyVerdict struct {
	Policy     string `json:"policy"`
	Form       Form   `json:"form,omitempty"`        // the argument form judged on
	RealCode   int    `json:"real_code,omitempty"`   // reply to the mailbox that must exist
	RandomCode int    `json:"random_code,omitempty"` // reply to the random one
	Reason     string `json:"reason"`
}

// formPair is the replies to the real and the random mailbox in one form.
type formPair struct {
	form         Form
	real, random int // 0 when not asked or no reply
}

// JudgePolicy decides a VRFY (or EXPN) policy by comparing, form by form,
// the reply for a mailbox that must exist with the reply for one that
// cannot. It judges on the first form the server parses (neither reply a
// syntax error), since servers differ in the forms they accept.
func JudgePolicy(pairs []formPair) PolicyVerdict { return judgePolicy(explain.VRFY, pairs) }

// judgePolicy is JudgePolicy for cmd, VRFY or EXPN: they differ in what
// a server that does not implement them owes (RFC 5321 §4.5.1 requires
// VRFY, not EXPN).
func judgePolicy(cmd explain.Command, pairs []formPair) PolicyVerdict {
	var all []int
	for _, p := range pairs {
		for _, c := range []int{p.real, p.random} {
			if c != 0 {
				all = append(all, c)
			}
		}
	}
	if len(all) == 0 {
		return PolicyVerdict{Policy: PolicyUnknown, Reason: "no reply to compare"}
	}
	for _, p := range pairs {
		if p.real == 0 || p.random == 0 || unusable(p.real) || unusable(p.random) {
			continue
		}
		v := PolicyVerdict{Form: p.form, RealCode: p.real, RandomCode: p.random}
		confirms := func(c int) bool { return c == 250 || c == 251 }
		switch {
		case p.real/100 == 4 || p.random/100 == 4:
			v.Policy = PolicyUnknown
			v.Reason = fmt.Sprintf("temporary reply (%d, %d): nothing can be concluded", p.real, p.random)
		case confirms(p.random):
			// RFC 5321 §3.5.3: 250 must mean the mailbox was verified;
			// a server that says it of a random name answers on syntax.
			v.Policy = PolicyAcceptsAll
			v.Reason = fmt.Sprintf("%d for a real mailbox and %d for a random one: the server answers on syntax alone, which RFC 5321 §3.5.3 does not allow; its answers tell nothing about a mailbox", p.real, p.random)
		case confirms(p.real) && p.random/100 == 5:
			v.Policy = PolicyReveals
			v.Reason = fmt.Sprintf("%d for a real mailbox and %d for a random one: the server confirms which mailboxes exist", p.real, p.random)
		case p.real != p.random:
			v.Policy = PolicyLeaks
			v.Reason = fmt.Sprintf("%d for a real mailbox but %d for a random one: anyone can tell which mailboxes exist", p.real, p.random)
		case p.real == 252:
			v.Policy = PolicyHides
			v.Reason = "252 for both a real and a random mailbox, as RFC 5321 §7.3 asks of a server that will not verify"
		case refusal(p.real):
			v.Policy = PolicyRefuses
			v.Reason = fmt.Sprintf("%d for both a real and a random mailbox; RFC 5321 §7.3 asks for 252 instead", p.real)
		default:
			v.Policy = PolicyUnknown
			v.Reason = fmt.Sprintf("%d for both mailboxes", p.real)
		}
		return v
	}
	// No form was parsed: the command itself is off, or gated.
	switch {
	case slices.Contains(all, 530):
		return PolicyVerdict{Policy: PolicyAuthRequired, Reason: "530: the server answers only after authentication"}
	case everyOf(all, func(c int) bool { return c == 500 }) && cmd == explain.EXPN:
		return PolicyVerdict{Policy: PolicyNotImplemented, Reason: "500 to every form: the server does not implement EXPN, which RFC 5321 §4.5.1 leaves optional; nothing to fix"}
	case everyOf(all, func(c int) bool { return c == 500 }):
		return PolicyVerdict{Policy: PolicyNotImplemented, Reason: "500 to every form: the server does not implement VRFY, though RFC 5321 §4.5.1 lists it among the commands every server must implement; §7.3 asks a server that will not verify to answer 252"}
	case everyOf(all, func(c int) bool { return c == 500 || c == 502 }) && cmd == explain.EXPN:
		return PolicyVerdict{Policy: PolicyDisabled, Reason: fmt.Sprintf("%d to every form: EXPN is switched off; that is allowed (RFC 5321 §3.5.2, §7.3: a site may disable it), though §7.3 prefers 252 to a refusal", all[0])}
	case everyOf(all, func(c int) bool { return c == 500 || c == 502 }):
		return PolicyVerdict{Policy: PolicyDisabled, Reason: fmt.Sprintf("%d to every form: VRFY is switched off; RFC 5321 §7.3 asks for 252 instead", all[0])}
	case everyOf(all, refusal):
		return PolicyVerdict{Policy: PolicyRefuses, Reason: fmt.Sprintf("%d to every form; RFC 5321 §7.3 asks for 252 instead", all[0])}
	}
	return PolicyVerdict{Policy: PolicyUnknown, Reason: "no argument form drew a comparable pair of replies"}
}

// unusable: a reply that says the command or its argument form was not
// taken, so it tells nothing about the mailbox.
func unusable(code int) bool {
	return code == 500 || code == 501 || code == 502 || code == 504 || code == 530 || code == 555 || code == 421
}

func refusal(code int) bool { return code == 550 || code == 553 || code == 554 }

func everyOf(codes []int, f func(int) bool) bool {
	for _, c := range codes {
		if !f(c) {
			return false
		}
	}
	return len(codes) > 0
}

// The envelope syntax verdicts.
const (
	SyntaxStrict  = "strict"  // every form RFC 5321 forbids was rejected
	SyntaxLenient = "lenient" // a path without angle brackets was accepted
	SyntaxMixed   = "mixed"   // brackets required, another forbidden form tolerated
	SyntaxUnknown = "unknown"
)

// SyntaxVerdict is the envelope_syntax verdict with the cases that decided it.
type SyntaxVerdict struct {
	Verdict  string   `json:"verdict"`
	Deciding []string `json:"deciding"` // step names: those accepted for lenient/mixed, those rejected for strict
	Reason   string   `json:"reason"`
}

// Verdicts are the summary verdicts of one host.
type Verdicts struct {
	VRFYPolicy         *PolicyVerdict `json:"vrfy_policy"`
	EXPNPolicy         *PolicyVerdict `json:"expn_policy"`
	EnvelopeSyntax     *SyntaxVerdict `json:"envelope_syntax"`
	CatchAll           *bool          `json:"catch_all"`
	PostmasterAccepted *bool          `json:"postmaster_accepted"`
	STARTTLS           bool           `json:"starttls"`
	SMTPUTF8           bool           `json:"smtputf8"`
	ErrorLimit         *int           `json:"error_limit"` // errors before the server disconnected, if it did
	// Baselines are the checks every other verdict rests on, in the
	// order the report gives them: the prober's EHLO name and sender,
	// then the mailbox under test.
	Baselines []Baseline `json:"baselines"`
	// Withheld names each summary verdict left null or unknown because a
	// baseline failed, with the reason.
	Withheld map[string]string `json:"withheld,omitempty"`
	// Throttling is set when the server's replies slowed down as errors
	// grew on a connection (measured, not announced).
	Throttling *Throttling `json:"throttling"`
}

// Summarize derives the summary verdicts from a host's step results. It
// judges the baselines first, and marks in results the steps whose
// verdict a failed baseline withholds.
func Summarize(results []StepResult) Verdicts {
	var v Verdicts
	v.Baselines = judgeBaselines(results)
	withheld := withhold(results, v.Baselines)
	has := func(role Role) bool {
		for _, r := range results {
			if r.step.Role == role && r.Outcome != Skipped {
				return true
			}
		}
		return false
	}
	if has(RoleVRFYReal) {
		p := judgeVRFY(results, v.Baselines)
		v.VRFYPolicy = &p
	}
	if has(RoleEXPNList) {
		p := judgePolicy(explain.EXPN, pairsOf(results, RoleEXPNList, RoleEXPNRandom))
		p = refineOff(explain.EXPN, p, results, RoleEXPNList, RoleEXPNRandom)
		v.EXPNPolicy = &p
	}
	if v.VRFYPolicy != nil {
		p := refineOff(explain.VRFY, *v.VRFYPolicy, results, RoleVRFYReal, RoleVRFYRandom)
		v.VRFYPolicy = &p
	}
	if has(RoleSyntax) {
		s := judgeSyntax(results)
		if s.Verdict == SyntaxUnknown && anyWithheld(results, RoleSyntax) {
			s.Reason = "no forbidden form drew a conclusive reply: the refusals were withheld because a baseline failed"
			withheld["envelope_syntax"] = s.Reason
		}
		v.EnvelopeSyntax = &s
	}
	v.CatchAll = judgeCatchAll(results)
	v.PostmasterAccepted = judgePostmaster(results)
	if _, ok := withheld["catch_all"]; ok {
		v.CatchAll = nil
	}
	if _, ok := withheld["postmaster_accepted"]; ok {
		v.PostmasterAccepted = nil
	}
	if len(withheld) > 0 {
		v.Withheld = withheld
	}
	// A verdict needs every step that feeds it: one decided on what a run
	// cut short managed to send would be a guess.
	incomplete := func(roles ...Role) bool {
		for _, r := range results {
			if r.cut && slices.Contains(roles, r.step.Role) {
				return true
			}
		}
		return false
	}
	const cutReason = "incomplete: the run ended before every step this verdict needs was sent"
	if incomplete(RoleVRFYReal, RoleVRFYRandom) {
		v.VRFYPolicy = &PolicyVerdict{Policy: PolicyUnknown, Reason: cutReason}
	}
	if incomplete(RoleEXPNList, RoleEXPNRandom) {
		v.EXPNPolicy = &PolicyVerdict{Policy: PolicyUnknown, Reason: cutReason}
	}
	if incomplete(RoleSyntax, RoleMailBaseline, RoleRcptBaseline) {
		v.EnvelopeSyntax = &SyntaxVerdict{Verdict: SyntaxUnknown, Deciding: []string{}, Reason: cutReason}
	}
	if incomplete(RoleRcptBaseline, RoleRcptRandom) {
		v.CatchAll = nil
	}
	if incomplete(RolePostmaster) {
		v.PostmasterAccepted = nil
	}
	return v
}

// VRFYPolicyForForm judges the VRFY policy on one argument form only: an
// address asked about in that form is judged by what the server does with
// that form, which may differ from the form the summary was decided on
// (RFC 5321 §3.5.3 leaves the forms a server parses to it).
func VRFYPolicyForForm(steps []StepResult, form Form) PolicyVerdict {
	var pairs []formPair
	for _, p := range pairsOf(steps, RoleVRFYReal, RoleVRFYRandom) {
		if p.form == form {
			pairs = append(pairs, p)
		}
	}
	return JudgePolicy(pairs)
}

// refineOff tells a command switched off from one not implemented by the
// replies' texts, when the codes alone said one of the two: Postfix sends
// 502 "command is disabled", others 502 "command not implemented".
func refineOff(cmd explain.Command, p PolicyVerdict, results []StepResult, roles ...Role) PolicyVerdict {
	if p.Policy != PolicyDisabled && p.Policy != PolicyNotImplemented {
		return p
	}
	var causes []explain.Cause
	for _, r := range results {
		if slices.Contains(roles, r.step.Role) && r.Reply != nil {
			causes = append(causes, r.Cause)
		}
	}
	all := func(c explain.Cause) bool {
		for _, x := range causes {
			if x != c {
				return false
			}
		}
		return len(causes) > 0
	}
	switch {
	case p.Policy == PolicyDisabled && all(explain.CauseNotImplemented):
		code := 502
		q := judgePolicy(cmd, []formPair{{real: 500, random: 500}})
		q.Reason = strings.Replace(q.Reason, "500 to every form", fmt.Sprintf("%d \"not implemented\" to every form", code), 1)
		return q
	case p.Policy == PolicyNotImplemented && all(explain.CauseDisabled):
		q := judgePolicy(cmd, []formPair{{real: 502, random: 502}})
		q.Reason = strings.Replace(q.Reason, "502 to every form", "500 \"disabled\" to every form", 1)
		return q
	}
	return p
}

// anyWithheld tells whether a step of role had its verdict withheld.
func anyWithheld(results []StepResult, role Role) bool {
	for _, r := range results {
		if r.step.Role == role && r.Withheld != "" {
			return true
		}
	}
	return false
}

// judgeVRFY judges the VRFY policy on the pairs that are still valid: the
// mailbox under test against a random one, unless that mailbox turned out
// not to exist (its RCPT, or every VRFY of it, drew "no such mailbox"
// while postmaster did not); then postmaster, which every domain has
// (RFC 5321 §4.5.1), against the random one.
func judgeVRFY(results []StepResult, bases []Baseline) PolicyVerdict {
	pairs := pairsOf(results, RoleVRFYReal, RoleVRFYRandom)
	var pm formPair
	pmCause := explain.Cause("")
	for _, r := range results {
		if r.step.Role == RoleVRFYPostmaster {
			pm = formPair{form: r.step.Form, real: r.code()}
			pmCause = r.Cause
		}
	}
	for _, p := range pairs {
		if p.form == pm.form {
			pm.random = p.random
		}
	}
	if pm.real == 0 || pm.random == 0 {
		return JudgePolicy(pairs)
	}
	missing := false
	for _, b := range bases {
		missing = missing || b.Name == BaselineMailbox && b.Fault == FaultMailbox
	}
	if !missing && pmCause != explain.CauseUnknownMailbox {
		// every VRFY of the mailbox under test said "no such mailbox"
		n, unknown := 0, 0
		for _, r := range results {
			if r.step.Role == RoleVRFYReal && r.Reply != nil {
				n++
				if r.Cause == explain.CauseUnknownMailbox {
					unknown++
				}
			}
		}
		missing = n > 0 && unknown == n
	}
	if !missing {
		return JudgePolicy(pairs)
	}
	v := JudgePolicy([]formPair{pm})
	v.Reason = "judged on postmaster, because the mailbox under test does not exist: " + v.Reason
	return v
}

func pairsOf(results []StepResult, realRole, randomRole Role) []formPair {
	var pairs []formPair
	index := map[Form]int{}
	for _, r := range results {
		if r.step.Role != realRole && r.step.Role != randomRole {
			continue
		}
		i, ok := index[r.step.Form]
		if !ok {
			i = len(pairs)
			index[r.step.Form] = i
			pairs = append(pairs, formPair{form: r.step.Form})
		}
		if r.step.Role == realRole {
			pairs[i].real = r.code()
		} else {
			pairs[i].random = r.code()
		}
	}
	return pairs
}

// judgeSyntax: a forbidden form counts as rejected only if the reply says
// syntax (500/501/553/555) or the well-formed line of the same command was
// accepted; otherwise a 550 may be mere policy and proves nothing.
func judgeSyntax(results []StepResult) SyntaxVerdict {
	baseline := map[string]bool{}
	for _, r := range results {
		if r.step.Role == RoleMailBaseline || r.step.Role == RoleRcptBaseline {
			baseline[string(r.step.Command)] = r.Outcome == Accepted
		}
	}
	var accepted, rejected []string
	bracketsAccepted := false
	for _, r := range results {
		if r.step.Role != RoleSyntax {
			continue
		}
		switch r.Outcome {
		case Accepted:
			accepted = append(accepted, r.Name)
			if strings.HasSuffix(r.Name, "-no-brackets") {
				bracketsAccepted = true
			}
		case Rejected:
			c := r.code()
			if r.Conformance == Undecided || mailboxOrPolicy(r.Reply.Enhanced) {
				continue // a mailbox or policy answer: says nothing about the form
			}
			if isSyntaxCode(c) || c == 553 || baseline[string(r.step.Command)] {
				rejected = append(rejected, r.Name)
			}
		}
	}
	switch {
	case bracketsAccepted:
		return SyntaxVerdict{Verdict: SyntaxLenient, Deciding: accepted, Reason: "a path without angle brackets was accepted (RFC 5321 §4.1.2 requires them)"}
	case len(accepted) > 0:
		return SyntaxVerdict{Verdict: SyntaxMixed, Deciding: accepted, Reason: "angle brackets are required, but other forms RFC 5321 forbids were accepted"}
	case len(rejected) > 0:
		return SyntaxVerdict{Verdict: SyntaxStrict, Deciding: rejected, Reason: "every form RFC 5321 forbids that was tried was rejected"}
	}
	return SyntaxVerdict{Verdict: SyntaxUnknown, Deciding: []string{}, Reason: "no forbidden form drew a conclusive reply"}
}

// mailboxOrPolicy tells whether an enhanced code blames the mailbox or
// policy rather than syntax (RFC 3463: X.1.1 no such mailbox, X.1.2 bad
// domain, X.7.Z security or policy, e.g. 5.7.1 relaying denied).
func mailboxOrPolicy(enhanced string) bool {
	_, sd, ok := strings.Cut(enhanced, ".")
	return ok && (sd == "1.1" || sd == "1.2" || strings.HasPrefix(sd, "7."))
}

// judgeCatchAll compares RCPT of a real mailbox with RCPT of a random one:
// true when both are accepted, false when the random one is refused.
// A 2yz at RCPT is not proof of delivery (RFC 5321 §3.3, §7.3), but a
// server that takes a random name takes everything.
func judgeCatchAll(results []StepResult) *bool {
	real, random := 0, 0
	for _, r := range results {
		switch r.step.Role {
		case RoleRcptBaseline:
			real = r.code()
		case RoleRcptRandom:
			random = r.code()
		}
	}
	if real/100 != 2 {
		return nil
	}
	switch random / 100 {
	case 2:
		t := true
		return &t
	case 5:
		if isSyntaxCode(random) {
			return nil
		}
		f := false
		return &f
	}
	return nil
}

// judgePostmaster: true when every postmaster RCPT was accepted, false when
// one was refused (RFC 5321 §4.5.1 says it must be), nil when none ran.
func judgePostmaster(results []StepResult) *bool {
	var v *bool
	for _, r := range results {
		if r.step.Role != RolePostmaster {
			continue
		}
		switch r.Outcome {
		case Accepted:
			if v == nil {
				t := true
				v = &t
			}
		case Rejected:
			f := false
			return &f
		}
	}
	return v
}

// The answers about one address the user asked to verify.
const (
	AddressExists       = "exists"        // 250/251 on a server that refuses a random mailbox: it confirms it
	AddressLikelyExists = "likely-exists" // 252 where unknown mailboxes get 550: not a confirmation, but telling
	AddressMissing      = "does-not-exist"
	AddressUnknown      = "unknown"
)

// JudgeAddress says what a reply to VRFY (or RCPT) of one address tells,
// given the server's policy from the comparison: a 252 proves nothing by
// itself, but on a server that leaks (252 for real mailboxes, 550 for
// unknown ones) it tells the two apart, so the answer is "likely-exists",
// never "exists": 252 is not a confirmation (RFC 5321 §3.5.3).
func JudgeAddress(policy *PolicyVerdict, code int) (answer, reason string) {
	p := PolicyUnknown
	if policy != nil {
		p = policy.Policy
	}
	switch {
	case code == 0:
		return AddressUnknown, "no reply"
	case (code == 250 || code == 251) && p == PolicyReveals:
		return AddressExists, fmt.Sprintf("%d: the server confirms the mailbox, and it refuses a random one", code)
	case (code == 250 || code == 251) && p == PolicyAcceptsAll:
		return AddressUnknown, fmt.Sprintf("%d, but this server answers %d to a random mailbox too: the answer tells nothing", code, policy.RandomCode)
	case code == 250 || code == 251:
		return AddressUnknown, fmt.Sprintf("%d, but the server's answer for a random mailbox could not be compared, so it proves nothing", code)
	case code/100 == 4:
		return AddressUnknown, fmt.Sprintf("%d: a temporary answer; try again later", code)
	case code == 252 && p == PolicyLeaks && policy.RealCode == 252:
		return AddressLikelyExists, fmt.Sprintf("252 confirms nothing, but this server answers 252 for real mailboxes and %d for a random one", policy.RandomCode)
	case code == 252:
		return AddressUnknown, "252: the server will not confirm or deny the mailbox (RFC 5321 §3.5.3)"
	case (code == 550 || code == 551 || code == 553) && (p == PolicyLeaks || p == PolicyReveals):
		return AddressMissing, fmt.Sprintf("%d, the answer this server gives mailboxes that do not exist", code)
	case code == 500 || code == 502:
		return AddressUnknown, fmt.Sprintf("%d: VRFY is turned off on this server", code)
	case code == 501:
		return AddressUnknown, "501: the server did not accept the argument's form"
	case code == 530:
		return AddressUnknown, "530: the server answers only after authentication"
	case code/100 == 5:
		return AddressUnknown, fmt.Sprintf("%d: refused, but this server refuses real and random mailboxes alike", code)
	}
	return AddressUnknown, fmt.Sprintf("%d: not a reply that tells", code)
}
