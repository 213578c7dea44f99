package probe

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/smtpprobe/smtpprobe/explain"
)

func TestJudgeStep(t *testing.T) {
	byName := map[string]Step{}
	for _, s := range Plan(PlanInput{Domain: "example.com", From: "a@example.net", Random: "rnd"}) {
		byName[s.Name] = s
	}
	tests := []struct {
		step        string
		code        int
		outcome     Outcome
		conformance Conformance
		verdict     string // a substring
	}{
		{"mail-no-brackets", 250, Accepted, Lenient, "lenient: accepted a path without angle brackets, which RFC 5321 §4.1.2 does not allow"},
		{"mail-no-brackets", 501, Rejected, Conforms, "ok: rejected a path without angle brackets with 501, as RFC 5321 §4.1.2 asks"},
		{"mail-no-brackets", 553, Rejected, Conforms, "names 501"},
		{"mail-no-brackets", 451, Deferred, Transient, "deferred"},
		{"mail-null-reverse-path", 250, Accepted, Conforms, "as RFC 5321 §4.5.5 asks"},
		{"mail-null-reverse-path", 501, Rejected, TooStrict, "strict: rejected the null reverse-path <> with 501"},
		{"mail-null-reverse-path", 550, Rejected, TooStrict, "must be accepted"},
		{"mail-ipv4-literal", 550, Rejected, Policy, "policy"},
		{"mail-ipv4-literal", 501, Rejected, TooStrict, "syntax error"},
		{"mail-local-part-65", 501, Rejected, Informative, "lets a server refuse"},
		{"mail-local-part-65", 250, Accepted, Informative, "accept or refuse"},
		{"mail-source-route", 501, Rejected, TooStrict, "must be accepted"},
		{"rcpt-source-route", 501, Rejected, TooStrict, "must be accepted"},
		{"rcpt-source-route", 250, Accepted, Conforms, "as RFC 5321"},
		{"rcpt-before-mail", 503, Rejected, Conforms, "RFC 5321 §3.3"},
		{"rcpt-before-mail", 250, Accepted, Lenient, "lenient"},
		{"rcpt-before-mail", 502, Rejected, WrongCode, "wrong code: rejected RCPT TO before any MAIL FROM with 502, but RFC 5321 §3.3 asks for 503"},
		{"mail-unknown-parameter", 501, Rejected, Conforms, "501, which is acceptable; 555 is the specific code"},
		{"mail-unknown-parameter", 550, Rejected, WrongCode, "asks for 555"},
		{"mail-unknown-parameter", 555, Rejected, Conforms, "as RFC 5321 §4.1.1.11 asks"},
		{"vrfy-user", 252, CannotVerify, Informative, "cannot verify"},
		{"expn-list", 252, CannotVerify, Informative, "not a sign that the user exists"},
		{"vrfy-user", 250, Accepted, Informative, "judged"},
		{"vrfy-user", 0, NoReply, NotJudged, "no reply"},
		{"vrfy-user", 199, Inconclusive, NotJudged, "not a valid reply code"},
		// A bare VRFY names no mailbox: a 2yz to it, 252 included, is
		// accepting a line RFC 5321 §4.1.1.6 gives an argument.
		{"vrfy-no-argument", 252, Accepted, Lenient, "lenient: accepted VRFY with no argument, which RFC 5321 §4.1.1.6 requires one for"},
		{"vrfy-no-argument", 250, Accepted, Lenient, "lenient: accepted VRFY with no argument, which RFC 5321 §4.1.1.6 requires one for"},
		{"vrfy-no-argument", 501, Rejected, Conforms, "ok: rejected VRFY with no argument with 501, as RFC 5321 §4.1.1.6 asks"},
		{"vrfy-no-argument", 502, Rejected, Conforms, "names 501"},
	}
	for _, tt := range tests {
		s, ok := byName[tt.step]
		if !ok {
			t.Fatalf("no step %q in the plan", tt.step)
		}
		o, c, v := JudgeStep(s, tt.code, "")
		if tt.verdict == "" {
			continue
		}
		if o != tt.outcome || c != tt.conformance || !strings.Contains(v, tt.verdict) {
			t.Errorf("JudgeStep(%s, %d) = %s, %s, %q; want %s, %s, containing %q", tt.step, tt.code, o, c, v, tt.outcome, tt.conformance, tt.verdict)
		}
	}
}

