package probe

import (
	"maps"
	"slices"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// DomainEvidence is what a host answered about one mail domain it takes
// mail for. Whether postmaster is taken there (RFC 5321 §4.5.1), whether
// any mailbox is (a catch-all), and whether the mailbox under test is,
// are facts of the domain, not of the host: two domains on one server
// can differ in each.
type DomainEvidence struct {
	// Mailbox is RCPT TO of the mailbox under test at the domain: the
	// target's own address, or postmaster@domain for a domain target.
	Mailbox *StepResult
	// Random is RCPT TO of a mailbox at the domain that cannot exist.
	Random *StepResult
	// Postmaster are the RCPT TO of postmaster there: postmaster@domain,
	// and <postmaster> with no domain, which the host answers for all.
	Postmaster []StepResult
}

// DomainSteps are the two steps that ask a server about one mail domain
// in a mailbox run: RCPT TO a mailbox there that cannot exist (random is
// its local part) and RCPT TO postmaster@domain. Each carries its
// address.
func DomainSteps(domain, random string) []Step {
	if random == "" {
		random = RandomLocalPart()
	}
	rnd, pm := random+"@"+domain, "postmaster@"+domain
	return []Step{
		{Name: "rcpt-random-mailbox", Suite: "syntax", Case: "a random mailbox at " + domain + " that cannot exist", Command: explain.RCPT,
			Line: "RCPT TO:<" + rnd + ">", Expect: ExpectInfo, Ref: "RFC 5321 §3.3", Draws: true, State: InMail, Role: RoleRcptRandom, Address: rnd},
		{Name: "rcpt-postmaster", Suite: "syntax", Case: "postmaster at " + domain, Command: explain.RCPT,
			Line: "RCPT TO:<" + pm + ">", Expect: ExpectAccept, Ref: "RFC 5321 §4.5.1", State: InMail, Role: RolePostmaster, Address: pm},
	}
}

// JudgeDomain returns v with what belongs to one mail domain judged again
// on e: the mailbox baseline, catch_all, postmaster_accepted, and what a
// failed baseline withholds of them. The EHLO-name and sender baselines
// and every fact of the host (the policies, the envelope syntax, TLS)
// stay as v has them.
func JudgeDomain(v Verdicts, e DomainEvidence) Verdicts {
	var steps []StepResult
	var rcpt, postmaster *StepResult
	if e.Mailbox != nil && e.Mailbox.Outcome != Skipped {
		m := *e.Mailbox
		m.step.Role, m.step.Depends, m.Withheld = RoleRcptBaseline, RoleNone, ""
		steps = append(steps, m)
	}
	if e.Random != nil {
		r := *e.Random
		r.step.Role, r.Withheld = RoleRcptRandom, ""
		steps = append(steps, r)
	}
	for _, p := range e.Postmaster {
		p.step.Role, p.Withheld = RolePostmaster, ""
		steps = append(steps, p)
	}
	for i := range steps {
		switch {
		case steps[i].step.Role == RoleRcptBaseline:
			rcpt = &steps[i]
		case steps[i].step.Role == RolePostmaster && postmaster == nil && strings.Contains(steps[i].Sent, "@"):
			postmaster = &steps[i]
		}
	}
	helo, sender := v.baseline(BaselineHELO), v.baseline(BaselineSender)
	mailbox := judgeMailbox(rcpt, postmaster, helo, sender)
	bases := slices.Clone(v.Baselines)
	replaced := false
	for i := range bases {
		if bases[i].Name == BaselineMailbox {
			bases[i], replaced = mailbox, true
		}
	}
	if !replaced {
		bases = append(bases, mailbox)
	}
	v.Baselines = bases

	withheld := maps.Clone(v.Withheld)
	delete(withheld, "catch_all")
	delete(withheld, "postmaster_accepted")
	for k, why := range withhold(steps, bases) {
		if withheld == nil {
			withheld = map[string]string{}
		}
		withheld[k] = why
	}
	v.CatchAll, v.PostmasterAccepted = judgeCatchAll(steps), judgePostmaster(steps)
	if _, ok := withheld["catch_all"]; ok {
		v.CatchAll = nil
	}
	if _, ok := withheld["postmaster_accepted"]; ok {
		v.PostmasterAccepted = nil
	}
	for _, s := range steps {
		switch {
		case !s.cut:
		case s.step.Role == RolePostmaster:
			v.PostmasterAccepted = nil
		default:
			v.CatchAll = nil
		}
	}
	v.Withheld = nil
	if len(withheld) > 0 {
		v.Withheld = withheld
	}
	return v
}

// baseline is v's baseline of that name; not tested when v has none.
func (v Verdicts) baseline(name string) Baseline {
	for _, b := range v.Baselines {
		if b.Name == name {
			return b
		}
	}
	return Baseline{Name: name, Status: BaselineNotTested}
}
