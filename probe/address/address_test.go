package address

import (
	"encoding/json"
	"strings"
	"testing"
)

// addressCases is the table: each address, whether it is a valid SMTP
// Mailbox, the findings it must carry, and why.
var addressCases = []struct {
	in     string
	valid  bool
	ids    []string // findings that must be present
	reason string
}{
	// Plain valid forms.
	{"alice@example.com", true, nil, "the ordinary dot-string form"},
	{"first.last@example.com", true, nil, "atoms separated by single dots"},
	{"user+tag@example.com", true, nil, "+ is atext (sub-addressing)"},
	{"x@example.com", true, nil, "one-character local part"},
	{"!#$%&'*+-/=?^_`{|}~@example.com", true, nil, "every atext special is allowed unquoted"},
	{"o'reilly@example.com", true, nil, "apostrophe is atext"},
	{"ALICE@EXAMPLE.COM", true, nil, "case does not matter for validity"},
	{"alice@mail.sub.example.co.uk", true, nil, "many labels"},
	{"alice@a-b.example", true, nil, "hyphen inside a label"},
	{"alice@123.example", true, nil, "a label may start with a digit"},
	{"alice@xn--bcher-kva.example", true, nil, "a valid A-label written directly"},
	{strings.Repeat("a", 64) + "@example.com", true, nil, "64 octets is the local-part limit, inclusive"},
	{"a@" + strings.Repeat("b", 63) + ".example", true, nil, "63 octets is the label limit, inclusive"},
	{"Postmaster@example.com", true, []string{"postmaster"}, "postmaster in any case gets a note"},

	// Brackets and display names.
	{"<alice@example.com>", true, []string{"angle-brackets"}, "brackets are accepted and reported"},
	{"<<alice@example.com>>", false, []string{"angle-brackets", "nested-angle-brackets"}, "doubled brackets"},
	{"<alice@example.com", false, []string{"unbalanced-angle-bracket"}, "opening bracket only"},
	{"alice@example.com>", false, []string{"unbalanced-angle-bracket"}, "closing bracket only"},
	{"Alice <alice@example.com>", false, []string{"display-name"}, "a header name-addr, not an address"},
	{"\"Alice Liddell\" <alice@example.com>", false, []string{"display-name"}, "quoted display name"},
	{"< alice@example.com >", false, []string{"space-inside-brackets"}, "spaces inside the brackets"},
	{"<>", false, []string{"null-path"}, "the null reverse-path is not an address"},
	{" alice@example.com", false, []string{"surrounding-whitespace"}, "leading space"},
	{"alice@example.com ", false, []string{"surrounding-whitespace"}, "trailing space"},
	{"", false, []string{"empty"}, "nothing at all"},
	{"   ", false, []string{"surrounding-whitespace", "empty"}, "only spaces"},

	// Source routes.
	{"<@relay.example:alice@example.com>", true, []string{"source-route", "angle-brackets"}, "a route must be accepted, is ignored"},
	{"@a.example,@b.example:alice@example.com", true, []string{"source-route"}, "two-hop route"},
	{"@a_b.example:alice@example.com", false, []string{"bad-source-route"}, "route hop with an invalid domain"},

	// The @.
	{"alice.example.com", false, []string{"missing-at"}, "no domain"},
	{"postmaster", false, []string{"missing-at", "postmaster"}, "bare postmaster is only a RCPT special case"},
	{"alice@@example.com", false, []string{"multiple-at"}, "doubled @"},
	{"a@b@example.com", false, []string{"multiple-at"}, "@ in the local part unquoted"},
	{"@example.com", false, []string{"local-part-empty"}, "empty local part"},
	{"alice@", false, []string{"domain-empty"}, "empty domain"},

	// Local part dots, spaces and specials.
	{".alice@example.com", false, []string{"local-part-leading-dot"}, "leading dot"},
	{"alice.@example.com", false, []string{"local-part-trailing-dot"}, "trailing dot"},
	{"al..ice@example.com", false, []string{"local-part-consecutive-dots"}, "consecutive dots (old Japanese mobile carriers issued these)"},
	{"john doe@example.com", false, []string{"unquoted-space"}, "unquoted space"},
	{"john,doe@example.com", false, []string{"unquoted-special"}, "unquoted comma"},
	{"a;b:c@example.com", false, []string{"unquoted-special"}, "unquoted semicolon and colon"},
	{"a\\b@example.com", false, []string{"unquoted-special"}, "backslash outside quotes"},
	{"a[b]@example.com", false, []string{"unquoted-special"}, "brackets in the local part"},
	{"john\"doe@example.com", false, []string{"unquoted-special"}, "a lone double quote"},
	{strings.Repeat("a", 65) + "@example.com", false, []string{"local-part-too-long"}, "65 octets is one over the limit"},

	// Quoted local parts.
	{"\"john doe\"@example.com", true, []string{"quoted-local-part"}, "quoted space is legal but risky"},
	{"\"john\"@example.com", true, []string{"quoted-local-part", "quoting-unnecessary"}, "quotes around a plain atom"},
	{"\"a..b\"@example.com", true, []string{"quoted-local-part"}, "quoting makes consecutive dots legal"},
	{"\"a\\\"b\"@example.com", true, []string{"quoted-local-part"}, "escaped double quote inside quotes"},
	{"\"a@b\"@example.com", true, []string{"quoted-local-part"}, "an @ inside quotes is not a separator"},
	{"\"\"@example.com", true, []string{"empty-quoted-local-part"}, "empty quoted string"},
	{"\"test\\©\"@iana.org", false, []string{"quoted-pair-invalid", "smtputf8-required"}, "quoted-pairSMTP takes printable ASCII only; RFC 6531 does not extend it"},
	{"\"test©\"@iana.org", true, []string{"quoted-local-part", "smtputf8-required"}, "UTF-8 is qtextSMTP under RFC 6531, unescaped"},
	{"\"a\\ b\"@example.com", true, []string{"quoted-local-part"}, "a backslash may quote a space"},
	{"\"john@example.com", false, []string{"unterminated-quote"}, "missing closing quote"},
	{"\"john\"doe@example.com", false, []string{"text-after-quote"}, "text glued to the closing quote"},
	{"\"john\".doe@example.com", false, []string{"obsolete-local-part"}, "RFC 822 mixed words"},
	{"john.\"doe\"@example.com", false, []string{"obsolete-local-part"}, "RFC 822 mixed words, quote second"},
	{"\"a\tb\"@example.com", false, []string{"control-character"}, "TAB is legal in RFC 5322 quotes, not in SMTP"},

	// Comments.
	{"(comment)alice@example.com", false, []string{"comment"}, "leading comment"},
	{"alice(comment)@example.com", false, []string{"comment"}, "comment before the @"},
	{"alice@example.com(comment)", false, []string{"comment"}, "trailing comment on the domain"},

	// UTF-8.
	{"jörg@example.com", true, []string{"smtputf8-required"}, "non-ASCII local part needs SMTPUTF8"},
	{"用户@例子.测试", true, []string{"smtputf8-required", "idn-domain-utf8"}, "all-Unicode address"},
	{"alice@bücher.example", true, []string{"idn-domain"}, "IDN domain alone: send the A-label"},
	{"alice@xn--zz.example", false, []string{"invalid-a-label"}, "broken punycode"},
	{"alice＠example.com", false, []string{"fullwidth-at", "missing-at"}, "full-width at sign from an East Asian keyboard"},
	{"john\u00a0doe@example.com", true, []string{"invisible-character", "smtputf8-required"}, "no-break space looks like a space"},
	{"alice@例子。测试", true, []string{"idn-domain"}, "ideographic full stop is mapped to a dot, so two labels"},
	{"\xff@example.com", false, []string{"invalid-utf8"}, "not UTF-8"},
	{"alice@exa\u200dmple.com", false, []string{"idn-invalid"}, "zero-width joiner is not allowed there"},
	{"a\x00b@example.com", false, []string{"control-character"}, "NUL byte"},
	{"a\r\nRSET@example.com", false, []string{"control-character"}, "CRLF injection attempt"},

	// Domains.
	{"alice@example.com.", false, []string{"domain-trailing-dot"}, "root dot"},
	{"alice@.example.com", false, []string{"domain-leading-dot"}, "leading dot in the domain"},
	{"alice@example..com", false, []string{"domain-consecutive-dots"}, "empty label"},
	{"alice@exa_mple.com", false, []string{"domain-underscore"}, "underscore is DNS-legal, not SMTP-legal"},
	{"alice@exa mple.com", false, []string{"domain-invalid-character"}, "space in the domain"},
	{"alice@exa!mple.com", false, []string{"domain-invalid-character"}, "atext but not hostname"},
	{"alice@-example.com", false, []string{"domain-label-hyphen"}, "label starts with a hyphen"},
	{"alice@example-.com", false, []string{"domain-label-hyphen"}, "label ends with a hyphen"},
	{"a@" + strings.Repeat("b", 64) + ".example", false, []string{"domain-label-too-long"}, "64-octet label"},
	{"a@" + strings.Repeat("abcdefghi.", 26) + "example", false, []string{"domain-too-long", "path-too-long"}, "267-octet domain"},
	{"alice@localhost", true, []string{"domain-not-fqdn"}, "single label"},
	{"alice@192.0.2.1", true, []string{"domain-looks-like-ip"}, "IP written without brackets"},
	{"alice@example.123", true, []string{"domain-numeric-tld"}, "numeric top-level label"},

	// Address literals.
	{"alice@[192.0.2.1]", true, []string{"address-literal"}, "IPv4 literal"},
	{"alice@[IPv6:2001:db8::1]", true, []string{"address-literal"}, "compressed IPv6 literal"},
	{"alice@[IPv6:2001:db8:0:0:0:0:0:1]", true, []string{"address-literal"}, "full IPv6 literal"},
	{"alice@[ipv6:::ffff:192.0.2.1]", true, []string{"address-literal"}, "IPv4-mapped, lower-case tag"},
	{"alice@[IPv6:1:2:3:4:5:6:192.0.2.1]", true, []string{"address-literal"}, "IPv6v4-full"},
	{"alice@[IPv6:1:2:3:4:5:6:7::]", false, []string{"invalid-ipv6-literal"}, "RFC 5321 wants :: to stand for two groups"},
	{"alice@[IPv6:1::2::3]", false, []string{"invalid-ipv6-literal"}, "two ::"},
	{"alice@[IPv6:fe80::1%eth0]", false, []string{"invalid-ipv6-literal"}, "zone index"},
	{"alice@[IPv6:12345::1]", false, []string{"invalid-ipv6-literal"}, "five hex digits"},
	{"alice@[2001:db8::1]", false, []string{"invalid-ipv6-literal"}, "IPv6 without its tag"},
	{"alice@[x-tag:]", false, []string{"invalid-general-literal"}, "general literal with no content"},
	{"alice@[x_tag:content]", false, []string{"invalid-general-literal"}, "general literal tag with an underscore"},
	{"alice@[192.0.2.256]", false, []string{"invalid-ipv4-literal"}, "octet over 255"},
	{"alice@[192.0.2]", false, []string{"invalid-ipv4-literal"}, "three octets"},
	{"alice@[example.com]", false, []string{"invalid-ipv4-literal"}, "a host name in brackets"},
	{"alice@[192.0.2.1", false, []string{"unterminated-address-literal"}, "no closing bracket"},
	{"alice@[192.0.2.1]x", false, []string{"text-after-address-literal"}, "text after the literal"},
	{"alice@[x-tag:content]", true, []string{"unregistered-literal-tag"}, "general literal with an unknown tag"},

	// Path length.
	{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63), false, []string{"path-too-long"}, "every part within its limit, the path over 256"},
}