// A syntax case refused with a mailbox or policy answer says nothing
// about the syntax: it is inconclusive, not "ok".
func TestJudgeStepMailboxAnswers(t *testing.T) {
	byName := map[string]Step{}
	for _, s := range Plan(PlanInput{Domain: "example.com", From: "a@example.net", Random: "rnd"}) {
		byName[s.Name] = s
	}
	tests := []struct {
		step     string
		code     int
		enhanced string
		want     Conformance
	}{
		{"rcpt-utf8-without-smtputf8", 550, "5.1.1", Undecided},
		{"rcpt-double-at", 550, "5.1.1", Undecided},
		{"rcpt-no-brackets", 550, "5.1.2", Undecided},
		{"rcpt-no-brackets", 554, "5.7.1", Undecided},
		{"mail-no-brackets", 553, "5.7.0", Undecided},
		{"rcpt-double-at", 553, "5.1.3", Conforms},
		{"rcpt-no-brackets", 501, "5.5.4", Conforms},
		{"rcpt-before-mail", 503, "5.5.1", Conforms},
		{"rcpt-ipv4-literal", 550, "5.7.1", Policy},
	}
	for _, tt := range tests {
		o, c, v := JudgeStep(byName[tt.step], tt.code, tt.enhanced)
		if c != tt.want || o != Rejected {
			t.Errorf("JudgeStep(%s, %d %s) = %s, %s (%s); want rejected, %s", tt.step, tt.code, tt.enhanced, o, c, v, tt.want)
		}
		if c == Undecided && !strings.Contains(v, "a mailbox or policy answer, not a syntax one") {
			t.Errorf("JudgeStep(%s, %d %s): verdict %q does not say why", tt.step, tt.code, tt.enhanced, v)
		}
	}
}

func TestJudgePolicy(t *testing.T) {
	tests := []struct {
		name  string
		pairs []formPair
		want  string
		form  Form
	}{
		{"postfix default: 252 vs 550", []formPair{{FormUser, 252, 550}, {FormAddress, 252, 550}}, PolicyLeaks, FormUser},
		{"reveals 250", []formPair{{FormUser, 250, 550}}, PolicyReveals, FormUser},
		{"reveals 251", []formPair{{FormAddress, 251, 551}}, PolicyReveals, FormAddress},
		{"accepts-all: 250 for a random mailbox too", []formPair{{FormUser, 250, 250}, {FormAddress, 250, 250}}, PolicyAcceptsAll, FormUser},
		{"accepts-all: 252 real, 250 random", []formPair{{FormUser, 252, 250}}, PolicyAcceptsAll, FormUser},
		{"250 vs 252 tells them apart", []formPair{{FormUser, 250, 252}}, PolicyLeaks, FormUser},
		{"hides: 252 for both", []formPair{{FormUser, 252, 252}, {FormAddress, 252, 252}}, PolicyHides, FormUser},
		{"exim: 501 without domain, 252 with", []formPair{{FormUser, 501, 501}, {FormAddress, 252, 252}}, PolicyHides, FormAddress},
		{"exim leaking: 501 bare, 250 vs 550 with domain", []formPair{{FormUser, 501, 501}, {FormAddress, 250, 550}}, PolicyReveals, FormAddress},
		{"disabled 502", []formPair{{FormUser, 502, 502}, {FormAddress, 502, 502}}, PolicyDisabled, FormNone},
		{"not implemented 500", []formPair{{FormUser, 500, 500}}, PolicyNotImplemented, FormNone},
		{"refuses 550 for both", []formPair{{FormUser, 550, 550}}, PolicyRefuses, FormUser},
		{"auth required", []formPair{{FormUser, 530, 530}}, PolicyAuthRequired, FormNone},
		{"greylisted", []formPair{{FormUser, 450, 450}}, PolicyUnknown, FormUser},
		{"nothing asked", nil, PolicyUnknown, FormNone},
		{"252 is never user exists", []formPair{{FormUser, 252, 0}}, PolicyUnknown, FormNone},
	}
	for _, tt := range tests {
		got := JudgePolicy(tt.pairs)
		if got.Policy != tt.want || got.Form != tt.form {
			t.Errorf("%s: JudgePolicy = %s (form %q, %s); want %s (form %q)", tt.name, got.Policy, got.Form, got.Reason, tt.want, tt.form)
		}
		if got.Reason == "" {
			t.Errorf("%s: no reason given", tt.name)
		}
	}
}

// results builds step results from the plan with the given codes by step
// name; steps not named are left out.
func results(t *testing.T, codes map[string]int) []StepResult {
	t.Helper()
	var out []StepResult
	seen := 0
	for _, s := range Plan(PlanInput{Domain: "example.com", From: "a@example.net", Random: "rnd"}) {
		c, ok := codes[s.Name]
		if !ok {
			continue
		}
		seen++
		r := StepResult{Name: s.Name, Command: s.Command, step: s}
		if c != 0 {
			r.Reply = &Reply{Code: c}
		}
		r.Outcome, r.Conformance, r.Verdict = JudgeStep(s, c, "")
		r.Cause = explain.ClassifyRefusal(c, "", "", s.Command).Cause
		out = append(out, r)
	}
	if seen != len(codes) {
		t.Fatalf("some step names are not in the plan: %v", codes)
	}
	return out
}

