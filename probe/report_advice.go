package probe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// adviceRule is one piece of advice: when it applies to a host's results,
// and what to say. A new piece of advice is a new row.
type adviceRule struct {
	when func(h *HostReport, steps map[string]StepResult) bool
	say  func(h *HostReport, steps map[string]StepResult) string
}

func rejectedWith(steps map[string]StepResult, name string) (StepResult, bool) {
	s, ok := steps[name]
	return s, ok && s.Outcome == Rejected && s.Reply != nil
}

func accepted(steps map[string]StepResult, name string) bool {
	s, ok := steps[name]
	return ok && s.Outcome == Accepted
}

func codeText(s StepResult) string {
	c := fmt.Sprint(s.Reply.Code)
	if s.Reply.Enhanced != "" {
		c += " " + s.Reply.Enhanced
	}
	return c
}

var adviceRules = []adviceRule{
	{ // the question people arrive with: why does my sender get 501?
		when: func(h *HostReport, st map[string]StepResult) bool {
			_, ok := rejectedWith(st, "mail-no-brackets")
			return ok
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			s := st["mail-no-brackets"]
			extra := ""
			if _, ok := rejectedWith(st, "mail-space-after-colon"); ok {
				extra = " with no space after the colon"
			}
			return fmt.Sprintf("this server rejects paths without angle brackets with %s: if your sender gets %d, check that its MAIL FROM line reads `MAIL FROM:<you@example.com>`%s (RFC 5321 §4.1.2, §3.3)", codeText(s), s.Reply.Code, extra)
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			return accepted(st, "mail-no-brackets") || accepted(st, "rcpt-no-brackets")
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return "this server accepts addresses without angle brackets; senders that work here may fail at stricter servers. To require them: " + knobsFor(h, knobRequireBrackets)
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			_, ok := rejectedWith(st, "mail-null-reverse-path")
			return ok
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return fmt.Sprintf("MAIL FROM:<> drew %s: bounces and delivery reports sent to this server are lost; RFC 5321 §4.5.5 says the null reverse-path must be accepted. Where to look: %s", codeText(st["mail-null-reverse-path"]), knobsFor(h, knobNullSender))
		},
	},
	{
		when: vrfyPolicyIs(PolicyLeaks, PolicyReveals),
		say: func(h *HostReport, st map[string]StepResult) string {
			v := h.Verdicts.VRFYPolicy
			return fmt.Sprintf("VRFY tells real mailboxes from random ones (%d vs %d), so anyone can list your users. "+
				"RFC 5321 §7.3 asks a server that will not verify to answer 252 to every VRFY, real or random. "+
				"To answer 252: %s.",
				v.RealCode, v.RandomCode, knobsFor(h, knobVRFYHide)) + rcptLeak(st)
		},
	},
	{
		when: vrfyPolicyIs(PolicyDisabled),
		say: func(h *HostReport, st map[string]StepResult) string {
			return "VRFY is switched off with 502. That keeps VRFY from listing users, but RFC 5321 §7.3 asks a server that will not verify to answer 252, a reply that cannot be read as a yes or a no about the mailbox. " + knobsFor(h, knobVRFYOff) + "." + rcptLeak(st)
		},
	},
	{
		when: vrfyPolicyIs(PolicyNotImplemented),
		say: func(h *HostReport, st map[string]StepResult) string {
			code := "500"
			if s, ok := rejectedWith(st, "vrfy-user"); ok {
				code = codeText(s)
			}
			return "VRFY is not implemented (" + code + "): RFC 5321 §4.5.1 lists it among the commands every server must implement, and §7.3 asks a server that will not verify to answer 252. " + knobsFor(h, knobVRFYHide) + "." + rcptLeak(st)
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			s, ok := rejectedWith(st, "rcpt-ipv4-literal")
			return ok && s.Cause == explain.CauseSyntax && strings.Contains(strings.ToLower(s.Reply.Text()), "literal")
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return fmt.Sprintf("an address literal (postmaster@[address]) drew %s: the server refuses domain literals, which RFC 5321 §4.1.3 defines and §4.5.1 wants postmaster reachable by. %s", codeText(st["rcpt-ipv4-literal"]), knobsFor(h, knobDomainLiterals))
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			return h.Verdicts != nil && h.Verdicts.Throttling != nil
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			t := h.Verdicts.Throttling
			return fmt.Sprintf("the server throttles: %.1f–%.1f s per reply after %d error replies; a client that makes mistakes slows to a crawl (smtpprobe spreads error-drawing cases over connections). The setting: %s", t.MinDelayMS/1000, (t.MaxDelayMS)/1000, t.AfterErrors, knobsFor(h, knobErrorLimit))
		},
	},
	{
		when: vrfyPolicyIs(PolicyAcceptsAll),
		say: func(h *HostReport, st map[string]StepResult) string {
			v := h.Verdicts.VRFYPolicy
			return fmt.Sprintf("VRFY answers %d even for a random mailbox: it checks the syntax only, so its answers say nothing about mailboxes. RFC 5321 §3.5.3 and §7.3 forbid a 250 for an address that was not verified; answer 252 instead.", v.RandomCode)
		},
	},
	{
		when: vrfyPolicyIs(PolicyRefuses),
		say: func(h *HostReport, st map[string]StepResult) string {
			v := h.Verdicts.VRFYPolicy
			return fmt.Sprintf("VRFY is refused (%d) for real and random mailboxes alike. RFC 5321 §7.3 says a server that will not verify must answer 252, not a code that reads as \"no such mailbox\".", v.RealCode) + rcptLeak(st)
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			return h.Verdicts != nil && h.Verdicts.CatchAll != nil && *h.Verdicts.CatchAll
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return "the server accepts a random mailbox at RCPT (catch-all, or it decides after DATA): an accepted RCPT here does not prove the mailbox exists, and mistyped addresses bounce later or vanish. Where a catch-all is set: " + knobsFor(h, knobCatchAll)
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			return h.Verdicts != nil && h.Verdicts.PostmasterAccepted != nil && !*h.Verdicts.PostmasterAccepted
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return "postmaster was refused: RFC 5321 §4.5.1 requires every domain a server takes mail for to accept postmaster, with and without the domain, so that problems can be reported. " + knobsFor(h, knobPostmaster)
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			return accepted(st, "mail-space-after-colon") && !accepted(st, "mail-no-brackets")
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return "this server tolerates a space after the colon (`MAIL FROM: <a@b>`), which RFC 5321 §3.3 forbids; senders that rely on it fail at stricter servers"
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			s, ok := rejectedWith(st, "mail-source-route")
			return ok && s.Conformance == TooStrict
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return fmt.Sprintf("a source route in MAIL FROM drew %s; RFC 5321 §4.1.2 and Appendix C say it must be accepted and the route ignored. Old gateways still send them", codeText(st["mail-source-route"]))
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			s, ok := rejectedWith(st, "rcpt-source-route")
			return ok && s.Conformance == TooStrict
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return fmt.Sprintf("a source route in RCPT TO drew %s; RFC 5321 §4.1.1.3 and Appendix C say it must be accepted and the route ignored", codeText(st["rcpt-source-route"]))
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			return h.Verdicts != nil && !h.Verdicts.STARTTLS
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return "no STARTTLS: mail to this host crosses the network in clear text (RFC 3207). To offer it: " + knobsFor(h, knobSTARTTLS)
		},
	},
	{
		when: func(h *HostReport, st map[string]StepResult) bool {
			return h.Verdicts != nil && h.Verdicts.ErrorLimit != nil
		},
		say: func(h *HostReport, st map[string]StepResult) string {
			return fmt.Sprintf("the server drops a session after %d error replies; a client that retries bad commands on one connection gets cut off (smtpprobe spread its cases over %d connections). The limit: %s", *h.Verdicts.ErrorLimit, h.Connections, knobsFor(h, knobErrorLimit))
		},
	},
}