func TestAnalyzeAddressTable(t *testing.T) {
	if len(addressCases) < 60 {
		t.Fatalf("only %d cases; the table must keep at least 60", len(addressCases))
	}
	for _, tc := range addressCases {
		t.Run(tc.reason, func(t *testing.T) {
			r := AnalyzeAddress(tc.in)
			if r.ValidMailbox != tc.valid {
				t.Errorf("AnalyzeAddress(%q).ValidMailbox = %v, want %v (%s); findings: %s", tc.in, r.ValidMailbox, tc.valid, tc.reason, findingIDs(r))
			}
			for _, id := range tc.ids {
				if !r.Has(id) {
					t.Errorf("AnalyzeAddress(%q) lacks finding %q (%s); has %s", tc.in, id, tc.reason, findingIDs(r))
				}
			}
			if tc.valid && tc.ids == nil && len(r.Findings) > 0 {
				t.Errorf("AnalyzeAddress(%q) has findings %s, want none", tc.in, findingIDs(r))
			}
		})
	}
}

// TestAddressRulesExercised keeps the rule table and the case table in
// step: every finding id can be produced by some case.
func TestAddressRulesExercised(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range addressCases {
		for _, f := range AnalyzeAddress(tc.in).Findings {
			seen[f.ID] = true
		}
	}
	for id, rule := range addressRules {
		if !seen[id] {
			t.Errorf("rule %q is never produced by the case table", id)
		}
		if rule.ref == "" || rule.format == "" {
			t.Errorf("rule %q lacks a reference or message", id)
		}
		if rule.severity != SeverityError && rule.severity != SeverityWarning && rule.severity != SeverityNote {
			t.Errorf("rule %q has severity %q", id, rule.severity)
		}
	}
}

