package explain

import (
	"fmt"
	"strings"
)

// Variant is how a code reads after one command.
type Variant struct {
	Command Command  `json:"command"`
	Brief   string   `json:"brief"`
	Refs    []string `json:"refs"`
}

// Variants lists how the meaning of code changes with the command that
// drew it, in protocol order; empty when it reads the same everywhere.
func Variants(code int) []Variant {
	var vs []Variant
	for _, c := range Commands {
		if n, ok := contextNotes[contextKey{code, c}]; ok {
			vs = append(vs, Variant{Command: c, Brief: n.Brief, Refs: n.Refs})
		}
	}
	return vs
}

// Comparison sets two or more explanations side by side.
type Comparison struct {
	Items       []Explanation `json:"items"`
	Differences []string      `json:"differences"`
	WhenWhich   []string      `json:"when_which"` // when you meet which, and what to do
}

// pairKey names an unordered pair of basic codes, smaller first.
type pairKey [2]int

func pairOf(a, b int) pairKey {
	if a > b {
		a, b = b, a
	}
	return pairKey{a, b}
}

// pairNotes are the differences between two codes that rules about
// classes and categories cannot derive: what the pair teaches in practice.
var pairNotes = map[pairKey][]string{
	pairOf(252, 501): {
		"252 answers a question the server chose not to answer; 501 answers a command the server could not parse. 252 is about policy, 501 about your syntax.",
		"After VRFY, 252 means the server hides whether the mailbox exists (RFC 5321 §3.5.3, §7.3); 501 after VRFY means the argument was missing or garbled, so nothing was asked at all.",
		"501 leaves the session in the state it was in (RFC 5321 §4.1.4): correct the command and send it again. 252 needs no follow-up: the server would accept mail for the address.",
		"501 turns up on any command (RFC 5321 §4.3.2), but mostly on MAIL FROM and RCPT TO with a malformed address; 252 turns up only on VRFY and EXPN.",
		"VRFY policy in three codes: 250 = the server verified the mailbox (RFC 5321 §3.5.3 forbids 250 on a syntax check alone); 252 = the server will not tell (the conforming answer when VRFY is restricted, RFC 5321 §7.3); 550 = no such mailbox, but only meaningful if a known mailbox gets 250 — a server answering 550 to everything breaks §7.3. 502 means VRFY is switched off.",
	},
	pairOf(250, 252): {
		"After VRFY, 250 confirms the mailbox was actually verified; 252 says the server will not confirm or deny. Both are successes, but only 250 tells you about the user (RFC 5321 §3.5.3).",
		"A server that answers 250 to VRFY discloses its users; one that answers 252 follows RFC 5321 §7.3's advice for sites that restrict VRFY.",
	},
	pairOf(252, 550): {
		"After VRFY, 252 is the server declining to tell; 550 claims the mailbox does not exist. Trust 550 only if the server answers 250 for a known mailbox: answering 550 to every VRFY is non-conforming (RFC 5321 §7.3).",
	},
	pairOf(250, 550): {
		"After RCPT, 250 accepts the recipient (it may still bounce later) and 550 refuses it. After VRFY, 250 confirms the mailbox and 550 denies it, if the server is honest about VRFY at all.",
	},
	pairOf(252, 502): {
		"Both tell you the VRFY policy, not the user. 252 is the answer RFC 5321 §7.3 requires when VRFY is restricted; 502 (VRFY disabled, as Postfix's disable_vrfy_command=yes answers) is the common non-conforming one.",
	},
	pairOf(500, 501): {
		"500: the server did not recognise the command at all (verb, length, characters). 501: it recognised the command but not its arguments.",
	},
	pairOf(501, 555): {
		"501: the address (or other argument) itself is malformed. 555: the address was fine but an ESMTP parameter after it is unknown or not advertised (RFC 5321 §4.1.1.11).",
	},
	pairOf(501, 553): {
		"501: the argument could not be parsed (grammar). 553: it parsed, but the server will not accept that mailbox name (its form or your right to use it).",
	},
	pairOf(550, 553): {
		"Both refuse an address. 550: the mailbox is unavailable or refused by policy. 553: the name itself is not allowed (syntax this server refuses, non-ASCII without SMTPUTF8, a sender you may not use). RFC 5321 §3.3 names both as the usual MAIL FROM failures.",
	},
	pairOf(450, 550): {
		"450 is the temporary twin of 550: retry later (greylisting, a transient block). 550 is final: change something first.",
	},
	pairOf(452, 552): {
		"For too many recipients RFC 5321 §4.5.3.1.10 wants 452; RFC 821 used 552 wrongly, so a client should treat 552 after RCPT as 452 and retry those recipients later. For a message too big, 552 is final.",
	},
	pairOf(421, 554): {
		"421 closes the session for a temporary reason (retry later); 554 as a greeting refuses you for good from this IP, and the server waits for QUIT (RFC 5321 §3.1).",
	},
	pairOf(521, 554): {
		"As greetings, 521 says this host never accepts mail from anyone (RFC 7504); 554 says the server will not serve you, usually because of your IP.",
	},
	pairOf(530, 535): {
		"530: you must authenticate (or start TLS) before this command. 535: you tried, and the credentials were wrong.",
	},
	pairOf(502, 504): {
		"502: the whole command is not implemented. 504: the command is, but not the parameter or mechanism you gave.",
	},
	pairOf(503, 501): {
		"503: a valid command at the wrong moment (order). 501: the right moment, but malformed arguments.",
	},
	pairOf(454, 530): {
		"454 is a temporary failure of TLS or authentication (retry); 530 is a policy: do STARTTLS or AUTH first.",
	},
}

