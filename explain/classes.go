package explain

// classInfo is what the first digit of a reply code says on its own
// (RFC 5321 §4.2.1). A client that meets a code it does not know must act
// on this digit alone (RFC 5321 §4.2, §4.3.2).
type classInfo struct {
	Name    string
	Meaning string
	Fix     string
	Actor   string
}

// classes is keyed by the first digit of a reply code.
var classes = map[int]classInfo{
	2: {
		Name:    "Positive Completion",
		Meaning: "The server carried out the command; the client may send the next one.",
		Fix:     "Nothing to fix: the command succeeded.",
		Actor:   ActorNobody,
	},
	3: {
		Name:    "Positive Intermediate",
		Meaning: "The server accepted the command so far and waits for more input (the message data after DATA, the next SASL response during AUTH) before it can finish.",
		Fix:     "Nothing to fix: send what the server asks for next.",
		Actor:   ActorNobody,
	},
	4: {
		Name:    "Transient Negative Completion",
		Meaning: "The server did not carry out the command, but the condition is temporary: the same command may succeed later.",
		Fix:     "Retry later; a mail server queues and retries on its own (RFC 5321 §4.5.4.1). Investigate only if the condition persists for hours.",
		Actor:   ActorSender,
	},
	5: {
		Name:    "Permanent Negative Completion",
		Meaning: "The server refused the command and repeating it unchanged will fail again.",
		Fix:     "Change the command, its arguments or the message, or have the receiving side change its policy; do not retry the same thing.",
		Actor:   ActorSender,
	},
}

// classNamesAll covers the digits that exist in RFC 5321 §4.2.1's theory
// but never in a valid SMTP reply, so an error can still name them.
var classNamesAll = map[int]string{
	1: "Positive Preliminary",
	2: "Positive Completion",
	3: "Positive Intermediate",
	4: "Transient Negative Completion",
	5: "Permanent Negative Completion",
}

// categories is keyed by the second digit of a reply code (RFC 5321
// §4.2.1). 3 and 4 are unassigned.
var categories = map[int]string{
	0: "syntax",
	1: "information",
	2: "connections",
	3: "unspecified",
	4: "unspecified",
	5: "mail system",
}

// categoryMeaning explains each second-digit category in a sentence.
var categoryMeaning = map[int]string{
	0: "x0z replies concern syntax: the command itself, or its arguments, could not be understood or is not supported.",
	1: "x1z replies carry information, such as status or help text.",
	2: "x2z replies concern the transmission channel: opening or closing the connection.",
	3: "x3z is not assigned a category by RFC 5321.",
	4: "x4z is not assigned a category by RFC 5321.",
	5: "x5z replies report the state of the receiving mail system: mailboxes, storage, policy.",
}

// Who has to act on a reply.
const (
	ActorNobody         = "nobody"
	ActorSender         = "sender"
	ActorSenderAdmin    = "sender's admin"
	ActorRecipientAdmin = "recipient's admin"
	ActorRecipient      = "recipient"
)

// ValidCode reports whether code matches the RFC 5321 §4.2 reply-code
// grammar: first digit 2-5, second 0-5, third 0-9.
func ValidCode(code int) bool {
	if code < 200 || code > 559 {
		return false
	}
	return (code/10)%10 <= 5
}