func TestAnalyzeAddressFields(t *testing.T) {
	tests := []struct {
		in                                   string
		local, localForm, domain, domainForm string
		aLabel, path                         string
		utf8, addrSpec                       bool
	}{
		{"alice@example.com", "alice", "dot-string", "example.com", "hostname", "example.com", "<alice@example.com>", false, true},
		{"<alice@Bücher.example>", "alice", "dot-string", "Bücher.example", "hostname", "xn--bcher-kva.example", "<alice@xn--bcher-kva.example>", false, true},
		{"jörg@bücher.example", "jörg", "dot-string", "bücher.example", "hostname", "xn--bcher-kva.example", "<jörg@bücher.example>", true, true},
		{"\"a b\"@[192.0.2.1]", "\"a b\"", "quoted-string", "[192.0.2.1]", "ipv4-literal", "[192.0.2.1]", "<\"a b\"@[192.0.2.1]>", false, true},
		{"alice@[IPv6:::1]", "alice", "dot-string", "[IPv6:::1]", "ipv6-literal", "[IPv6:::1]", "<alice@[IPv6:::1]>", false, true},
		{"(c)alice@example.com", "alice", "invalid", "example.com", "hostname", "example.com", "<alice@example.com>", false, true},
		{"alice@exa_mple.com", "alice", "dot-string", "exa_mple.com", "invalid", "", "<alice@exa_mple.com>", false, true},
		{"al..ice@example.com", "al..ice", "invalid", "example.com", "hostname", "example.com", "<al..ice@example.com>", false, false},
		{"@r.example:alice@example.com", "alice", "dot-string", "example.com", "hostname", "example.com", "<alice@example.com>", false, true},
	}
	for _, tc := range tests {
		r := AnalyzeAddress(tc.in)
		got := []string{r.LocalPart, r.LocalPartForm, r.Domain, r.DomainForm, r.ALabel, r.Path}
		want := []string{tc.local, tc.localForm, tc.domain, tc.domainForm, tc.aLabel, tc.path}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("AnalyzeAddress(%q): field %d = %q, want %q (local, form, domain, form, a-label, path)", tc.in, i, got[i], want[i])
			}
		}
		if r.NeedsSMTPUTF8 != tc.utf8 {
			t.Errorf("AnalyzeAddress(%q).NeedsSMTPUTF8 = %v, want %v", tc.in, r.NeedsSMTPUTF8, tc.utf8)
		}
		if r.ValidAddrSpec != tc.addrSpec {
			t.Errorf("AnalyzeAddress(%q).ValidAddrSpec = %v, want %v; %s", tc.in, r.ValidAddrSpec, tc.addrSpec, findingIDs(r))
		}
	}
}

