package explain

// Yahoo Mail and AOL (Yahoo Inc.). Yahoo tags most refusals with a bracketed
// code: [TSnn] temporary deferrals, [BLnn] blocklists, [PHnn] content; the
// bracketed code is the stable part, the sentence around it changes.

const (
	srcYahoo      = "Yahoo"
	refYahooCodes = "https://senders.yahooinc.com/smtp-error-codes"
)

var yahooRecognizers = []recognizer{
	{source: srcYahoo, codes: "421 4xx", words: `\[TSS?0[1-9]\]|\[TS\d\d\]`,
		reason: "Yahoo temporarily defers mail from this IP: unexpected volume, user complaints or poor reputation ([TSnn] means temporarily deferred).",
		fix:    "Keep retrying at a lower rate; reduce volume spikes, remove unengaged recipients, join Yahoo's complaint feedback loop. Persistent TSS04 means reputation work, not a config fix.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "553", enhanced: "5.7.2", words: `\[TSS09\]`,
		reason: "Yahoo permanently refuses mail from this IP for now ([TSS09]): it is not accepting any mail from it because of reputation.",
		fix:    "Stop sending from this IP to Yahoo, fix the cause (complaints, compromised accounts), then ask Yahoo Sender Hub for a review.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "5xx", words: `\[BL2[1-3]\]|spamhaus && yahoo`, template: true,
		reason: "Yahoo refuses the connection because the sending IP is on a Spamhaus list ([BL23] names the XBL; the other [BLnn] codes name other lists).",
		fix:    "Look the IP up at https://check.spamhaus.org/ and request delisting there after fixing the cause; Yahoo itself cannot remove it.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "5xx", words: `\[PH\d\d\]`,
		reason: "Yahoo refuses the message for its content ([PHnn]: content Yahoo will not accept, such as phishing-like links).",
		fix:    "Check URLs and domains in the message against blocklists and remove anything deceptive.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "550 554", enhanced: "5.7.9", words: `unauthenticated|authenticate`,
		reason: "Yahoo requires every sender to pass SPF or DKIM; this message passed neither.",
		fix:    "Publish SPF for the MAIL FROM domain and sign with DKIM for the From: domain.",
		ref:    "https://senders.yahooinc.com/best-practices/", iana: "X.7.9: authentication mechanism is too weak"},
	{source: srcYahoo, codes: "554", enhanced: "5.7.9", words: `policy reasons`,
		reason: "Yahoo refuses the message for policy reasons, typically a DMARC failure of the From: domain (the domain publishes p=reject).",
		fix:    "Make SPF or DKIM pass aligned with the From: domain; check the DMARC aggregate reports.",
		ref:    "https://help.yahoo.com/kb/SLN7253.html", iana: "X.7.9: authentication mechanism is too weak"},
	{source: srcYahoo, codes: "451 554", words: `unresolvable rfc\.?5321 from domain|unresolvable .*domain`,
		reason: "Yahoo could not resolve the MAIL FROM domain (it checks for an SOA record): 451 on a DNS timeout, 554 when the domain does not exist.",
		fix:    "Make sure the MAIL FROM domain exists in public DNS and its name servers answer.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "554", words: `delivery error: dd && (doesn't|does not) have a .* account`,
		reason: "There is no Yahoo/AOL mailbox with that address.",
		fix:    "Check the address for typos and remove it from your lists.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "554", words: `delivery error: dd && no longer valid`,
		reason: "The Yahoo/AOL mailbox has been closed.",
		fix:    "Remove the address from your lists.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "450 4xx", words: `receiving mail too quickly`,
		reason: "The Yahoo recipient is getting mail faster than Yahoo allows; retry later.",
		fix:    "Slow down sending to this recipient; a normal MTA retries by itself.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "421", words: `max message per connection`,
		reason: "Yahoo closes the connection after a fixed number of messages.",
		fix:    "Nothing to fix: the rest is delivered on a new connection; lower messages-per-connection in the MTA.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "550", words: `relaying denied for`,
		reason: "Yahoo's server does not relay for this recipient: it is not a Yahoo domain.",
		fix:    "Check the MX records of the recipient domain; you reached a server that is not theirs.",
		ref:    refYahooCodes},
	{source: srcYahoo, codes: "552", words: `requested mail action aborted, mailbox not found`,
		reason: "Yahoo's wording for a recipient that does not exist.",
		fix:    "Check the address and remove it from your lists.",
		ref:    refYahooCodes},
	{source: srcYahoo, words: `yahooinc\.com|postmaster\.yahoo\.com|\.yahoo\.com`, template: true,
		reason: "The reply comes from Yahoo's mail servers, but its wording is not one this table knows.",
		fix:    "Look up the bracketed code or the text on Yahoo's SMTP error code page.",
		ref:    refYahooCodes},
}