// Compare explains how two or more explained replies differ, and when you
// meet which.
func Compare(items []Explanation) Comparison {
	c := Comparison{Items: items}
	c.Differences = append(c.Differences, classDifferences(items)...)
	seen := map[pairKey]bool{}
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			k := pairOf(items[i].Code, items[j].Code)
			if seen[k] {
				continue
			}
			seen[k] = true
			c.Differences = append(c.Differences, pairNotes[k]...)
		}
	}
	c.Differences = append(c.Differences, enhancedDifferences(items)...)
	c.Differences = append(c.Differences, commandDifferences(items)...)
	sameCode := sharedBasicCodes(items)
	for _, e := range items {
		when := "you meet it " + lowerFirst(e.When)
		if st := e.EnhancedStatus; st != nil && e.Code != 0 && sameCode[e.Code] {
			// The basic code's "when" is the same for each: the enhanced
			// code tells when you meet this one.
			when = "you meet it when " + lowerFirst(st.Meaning)
		}
		c.WhenWhich = append(c.WhenWhich, fmt.Sprintf("%s: %s What to do: %s", itemName(e), when, e.SpecificFix()))
	}
	return c
}

// sharedBasicCodes are the basic codes more than one item carries.
func sharedBasicCodes(items []Explanation) map[int]bool {
	n := map[int]int{}
	for _, e := range items {
		if e.Code != 0 {
			n[e.Code]++
		}
	}
	out := map[int]bool{}
	for c, k := range n {
		if k > 1 {
			out[c] = true
		}
	}
	return out
}

// enhancedDifferences tells apart items by their enhanced codes (RFC 3463
// §3): the subject, then the detail and what each means. It matters most
// when the basic codes are the same, as in 550 5.1.1 vs 550 5.7.1.
func enhancedDifferences(items []Explanation) []string {
	var with []Explanation
	for _, e := range items {
		if e.EnhancedStatus != nil {
			with = append(with, e)
		}
	}
	if len(with) < 2 {
		return nil
	}
	var out []string
	same := sharedBasicCodes(with)
	for _, e := range with {
		if same[e.Code] {
			out = append(out, fmt.Sprintf("The basic code %d is the same, so only the enhanced codes tell these replies apart (RFC 3463 §3).", e.Code))
			break
		}
	}
	subjects := map[string]bool{}
	var parts []string
	for _, e := range with {
		st := e.EnhancedStatus
		subjects[st.Subject] = true
		parts = append(parts, fmt.Sprintf("%s: X.%s.Z %s", st.Code, strings.Split(st.Code, ".")[1], st.Subject))
	}
	if len(subjects) > 1 {
		out = append(out, "By the subject (the enhanced code's second number): "+strings.Join(parts, "; ")+".")
	} else {
		out = append(out, fmt.Sprintf("The subject is the same (%s); the detail (third number) differs.", with[0].EnhancedStatus.Subject))
	}
	for _, e := range with {
		st := e.EnhancedStatus
		out = append(out, fmt.Sprintf("%s %s: %s", st.Code, st.Title, st.Meaning))
	}
	return out
}

