package explain

// DNS blocklists. A receiver asks a DNS zone (zen.spamhaus.org,
// b.barracudacentral.org, bl.spamcop.net…) whether the connecting IP is
// listed, and its MTA reports a hit in its own stock wording. Rows naming a
// list say what that list means and how to get off it; the MTA's wording
// (template rows) is reported as Via. Spamhaus answers with a return code
// in 127.0.0.0/8 that tells which of its lists matched; receivers sometimes
// put it, or a link naming the list, in the text.

const (
	srcSpamhaus  = "Spamhaus"
	srcDNSBL     = "DNS blocklist"
	refSpamhaus  = "https://check.spamhaus.org/"
	refSpamhausR = "https://docs.spamhaus.com/datasets/docs/source/40-real-world-usage/PublicMirrors/MTAs/020-Postfix.html"
)

var blocklistRecognizers = []recognizer{
	// Spamhaus: what each list and return code means.
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && open resolver|returnc/pub|127\.255\.255\.254`,
		reason: "Not a listing: Spamhaus refused the receiver's query because it came through a public/open DNS resolver (return code 127.255.255.254). The receiver treats that error as a hit and rejects everyone.",
		fix:    "Tell the receiving site's admin: their MTA must query Spamhaus through its own resolver (or use a Data Query Service key), not 8.8.8.8 or similar. Nothing is wrong with your IP.",
		ref:    "https://www.spamhaus.org/returnc/pub/"},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && excessive number of queries|returnc/vol|127\.255\.255\.255|127\.255\.255\.252`,
		reason: "Not a listing: Spamhaus refused the receiver's query (too many queries from it, or a mistyped zone name: return codes 127.255.255.255 / 127.255.255.252).",
		fix:    "Tell the receiving site's admin to fix their blocklist configuration (register for the Data Query Service, check the zone name). Nothing is wrong with your IP.",
		ref:    "https://www.spamhaus.org/returnc/vol/"},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && \bcss\b|127\.0\.0\.3\b`,
		reason: "The sending IP is on the Spamhaus CSS (part of the SBL, return code 127.0.0.3): it was seen sending low-reputation or snowshoe spam, often from a misconfigured or abused mail server.",
		fix:    "Find and stop what sends unwanted mail from the IP (compromised accounts, forms, bulk lists), then request removal at https://check.spamhaus.org/. CSS listings also expire by themselves once the traffic stops.",
		ref:    refSpamhaus},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && drop|127\.0\.0\.9\b`,
		reason: "The sending IP is in a range on the Spamhaus DROP list (return code 127.0.0.9): networks run by or for spammers and criminals.",
		fix:    "If the range was reassigned to you, contact Spamhaus with proof; otherwise move to a reputable provider.",
		ref:    "https://www.spamhaus.org/blocklists/do-not-route-or-peer/"},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && sbl\.spamhaus|/sbl/|\bSBL\d+|127\.0\.0\.2\b`,
		reason: "The sending IP is on the Spamhaus SBL (return code 127.0.0.2): a manually maintained list of IPs observed sending spam or hosting spam operations.",
		fix:    "Read the SBL record linked in the text (SBLnnnnn) for the evidence; fix the cause, then the IP's owner (often the hosting provider) requests removal through https://check.spamhaus.org/.",
		ref:    refSpamhaus},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && xbl|\bcbl\b|127\.0\.0\.[4-7]\b`,
		reason: "The sending IP is on the Spamhaus XBL (return code 127.0.0.4): it showed signs of infection or compromise (malware, botnet, open proxy), often a machine behind the same NAT.",
		fix:    "Find and clean the infected host or compromised account on that IP (check outbound port 25 from the whole network), then request delisting at https://check.spamhaus.org/.",
		ref:    refSpamhaus},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && pbl|127\.0\.0\.1[01]\b`,
		reason: "The sending IP is on the Spamhaus PBL (return codes 127.0.0.10/11): a range the ISP says should not send mail directly to MX hosts (dynamic or residential addresses). It is not a spam listing.",
		fix:    "Send through your provider's or mail service's authenticated submission/smarthost. If this really is a static mail server with proper rDNS, its owner can remove the IP at https://check.spamhaus.org/.",
		ref:    refSpamhaus},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus && dbl\b|\bdbl\.spamhaus|127\.0\.1\.\d+`,
		reason: "A domain in the message or envelope (sender, links) is on the Spamhaus DBL (return codes 127.0.1.x), a list of domains used in spam, phishing or malware.",
		fix:    "Find which domain is listed (check.spamhaus.org), remove it from the message or clean the compromised site, then request removal.",
		ref:    refSpamhaus},
	{source: srcSpamhaus, codes: "4xx 5xx", words: `spamhaus`,
		reason: "The receiver rejects the sending IP because a Spamhaus list (zen.spamhaus.org combines SBL, CSS, XBL and PBL) returned a hit; the text does not say which list.",
		fix:    "Look the IP up at https://check.spamhaus.org/: it says which list and why. Fix the cause (infection, spam, or direct-to-MX from a dynamic range) and request removal there.",
		ref:    refSpamhaus},

	// Other public lists.
	{source: "Barracuda", codes: "4xx 5xx", words: `barracuda`,
		reason: "The sending IP is on the Barracuda Reputation Block List (b.barracudacentral.org), used by Barracuda appliances and many MTAs.",
		fix:    "Request removal at https://www.barracudacentral.org/rbl/removal-request after fixing the cause; make sure the IP has a PTR record.",
		ref:    "https://www.barracudacentral.org/rbl"},
	{source: "SpamCop", codes: "4xx 5xx", words: `spamcop`,
		reason: "The sending IP is on the SpamCop Blocking List (bl.spamcop.net): recipients reported spam from it recently.",
		fix:    "Stop the reported mail; SpamCop listings expire by themselves about 24 hours after the last report, and there is no removal request.",
		ref:    "https://www.spamcop.net/bl.shtml"},
	{source: "UCEPROTECT", codes: "4xx 5xx", words: `uceprotect`,
		reason: "The sending IP (level 1), its allocation (level 2) or its whole ASN (level 3) is on UCEPROTECT's list.",
		fix:    "Level 1 expires about a week after the last spam; levels 2 and 3 list whole networks and are the provider's business. Ask the receiver to stop using levels 2/3.",
		ref:    "https://www.uceprotect.net/en/rblcheck.php"},
	{source: "PSBL", codes: "4xx 5xx", words: `psbl\.surriel|\bpsbl\b`,
		reason: "The sending IP is on the Passive Spam Block List (psbl.surriel.com), fed by spam traps.",
		fix:    "Remove the IP yourself at https://psbl.org/ after stopping the spam.",
		ref:    "https://psbl.org/"},
	{source: "SORBS", codes: "4xx 5xx", words: `sorbs`,
		reason: "The receiver uses SORBS (dnsbl.sorbs.net), a list that was shut down in 2024; a receiver still querying it may be acting on stale or bogus answers.",
		fix:    "Ask the receiving site's admin to remove SORBS from their configuration.",
		ref:    "https://www.sorbs.net/"},

	// MTA wordings for "a DNS blocklist said no" (template rows).
	{source: "Postfix", codes: "4xx 5xx", words: `service unavailable; .*blocked using`, template: true,
		reason: "Postfix's reject_rbl_client (or reject_rhsbl_*) refused the client: the DNS blocklist named after \"blocked using\" lists the client's IP, HELO name, sender or recipient domain.",
		fix:    "Look the IP or domain up in the named list and follow that list's removal procedure; the text after the list name is the list's own explanation.",
		ref:    "https://www.postfix.org/postconf.5.html#reject_rbl_client"},
	{source: "Postfix", codes: "4xx 5xx", words: `client host rejected: .*blocked using`, template: true,
		reason: "A Postfix access rule refused the client because a DNS blocklist lists it (the list is named after \"blocked using\").",
		fix:    "Look the IP up in the named list and follow its removal procedure.",
		ref:    "https://www.postfix.org/postconf.5.html#reject_rbl_client"},
	{source: "Sendmail", codes: "4xx 5xx", words: `rejected: .* listed at`, template: true,
		reason: "Sendmail's dnsbl feature refused the client: the DNS blocklist named after \"listed at\" lists its IP.",
		fix:    "Look the IP up in the named list and follow its removal procedure.",
		ref:    "https://www.sendmail.org/~ca/email/doc8.12/cf/m4/anti_spam.html"},
	{source: "Exim", codes: "4xx 5xx", words: `in a black ?list at`, template: true,
		reason: "An Exim ACL using dnslists refused the client: the DNS blocklist named after \"black list at\" lists its IP.",
		fix:    "Look the IP up in the named list and follow its removal procedure.",
		ref:    "https://www.exim.org/exim-html-current/doc/html/spec_html/ch-access_control_lists.html"},
	{source: srcDNSBL, words: `blocked using|listed (at|in|on|by) |black ?list|block ?list|dnsbl|\brbl\b`, template: true,
		reason: "The receiver refuses the sending IP because a DNS blocklist lists it.",
		fix:    "Find the list named in the text, look the IP up there, fix the cause and follow that list's removal procedure. Check the IP at several lists at once with a multi-RBL lookup.",
		ref:    "RFC 5782"},
}
