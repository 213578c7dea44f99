package explain

import "regexp"

// errorCounters are the MTAs known to count only some of their error
// replies toward the limit after which they drop a session; an MTA not
// listed counts every one (Postfix's smtpd_hard_error_limit does).
var errorCounters = map[string]func(code int, text string) bool{
	// Exim 4 counts the replies it sends through synprot_error toward
	// smtp_max_synprot_errors (3 by default; the session is dropped on
	// the fourth): syntax and protocol errors, 500, 501, 503, 504. An ACL
	// or verification refusal (550 and the like) does not count, nor do
	// the few 50x it writes directly: "HELO or EHLO required" and "...
	// must contain a domain" (smtp_in.c).
	srcExim: func(code int, text string) bool {
		return code >= 500 && code <= 504 && code != 502 && !eximUncounted.MatchString(text)
	},
}

var eximUncounted = regexp.MustCompile(`(?i)must contain a domain|^helo or ehlo required`)

// CountsTowardErrorLimit tells whether the MTA named (as Identify names
// it) counts an error reply with this code and text toward the limit
// after which it drops a session. For an MTA not known to count only
// some, every 4yz and 5yz reply counts.
func CountsTowardErrorLimit(mta string, code int, text string) bool {
	if f := errorCounters[mta]; f != nil {
		return f(code, text)
	}
	return code >= 400
}

// CountsSomeErrors tells whether the MTA named is known to count only
// some of its error replies toward its limit (CountsTowardErrorLimit).
func CountsSomeErrors(mta string) bool { return errorCounters[mta] != nil }