// vrfyPolicyIs is an advice condition: the host's VRFY policy is one of
// policies.
func vrfyPolicyIs(policies ...string) func(h *HostReport, st map[string]StepResult) bool {
	return func(h *HostReport, st map[string]StepResult) bool {
		return h.Verdicts != nil && h.Verdicts.VRFYPolicy != nil && slices.Contains(policies, h.Verdicts.VRFYPolicy.Policy)
	}
}

// rcptLeak is the sentence to add to VRFY advice when RCPT TO tells real
// mailboxes from random ones as well: then what VRFY answers does not
// decide whether users can be listed (RFC 5321 §7.3, last paragraph).
func rcptLeak(st map[string]StepResult) string {
	real, okReal := st["rcpt-well-formed"]
	random, okRandom := st["rcpt-random-mailbox"]
	if !okReal || !okRandom || real.Outcome != Accepted || random.Outcome != Rejected || random.Reply == nil || isSyntaxCode(random.Reply.Code) {
		return ""
	}
	mailbox := strings.TrimSuffix(strings.TrimPrefix(real.Sent, "RCPT TO:<"), ">")
	return fmt.Sprintf(" Whatever VRFY answers, RCPT TO tells mailboxes apart too (%s for %s, %s for a random one), so users can still be listed that way (RFC 5321 §7.3); that is the price of refusing unknown recipients at RCPT rather than bouncing them later.",
		codeText(real), mailbox, codeText(random))
}

// Advise gives concrete advice for one probed host, from its verdicts and
// the replies that decided them, most useful first.
func Advise(h *HostReport) []string {
	steps := map[string]StepResult{}
	for _, s := range h.Steps {
		if !s.Setup {
			steps[s.Name] = s
		}
	}
	var out []string
	for _, r := range adviceRules {
		if r.when(h, steps) {
			out = append(out, strings.TrimSpace(r.say(h, steps)))
		}
	}
	return out
}
