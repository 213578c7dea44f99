package probe

import (
	"context"
	"fmt"

	"github.com/smtpprobe/smtpprobe/explain"
)

// DefaultRecipients is how many RCPT TO a mailbox run sends in one
// transaction: the number RFC 5321 §4.5.3.1.8 obliges every server to
// take. A server that answers 452 sooner (too many recipients, §3.3) gets
// the rest in further transactions of the size it took.
const DefaultRecipients = 100

// Mailboxes says what a mailbox run asks about each address.
type Mailboxes struct {
	Addresses []string // mailboxes, checked with CheckMailboxArg and in the form to send
	VRFY      bool     // VRFY each address
	RCPT      bool     // RCPT TO each address, many to a transaction
	// PerTransaction is the recipients per transaction;
	// DefaultRecipients when 0.
	PerTransaction int
	// Domains are mail domains whose own facts are asked in the same
	// transactions (with RCPT): DomainSteps of each, a random mailbox
	// there and postmaster, for JudgeDomain. Random is the random local
	// part; generated when empty.
	Domains []string
	Random  string
}

// RunMailboxes asks the server at ip (the host name is for TLS and the
// report) about many mailboxes over as few connections as the server
// allows: VRFY of each, then RCPT TO of each inside transactions that
// never reach DATA. It is the per-mailbox half of a batch run: what a
// server does with the envelope syntax, its VRFY policy and its TLS are
// facts about the server, probed once by Run; what it answers for each
// mailbox is asked here. Each step result carries its address.
func RunMailboxes(ctx context.Context, o Options, name, ip string, m Mailboxes) HostReport {
	o.setDefaults()
	// One connection, a command at a time: a long list of VRFYs would
	// otherwise be spread five to a connection (the Sendmail throttle)
	// over many connections.
	o.LockStep = true
	per := m.PerTransaction
	if per <= 0 {
		per = DefaultRecipients
	}
	addrs := m.Addresses
	var all HostReport
	for attempt := 0; ; attempt++ {
		var domains []string
		if attempt == 0 {
			domains = m.Domains
		}
		h := runHost(ctx, &o, name, nil, ip, mailboxSteps(o.From, addrs, m.VRFY && attempt == 0, m.RCPT, per, domains, m.Random))
		if attempt == 0 {
			all = h
		} else {
			all.Steps = append(all.Steps, h.Steps...)
			all.Transcript = append(all.Transcript, h.Transcript...)
			all.Connections += h.Connections
		}
		// A 452 to a RCPT is "too many recipients" (RFC 5321 §4.5.3.1.10):
		// those addresses go again, in smaller transactions.
		retry, took := tooMany(h.Steps)
		if len(retry) == 0 || took == 0 || attempt >= 3 || ended(ctx) {
			break
		}
		per, addrs = took, retry
		all.Steps = dropReplies(all.Steps, retry)
	}
	return all
}

// mailboxSteps is the plan of a mailbox run: the VRFYs, then the RCPTs
// of each domain's facts and of the mailboxes, per to a transaction.
func mailboxSteps(from string, addrs []string, vrfy, rcpt bool, per int, domains []string, random string) []Step {
	var steps []Step
	if vrfy {
		for i, a := range addrs {
			steps = append(steps, Step{Name: fmt.Sprintf("vrfy-given-%d", i+1), Suite: "vrfy", Case: "VRFY of " + a,
				Command: explain.VRFY, Line: "VRFY " + a, Expect: ExpectInfo, Ref: "RFC 5321 §3.5.3", Role: RoleVRFYAddress, Form: FormAddress, Address: a})
		}
	}
	if rcpt {
		var rcpts []Step
		if random == "" && len(domains) > 0 {
			random = RandomLocalPart()
		}
		for _, d := range domains {
			rcpts = append(rcpts, DomainSteps(d, random)...)
		}
		for i, a := range addrs {
			rcpts = append(rcpts, Step{Name: fmt.Sprintf("rcpt-given-%d", i+1), Suite: "syntax", Case: "RCPT TO " + a,
				Command: explain.RCPT, Line: "RCPT TO:<" + a + ">", Expect: ExpectInfo, Ref: "RFC 5321 §4.1.1.3", State: InMail, Role: RoleRcptAddress, Address: a})
		}
		for i, s := range rcpts {
			if i > 0 && i%per == 0 {
				steps = append(steps, Step{Name: "open-transaction", Suite: "syntax", Case: "a MAIL FROM to open the next transaction",
					Command: explain.MAIL, Line: "MAIL FROM:<" + from + ">", Expect: ExpectAccept, Ref: "RFC 5321 §4.1.1.2", State: Idle, Setup: true})
			}
			steps = append(steps, s)
		}
	}
	return steps
}

// tooMany returns the addresses whose RCPT drew a 452 and how many
// recipients the transaction took before the first one.
func tooMany(steps []StepResult) (retry []string, took int) {
	run, seen := 0, false
	for _, s := range steps {
		switch {
		case s.step.Role == RoleRcptAddress && s.code() == 452:
			retry = append(retry, s.Address)
			if !seen {
				took, seen = run, true
			}
		case s.Command == explain.RCPT && s.code()/100 == 2:
			run++
		case s.Command == explain.MAIL:
			run = 0
		}
	}
	return retry, took
}

// dropReplies removes the RCPT results of addrs, which are asked again.
func dropReplies(steps []StepResult, addrs []string) []StepResult {
	again := map[string]bool{}
	for _, a := range addrs {
		again[a] = true
	}
	out := steps[:0]
	for _, s := range steps {
		if s.step.Role == RoleRcptAddress && again[s.Address] && s.code() == 452 {
			continue
		}
		out = append(out, s)
	}
	return out
}
