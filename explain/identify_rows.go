package explain

// Identification rows: what each MTA's greeting, EHLO reply and keyword
// order look like by default, from its own source. A new MTA is more rows.
//
// Patterns are regular expressions matched against the lower-cased text
// with runs of white space folded to one space. A banner row without a
// shape names the software; its first group, if any, is the version.

type fingerprintRow struct {
	mta     string
	pattern string
	shape   string // banner and greeting rows: the default shape, in words
}

const (
	srcChasquid = "chasquid"
	srcHaraka   = "Haraka"
	srcMaddy    = "maddy"
	srcMox      = "mox"
	srcCourier  = "Courier"
	srcGoSMTP   = "go-smtp"
)

// bannerFingerprints match the greeting's text after "220 ".
var bannerFingerprints = []fingerprintRow{
	{mta: srcPostfix, pattern: `\besmtp postfix\b(?: \((\d+\.\d+(?:\.\d+)?)[^)]*\))?`},
	{mta: srcPostfix, pattern: `\bpostfix (\d+\.\d+(?:\.\d+)?)\b`},
	{mta: srcExim, pattern: `\besmtp exim(?: (\d+\.\d+(?:\.\d+)?(?:_\d+)?))?`},
	{mta: srcSendmail, pattern: `\besmtp sendmail(?: (\d+\.\d+\.\d+))?`},
	{mta: srcSendmail, pattern: `\bsendmail (\d+\.\d+\.\d+)`},
	{mta: srcOpenSMTPD, pattern: `\besmtp opensmtpd\b`},
	{mta: srcM365, pattern: `\.protection\.outlook\.com microsoft esmtp mail service`},
	{mta: srcExchange, pattern: `^[^ ]* microsoft esmtp mail service(?:, version: (\d+(?:\.\d+){1,3}))?`},
	{mta: srcGmail, pattern: `^mx\.google\.com esmtp\b|\bgsmtp$`},
	{mta: srcYahoo, pattern: `\bymail esmtp\b|\.yahoodns\.net esmtp`},
	{mta: srcHaraka, pattern: `\bharaka(?:[/ ](\d+\.\d+(?:\.\d+)?))?\b`},
	{mta: srcChasquid, pattern: `\besmtp chasquid\b`},
	{mta: srcMox, pattern: `\besmtp mox\b(?: (v?\d+\.\d+(?:\.\d+)?))?`},
	{mta: srcCourier, pattern: `\besmtp courier\b|\bcourier mail server\b`},
	{mta: srcGoSMTP, pattern: `^[^ ]+ esmtp service ready$`, shape: `"HOST ESMTP Service Ready"`},
	// Postfix's default smtpd_banner is "$myhostname ESMTP $mail_name";
	// with the name removed, "$myhostname ESMTP" is what is left. qmail's
	// greeting is the same shape.
	{mta: srcPostfix, pattern: `^[^ ]+ esmtp$`, shape: `"HOST ESMTP"`},
	{mta: srcQmail, pattern: `^[^ ]+ esmtp$`, shape: `"HOST ESMTP"`},
}

// greetingFingerprints match the first line of the EHLO reply.
var greetingFingerprints = []fingerprintRow{
	{mta: srcPostfix, pattern: `^[^ ]+$`, shape: "the host name alone"},
	{mta: srcQmail, pattern: `^[^ ]+$`, shape: "the host name alone"},
	{mta: srcExim, pattern: `^[^ ]+ hello [^ ]+ \[[0-9a-f.:]+\]$`, shape: `"HOST Hello NAME [IP]"`},
	{mta: srcSendmail, pattern: `^[^ ]+ hello [^ ]+ \[[0-9a-f.:]+\](?: \(may be forged\))?, pleased to meet you$`, shape: `"HOST Hello NAME [IP], pleased to meet you"`},
	{mta: srcOpenSMTPD, pattern: `^[^ ]+ hello [^ ]+ \[[0-9a-f.:]+\], pleased to meet you$`, shape: `"HOST Hello NAME [IP], pleased to meet you"`},
	{mta: srcExchange, pattern: `^[^ ]+ hello \[[0-9a-f.:]+\]$`, shape: `"HOST Hello [IP]"`},
	{mta: srcM365, pattern: `\.outlook\.com hello \[[0-9a-f.:]+\]$`, shape: `"HOST.outlook.com Hello [IP]"`},
	{mta: srcGmail, pattern: `^mx\.google\.com at your service`, shape: `"mx.google.com at your service"`},
	{mta: srcHaraka, pattern: `haraka is at your service\.?$`, shape: `"... Haraka is at your service."`},
	{mta: srcGoSMTP, pattern: `^hello [^ ]+$`, shape: `"Hello NAME"`},
	{mta: srcCourier, pattern: `^[^ ]+ ok\.$`, shape: `"HOST Ok."`},
}