// itemName is "252 (Cannot VRFY user...)" or "5.1.1 (Bad destination...)".
func itemName(e Explanation) string {
	name := fmt.Sprint(e.Code)
	if e.Code == 0 {
		name = e.Enhanced
	} else if e.Enhanced != "" {
		name += " " + e.Enhanced
	}
	short := e.ShortText
	if i := strings.Index(short, " ("); i > 0 {
		short = short[:i]
	}
	if short == "" {
		return name
	}
	return name + " (" + short + ")"
}

// classDifferences states what the first and second digits say apart.
func classDifferences(items []Explanation) []string {
	var out []string
	classesSeen := map[int][]string{}
	var order []int
	for _, e := range items {
		name := fmt.Sprint(e.Code)
		if e.Code == 0 {
			name = e.Enhanced
		}
		if _, ok := classesSeen[e.Class]; !ok {
			order = append(order, e.Class)
		}
		classesSeen[e.Class] = append(classesSeen[e.Class], name)
	}
	if len(order) > 1 {
		var parts []string
		for _, cl := range order {
			if n := len(classesSeen[cl]); n == 1 {
				parts = append(parts, fmt.Sprintf("%s is a %dxx %s reply", classesSeen[cl][0], cl, classNamesAll[cl]))
			} else {
				parts = append(parts, fmt.Sprintf("%s are %dxx %s replies", joinAnd(classesSeen[cl]), cl, classNamesAll[cl]))
			}
		}
		out = append(out, strings.Join(parts, ", while ")+".")
		for _, cl := range order {
			if ci, ok := classes[cl]; ok {
				out = append(out, fmt.Sprintf("%dxx: %s", cl, ci.Meaning))
			}
		}
	}
	cats := map[string][]string{}
	var catOrder []string
	for _, e := range items {
		if e.Code == 0 {
			continue
		}
		if _, ok := cats[e.Category]; !ok {
			catOrder = append(catOrder, e.Category)
		}
		cats[e.Category] = append(cats[e.Category], fmt.Sprint(e.Code))
	}
	if len(catOrder) > 1 {
		var parts []string
		for _, cat := range catOrder {
			parts = append(parts, fmt.Sprintf("%s: %s", strings.Join(cats[cat], ", "), cat))
		}
		out = append(out, "By the second digit (RFC 5321 §4.2.1): "+strings.Join(parts, "; ")+".")
	}
	actors := map[string]bool{}
	for _, e := range items {
		actors[e.Actor] = true
	}
	if len(actors) > 1 {
		var parts []string
		for _, e := range items {
			parts = append(parts, fmt.Sprintf("%s: %s", shortName(e), e.Actor))
		}
		out = append(out, "Who has to act: "+strings.Join(parts, "; ")+".")
	}
	return out
}

// commandDifferences names the commands each code is drawn by.
func commandDifferences(items []Explanation) []string {
	var parts []string
	listed := map[int]bool{}
	for _, e := range items {
		b, ok := basicCodes[e.Code]
		if !ok || len(b.Commands) == 0 || listed[e.Code] {
			continue
		}
		listed[e.Code] = true
		var names []string
		for _, c := range b.Commands {
			switch {
			case c == Unknown && len(b.Commands) == 1:
				names = append(names, "any command")
			case c == Unknown:
				names = append(names, "an unknown verb")
			case c == Greeting:
				names = append(names, "the connection (greeting)")
			default:
				names = append(names, strings.ToUpper(string(c)))
			}
		}
		parts = append(parts, fmt.Sprintf("%d after %s", e.Code, strings.Join(names, ", ")))
	}
	if len(parts) < 2 {
		return nil
	}
	return []string{"Which commands draw them (RFC 5321 §4.3.2): " + strings.Join(parts, "; ") + "."}
}

func shortName(e Explanation) string {
	if e.Code == 0 {
		return e.Enhanced
	}
	return fmt.Sprint(e.Code)
}

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	// Keep an initial verb or acronym ("VRFY", "EHLO") as it is.
	if len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
