package probe

import (
	"strings"
)

// The behaviours advice names a setting for.
const (
	knobRequireBrackets = "require-brackets" // refuse MAIL FROM/RCPT TO paths without <>
	knobVRFYHide        = "vrfy-hide"        // answer 252 to every VRFY
	knobVRFYOff         = "vrfy-off"         // what a server does instead of 252 when VRFY is switched off
	knobEXPNOff         = "expn-off"         // switch EXPN off
	knobNullSender      = "null-sender"      // accept MAIL FROM:<>
	knobPostmaster      = "postmaster"       // accept postmaster at every domain
	knobCatchAll        = "catch-all"        // where a catch-all is configured
	knobSTARTTLS        = "starttls"         // offer STARTTLS
	knobErrorLimit      = "error-limit"      // errors before the session is dropped
	knobDomainLiterals  = "domain-literals"  // accept user@[192.0.2.1]
)

// knob is one MTA's setting for one behaviour.
type knob struct {
	mta     string // as explain.Software names it
	setting string
}

// knobs is, per behaviour, the setting of each common MTA, in the order
// they are named side by side when the host's software is not known. A
// new MTA or behaviour is a row here.
var knobs = map[string][]knob{
	knobRequireBrackets: {
		{"Postfix", "strict_rfc821_envelopes = yes"},
		{"Exim", "no parser option; a deny in acl_smtp_mail/acl_smtp_rcpt on $smtp_command without a <"},
		{"Sendmail", "no option: it parses RFC 822 forms"},
		{"OpenSMTPD", "requires the brackets already"},
		{"qmail", "no option in qmail-smtpd"},
	},
	knobVRFYHide: {
		{"Postfix", "no 252 setting: disable_vrfy_command = yes answers 502"},
		{"Exim", "leave acl_smtp_vrfy unset (252 Administrative prohibition), or end it with a deny"},
		{"Sendmail", "PrivacyOptions=novrfy (sendmail.mc: define(`confPRIVACY_FLAGS', `novrfy'))"},
		{"OpenSMTPD", "does not implement VRFY"},
		{"qmail", "qmail-smtpd answers 252 to every VRFY already"},
	},
	knobVRFYOff: {
		{"Postfix", "disable_vrfy_command = yes answers 502; Postfix has no 252 setting"},
		{"Exim", "unset acl_smtp_vrfy answers 252"},
		{"Sendmail", "PrivacyOptions=novrfy answers 252"},
	},
	knobEXPNOff: {
		{"Postfix", "does not implement EXPN"},
		{"Exim", "leave acl_smtp_expn unset (550 Administrative prohibition)"},
		{"Sendmail", "PrivacyOptions=noexpn (sendmail.mc: confPRIVACY_FLAGS)"},
		{"OpenSMTPD", "does not implement EXPN"},
	},
	knobNullSender: {
		{"Postfix", "look for a check_sender_access or smtpd_sender_restrictions rule matching <> (smtpd_null_access_lookup_key)"},
		{"Exim", "look for a deny in acl_smtp_mail when $sender_address is empty"},
		{"Sendmail", "look for an access db entry for <> (FEATURE(`access_db'))"},
		{"OpenSMTPD", "look for a match rule on the empty sender (from mail-from)"},
	},
	knobPostmaster: {
		{"Postfix", "add postmaster to alias_maps (or virtual_alias_maps for virtual domains)"},
		{"Exim", "the default acl_smtp_rcpt accepts local_parts = postmaster; add a redirect router entry for it"},
		{"Sendmail", "add postmaster to /etc/mail/aliases, then newaliases"},
		{"OpenSMTPD", "add postmaster to the aliases table"},
		{"qmail", "create ~alias/.qmail-postmaster"},
	},
	knobCatchAll: {
		{"Postfix", "virtual_alias_maps with an @domain entry, or luser_relay"},
		{"Exim", "a redirect router that matches every local part"},
		{"Sendmail", "a virtusertable entry for @domain"},
		{"OpenSMTPD", "an aliases or virtual table entry for @"},
		{"qmail", ".qmail-default"},
	},
	knobSTARTTLS: {
		{"Postfix", "smtpd_tls_security_level = may with smtpd_tls_chain_files"},
		{"Exim", "tls_advertise_hosts = * with tls_certificate and tls_privatekey"},
		{"Sendmail", "confSERVER_CERT and confSERVER_KEY in sendmail.mc"},
		{"OpenSMTPD", "listen on ... tls pki NAME"},
		{"qmail", "a STARTTLS patch or a front end"},
	},
	knobErrorLimit: {
		{"Postfix", "smtpd_soft_error_limit / smtpd_hard_error_limit"},
		{"Exim", "smtp_max_synprot_errors"},
		{"Sendmail", "confBAD_RCPT_THROTTLE"},
	},
	knobDomainLiterals: {
		{"Postfix", "resolve_numeric_domain, and the literal in mydestination ([192.0.2.1])"},
		{"Exim", "allow_domain_literals = true"},
		{"Sendmail", "the literal in the class {w} (local-host-names)"},
	},
}

// softwareName is the MTA the host was identified as, when the
// identification is trusted enough to key advice on: "" otherwise.
func softwareName(h *HostReport) string {
	if h == nil || h.Software == nil || h.Software.Name == "" {
		return ""
	}
	switch h.Software.Confidence {
	case "high", "medium":
		return h.Software.Name
	}
	return ""
}

// knobsFor names the setting for behaviour: the identified MTA's alone
// when it is known and listed, else the common MTAs' side by side.
func knobsFor(h *HostReport, behaviour string) string {
	rows := knobs[behaviour]
	if name := softwareName(h); name != "" {
		for _, k := range rows {
			if strings.EqualFold(k.mta, name) {
				return k.mta + ": " + k.setting
			}
		}
	}
	parts := make([]string, 0, len(rows))
	for _, k := range rows {
		parts = append(parts, k.mta+": "+k.setting)
	}
	return strings.Join(parts, "; ")
}