// keywordFingerprints are EHLO keywords that only one MTA family sends.
var keywordFingerprints = []fingerprintRow{
	{mta: srcExchange, pattern: "XEXCH50 X-EXPS X-ANONYMOUSTLS X-LINK2STATE XRDST XSHADOW XSHADOWREQUEST XPROXYFROM"},
	{mta: srcM365, pattern: "XRDST"},
	{mta: srcExim, pattern: "X_PIPE_CONNECT PIPE_CONNECT WELLKNOWN"},
	{mta: srcSendmail, pattern: "VERB ONEX DELIVERBY"},
	{mta: srcPostfix, pattern: "XCLIENT XFORWARD XVERP"},
	{mta: srcCourier, pattern: "XCOURIEREXTENSIONS XEXDATA XSECURITY"},
}

// orderFingerprints list, for each MTA, every keyword it can advertise in
// the order its code sends them.
var orderFingerprints = []fingerprintRow{
	// postfix/src/smtpd/smtpd.c ehlo_cmd
	{mta: srcPostfix, pattern: "PIPELINING SIZE VRFY ETRN STARTTLS AUTH XVERP XCLIENT XFORWARD ENHANCEDSTATUSCODES 8BITMIME DSN SMTPUTF8 CHUNKING REQUIRETLS"},
	// exim src/src/smtp_in.c, the EHLO response
	{mta: srcExim, pattern: "SIZE LIMITS 8BITMIME DSN ETRN EXPN PIPELINING X_PIPE_CONNECT PIPE_CONNECT AUTH CHUNKING STARTTLS PRDR SMTPUTF8 WELLKNOWN HELP"},
	// sendmail/srvrsmtp.c, the EHLO response
	{mta: srcSendmail, pattern: "ENHANCEDSTATUSCODES PIPELINING EXPN VERB 8BITMIME SIZE DSN SMTPUTF8 ETRN AUTH STARTTLS DELIVERBY HELP"},
	// usr.sbin/smtpd/smtp_session.c smtp_proceed_ehlo
	{mta: srcOpenSMTPD, pattern: "8BITMIME ENHANCEDSTATUSCODES SIZE DSN STARTTLS AUTH HELP"},
	// qmail-smtpd.c smtp_ehlo
	{mta: srcQmail, pattern: "PIPELINING 8BITMIME"},
	{mta: srcExchange, pattern: "SIZE PIPELINING DSN ENHANCEDSTATUSCODES STARTTLS X-ANONYMOUSTLS AUTH X-EXPS 8BITMIME BINARYMIME CHUNKING XEXCH50 SMTPUTF8 XRDST XSHADOWREQUEST"},
	{mta: srcM365, pattern: "SIZE PIPELINING DSN ENHANCEDSTATUSCODES STARTTLS 8BITMIME BINARYMIME CHUNKING SMTPUTF8 XRDST"},
	{mta: srcGmail, pattern: "SIZE 8BITMIME STARTTLS ENHANCEDSTATUSCODES PIPELINING CHUNKING SMTPUTF8"},
	// courier/module.esmtp/courieresmtpd.C ehlo (XVERP=Courier reads as XVERP)
	{mta: srcCourier, pattern: "AUTH STARTTLS XCOURIEREXTENSIONS XVERP XEXDATA XSECURITY PIPELINING 8BITMIME SMTPUTF8 SIZE DSN"},
	// github.com/emersion/go-smtp conn.go handleGreet
	{mta: srcGoSMTP, pattern: "PIPELINING 8BITMIME ENHANCEDSTATUSCODES CHUNKING STARTTLS AUTH SMTPUTF8 REQUIRETLS BINARYMIME DSN SIZE LIMITS RRVS DELIVERBY MT-PRIORITY"},
}
