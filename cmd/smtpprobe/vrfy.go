package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/batch"
)

const vrfyExamples = `  smtpprobe vrfy alice@example.com                      # via example.com's first reachable MX
  smtpprobe vrfy alice@example.com bob@example.com --json
  smtpprobe vrfy --server mx.example.com:2525 alice@example.com
`

func runVRFY(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("vrfy", "smtpprobe vrfy [flags] ADDRESS...", vrfyExamples)
	var f probeFlags
	var server string
	fs.StringVar(&server, "server", "", "ask this host[:port] instead of the domain's MX hosts")
	f.register(fs, false)
	var b batchFlags
	b.register(fs, true)
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	if b.targets != "" && server != "" {
		return usageError(e, "vrfy", "--server with --targets: a batch asks each address's own mail hosts")
	}
	if code, done := b.dispatch(ctx, "vrfy", batch.ModeVRFY, fs, &f, e); done {
		return code
	}
	if fs.NArg() == 0 {
		return argCountError(e, "vrfy", "one or more ADDRESSes", 0, "")
	}
	out, err := f.out.options(fs, e)
	if err != nil {
		return usageError(e, "vrfy", err.Error())
	}
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return usageError(e, "vrfy", err.Error())
	}
	// Group the addresses by the target that answers for them.
	type group struct {
		target probe.Target
		addrs  []string
	}
	var groups []*group
	byKey := map[string]*group{}
	var serverTarget probe.Target
	if server != "" {
		if serverTarget, err = probe.ParseTarget(server); err != nil {
			return usageError(e, "vrfy", "--server: "+err.Error())
		}
		if serverTarget.Kind == probe.TargetAddress {
			return usageError(e, "vrfy", "--server takes host[:port] or [ip]:port, not an address")
		}
	}
	for _, a := range fs.Args() {
		if len(a) >= 2 && a[0] == '<' && a[len(a)-1] == '>' {
			a = a[1 : len(a)-1] // <user@domain> is the same address
		}
		t, err := probe.ParseTarget(a)
		if err != nil {
			// vrfy's arguments are addresses: call them that
			msg := err.Error()
			if rest, ok := strings.CutPrefix(msg, "target "); ok {
				msg = "address " + rest
			} else if strings.HasPrefix(msg, "empty target") {
				msg = "empty address: give user@domain"
			}
			return usageError(e, "vrfy", msg)
		}
		if t.Kind != probe.TargetAddress {
			return usageError(e, "vrfy", fmt.Sprintf("%q is not an address (want user@domain)", a))
		}
		if _, err := probe.CheckMailboxArg("address", a); err != nil {
			return usageError(e, "vrfy", err.Error())
		}
		if _, err := probe.ASCIIAddress("address", a); err != nil {
			return usageError(e, "vrfy", err.Error())
		}
		key, target := t.Domain, probe.Target{Input: t.Domain, Kind: probe.TargetDomain, Domain: t.Domain}
		if t.Host != "" {
			target = probe.Target{Input: t.Domain, Kind: probe.TargetIP, Host: t.Host}
		}
		if server != "" {
			key, target = "", serverTarget
		}
		g := byKey[key]
		if g == nil {
			g = &group{target: target}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.addrs = append(g.addrs, a)
	}
	if err := f.prepareNet(fs, e); err != nil {
		return usageError(e, "vrfy", err.Error())
	}
	e.silence(out)
	f.sayNet("vrfy", e)
	ctx, cancel := context.WithTimeout(ctx, f.maxTime)
	defer cancel()
	doc := render.NewVRFY()
	code := exitOK
	ran, noHost := 0, 0
	for _, g := range groups {
		if ctx.Err() != nil {
			break // the budget ran out or the user interrupted; said below
		}
		opts, err := f.options(g.target)
		if err != nil {
			return usageError(e, "vrfy", err.Error())
		}
		_, domain := splitAt(g.addrs[0])
		if opts.Domain == "" {
			opts.Domain = domain
		}
		opts.Suites = []string{"vrfy"}
		opts.VRFY = slices.Clone(g.addrs) // Run strips any <> in place
		opts.Progress = e.progress()
		report, err := probe.Run(ctx, opts)
		if errors.Is(err, probe.ErrDNS) {
			fmt.Fprintf(e.stderr, "smtpprobe vrfy: %s\n", escapeUntrusted(err.Error()))
			return exitDNS
		}
		if report != nil {
			doc.Reports = append(doc.Reports, report)
		}
		answers, probed := vrfyAnswers(report, g.addrs, opts.VRFY)
		switch {
		case probed:
			ran++
		case err != nil:
			fmt.Fprintf(e.stderr, "smtpprobe vrfy: %s\n", escapeUntrusted(err.Error()))
		case report != nil && len(report.Hosts) == 0:
			noHost++ // a null MX, or no MX and no address
			for _, w := range report.Warnings {
				fmt.Fprintf(e.stderr, "smtpprobe vrfy: %s\n", escapeUntrusted(w))
			}
		}
		doc.Addresses = append(doc.Addresses, answers...)
	}
	if err := renderOut(e, doc, out); err != nil {
		return exitCheck
	}
	incomplete := &probe.Report{}
	for _, r := range doc.Reports {
		if r.Incomplete {
			incomplete = r
			break
		}
	}
	if ctx.Err() != nil && !incomplete.Incomplete {
		incomplete = &probe.Report{Incomplete: true, IncompleteReason: probe.IncompleteBudget}
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			incomplete.IncompleteReason = probe.IncompleteInterrupted
		}
	}
	if code, msg := incompleteExit(incomplete); code != exitOK {
		fmt.Fprintf(e.stderr, "smtpprobe vrfy: %s\n", msg)
		return code
	}
	if ran == 0 {
		fmt.Fprintln(e.stderr, "smtpprobe vrfy: no server could be asked")
		if noHost > 0 {
			return exitCheck
		}
		return exitConnection
	}
	for _, a := range doc.Addresses {
		if a.Answer == probe.AddressMissing {
			code = exitCheck
		}
	}
	for _, r := range doc.Reports {
		if why := failOnMatches(r, failOn); why != "" && code == exitOK {
			fmt.Fprintf(e.stderr, "smtpprobe vrfy: --fail-on matched: %s\n", escapeUntrusted(why))
			code = exitCheck
		}
	}
	return code
}