func TestSummarizeSyntax(t *testing.T) {
	tests := []struct {
		name     string
		codes    map[string]int
		want     string
		deciding string
	}{
		{"postfix strict_rfc821_envelopes=yes", map[string]int{"mail-well-formed": 250, "mail-no-brackets": 501, "mail-space-after-colon": 250, "mail-unbalanced-bracket": 501}, SyntaxMixed, "mail-space-after-colon"},
		{"postfix default", map[string]int{"mail-well-formed": 250, "mail-no-brackets": 250, "mail-space-after-colon": 250, "mail-unbalanced-bracket": 501}, SyntaxLenient, "mail-no-brackets"},
		{"strict", map[string]int{"mail-well-formed": 250, "mail-no-brackets": 501, "mail-space-after-colon": 501, "rcpt-well-formed": 250, "rcpt-no-brackets": 501}, SyntaxStrict, "rcpt-no-brackets"},
		{"lenient on RCPT only", map[string]int{"rcpt-well-formed": 250, "rcpt-no-brackets": 250, "mail-no-brackets": 501}, SyntaxLenient, "rcpt-no-brackets"},
		{"policy refusals prove nothing", map[string]int{"mail-well-formed": 550, "mail-no-brackets": 550}, SyntaxUnknown, ""},
		{"but a 501 does", map[string]int{"mail-well-formed": 550, "mail-no-brackets": 501}, SyntaxStrict, "mail-no-brackets"},
		{"temporary proves nothing", map[string]int{"mail-well-formed": 250, "mail-no-brackets": 451}, SyntaxUnknown, ""},
	}
	for _, tt := range tests {
		v := Summarize(results(t, tt.codes))
		if v.EnvelopeSyntax == nil {
			t.Fatalf("%s: no envelope_syntax verdict", tt.name)
		}
		got := v.EnvelopeSyntax
		if got.Verdict != tt.want {
			t.Errorf("%s: envelope_syntax = %s (%v); want %s", tt.name, got.Verdict, got.Deciding, tt.want)
		}
		if tt.deciding != "" && !strings.Contains(strings.Join(got.Deciding, ","), tt.deciding) {
			t.Errorf("%s: deciding cases %v lack %s", tt.name, got.Deciding, tt.deciding)
		}
	}
}

func TestSummarizeCatchAllAndPostmaster(t *testing.T) {
	tests := []struct {
		name       string
		codes      map[string]int
		catchAll   string
		postmaster string
	}{
		{"catch-all", map[string]int{"rcpt-well-formed": 250, "rcpt-random-mailbox": 250, "rcpt-postmaster": 250}, "true", "true"},
		{"not catch-all", map[string]int{"rcpt-well-formed": 250, "rcpt-random-mailbox": 550, "rcpt-postmaster-bare": 250}, "false", "true"},
		{"greylisted random", map[string]int{"rcpt-well-formed": 250, "rcpt-random-mailbox": 450}, "null", "null"},
		{"real refused too", map[string]int{"rcpt-well-formed": 554, "rcpt-random-mailbox": 554, "rcpt-postmaster": 554}, "null", "false"},
		{"bare postmaster refused", map[string]int{"rcpt-postmaster": 250, "rcpt-postmaster-bare": 550}, "null", "false"},
	}
	show := func(b *bool) string {
		if b == nil {
			return "null"
		}
		if *b {
			return "true"
		}
		return "false"
	}
	for _, tt := range tests {
		v := Summarize(results(t, tt.codes))
		if got := show(v.CatchAll); got != tt.catchAll {
			t.Errorf("%s: catch_all = %s; want %s", tt.name, got, tt.catchAll)
		}
		if got := show(v.PostmasterAccepted); got != tt.postmaster {
			t.Errorf("%s: postmaster_accepted = %s; want %s", tt.name, got, tt.postmaster)
		}
	}
}

func TestSummarizeVRFY(t *testing.T) {
	v := Summarize(results(t, map[string]int{
		"vrfy-user": 501, "vrfy-random-user": 501,
		"vrfy-address": 252, "vrfy-random-address": 550,
		"vrfy-brackets": 252, "vrfy-random-brackets": 550,
		"expn-list": 502, "expn-random": 502,
	}))
	if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != PolicyLeaks || v.VRFYPolicy.Form != FormAddress {
		t.Errorf("vrfy_policy = %+v; want leaks on user@domain", v.VRFYPolicy)
	}
	if v.EXPNPolicy == nil || v.EXPNPolicy.Policy != PolicyDisabled {
		t.Errorf("expn_policy = %+v; want disabled", v.EXPNPolicy)
	}
	if v.EnvelopeSyntax != nil {
		t.Errorf("envelope_syntax = %+v without any syntax step", v.EnvelopeSyntax)
	}
}

