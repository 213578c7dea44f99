package resolver

// Finding explains a DNS outcome the way an SMTP reply is explained: what
// it means for mail to the domain, and what its owner should fix.
type Finding struct {
	Code    string   `json:"code"`
	Meaning string   `json:"meaning"`
	Fix     string   `json:"fix"`
	Refs    []string `json:"refs,omitempty"`
	// Remedies are what the one who asked can change on their side, as
	// facts a caller words in its own terms (a command line names its
	// flags); empty when only the domain's owner can fix it.
	Remedies []Remedy `json:"remedies,omitempty"`
}

// Remedy is a change on the asking side that can get an answer where
// this one failed.
type Remedy string

// The remedies a Finding can carry.
const (
	RemedyOtherServer   Remedy = "other-server"   // ask another DNS server, one that resolves for the asker
	RemedyLongerTimeout Remedy = "longer-timeout" // wait longer for the answers
)

// row is one outcome of the table: a Finding without its Remedies.
type row struct {
	Code, Meaning, Fix string
	Refs               []string
}

// findings is the table of outcomes; a new outcome is a new row.
var findings = []row{
	{"explicit", "The domain publishes MX records; senders try the hosts in order of preference, lowest first, picking at random among equal preferences.",
		"Nothing to fix: every MX host has an address. Each should also accept mail for the domain.", []string{"RFC 5321 §5.1"}},
	{"no-address", "The domain publishes MX records, but no MX host has a usable address: each one has no A or AAAA record, does not exist, or its lookup cannot end (a CNAME loop). The warnings name each host's failure. There is nowhere to deliver, so senders bounce the mail (often 5.4.4, unable to route) or defer it.",
		"Give the MX hosts A or AAAA records (and repair any CNAME loop), or point the MX records at hosts that have them. An MX target must be a host name with an address, not an alias or an IP address.", []string{"RFC 5321 §5.1", "RFC 3463 §3.5"}},
	{"hosts-unanswered", "The domain publishes MX records, but no DNS server answered for the addresses of any MX host (the warnings say how each lookup failed), so where its mail goes is unknown. Senders in the same position defer the mail and retry until it expires.",
		"Check that the zones of the MX hosts are served and answer (SERVFAIL often means broken DNSSEC or a lame delegation), or ask another DNS server.", []string{"RFC 5321 §5.1", "RFC 3463 §3.5"}},
	{"null-mixed", "The domain publishes a null MX (MX 0 .) together with other MX records. RFC 7505 §3 forbids that: a null MX must be the only MX record. Senders disagree on what it means; most ignore the null MX and deliver to the other hosts, some bounce the mail as if the domain took none.",
		"Decide whether the domain takes mail. If it does, delete the MX 0 . record; if it does not, delete the other MX records and keep only MX 0 .", []string{"RFC 7505 §3", "RFC 5321 §5.1"}},
	{"partial", "The domain publishes MX records and at least one MX host has an address, but others have none (see the warnings). Senders skip those hosts and deliver to the rest, after a wasted lookup or a delay on each message.",
		"Give the hosts named in the warnings A or AAAA records, or remove their MX records.", []string{"RFC 5321 §5.1"}},
	{"mx-cname", "The domain publishes MX records and mail can be delivered, but an MX target is an alias (CNAME). RFC 2181 §10.3 and RFC 5321 §5.1 forbid that; most senders follow the alias, some refuse it.",
		"Point each MX record at the final host name, the one with the A or AAAA records, instead of the alias.", []string{"RFC 2181 §10.3", "RFC 5321 §5.1"}},
	{"mx-warnings", "The domain publishes MX records and mail can be delivered, but the warnings above point out records that senders may handle differently or that were not all looked at.",
		"Deal with each warning: fix the records it names, or check that it is intended.", []string{"RFC 5321 §5.1"}},
	{"implicit", "The domain has no MX records but has an address, so senders deliver to the domain's own address as if it had MX 0 pointing at itself.",
		"Fine if that host runs a mail server. Otherwise publish MX records, or a null MX (MX 0 .) if the domain takes no mail.", []string{"RFC 5321 §5.1"}},
	{"null", "The domain publishes a null MX: it accepts no mail at all. Senders bounce at once, typically with 556 5.1.10 (recipient domain has a null MX), and receivers may refuse it as a sender domain (550 5.7.27).",
		"Intended for domains that never take mail. If the domain should receive mail, replace the MX 0 . record with real MX records.", []string{"RFC 7505 §3", "RFC 7505 §4"}},
	{"nxdomain", "The domain does not exist in the DNS (NXDOMAIN). Mail to it bounces at once; senders typically report 550 5.1.2 (bad destination system address) or 'Host or domain name not found'.",
		"Check the spelling of the domain. If it is yours, check that it is registered, delegated to the right name servers, and that the zone has the name.", []string{"RFC 1035 §4.1.1", "RFC 3463 §3.2"}},
	{"nodata", "The domain exists but has no MX record and no A or AAAA record (NODATA), so there is nowhere to deliver mail. Senders bounce, often with 5.4.4 (unable to route).",
		"Publish MX records naming hosts that have addresses, or a null MX (MX 0 .) to say plainly that the domain takes no mail.", []string{"RFC 5321 §5.1", "RFC 3463 §3.5"}},
	{"servfail", "The DNS server failed to answer (SERVFAIL): often broken DNSSEC, a lame delegation or unreachable authoritative servers. Senders cannot look the domain up and defer the mail (4.4.3), retrying until it expires.",
		"Check the domain's delegation and DNSSEC (an expired signature or a DS record without a matching key gives SERVFAIL on validating resolvers), and that every authoritative server answers.", []string{"RFC 1035 §4.1.1", "RFC 3463 §3.5"}},
	{"refused", "The DNS server refused the query (REFUSED): it does not answer for this name or for this client. Nothing was learnt about the domain.",
		"Use a DNS server that resolves for you, or, if this is the domain's own server, check that it serves the zone and allows queries.", []string{"RFC 1035 §4.1.1"}},
	{"timeout", "No DNS server answered in time. Senders whose resolvers time out defer the mail and retry; if it lasts, the mail bounces when it expires.",
		"Check that the servers asked are reachable (firewalls often drop DNS over UDP or TCP), or wait longer for them. A slow authoritative server delays all mail to the domain.", []string{"RFC 5321 §4.5.4.1"}},
	{"malformed", "The DNS server sent an answer that does not parse or does not match the question. It cannot be used.",
		"Check the server, or any middlebox rewriting DNS between you and it.", []string{"RFC 1035 §4.1"}},
	{"truncated-no-tcp", "The answer does not fit in a UDP packet and the server does not answer over TCP. Senders then cannot see the records at all and defer or fail the mail.",
		"Serve DNS over TCP on port 53 (required by RFC 7766), and keep MX and address answers small.", []string{"RFC 7766 §5", "RFC 1123 §6.1.3.2"}},
	{"network", "The DNS server could not be reached (connection refused or no route).",
		"Check the server address and port, and that a DNS server runs there.", nil},
	{"rcode", "The DNS server answered with an unexpected response code, so nothing was learnt.",
		"Check the server; NOTIMP or FORMERR suggest it does not understand EDNS0 or MX queries.", []string{"RFC 1035 §4.1.1", "RFC 6891 §7"}},
	{"cname-loop", "The domain's CNAME records point back to themselves. Resolvers give up (SERVFAIL) and senders defer the mail.",
		"Fix the CNAME records so the chain ends at a name with records.", []string{"RFC 1034 §3.6.2"}},
	{"cname-chain-too-long", "Following the domain's CNAME records takes more than 8 steps; resolvers give up on long chains.",
		"Point the CNAME straight at the final name.", []string{"RFC 1034 §3.6.2"}},
	{"canceled", "The lookup was interrupted before DNS answered.", "Run it again.", nil},
	{"config", "No DNS server could be used: none was given and /etc/resolv.conf names none that works.",
		"Name a DNS server to ask, or fix /etc/resolv.conf.", nil},
	{"input", "The domain is not a valid domain name, so nothing was asked of DNS.",
		"Give a domain such as example.com, an IDN such as bücher.example, or an address literal such as [192.0.2.1].", []string{"RFC 5321 §4.1.2", "RFC 5890"}},
	{"literal", "The destination is an address literal: no DNS is involved, mail goes to that address.",
		"Nothing to fix; receivers may refuse address literals in recipients.", []string{"RFC 5321 §4.1.3"}},
}

// remedies are the Remedies of the findings that have some, by code.
var remedies = map[string][]Remedy{
	"hosts-unanswered": {RemedyOtherServer},
	"refused":          {RemedyOtherServer},
	"timeout":          {RemedyLongerTimeout, RemedyOtherServer},
	"config":           {RemedyOtherServer},
}

func withRemedies(r row) Finding {
	f := Finding{Code: r.Code, Meaning: r.Meaning, Fix: r.Fix, Refs: r.Refs}
	if rs := remedies[r.Code]; len(rs) > 0 {
		f.Remedies = append([]Remedy(nil), rs...)
	}
	return f
}

// Explain returns the finding for a code (a Result's Code or an Error's
// Kind); an unknown code gives a Finding with only the code.
func Explain(code string) Finding {
	for _, f := range findings {
		if f.Code == code {
			return withRemedies(f)
		}
	}
	return Finding{Code: code}
}

// Findings lists every known finding, for documentation and tests.
func Findings() []Finding {
	out := make([]Finding, len(findings))
	for i, f := range findings {
		out[i] = withRemedies(f)
	}
	return out
}