func TestIsMailbox(t *testing.T) {
	for s, want := range map[string]bool{
		"alice@example.com":            true,
		"\"a b\"@example.com":          true,
		"jörg@example.com":             true,
		"alice@[192.0.2.1]":            true,
		"<alice@example.com>":          false,
		" alice@example.com":           false,
		"@r.example:alice@example.com": false,
		"alice":                        false,
		"a..b@example.com":             false,
		"":                             false,
	} {
		if got := IsMailbox(s); got != want {
			t.Errorf("IsMailbox(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestToALabel(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":    "example.com",
		"bücher.example": "xn--bcher-kva.example",
		"例子.测试":          "xn--fsqu00a.xn--0zwm56d",
		"Straße.example": "xn--strae-oqa.example",
	} {
		got, err := ToALabel(in)
		if err != nil || got != want {
			t.Errorf("ToALabel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ToALabel("exa\u200dmple.com"); err == nil {
		t.Error("ToALabel accepted a zero-width joiner between Latin letters")
	}
}

// TestAddressReportJSON pins the JSON keys other tools read.
func TestAddressReportJSON(t *testing.T) {
	b, err := json.Marshal(AnalyzeAddress("<a..b@example.com>"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"input", "address", "bracketed", "local_part", "local_part_form", "domain", "domain_form", "a_label", "a_label_address", "path", "needs_smtputf8", "valid_mailbox", "valid_addr_spec", "findings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks key %q: %s", k, b)
		}
	}
	f := m["findings"].([]any)[1].(map[string]any)
	for _, k := range []string{"severity", "id", "message", "ref"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding JSON lacks key %q: %v", k, f)
		}
	}
}

func findingIDs(r AddressReport) string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Severity+":"+f.ID)
	}
	return "[" + strings.Join(ids, " ") + "]"
}
