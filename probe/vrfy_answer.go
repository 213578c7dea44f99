package probe

import (
	"fmt"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
)

// AddressVerdict is what the reply to VRFY of one address tells: the
// answer (exists, likely-exists, does-not-exist, unknown), why, the cause
// word of a refusal, and, when a failed baseline leaves the reply without
// meaning, the reason it was withheld.
type AddressVerdict struct {
	Answer   string
	Reason   string
	Cause    explain.Cause
	Withheld string
}

// JudgeAddressStep judges step s, the VRFY of one address, against the
// policy of the form it was sent in and the host's baselines. A refusal
// made while the prober's own EHLO name or address stood refused says
// nothing about the mailbox and is withheld; a refusal whose cause is the
// client (a blocklist, greylisting, a rate limit, AUTH or STARTTLS
// required) is worded by that cause; a command not implemented is told
// apart from one switched off. Any other reply is judged by JudgeAddress.
func JudgeAddressStep(policy *PolicyVerdict, s StepResult, bases []Baseline) AddressVerdict {
	code := s.code()
	v := AddressVerdict{Cause: s.Cause}
	byCause := addressCauseReason(s, code)
	if code/100 == 4 || code/100 == 5 {
		for _, b := range bases {
			if b.Failed() && (b.Fault == FaultHELO || b.Fault == FaultClient) {
				v.Answer = AddressUnknown
				v.Withheld = fmt.Sprintf("the %s baseline failed (%s)", b.Name, b.Reason)
				v.Reason = orText(byCause, fmt.Sprintf("%d says nothing about the mailbox while the server refuses the prober itself", code))
				return v
			}
		}
	}
	if byCause != "" {
		v.Answer, v.Reason = AddressUnknown, byCause
		return v
	}
	v.Answer, v.Reason = JudgeAddress(policy, code)
	return v
}

// addressCauseReason words a refusal by its cause when the cause, not the
// code, is what the reply tells; "" when the code says enough.
func addressCauseReason(s StepResult, code int) string {
	retry := ""
	if s.RetryAfterS > 0 {
		retry = " after " + (time.Duration(s.RetryAfterS) * time.Second).String()
	}
	switch s.Cause {
	case explain.CauseBlocklisted:
		list := ""
		if s.Blocklist != "" {
			list = " (" + s.Blocklist + ")"
		}
		return fmt.Sprintf("%d: a DNS blocklist%s lists the address the prober connects from; the reply says nothing about the mailbox", code, list)
	case explain.CauseGreylisted:
		return fmt.Sprintf("%d: greylisting, a deferral on purpose; ask again%s", code, orText(retry, " in a few minutes"))
	case explain.CauseRateLimited, explain.CauseThrottled:
		return fmt.Sprintf("%d: the server limits how fast a client may go; ask again%s, more slowly", code, orText(retry, " later"))
	case explain.CauseAuthRequired:
		return fmt.Sprintf("%d: the server answers only after authentication (RFC 4954 §6)", code)
	case explain.CauseTLSRequired:
		return fmt.Sprintf("%d: the server answers only after STARTTLS (RFC 3207 §4)", code)
	case explain.CauseHELORejected, explain.CauseSenderRejected:
		return fmt.Sprintf("%d: the server refused the prober's identity, not the mailbox", code)
	case explain.CauseNotImplemented:
		return fmt.Sprintf("%d: the server does not implement VRFY", code)
	case explain.CauseDisabled:
		return fmt.Sprintf("%d: VRFY is switched off on this server", code)
	case explain.CauseServerError:
		return fmt.Sprintf("%d: a fault on the server's side; ask again later", code)
	}
	return ""
}

func orText(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
