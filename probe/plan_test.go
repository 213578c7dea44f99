package probe

import (
	"strings"
	"testing"
)

func TestPlanFillsEveryTemplate(t *testing.T) {
	steps := Plan(PlanInput{Domain: "lab.test", User: "alice", From: "probe@client.test", Random: "smtpprobe-x",
		VRFY: []string{"bob@lab.test", "odd{random}@lab.test"}, RCPT: []string{"carol@lab.test"}})
	names := map[string]bool{}
	for _, s := range steps {
		if names[s.Name] {
			t.Errorf("step name %q used twice", s.Name)
		}
		names[s.Name] = true
		if s.Needs&NeedSIZE == 0 && strings.ContainsAny(s.Line, "{}") && !strings.Contains(s.Line, "odd{random}") {
			t.Errorf("%s: unfilled template in %q", s.Name, s.Line)
		}
		if s.Ref == "" || s.Case == "" || s.Command == "" {
			t.Errorf("%s: missing Ref, Case or Command", s.Name)
		}
		if v := strings.ToUpper(strings.Fields(s.Line + " X")[0]); v == "DATA" || v == "BDAT" {
			t.Errorf("%s sends %s; the probe never does", s.Name, v)
		}
		if err := CheckLine(s.Name, s.Line); err != nil {
			t.Error(err)
		}
	}
	want := map[string]string{
		"vrfy-user":               "VRFY alice",
		"vrfy-address":            "VRFY alice@lab.test",
		"vrfy-brackets":           "VRFY <alice@lab.test>",
		"vrfy-random-brackets":    "VRFY <smtpprobe-x@lab.test>",
		"vrfy-no-argument":        "VRFY",
		"expn-list":               "EXPN postmaster",
		"mail-null-reverse-path":  "MAIL FROM:<>",
		"mail-no-brackets":        "MAIL FROM:probe@client.test",
		"mail-space-after-colon":  "MAIL FROM: <probe@client.test>",
		"mail-unbalanced-bracket": "MAIL FROM:<probe@client.test",
		"mail-double-at":          "MAIL FROM:<probe@@client.test>",
		"mail-lowercase-verb":     "mail from:<probe@client.test>",
		"mail-source-route":       "MAIL FROM:<@relay1.invalid,@relay2.invalid:probe@client.test>",
		"rcpt-postmaster-bare":    "RCPT TO:<postmaster>",
		"rcpt-random-mailbox":     "RCPT TO:<smtpprobe-x@lab.test>",
		"rcpt-before-mail":        "RCPT TO:<alice@lab.test>",
		"vrfy-given-1":            "VRFY bob@lab.test",
		"vrfy-given-2":            "VRFY odd{random}@lab.test",
		"rcpt-given-1":            "RCPT TO:<carol@lab.test>",
		"mail-size-over-limit":    "MAIL FROM:<probe@client.test> SIZE={size_over}",
	}
	for _, s := range steps {
		if w, ok := want[s.Name]; ok {
			if s.Line != w {
				t.Errorf("%s: line %q; want %q", s.Name, s.Line, w)
			}
			delete(want, s.Name)
		}
	}
	for n := range want {
		t.Errorf("plan has no step %q", n)
	}
}

func TestPlanLimits(t *testing.T) {
	steps := Plan(PlanInput{Domain: "lab.test", From: "probe@client.test"})
	for _, s := range steps {
		switch s.Name {
		case "mail-local-part-65":
			local := strings.TrimSuffix(strings.TrimPrefix(s.Line, "MAIL FROM:<"), "@client.test>")
			if len(local) != 65 {
				t.Errorf("65-octet local part is %d octets", len(local))
			}
		case "mail-path-over-256", "rcpt-path-over-256":
			path := s.Line[strings.IndexByte(s.Line, '<'):]
			if len(path) <= 256 {
				t.Errorf("%s: path is %d octets; want over 256", s.Name, len(path))
			}
			for _, label := range strings.Split(path[strings.IndexByte(path, '@')+1:len(path)-1], ".") {
				if len(label) > 63 {
					t.Errorf("%s: label of %d octets makes it invalid for another reason", s.Name, len(label))
				}
			}
		}
	}
}

func TestPlanSuites(t *testing.T) {
	for _, suite := range []string{"vrfy", "syntax"} {
		steps := Plan(PlanInput{Domain: "d.test", From: "a@d.test", Suites: []string{suite}})
		if len(steps) == 0 {
			t.Fatalf("suite %s is empty", suite)
		}
		for _, s := range steps {
			if s.Suite != suite {
				t.Errorf("suite %s holds %s from %s", suite, s.Name, s.Suite)
			}
		}
	}
	all := Plan(PlanInput{Domain: "d.test", From: "a@d.test"})
	if n := len(Plan(PlanInput{Domain: "d.test", From: "a@d.test", Suites: []string{"all"}})); n != len(all) {
		t.Errorf("suite all has %d steps, default %d", n, len(all))
	}
}

func TestRandomLocalPart(t *testing.T) {
	a, b := RandomLocalPart(), RandomLocalPart()
	if a == b || !strings.HasPrefix(a, "smtpprobe-") || len(a) != len("smtpprobe-")+10 {
		t.Errorf("RandomLocalPart gave %q and %q", a, b)
	}
}