// vrfyAnswers reads each address's answer out of a report: the reply to
// its VRFY, judged against the policy the comparison found.
func vrfyAnswers(r *probe.Report, addrs, sent []string) ([]render.VRFYAnswer, bool) {
	var host *probe.HostReport
	if r != nil {
		for i := range r.Hosts {
			if r.Hosts[i].Verdicts != nil {
				host = &r.Hosts[i]
				break
			}
		}
	}
	var out []render.VRFYAnswer
	for i, a := range addrs {
		ans := render.VRFYAnswer{Address: a, Answer: probe.AddressUnknown, Reason: "no server could be asked"}
		if host != nil {
			ans.Host = host.Host
			ans.Reason = "not asked"
			if host.Verdicts.VRFYPolicy != nil {
				ans.Policy = host.Verdicts.VRFYPolicy.Policy
			}
			for _, s := range host.Steps {
				if s.Step().Role != probe.RoleVRFYAddress || s.Address != sent[i] {
					continue
				}
				ans.Sent, ans.Reply = s.Sent, s.Reply
				// Judge by the form this address was sent in, not the
				// form the summary verdict was decided on.
				policy := probe.VRFYPolicyForForm(host.Steps, s.Step().Form)
				ans.Policy = policy.Policy
				v := probe.JudgeAddressStep(&policy, s, host.Verdicts.Baselines)
				ans.Answer, ans.Reason, ans.Cause, ans.Withheld = v.Answer, v.Reason, v.Cause, v.Withheld
			}
		}
		out = append(out, ans)
	}
	return out, host != nil
}

func splitAt(addr string) (local, domain string) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, ""
	}
	return addr[:i], addr[i+1:]
}
