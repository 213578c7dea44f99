package main

import (
	"fmt"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// jsonFieldsHelp is `smtpprobe help json`: the contract, then each
// subcommand's top-level fields. The README's "JSON output" section
// describes the nested objects.
const jsonFieldsHelp = `Every --format json (or --json) document is one JSON object on stdout, and
every one carries "schema_version" (currently 1). Fields are only ever added
within a version; a removal or a change of meaning bumps it. Keys are
snake_case. The README's "JSON output" section describes the nested objects.

--format ndjson writes the same objects compact, one a line: the whole
document for probe, demo, why, address, mx, version and explain CODE...;
one line per address for vrfy (schema_version plus the fields of one
addresses[] entry); one line per reply found for explain - (schema_version
plus the fields of one replies[] entry), written as the input is read; one
line per recipient for explain on messages. With --targets (probe, vrfy,
address) there is one line per target: that target's document (for vrfy,
schema_version, target, addresses, reports) plus batch {line, kind,
server_facts_from, error}.

probe, demo
  schema_version, target, domain, domain_note (host targets), mx (null unless
  a domain or address was given), hosts, verdicts (of the first host probed),
  incomplete, incomplete_reason (when incomplete), warnings (when any),
  rollup (with more than one host: hosts, rows of key, values (one per
  host) and agree, and disagree, the number of rows the hosts differ on),
  identity (what the server sees of the prober: helo, helo_source, from,
  from_source, from_domain {domain, status}, problems),
  dane, mta_sts, tls_rpt (the domain's transport-security verdicts, as in
  tls; null for a host target or with --no-transport; every hosts[] entry
  carries its own dane and mta_sts), proxy (with a SOCKS5 proxy: url, dns
  "direct" or "proxy")

version
  schema_version, version, module, commit, commit_time, modified,
  go_version, os, arch

vrfy
  schema_version, addresses (one answer per address asked: address, answer,
  reason, host, sent, reply, vrfy_policy, cause (the cause word of a refused
  VRFY, as on probe's steps), withheld (why the reply tells nothing about
  the mailbox: a failed baseline)), reports (the probe documents behind
  them, as probe --json)

why
  schema_version, line, command ("mail" or "rcpt"), server, host, host_errors,
  prelude, extensions, findings, connections, attempts, conclusion, software
  (the diagnosed host's MTA, as on probe's hosts), proxy (as on probe)

address
  schema_version, input, address, bracketed, route, local_part,
  local_part_form, domain, domain_form, a_label, a_label_address, path,
  needs_smtputf8, valid_mailbox, valid_addr_spec, findings

mx
  schema_version, domain, input, kind, code, rcode, ad, dnssec, server, cnames, ttl,
  hosts, truncated_hosts, warnings, queries, finding, error (on exit 3)

tls
  schema_version, domain, resolver, trust, mx_dnssec, mx_rcode, mx_error (when
  the MX lookup failed), hosts, lookups, dane, mta_sts, tls_rpt, enforcement
  (when a host takes mail in plain text). dane, mta_sts and tls_rpt each carry
  verdict, reason and rfc (and fix when there is something to fix); every
  hosts[] entry carries host, helo_name and helo_source (the EHLO name
  announced and where it came from: given, hostname, address-literal), from
  (the sender of the plain-text check), the layers starttls, handshake, pkix
  and name (each with status and detail), enforcement, tls, tlsa, and its own
  dane and mta_sts (null when no policy applies). docs/tls.md lists every
  verdict word.

explain CODE (one code or reply)
  schema_version, input, code, enhanced, context, class, class_name, category,
  short_text, summary, meaning, when, fix, generic_meaning, generic_fix,
  actor, refs, enhanced_status, recognized, warnings, notes, variants
explain CODE CODE... (a comparison)
  schema_version, items, differences, when_which
explain - (replies found in a log on stdin)
  schema_version, replies
explain FILE|DIR, or - on a whole message, an mbox or Amazon SES JSON
  schema_version, recipients (one entry per recipient of every message:
  message, source, kind, format, generator, reporting_mta, subject,
  original_message_id, truncated, recipient, original_recipient, action,
  status, reply_code, remote_mta, diagnostic, diagnostic_type, last_attempt,
  reason, cause, actor, explanation, fix, context, recognized_by, feedback,
  auto_reply), summary (messages, recipients, kinds, reasons); ndjson writes
  one recipients[] entry a line. docs/bounces.md lists every reason and
  cause word.
explain, on a code it cannot explain (exit 1)
  schema_version, input, error

A field marked with a condition appears only then; fields that would be
empty are left out of the why, explain and address documents.
`

// causesHelp documents the closed set of cause words a probe step (and a
// why conclusion) carries, from the table the classifier itself uses.
func causesHelp() string {
	var b strings.Builder
	b.WriteString(`
probe steps and why attempts: cause (on every refused or deferred one); steps: blocklist, retry_after_s,
withheld; verdicts: baselines, withheld, throttling; hosts: helo_name, helo_fallback
  cause is one word of this closed set, read from the reply code, the enhanced
  code, the recognised text and the command that drew the reply:
`)
	for _, c := range explain.Causes {
		fmt.Fprintf(&b, "    %-16s %s\n", c.Cause, c.Meaning)
	}
	b.WriteString(`  A refusal about the mailbox, the domain or the client (blocklisted,
  greylisted, rate-limited, sender-rejected, helo-rejected, ...) is never judged
  strict. baselines[] are {name (helo|sender|mailbox), status (ok|failed|
  not-tested), step, sent, code, enhanced, cause, fault (helo|sender|client|
  domain|mailbox), reason}; a failed one withholds the verdicts resting on it
  (steps[].withheld, verdicts.withheld{verdict: reason}).
`)
	return b.String()
}
