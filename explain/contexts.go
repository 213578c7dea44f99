package explain

// contextKey picks the note for a reply code drawn by one command.
type contextKey struct {
	Code int
	Cmd  Command
}

// contextNote is how a reply code reads after one particular command. An
// empty field falls back to the code's general entry in basicCodes.
type contextNote struct {
	Brief   string // required: the one-line reading after this command
	Meaning string
	When    string
	Fix     string
	Actor   string
	Refs    []string // the sections that govern this reading, first
}

// contextFallback lets a command without a note of its own borrow another's:
// HELO reads like EHLO, BDAT like DATA.
var contextFallback = map[Command]Command{HELO: EHLO, BDAT: DATA}

// contextNotes holds the readings that change with the command.
var contextNotes = map[contextKey]contextNote{
	// --- greeting (RFC 5321 §3.1) ---
	{220, Greeting}: {
		Brief:   "greeting: the server is ready; send EHLO",
		Meaning: "The server accepts the connection and is ready for EHLO. The text after the code starts with its host name and often names its software.",
		When:    "On every successful connection to an SMTP server.",
		Fix:     "Nothing to fix; send EHLO with your fully qualified host name.",
		Refs:    []string{"RFC 5321 §3.1", "RFC 5321 §4.2"},
	},
	{421, Greeting}: {
		Brief:   "greeting: the server turns you away for now and closes; retry later",
		Meaning: "The server will not serve this connection now and closes it at once: it is overloaded, has too many connections from your IP, is rate-limiting you, or is greylisting at connect time.",
		When:    "At connect, typically when many parallel connections come from one IP, during a restart, or after a reputation check of your IP.",
		Fix:     "Retry later with fewer simultaneous connections. If it lasts for hours, check your IP against blocklists and ask the receiving side.",
		Actor:   ActorSender,
		Refs:    []string{"RFC 5321 §3.1", "RFC 5321 §3.8"},
	},
	{554, Greeting}: {
		Brief:   "greeting: no SMTP service for you here; the server refuses the whole session",
		Meaning: "Instead of 220, the server refuses the session outright, almost always because of the connecting IP (a blocklist listing, missing reverse DNS, a country or network block). It must then wait for QUIT and answer other commands with 503.",
		When:    "At connect, before you send anything.",
		Fix:     "Find out why your IP is refused (the text often names a blocklist); get delisted, fix reverse DNS, or relay through a server with a good reputation. Retrying from the same IP does not help.",
		Actor:   ActorSenderAdmin,
		Refs:    []string{"RFC 5321 §3.1", "RFC 5321 §4.2.3"},
	},
	{521, Greeting}: {
		Brief: "greeting: this host does not accept mail at all",
		Refs:  []string{"RFC 7504 §2", "RFC 1846 §4"},
	},
	{220, STARTTLS}: {
		Brief:   "ready to start TLS: begin the handshake now",
		Meaning: "The server agrees to switch to TLS. The next bytes must be your TLS ClientHello.",
		When:    "In answer to STARTTLS on a server that advertised it.",
		Fix:     "Nothing to fix: do the TLS handshake, then send EHLO again, because the session state is reset and the capabilities may change.",
		Refs:    []string{"RFC 3207 §4", "RFC 3207 §4.2"},
	},

	// --- EHLO / HELO (RFC 5321 §4.1.1.1, §4.1.4) ---
	{250, EHLO}: {
		Brief:   "greeting accepted; the lines list the server's extensions",
		Meaning: "The server accepted your EHLO. In a multi-line reply, each line after the first names an extension it supports (SIZE, PIPELINING, STARTTLS, AUTH, 8BITMIME, SMTPUTF8, ...).",
		When:    "In answer to EHLO or HELO.",
		Fix:     "Nothing to fix. Use only the extensions listed here.",
		Refs:    []string{"RFC 5321 §4.1.1.1"},
	},
	{250, HELO}: {
		Brief:   "greeting accepted; plain SMTP, no extensions",
		Meaning: "The server accepted your HELO. After HELO no SMTP extensions are in force: no SIZE=, no STARTTLS, no AUTH, no 8BITMIME.",
		When:    "In answer to HELO, usually from a client that fell back from EHLO.",
		Fix:     "Nothing to fix. Send EHLO instead if you need any extension.",
		Refs:    []string{"RFC 5321 §4.1.1.1", "RFC 5321 §3.2"},
	},
	{501, EHLO}: {
		Brief:   "EHLO/HELO argument rejected: a bad host name or address literal",
		Meaning: "The server refused the name you gave in EHLO/HELO: it is missing, not a syntactically valid domain, has characters outside letters, digits and hyphen (an underscore, for instance), is not fully qualified, or is an address literal without square brackets.",
		When:    "After EHLO with no argument, \"EHLO localhost\", \"EHLO my_host\", a bare IP such as \"EHLO 192.0.2.1\" instead of \"EHLO [192.0.2.1]\", or a name with spaces.",
		Fix:     "Send EHLO with your fully qualified host name (EHLO mail.example.com), ideally the name your IP's reverse DNS gives; without such a name use an address literal in brackets (EHLO [192.0.2.1]). The server stays in its state: retry EHLO.",
		Refs:    []string{"RFC 5321 §4.1.1.1", "RFC 5321 §4.1.2", "RFC 5321 §4.1.4"},
	},
	{500, EHLO}: {
		Brief:   "EHLO not understood: an old server; fall back to HELO",
		Meaning: "The server does not know EHLO (a pre-ESMTP server) or could not read the line.",
		When:    "On very old or minimal servers, or when the EHLO line is malformed.",
		Fix:     "Send HELO with the same host name; no extensions are then available.",
		Refs:    []string{"RFC 5321 §4.1.1.1", "RFC 5321 §3.2"},
	},
	{502, EHLO}: {
		Brief:   "EHLO not implemented: fall back to HELO",
		Meaning: "The server knows EHLO but does not implement it, so it offers no SMTP extensions.",
		When:    "On old or deliberately minimal servers.",
		Fix:     "Send HELO instead; then send nothing that needs an extension (no SIZE=, no STARTTLS).",
		Refs:    []string{"RFC 5321 §3.2", "RFC 5321 §4.2.4"},
	},
	{504, EHLO}: {
		Brief: "EHLO parameter not implemented",
		Refs:  []string{"RFC 5321 §4.1.1.1"},
	},
	{550, EHLO}: {
		Brief:   "EHLO refused by policy (often the host name you claimed)",
		Meaning: "The server refused your greeting on policy grounds, usually because the name you gave is its own, is \"localhost\", does not resolve, or your IP is blocked.",
		When:    "After EHLO/HELO from a client that claims the server's own name or an unresolvable one.",
		Fix:     "Greet with your own real, resolvable, fully qualified host name. RFC 5321 forbids refusing mail only because the name does not match your IP, but many servers still judge it.",
		Actor:   ActorSenderAdmin,
		Refs:    []string{"RFC 5321 §4.1.4", "RFC 5321 §4.1.1.1"},
	},

	// --- STARTTLS (RFC 3207) ---
	{454, STARTTLS}: {
		Brief:   "TLS not available for a temporary reason; retry later or go on without TLS",
		Meaning: "The server advertised STARTTLS but cannot start TLS right now: its certificate or key is missing or unreadable, or it lacks resources.",
		When:    "In answer to STARTTLS.",
		Fix:     "Retry later, or continue in clear text if your policy allows (MTA-STS or DANE may forbid that). The server's admin must check its TLS certificate and key configuration.",
		Actor:   ActorRecipientAdmin,
		Refs:    []string{"RFC 3207 §4"},
	},
	{501, STARTTLS}: {
		Brief:   "STARTTLS takes no argument",
		Meaning: "STARTTLS was sent with something after the verb; it takes no parameters.",
		When:    "After \"STARTTLS something\".",
		Fix:     "Send the bare line STARTTLS.",
		Refs:    []string{"RFC 3207 §4"},
	},
	{502, STARTTLS}: {
		Brief:   "STARTTLS not offered by this server",
		Meaning: "The server does not implement STARTTLS, or has it switched off.",
		When:    "In answer to STARTTLS on a server that did not list it in EHLO.",
		Fix:     "Check the EHLO reply before sending STARTTLS. If you need encryption, use another server or port (465 for implicit TLS on submission).",
		Refs:    []string{"RFC 3207 §4", "RFC 5321 §4.2.4"},
	},
	{503, STARTTLS}: {
		Brief: "STARTTLS out of sequence: TLS already active, or EHLO missing",
		When:  "After a second STARTTLS inside an already encrypted session, or STARTTLS before EHLO.",
		Fix:   "Send STARTTLS once, after EHLO; after the handshake, send EHLO again and go on.",
		Refs:  []string{"RFC 3207 §4"},
	},
	{530, Unknown}: {
		Brief: "refused until you authenticate (or start TLS, if the text says so)",
		Refs:  []string{"RFC 4954 §6", "RFC 3207 §4"},
	},

	// --- AUTH (RFC 4954) ---
	{235, AUTH}: {Brief: "authentication succeeded", Refs: []string{"RFC 4954 §4"}},
	{334, AUTH}: {Brief: "SASL challenge: send the next base64 response", Refs: []string{"RFC 4954 §4"}},
	{432, AUTH}: {Brief: "a password transition is needed: log in once with PLAIN over TLS", Refs: []string{"RFC 4954 §6"}},
	{454, AUTH}: {
		Brief:   "temporary authentication failure; retry, do not re-prompt for the password",
		Meaning: "The server could not check your credentials right now: its authentication back end failed or timed out. It did not judge the password wrong.",
		When:    "After AUTH, when the server's password database or directory is unreachable.",
		Fix:     "Retry later with the same credentials; do not ask the user for a new password. If it persists the server's admin must fix the authentication back end.",
		Actor:   ActorRecipientAdmin,
		Refs:    []string{"RFC 4954 §6"},
	},
	{500, AUTH}: {
		Brief:   "authentication line too long",
		Meaning: "Your base64 response was longer than the server's authentication buffer.",
		When:    "During AUTH with a large token (OAuth2 bearer tokens, Kerberos tickets).",
		Fix:     "Send the response in the exchange rather than as an initial response on the AUTH line, or ask the admin to raise the limit.",
		Refs:    []string{"RFC 4954 §4", "RFC 4954 §6"},
	},
	{501, AUTH}: {
		Brief:   "authentication cancelled, or the base64 response could not be decoded",
		Meaning: "The AUTH exchange ended without success: you sent '*' to cancel, the response was not valid base64, or an initial response was sent for a mechanism that must start with a server challenge.",
		When:    "During AUTH.",
		Fix:     "Encode each response as base64 on one line with no spaces; follow the mechanism's order of messages.",
		Refs:    []string{"RFC 4954 §4"},
	},
	{502, AUTH}: {
		Brief: "AUTH not offered here (not advertised, or not before TLS)",
		Fix:   "Authenticate only where EHLO lists AUTH; many servers list it only after STARTTLS, and MX servers (port 25) often offer none.",
		Refs:  []string{"RFC 4954 §3"},
	},
	{503, AUTH}: {
		Brief:   "AUTH out of sequence: already authenticated, or inside a mail transaction",
		Meaning: "AUTH is not allowed now: the session is already authenticated, or a MAIL transaction is open.",
		When:    "After a second AUTH, or AUTH between MAIL and the end of the message.",
		Fix:     "Authenticate once, right after EHLO (after STARTTLS), and before MAIL FROM.",
		Refs:    []string{"RFC 4954 §4"},
	},
	{504, AUTH}: {
		Brief:   "unknown or unavailable SASL mechanism",
		Meaning: "The server does not support the SASL mechanism you named, or not before TLS.",
		When:    "After AUTH with a mechanism missing from the EHLO AUTH line.",
		Fix:     "Pick a mechanism listed on the server's AUTH line in EHLO (after STARTTLS if it lists more there).",
		Refs:    []string{"RFC 4954 §4"},
	},
	{530, AUTH}: {Brief: "authentication required", Refs: []string{"RFC 4954 §6"}},
	{534, AUTH}: {Brief: "mechanism too weak for this account; use a stronger one", Refs: []string{"RFC 4954 §6"}},
	{535, AUTH}: {Brief: "credentials rejected: wrong user name or password", Refs: []string{"RFC 4954 §6"}},
	{538, AUTH}: {Brief: "this mechanism needs TLS: run STARTTLS first", Refs: []string{"RFC 4954 §6"}},

	// --- VRFY (RFC 5321 §3.5, §4.1.1.6, §7.3) ---
	{250, VRFY}: {
		Brief:   "mailbox verified: the server confirms it exists",
		Meaning: "The server states that the mailbox exists and has been checked; the reply should carry it as <local-part@domain>. A compliant server never answers 250 after merely checking syntax.",
		When:    "After VRFY on a server that discloses its users (common on internal servers, rare on the internet).",
		Fix:     "Nothing to fix. For the admin: a server that confirms mailboxes to anyone makes address harvesting easy; answer 252 instead if that matters.",
		Actor:   ActorNobody,
		Refs:    []string{"RFC 5321 §3.5.3", "RFC 5321 §3.5.2", "RFC 5321 §7.3"},
	},
	{251, VRFY}: {
		Brief: "the user is not local but the server will forward; the reply carries the address",
		Refs:  []string{"RFC 5321 §3.5.2", "RFC 5321 §3.4"},
	},
	{252, VRFY}: {
		Brief:   "server declines to confirm or deny the mailbox; not an error, it will still accept mail for it",
		Meaning: "The server will neither confirm nor deny that the mailbox exists, but it would accept a message for it and try to deliver. It is a 2yz success reply and not an error: it tells you about the server's VRFY policy, nothing about the user. Tools that print it as \"user exists\" are wrong.",
		When:    "After VRFY at a server that will not tell whether a mailbox exists: RFC 5321 §7.3 asks exactly this of a site that restricts VRFY, and Gmail and Exchange answer it to every VRFY. It is no universal default: Postfix, with VRFY on as it ships, answers 252 only for an address it would take and 550 for one it does not know, so the pair still gives mailboxes away; Sendmail answers 250 or 550 unless its PrivacyOptions include novrfy, which turns every answer into 252.",
		Fix:     "No fix needed. To learn whether an address exists, ask the domain's admin or send a real message and watch for a bounce; RCPT TO acceptance does not prove it either (a server may accept and bounce later).",
		Actor:   ActorNobody,
		Refs:    []string{"RFC 5321 §3.5.3", "RFC 5321 §7.3"},
	},
	{501, VRFY}: {
		Brief:   "VRFY argument missing or garbled",
		Meaning: "VRFY was sent without an argument, or the argument could not be parsed as a user name or mailbox.",
		When:    "After a bare \"VRFY\", or VRFY with an unbalanced bracket or quote, control characters or an over-long string. Postfix answers \"501 5.5.4 Syntax: VRFY address\".",
		Fix:     "Give one user name or address: VRFY alice, or VRFY <alice@example.com>.",
		Refs:    []string{"RFC 5321 §4.1.1.6", "RFC 5321 §3.5.1"},
	},
	{502, VRFY}: {
		Brief:   "VRFY disabled: tells you the policy, nothing about the user (RFC 5321 wants 252 here)",
		Meaning: "The server has switched VRFY off. It reveals nothing about the mailbox. RFC 5321 asks a site that disables VRFY for security to answer 252 instead, so this is a (common) deviation, not a finding about the user.",
		When:    "After VRFY on Postfix with disable_vrfy_command=yes (\"502 5.5.1 VRFY command is disabled\") and on many hosted services.",
		Fix:     "Nothing to fix as a sender: use another way to check the address. As the admin, 252 is the conforming answer.",
		Actor:   ActorNobody,
		Refs:    []string{"RFC 5321 §7.3", "RFC 5321 §3.5.3", "RFC 5321 §4.2.4"},
	},
	{500, VRFY}: {
		Brief: "VRFY not recognised: the server offers no VRFY (not conforming; 252 expected)",
		Refs:  []string{"RFC 5321 §3.5.3", "RFC 5321 §4.5.1"},
	},
	{550, VRFY}: {
		Brief:   "no such mailbox (if the server answers 550 to every VRFY, that is a policy, not a finding)",
		Meaning: "The server says the mailbox does not exist or may not be verified. Only trust it as \"no such user\" if the same server answers 250 for a known mailbox: a server that answers 550 to every VRFY is non-conforming (RFC 5321 §7.3) and tells you nothing.",
		When:    "After VRFY for an unknown user on a server that discloses its users.",
		Fix:     "Check the spelling of the user name; compare with the answer for a mailbox known to exist (such as postmaster) before concluding anything.",
		Refs:    []string{"RFC 5321 §3.5.3", "RFC 5321 §7.3"},
	},
	{551, VRFY}: {Brief: "user not local; the reply says where the mailbox is", Refs: []string{"RFC 5321 §3.4"}},
	{553, VRFY}: {
		Brief: "the argument is not an acceptable mailbox name",
		Refs:  []string{"RFC 5321 §3.5.3"},
	},

	// --- EXPN (RFC 5321 §3.5, §4.1.1.7) ---
	{250, EXPN}: {
		Brief:   "list expanded: each line is one member",
		Meaning: "The server expanded the mailing list or alias; each line of the reply is one member address.",
		When:    "After EXPN on a server that discloses list membership (rare on the internet).",
		Fix:     "Nothing to fix. For the admin: list membership is sensitive; most sites disable EXPN.",
		Refs:    []string{"RFC 5321 §3.5.4", "RFC 5321 §7.3"},
	},
	{252, EXPN}: {
		Brief: "server declines to expand the list; not an error",
		Refs:  []string{"RFC 5321 §3.5.3", "RFC 5321 §7.3"},
	},
	{502, EXPN}: {
		Brief: "EXPN disabled (the usual answer on the internet)",
		Refs:  []string{"RFC 5321 §3.5.2", "RFC 5321 §7.3"},
	},
	{550, EXPN}: {Brief: "no such list, or expansion refused", Refs: []string{"RFC 5321 §3.5.3"}},
	{501, EXPN}: {Brief: "EXPN argument missing or garbled", Refs: []string{"RFC 5321 §4.1.1.7"}},

	// --- MAIL FROM (RFC 5321 §3.3, §4.1.1.2) ---
	{250, MAIL}: {
		Brief:   "sender accepted; go on with RCPT TO",
		Meaning: "The server accepted the reverse-path and opened a mail transaction. It has not judged the recipients or the content yet, and some servers postpone sender checks to RCPT time.",
		When:    "After a well-formed MAIL FROM that passes the server's sender checks.",
		Fix:     "Nothing to fix.",
		Refs:    []string{"RFC 5321 §4.1.1.2", "RFC 5321 §3.3"},
	},
	{501, MAIL}: {
		Brief:   "sender address syntax rejected: check the angle brackets, no space after the colon, no illegal characters",
		Meaning: "The server could not parse MAIL FROM's argument as a reverse-path. The address must sit inside angle brackets directly after \"FROM:\"; strict servers reject anything else.",
		When:    "After MAIL FROM:user@example.com (no angle brackets: refused by strict servers such as Postfix with strict_rfc821_envelopes=yes), MAIL FROM: <user@example.com> (a space after the colon, which RFC 5321 §3.3 forbids; some servers refuse it, though that Postfix setting still lets it through), a display name (\"Joe\" <joe@example.com>), unbalanced brackets or quotes, a domain with an underscore, spaces inside the address, or 8-bit characters without SMTPUTF8.",
		Fix:     "Send exactly MAIL FROM:<user@example.com>: no space around the colon, the address in angle brackets, nothing but ESMTP parameters after it. Use <> for a bounce. Look at your mail library's or application's sender setting: it usually passes a display name or a bare address.",
		Refs:    []string{"RFC 5321 §4.1.1.2", "RFC 5321 §3.3", "RFC 5321 §4.1.2"},
	},
	{503, MAIL}: {
		Brief:   "MAIL out of order: EHLO/HELO missing, a transaction already open, or authentication needed first",
		Meaning: "MAIL FROM is not allowed now: the client has not greeted with EHLO/HELO, a transaction is already open (a second MAIL without RSET), or the server wants AUTH or STARTTLS before any mail.",
		When:    "After MAIL FROM sent before EHLO, twice in a row, or on a submission port before AUTH.",
		Fix:     "Send EHLO first; RSET before starting a new transaction; authenticate if the server requires it.",
		Refs:    []string{"RFC 5321 §4.1.4", "RFC 5321 §3.3"},
	},
	{550, MAIL}: {
		Brief:   "sender refused (blocked, not permitted, or failed a sender check)",
		Meaning: "The server refuses this sender for the whole transaction: the address or its domain is blocked, does not exist, fails a sender verification, has a null MX, or you may not send as it without authentication.",
		When:    "After MAIL FROM with a sender the receiving server distrusts or does not allow.",
		Fix:     "Send from a real address at a domain with working MX/A records, authenticate when using your provider's submission server, and check the text for a blocklist or policy reason.",
		Actor:   ActorSenderAdmin,
		Refs:    []string{"RFC 5321 §3.3", "RFC 5321 §4.1.1.2"},
	},
	{553, MAIL}: {
		Brief:   "sender address not allowed as a mailbox name",
		Meaning: "The server will not accept this sender address: its form is refused (not fully qualified, non-ASCII without SMTPUTF8) or you may not use it (an address not owned by your authenticated account).",
		When:    "After MAIL FROM with an unqualified (\"root\") or otherwise unacceptable address, or on a submission server when the sender does not match your login.",
		Fix:     "Use a fully qualified address that your account is allowed to send as.",
		Refs:    []string{"RFC 5321 §3.3", "RFC 5321 §4.1.1.2"},
	},
	{552, MAIL}: {
		Brief:   "declared message size exceeds the server's fixed maximum",
		Meaning: "The SIZE= you declared on MAIL FROM is larger than the server will ever accept.",
		When:    "After MAIL FROM:<...> SIZE=n with n above the limit the server advertised as \"SIZE limit\" in EHLO.",
		Fix:     "Make the message smaller than the advertised limit; send large files as links.",
		Refs:    []string{"RFC 1870 §6.1", "RFC 5321 §4.5.3.1.7"},
	},
	{452, MAIL}: {
		Brief: "cannot take a message of this size now (insufficient storage); retry later",
		Refs:  []string{"RFC 1870 §6.1"},
	},
	{451, MAIL}: {
		Brief: "sender check failed temporarily on the server (often a DNS lookup of your domain); retry",
		Refs:  []string{"RFC 5321 §4.2.3"},
	},
	{455, MAIL}: {Brief: "cannot accommodate these MAIL FROM parameters now; retry", Refs: []string{"RFC 5321 §4.1.1.11"}},
	{555, MAIL}: {
		Brief:   "MAIL FROM parameter not recognised or not implemented",
		Meaning: "The sender address was fine, but a parameter after it is unknown to this server: a misspelled keyword, an extension the server did not advertise (SMTPUTF8, BODY=8BITMIME, SIZE=, RET=/ENVID=), or stray text after the closing bracket.",
		When:    "After MAIL FROM:<a@example.com> FOO=bar, or MAIL FROM:<a@example.com> SMTPUTF8 to a server without SMTPUTF8. Postfix answers \"555 5.5.4 Unsupported option\".",
		Fix:     "Drop every parameter the server did not advertise in its EHLO reply; make sure nothing but \" KEYWORD=value\" pairs follows the address.",
		Refs:    []string{"RFC 5321 §4.1.1.11", "RFC 1869", "RFC 5321 §4.1.1.2"},
	},
	{530, MAIL}: {
		Brief:   "authentication (or TLS) required before MAIL FROM",
		Meaning: "The server will not open a mail transaction until you authenticate, or until the connection is encrypted; the text says which.",
		When:    "On submission servers (ports 587/465) before AUTH, or on servers that demand STARTTLS.",
		Fix:     "Run STARTTLS and EHLO, then AUTH with your account, then MAIL FROM. If you meant to deliver to an MX, you are talking to a submission server instead.",
		Refs:    []string{"RFC 4954 §6", "RFC 3207 §4"},
	},
	{500, MAIL}: {
		Brief:   "MAIL line not understood as a command: a space before the colon, a misspelled FROM, or a line too long",
		Meaning: "The server did not recognise the line as MAIL FROM at all. Servers such as Exim match the literal \"MAIL FROM:\", so \"MAIL FROM :<a@example.com>\" or \"MAIL FRM:\" is an unknown command to them; the line may also exceed 512 octets or hold 8-bit bytes.",
		When:    "After MAIL with a space before the colon, a typo in FROM, a line over the length limit, or non-ASCII without SMTPUTF8.",
		Fix:     "Send exactly MAIL FROM:<user@example.com>, nothing between FROM and the colon, the whole line within 512 octets including CRLF.",
		Refs:    []string{"RFC 5321 §4.1.1.2", "RFC 5321 §3.3", "RFC 5321 §4.5.3.1.4"},
	},
	{500, RCPT}: {
		Brief:   "RCPT line not understood as a command: a space before the colon, a misspelled TO, or a line too long",
		Meaning: "The server did not recognise the line as RCPT TO: a space before the colon or a typo in TO makes it an unknown command to servers that match the literal \"RCPT TO:\"; the line may also be too long or hold 8-bit bytes.",
		When:    "After RCPT with a space before the colon, a typo, an over-long line, or non-ASCII without SMTPUTF8.",
		Fix:     "Send exactly RCPT TO:<user@example.com>, one recipient per line, within 512 octets including CRLF.",
		Refs:    []string{"RFC 5321 §4.1.1.3", "RFC 5321 §3.3", "RFC 5321 §4.5.3.1.4"},
	},
	{554, MAIL}: {
		Brief:   "sender refused by policy (often your IP or the sender's domain is blocked)",
		Meaning: "The server refuses the transaction at MAIL FROM for a policy reason: the sender address or domain is on a block list, or the client IP is refused and the server says so at the first transaction command.",
		When:    "After MAIL FROM from a blocked sender, domain or IP.",
		Fix:     "Read the text for the rule or block list; get delisted, or send from an address and server the receiver accepts.",
		Actor:   ActorSenderAdmin,
		Refs:    []string{"RFC 5321 §3.3", "RFC 5321 §4.2.3"},
	},
	{421, MAIL}: {Brief: "the server closes the session: nothing was accepted; retry later", Refs: []string{"RFC 5321 §3.8"}},

	// --- RCPT TO (RFC 5321 §3.3, §4.1.1.3) ---
	{250, RCPT}: {
		Brief:   "recipient accepted (not proof the mailbox exists: the server may still bounce later)",
		Meaning: "The server accepted this recipient for the transaction. It commits to deliver or to bounce; many servers (catch-all domains, relays, servers that check after DATA) accept addresses that do not exist.",
		When:    "After RCPT TO for an address the server is willing to take.",
		Fix:     "Nothing to fix.",
		Refs:    []string{"RFC 5321 §4.1.1.3", "RFC 5321 §3.3", "RFC 5321 §7.3"},
	},
	{251, RCPT}: {Brief: "not local; the server will forward to the address in the reply", Refs: []string{"RFC 5321 §3.4"}},
	{450, RCPT}: {
		Brief:   "recipient temporarily refused (often greylisting); retry later",
		Meaning: "The server will not take this recipient now but might later: most often greylisting (a first attempt from an unknown sender, IP and recipient is deferred), or a lookup that failed temporarily.",
		When:    "After RCPT TO, especially on the first attempt from a new sending IP.",
		Fix:     "Retry later from the same IP; a normal mail queue does this by itself and gets through after a few minutes.",
		Refs:    []string{"RFC 5321 §4.2.3", "RFC 5321 §4.5.4.1"},
	},
	{451, RCPT}: {Brief: "recipient check failed temporarily on the server; retry later", Refs: []string{"RFC 5321 §4.2.3"}},
	{452, RCPT}: {
		Brief:   "too many recipients (or no storage): send to these later, in another transaction",
		Meaning: "The server will take no more recipients in this transaction, or lacks storage for this one now. Recipients accepted so far stay accepted.",
		When:    "After the n-th RCPT TO when the server's per-message recipient limit is reached (servers must accept at least 100), or when its disk is full.",
		Fix:     "Finish the transaction with the recipients accepted so far, then send the rest in a new transaction or later.",
		Refs:    []string{"RFC 5321 §4.5.3.1.10", "RFC 5321 §4.5.3.1.8"},
	},
	{455, RCPT}: {Brief: "cannot accommodate these RCPT TO parameters now; retry", Refs: []string{"RFC 5321 §4.1.1.11"}},
	{501, RCPT}: {
		Brief:   "recipient address syntax rejected: check the angle brackets, no space after the colon, no illegal characters",
		Meaning: "The server could not parse RCPT TO's argument as a forward-path: the address must be inside angle brackets right after \"TO:\".",
		When:    "After RCPT TO:user@example.com, RCPT TO: <user@example.com>, an address with spaces, a display name, several addresses on one line, a domain with an underscore or other illegal characters, or an empty <>.",
		Fix:     "Send exactly RCPT TO:<user@example.com>, one recipient per command; check the address for typos, commas and stray characters.",
		Refs:    []string{"RFC 5321 §4.1.1.3", "RFC 5321 §3.3", "RFC 5321 §4.1.2"},
	},
	{503, RCPT}: {
		Brief:   "RCPT out of order: MAIL FROM must come first",
		Meaning: "No mail transaction is open: RCPT TO needs an accepted MAIL FROM before it. The server MUST answer 503 here.",
		When:    "After RCPT TO with no MAIL FROM, or after the MAIL FROM was refused (so the transaction never opened).",
		Fix:     "Send MAIL FROM and wait for 250 before RCPT TO; if MAIL FROM was refused, fix that first.",
		Refs:    []string{"RFC 5321 §3.3", "RFC 5321 §4.1.4"},
	},
	{550, RCPT}: {
		Brief:   "recipient refused: no such mailbox, relaying denied, or refused by policy",
		Meaning: "The server will not accept this recipient: the mailbox does not exist (user unknown), you asked it to relay to a domain it does not serve, or a policy (blocklist, sender check) refused you at this point. The enhanced code and text tell which.",
		When:    "After RCPT TO for an unknown user, for a domain the server is not responsible for (\"Relay access denied\"), or when the server defers its sender and client checks to RCPT time.",
		Fix:     "Unknown user: correct the address or ask the recipient for the right one. Relay denied: deliver to the domain's own MX, or authenticate to your own provider. Policy: read the text; fix the reputation, PTR or sender issue it names.",
		Refs:    []string{"RFC 5321 §3.3", "RFC 5321 §4.1.1.3", "RFC 5321 §4.2.3"},
	},
	{551, RCPT}: {Brief: "user not local; resend to the address given in the reply", Refs: []string{"RFC 5321 §3.4", "RFC 5321 §7.4"}},
	{552, RCPT}: {
		Brief:   "storage exceeded: mailbox full, or too many recipients; treat as temporary (452)",
		Meaning: "The recipient's mailbox is over quota, or the server will take no more recipients. RFC 821 wrongly used 552 for the recipient limit; RFC 5321 says a client should treat 552 after RCPT as the temporary 452 and try those recipients again later.",
		When:    "After RCPT TO for a full mailbox, or once the transaction's recipient limit is reached.",
		Fix:     "Send to the recipients accepted so far, retry the others later or in a new transaction; a full mailbox needs its owner to make room.",
		Refs:    []string{"RFC 5321 §4.5.3.1.10", "RFC 5321 §4.2.3"},
	},
	{553, RCPT}: {
		Brief:   "recipient address not allowed as a mailbox name",
		Meaning: "The server refuses the recipient's name: its syntax is unacceptable to this server, it is non-ASCII without SMTPUTF8, or it is a form the server will not deliver to.",
		When:    "After RCPT TO with an unqualified address, an internationalised address to a server without SMTPUTF8, or a domain the server refuses to relay to (some servers use 553 for that).",
		Fix:     "Use a plain fully qualified ASCII address, or send with SMTPUTF8 only where advertised.",
		Refs:    []string{"RFC 5321 §4.1.1.3", "RFC 6531 §3.5"},
	},
	{554, RCPT}: {Brief: "recipient refused: transaction failed (often a policy block of your IP)", Refs: []string{"RFC 5321 §4.2.3"}},
	{555, RCPT}: {
		Brief:   "RCPT TO parameter not recognised or not implemented",
		Meaning: "The recipient address was fine, but a parameter after it (NOTIFY=, ORCPT=, or a misspelled keyword) is unknown to this server.",
		When:    "After RCPT TO:<a@example.com> NOTIFY=SUCCESS to a server that did not advertise DSN, or junk after the bracket.",
		Fix:     "Send only the parameters of extensions the server listed in EHLO.",
		Refs:    []string{"RFC 5321 §4.1.1.11", "RFC 1869"},
	},
	{556, RCPT}: {Brief: "the recipient's domain accepts no mail (null MX)", Refs: []string{"RFC 7504 §3", "RFC 7505"}},
	{530, RCPT}: {Brief: "authentication (or TLS) required before giving recipients", Refs: []string{"RFC 4954 §6"}},

	// --- DATA (RFC 5321 §4.1.1.4, §4.2.5) ---
	{354, DATA}: {Brief: "go ahead: send the message, end with <CRLF>.<CRLF>", Refs: []string{"RFC 5321 §4.1.1.4"}},
	{250, DATA}: {
		Brief:   "message accepted for delivery: the server now owns it",
		Meaning: "After the final dot: the server has taken responsibility for the message. Any later failure must come back as a bounce (DSN).",
		When:    "After the message data ends with <CRLF>.<CRLF>.",
		Fix:     "Nothing to fix.",
		Refs:    []string{"RFC 5321 §4.1.1.4", "RFC 5321 §4.2.5", "RFC 5321 §6.1"},
	},
	{503, DATA}: {
		Brief:   "DATA out of order: no accepted recipient yet",
		Meaning: "DATA needs an open transaction with at least one accepted recipient; there is none.",
		When:    "After DATA with no MAIL FROM, after every RCPT TO was refused, or after BDAT in the same transaction.",
		Fix:     "Fix the MAIL FROM and RCPT TO replies first; send DATA only after at least one 250 to RCPT.",
		Refs:    []string{"RFC 5321 §4.1.4", "RFC 5321 §3.3", "RFC 3030 §2"},
	},
	{554, DATA}: {
		Brief:   "message refused after DATA: a policy or content rejection (spam, virus, SPF/DKIM/DMARC)",
		Meaning: "The transaction failed as a whole. In answer to DATA itself it usually means no valid recipients; after the final dot it means the server refused the content: spam or virus filter, failed SPF, DKIM or DMARC, a banned attachment, or a blocklisted IP.",
		When:    "After DATA or after the message data's final dot.",
		Fix:     "Read the text and enhanced code for the reason: fix authentication (SPF, DKIM, DMARC alignment), the content or the sending IP's reputation; for no valid recipients, fix the RCPT errors first.",
		Actor:   ActorSenderAdmin,
		Refs:    []string{"RFC 5321 §4.2.5", "RFC 5321 §3.1", "RFC 7372"},
	},
	{550, DATA}: {
		Brief:   "message refused by policy after the data (content, authentication or reputation)",
		Meaning: "After the final dot the server refused the message permanently for a policy reason: spam score, DMARC failure, a forbidden attachment, an unauthenticated sender.",
		When:    "After the message data.",
		Fix:     "Read the enhanced code (5.7.x) and text; fix SPF, DKIM and DMARC for your domain, or the content that triggered the filter.",
		Actor:   ActorSenderAdmin,
		Refs:    []string{"RFC 5321 §4.2.5", "RFC 7372"},
	},
	{552, DATA}: {
		Brief: "message too big for the server or the mailbox",
		Fix:   "Stay under the SIZE limit advertised in EHLO; send large files as links.",
		Refs:  []string{"RFC 5321 §4.2.3", "RFC 1870"},
	},
	{451, DATA}: {
		Brief: "message not accepted due to a local error on the server; retry later",
		Refs:  []string{"RFC 5321 §4.2.5"},
	},
	{450, DATA}: {Brief: "message deferred by a temporary policy; retry later", Refs: []string{"RFC 5321 §4.2.5"}},
	{452, DATA}: {Brief: "no storage for the message now; retry later", Refs: []string{"RFC 5321 §4.2.5"}},
	{501, DATA}: {
		Brief:   "DATA takes no argument: something followed the verb",
		Meaning: "The server refused DATA because text followed the verb. DATA has no parameters (RFC 5321 §4.1.1.4), and a server should answer 501 when a command defined without arguments gets some (RFC 5321 §4.3.2). Nothing was sent: the transaction is still open, with its sender and recipients.",
		When:    "After \"DATA something\" or \"DATA \" with a trailing space, often from a hand-typed session or a client that pads its lines.",
		Fix:     "Send the bare line DATA, with CRLF right after the verb; the recipients already accepted stay accepted.",
		Actor:   ActorSender,
		Refs:    []string{"RFC 5321 §4.1.1.4", "RFC 5321 §4.3.2"},
	},

	// --- RSET, NOOP, QUIT, HELP ---
	{250, RSET}: {Brief: "transaction reset; buffers cleared, the session stays open", Refs: []string{"RFC 5321 §4.1.1.5"}},
	{501, RSET}: {
		Brief:   "RSET takes no argument: something followed the verb",
		Meaning: "The server refused RSET because text followed the verb. RSET has no parameters (RFC 5321 §4.1.1.5); a command defined without arguments should draw 501 when given some (RFC 5321 §4.3.2). The reset did not happen: the transaction is as it was.",
		When:    "After \"RSET something\" or a trailing space after the verb.",
		Fix:     "Send the bare line RSET. A server must answer a plain RSET with 250 (RFC 5321 §4.1.1.5).",
		Actor:   ActorSender,
		Refs:    []string{"RFC 5321 §4.1.1.5", "RFC 5321 §4.3.2"},
	},
	{250, NOOP}: {Brief: "alive: the server answers and nothing changed", Refs: []string{"RFC 5321 §4.1.1.9"}},
	{501, NOOP}: {
		Brief:   "NOOP argument refused, though servers should ignore it",
		Meaning: "The server refused NOOP because of the text after the verb. NOOP may carry a string, which the server should ignore (RFC 5321 §4.1.1.9), so this server is stricter than the RFC asks. The session is unaffected.",
		When:    "After \"NOOP something\", or bytes the server cannot parse after the verb.",
		Fix:     "Send the bare line NOOP. The server's admin may note that RFC 5321 §4.1.1.9 asks servers to ignore the argument.",
		Actor:   ActorSender,
		Refs:    []string{"RFC 5321 §4.1.1.9"},
	},
	{221, QUIT}: {Brief: "goodbye: the server closes the connection", Refs: []string{"RFC 5321 §4.1.1.10"}},
	{501, QUIT}: {
		Brief:   "QUIT takes no argument: something followed the verb",
		Meaning: "The server refused QUIT because text followed the verb. QUIT has no parameters (RFC 5321 §4.1.1.10); a command defined without arguments should draw 501 when given some (RFC 5321 §4.3.2). The session is still open.",
		When:    "After \"QUIT something\" or a trailing space after the verb.",
		Fix:     "Send the bare line QUIT; the server must then answer 221 and close (RFC 5321 §4.1.1.10).",
		Actor:   ActorSender,
		Refs:    []string{"RFC 5321 §4.1.1.10", "RFC 5321 §4.3.2"},
	},
	{211, HELP}: {Brief: "system status or help", Refs: []string{"RFC 5321 §4.1.1.8"}},
	{214, HELP}: {Brief: "help text for humans", Refs: []string{"RFC 5321 §4.1.1.8"}},
	{502, HELP}: {Brief: "HELP not implemented", Refs: []string{"RFC 5321 §4.1.1.8"}},

	// --- a verb the server does not know ---
	{500, Unknown}: {
		Brief:   "command not recognised (unknown verb, line too long, or bad characters)",
		Meaning: "The server did not recognise the command: a misspelled or unsupported verb, a line longer than 512 octets, or characters it refuses.",
		When:    "After a typo in the verb, a private command, an over-long line, a line with bare LF or 8-bit bytes.",
		Fix:     "Check the verb, the line length and the line ending (CRLF).",
		Refs:    []string{"RFC 5321 §4.2.4", "RFC 5321 §4.5.3.1.4", "RFC 5321 §2.4"},
	},
	{502, Unknown}: {
		Brief: "command recognised but not implemented",
		Refs:  []string{"RFC 5321 §4.2.4"},
	},
	{503, Unknown}: {
		Brief: "command out of order (after a 554 greeting every command but QUIT gets this)",
		Refs:  []string{"RFC 5321 §4.1.4", "RFC 5321 §3.1"},
	},
}