// The bare VRFY is no real-or-random comparison: whatever it draws, the
// policy is judged on the mailbox pairs alone.
func TestSummarizeVRFYIgnoresBareVRFY(t *testing.T) {
	for _, bare := range []int{252, 250, 501, 550} {
		v := Summarize(results(t, map[string]int{
			"vrfy-user": 252, "vrfy-random-user": 252,
			"vrfy-address": 252, "vrfy-random-address": 252,
			"vrfy-brackets": 252, "vrfy-random-brackets": 252,
			"vrfy-no-argument": bare,
		}))
		if v.VRFYPolicy == nil || v.VRFYPolicy.Policy != PolicyHides {
			t.Errorf("bare VRFY %d: vrfy_policy = %+v; want hides", bare, v.VRFYPolicy)
		}
	}
}

func TestJudgeAddress(t *testing.T) {
	leaks := &PolicyVerdict{Policy: PolicyLeaks, RealCode: 252, RandomCode: 550}
	hides := &PolicyVerdict{Policy: PolicyHides, RealCode: 252, RandomCode: 252}
	tests := []struct {
		policy *PolicyVerdict
		code   int
		want   string
	}{
		{leaks, 252, AddressLikelyExists},
		{leaks, 550, AddressMissing},
		{hides, 252, AddressUnknown},
		{nil, 252, AddressUnknown},
		{nil, 250, AddressUnknown},
		{&PolicyVerdict{Policy: PolicyReveals, RealCode: 250, RandomCode: 550}, 250, AddressExists},
		{&PolicyVerdict{Policy: PolicyReveals, RealCode: 250, RandomCode: 550}, 550, AddressMissing},
		{&PolicyVerdict{Policy: PolicyAcceptsAll, RealCode: 250, RandomCode: 250}, 250, AddressUnknown},
		{leaks, 250, AddressUnknown},
		{&PolicyVerdict{Policy: PolicyRefuses}, 550, AddressUnknown},
		{&PolicyVerdict{Policy: PolicyDisabled}, 502, AddressUnknown},
		{leaks, 450, AddressUnknown},
		{leaks, 0, AddressUnknown},
	}
	for _, tt := range tests {
		got, reason := JudgeAddress(tt.policy, tt.code)
		if got != tt.want || reason == "" {
			t.Errorf("JudgeAddress(%v, %d) = %s (%s); want %s", tt.policy, tt.code, got, reason, tt.want)
		}
	}
}

func TestSyntaxIgnoresMailboxRefusals(t *testing.T) {
	rs := results(t, map[string]int{"rcpt-well-formed": 250, "rcpt-no-brackets": 501, "rcpt-utf8-without-smtputf8": 550})
	for i := range rs {
		if rs[i].Name == "rcpt-utf8-without-smtputf8" {
			rs[i].Reply.Enhanced = "5.1.1"
			rs[i].Outcome, rs[i].Conformance, rs[i].Verdict = JudgeStep(rs[i].step, 550, "5.1.1")
			if rs[i].Conformance != Undecided {
				t.Errorf("550 5.1.1 to a syntax case judged %s; want inconclusive", rs[i].Conformance)
			}
		}
	}
	v := Summarize(rs).EnvelopeSyntax
	if v.Verdict != SyntaxStrict || strings.Join(v.Deciding, ",") != "rcpt-no-brackets" {
		t.Errorf("envelope_syntax = %+v; a 550 5.1.1 (no such mailbox) is not a syntax rejection", v)
	}
}

func TestTranscriptLineEscapesInvalidUTF8(t *testing.T) {
	l := TranscriptEntry{At: 1500 * time.Microsecond, Dir: DirServer, Data: []byte("250 caf\xe9 ok\r\n")}.Line(2)
	if l.Connection != 2 || l.AtMS != 1.5 || l.Dir != "S" {
		t.Errorf("%+v", l)
	}
	if l.Data != `250 caf\xe9 ok`+"\r\n" || l.DataBase64 != base64.StdEncoding.EncodeToString([]byte("250 caf\xe9 ok\r\n")) {
		t.Errorf("data %q base64 %q", l.Data, l.DataBase64)
	}
	ok := TranscriptEntry{Dir: DirClient, Data: []byte("VRFY prüfung\r\n")}.Line(1)
	if ok.Data != "VRFY prüfung\r\n" || ok.DataBase64 != "" {
		t.Errorf("valid UTF-8 must pass unchanged, without base64: %+v", ok)
	}
}
