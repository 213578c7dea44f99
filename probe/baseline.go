package probe

import (
	"fmt"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// The baselines every verdict of a host rests on.
const (
	BaselineHELO    = "helo"    // the server took the prober's EHLO/HELO name
	BaselineSender  = "sender"  // the server took the prober's MAIL FROM
	BaselineMailbox = "mailbox" // the server took RCPT TO of the mailbox under test
)

// The states of a baseline.
const (
	BaselineOK        = "ok"
	BaselineFailed    = "failed"
	BaselineNotTested = "not-tested" // no step tested it (a suite not run, or a step not sent)
)

// The faults a failed baseline names: what has to change before the
// verdicts that rest on it can be given. The wording of what to do is the
// caller's (the CLI names its flags).
const (
	FaultHELO    = "helo"    // the prober's EHLO name: not a FQDN, or refused
	FaultSender  = "sender"  // the prober's sender: not fully qualified, its domain unknown, not verifiable
	FaultClient  = "client"  // the prober's address: listed, greylisted, rate-limited, or it must authenticate
	FaultDomain  = "domain"  // the mail domain: the host does not take mail for it
	FaultMailbox = "mailbox" // the mailbox under test does not exist
)

// Baseline is one check every other verdict rests on: whether the server
// took the prober's identity and the mailbox under test. When one fails,
// the verdicts that depend on it are withheld, and the report leads with it.
type Baseline struct {
	Name   string `json:"name"`   // helo, sender or mailbox
	Status string `json:"status"` // ok, failed or not-tested
	// Step is the step whose reply decided it, and Sent its line.
	Step     string        `json:"step,omitempty"`
	Sent     string        `json:"sent,omitempty"`
	Code     int           `json:"code,omitempty"`
	Enhanced string        `json:"enhanced,omitempty"`
	Cause    explain.Cause `json:"cause,omitempty"`
	// Fault names what must change when Status is failed: helo, sender,
	// client, domain or mailbox.
	Fault  string `json:"fault,omitempty"`
	Reason string `json:"reason"`
}

// Failed tells whether the baseline failed.
func (b Baseline) Failed() bool { return b.Status == BaselineFailed }

// faultOf is whose fault a refusal of the prober's sender or of the
// mailbox under test is, by its cause; fallback when the cause does not
// say.
func faultOf(c explain.Cause, fallback string) string {
	switch c {
	case explain.CauseHELORejected:
		return FaultHELO
	case explain.CauseSenderRejected:
		return FaultSender
	case explain.CauseBlocklisted, explain.CauseGreylisted, explain.CauseRateLimited,
		explain.CauseAuthRequired, explain.CauseTLSRequired, explain.CauseThrottled:
		return FaultClient
	case explain.CauseRelayDenied, explain.CauseUnknownDomain:
		return FaultDomain
	}
	return fallback
}

func baselineFrom(name string, r StepResult, fault, reason string) Baseline {
	b := Baseline{Name: name, Status: BaselineFailed, Step: r.Name, Sent: r.Sent, Cause: r.Cause, Fault: fault, Reason: reason}
	if r.Reply != nil {
		b.Code, b.Enhanced = r.Reply.Code, r.Reply.Enhanced
	}
	return b
}

func refused(r StepResult) bool {
	return (r.Outcome == Rejected || r.Outcome == Deferred) && r.Reply != nil
}

func replyShort(r StepResult) string {
	if r.Reply == nil {
		return "no reply"
	}
	s := fmt.Sprint(r.Reply.Code)
	if r.Reply.Enhanced != "" {
		s += " " + r.Reply.Enhanced
	}
	return s
}

// judgeBaselines decides the sender and mailbox baselines from a host's
// step results: the well-formed MAIL FROM, the MAIL FROM that opened each
// transaction, any RCPT refused because of the sender (Postfix delays a
// sender's rejection to RCPT), and RCPT TO of the mailbox under test,
// cross-checked with postmaster, which every domain must accept (RFC 5321
// §4.5.1).
func judgeBaselines(results []StepResult) []Baseline {
	helo := Baseline{Name: BaselineHELO, Status: BaselineOK, Reason: "no reply refused the prober's EHLO name"}
	sender := Baseline{Name: BaselineSender, Status: BaselineNotTested, Reason: "no MAIL FROM was sent"}
	var rcpt, postmaster *StepResult
	for i := range results {
		r := &results[i]
		switch {
		case r.step.Role == RoleRcptBaseline && r.Outcome != Skipped:
			rcpt = r
		case r.step.Role == RolePostmaster && postmaster == nil && strings.Contains(r.Sent, "@"):
			postmaster = r
		}
		if refused(*r) && r.Cause == explain.CauseHELORejected && !helo.Failed() {
			helo = baselineFrom(BaselineHELO, *r, FaultHELO,
				fmt.Sprintf("the server refused the prober's EHLO name: `%s` drew %s (%s)", r.Sent, replyShort(*r), causeOr(r.Cause)))
		}
		if sender.Failed() {
			continue
		}
		isMail := r.Command == explain.MAIL && (r.step.Role == RoleMailBaseline || r.Setup && !strings.HasSuffix(r.Sent, " SMTPUTF8"))
		switch {
		case isMail && refused(*r):
			sender = baselineFrom(BaselineSender, *r, faultOf(r.Cause, FaultSender),
				fmt.Sprintf("the server refused the prober's sender: `%s` drew %s (%s)", r.Sent, replyShort(*r), causeOr(r.Cause)))
		case r.Command == explain.RCPT && refused(*r) && r.Cause == explain.CauseSenderRejected:
			sender = baselineFrom(BaselineSender, *r, faultOf(r.Cause, FaultSender),
				fmt.Sprintf("the server refused the prober's identity at RCPT: `%s` drew %s (%s)", r.Sent, replyShort(*r), causeOr(r.Cause)))
		case isMail && r.Outcome == Accepted && sender.Status == BaselineNotTested:
			sender = Baseline{Name: BaselineSender, Status: BaselineOK, Step: r.Name, Sent: r.Sent, Code: r.Reply.Code, Enhanced: r.Reply.Enhanced, Reason: "the server accepted the prober's sender"}
		}
	}
	return []Baseline{helo, sender, judgeMailbox(rcpt, postmaster, helo, sender)}
}

// judgeMailbox is the mailbox baseline: RCPT TO of the mailbox under test
// (rcpt), its refusal told apart by postmaster's answer at the same
// domain, given the helo and sender baselines; nil rcpt is not tested.
func judgeMailbox(rcpt, postmaster *StepResult, helo, sender Baseline) Baseline {
	mailbox := Baseline{Name: BaselineMailbox, Status: BaselineNotTested, Reason: "no RCPT TO of the mailbox under test was sent"}
	switch {
	case rcpt == nil:
	case rcpt.Outcome == Accepted:
		mailbox = Baseline{Name: BaselineMailbox, Status: BaselineOK, Step: rcpt.Name, Sent: rcpt.Sent, Code: rcpt.Reply.Code, Enhanced: rcpt.Reply.Enhanced, Reason: "the server accepted the mailbox under test"}
	case !refused(*rcpt):
		mailbox.Reason = fmt.Sprintf("`%s` drew no usable reply", rcpt.Sent)
	case sender.Failed() || helo.Failed():
		mailbox.Reason = "not judged: the prober's own identity was refused first"
	default:
		fault := faultOf(rcpt.Cause, "")
		pmOK := postmaster != nil && postmaster.Outcome == Accepted
		switch {
		case fault != "":
		case pmOK:
			fault = FaultMailbox
		case postmaster != nil && refused(*postmaster):
			fault = faultOf(postmaster.Cause, FaultDomain)
		default:
			fault = FaultMailbox
		}
		reason := fmt.Sprintf("`%s` drew %s (%s)", rcpt.Sent, replyShort(*rcpt), causeOr(rcpt.Cause))
		switch fault {
		case FaultMailbox:
			reason = "the mailbox under test does not exist here: " + reason
			if pmOK {
				reason += fmt.Sprintf(", while `%s` was accepted", postmaster.Sent)
			}
		case FaultDomain:
			reason = "the host does not take mail for this domain: " + reason
			if postmaster != nil && refused(*postmaster) {
				reason += fmt.Sprintf(", and `%s` drew %s too", postmaster.Sent, replyShort(*postmaster))
			}
		case FaultClient:
			reason = "the server refused the prober itself, not the mailbox: " + reason
		default:
			reason = "the server refused the prober's identity: " + reason
		}
		mailbox = baselineFrom(BaselineMailbox, *rcpt, fault, reason)
	}
	return mailbox
}

func causeOr(c explain.Cause) string {
	if c == "" {
		return "no cause given"
	}
	return string(c)
}

// withhold marks the steps whose refusal a failed baseline leaves without
// meaning, and returns the reasons for the summary verdicts it withholds.
// An acceptance still counts (a server that takes a malformed line takes
// it), and so does a syntax refusal of a line that must be refused: the
// server read the line before it looked at the sender or the mailbox.
func withhold(results []StepResult, bases []Baseline) map[string]string {
	out := map[string]string{}
	for _, b := range bases {
		if !b.Failed() {
			continue
		}
		reason := fmt.Sprintf("withheld: the %s baseline failed (%s)", b.Name, b.Reason)
		for i := range results {
			if r := &results[i]; r.Name == b.Step && !r.Setup && r.Cause != explain.CauseSyntax && r.Conformance == TooStrict {
				// the baseline itself: a refusal of the prober's sender or
				// mailbox is a finding about them, not an RFC breach
				r.Conformance = Undecided
				r.Verdict = fmt.Sprintf("baseline failed: %s drew %s (%s); the verdicts that rest on it are withheld", r.Case, replyShort(*r), causeOr(r.Cause))
			}
		}
		for i := range results {
			r := &results[i]
			if r.Setup || !refused(*r) || r.Name == b.Step || r.Withheld != "" || !rests(r.step, b) {
				continue
			}
			if r.step.Expect == ExpectReject && (r.Cause == explain.CauseSyntax || r.Cause == explain.CauseSequence) {
				continue
			}
			r.Withheld = reason
			r.Conformance = Undecided
			r.Verdict = fmt.Sprintf("withheld: %s drew %s, but the %s baseline failed, so the reply says nothing about the line", r.Case, replyShort(*r), b.Name)
		}
		switch b.Fault {
		case FaultMailbox:
			out["catch_all"] = reason
		default:
			out["catch_all"] = reason
			out["postmaster_accepted"] = reason
		}
	}
	return out
}

// rests tells whether step s rests on the failed baseline b.
func rests(s Step, b Baseline) bool {
	switch {
	case b.Name == BaselineSender || b.Name == BaselineHELO:
		// every step that needs the sender taken: MAIL with it, and
		// whatever goes inside the transaction it opens
		return s.Depends == RoleMailBaseline || s.Command == explain.RCPT && s.State != Idle
	case b.Fault == FaultMailbox:
		return s.Depends == RoleRcptBaseline
	case b.Fault == FaultDomain:
		return s.Depends == RoleRcptBaseline || s.Role == RolePostmaster || s.Role == RoleRcptRandom
	}
	// the client or its identity: every RCPT inside a transaction
	return s.Command == explain.RCPT && s.State != Idle
}
