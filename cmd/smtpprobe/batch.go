package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smtpprobe/smtpprobe/cmd/smtpprobe/internal/render"
	"github.com/smtpprobe/smtpprobe/probe"
	"github.com/smtpprobe/smtpprobe/probe/batch"
	"github.com/smtpprobe/smtpprobe/resolver"
	"golang.org/x/term"
)

// batchFlags are the flags of a batch run (--targets), shared by probe,
// vrfy and address.
type batchFlags struct {
	targets   string
	resume    string
	shard     string
	workers   int
	perIP     int
	perMinute int
	maxConns  int
	backoff   time.Duration
	perConn   int
	format    *string // --format when this file registered it; else the output flags' own
	quiet     *bool
}

// register adds the batch flags to fs; network is false for address,
// which sends nothing.
func (b *batchFlags) register(fs *flagSet, network bool) {
	fs.StringVar(&b.targets, "targets", "", "run every target in FILE, one a line (# comments; - for stdin): a batch run")
	fs.StringVar(&b.resume, "resume", "", "with --targets: skip the targets FILE (an earlier NDJSON output) has a line for")
	fs.StringVar(&b.shard, "shard", "", "with --targets: only the targets whose domain falls in shard K of N (K/N, K from 0)")
	if network {
		fs.IntVar(&b.workers, "workers", batch.DefaultWorkers, "with --targets: targets worked on at once")
		fs.IntVar(&b.perIP, "per-ip", batch.DefaultPerIP, "with --targets: connections open at once to one server IP")
		fs.IntVar(&b.perMinute, "per-minute", batch.DefaultPerMinute, "with --targets: new connections to one server IP a minute (0: no limit)")
		fs.IntVar(&b.maxConns, "max-conns", batch.DefaultGlobal, "with --targets: connections open at once in all")
		fs.IntVar(&b.perConn, "per-conn", probe.DefaultRecipients, "with --targets: mailboxes at one server asked about on one connection (RCPTs many to a transaction)")
		b.backoff = batch.DefaultBackoff
		fs.Var((*boundedDuration)(&b.backoff), "backoff", "with --targets: first pause for a server IP that answered 421 or a rate limit, or timed out; doubles each time")
	}
	if fs.Lookup("format") == nil {
		b.format = fs.String("format", "text", "output format: text, json or ndjson (with --targets: text or ndjson)")
	}
	if fs.Lookup("quiet") == nil {
		b.quiet = fs.BoolP("quiet", "q", false, "with --targets: no progress line and no summary on stderr")
	}
}

// dispatch runs the batch when --targets was given (done is true, with
// the exit code), and refuses the batch-only flags without it.
func (b *batchFlags) dispatch(ctx context.Context, sub string, mode batch.Mode, fs *flagSet, pf *probeFlags, e *env) (code int, done bool) {
	if b.targets != "" {
		if pf != nil {
			if err := pf.prepareNet(fs, e); err != nil {
				return usageError(e, sub, err.Error()), true
			}
			if !quietOf(fs) {
				pf.sayNet(sub, e)
			}
		}
		return runBatch(ctx, sub, mode, fs, b, pf, e), true
	}
	for _, name := range []string{"resume", "shard", "workers", "per-ip", "per-minute", "max-conns", "backoff", "per-conn"} {
		if fs.Changed(name) {
			return usageError(e, sub, "--"+name+" works only with --targets"), true
		}
	}
	if b.format != nil && *b.format != "text" {
		if *b.format == "json" {
			return usageError(e, sub, "--format json: use --json"), true
		}
		return usageError(e, sub, "--format "+*b.format+" works only with --targets"), true
	}
	return exitOK, false
}

// formatOf is the --format value, whichever part of the CLI registered it.
func formatOf(fs *flagSet) string {
	if f := fs.Lookup("format"); f != nil {
		return f.Value.String()
	}
	return "text"
}

func quietOf(fs *flagSet) bool {
	f := fs.Lookup("quiet")
	return f != nil && f.Value.String() == "true"
}

// batchLine is the batch-only part of an NDJSON line.
type batchLine struct {
	Line            int    `json:"line"`                        // in the targets file
	Kind            string `json:"kind"`                        // ok, invalid-input, dns-error, no-mail-host, or a connection status
	ServerFactsFrom string `json:"server_facts_from,omitempty"` // the target whose line has the full probe of this mail host
	Error           string `json:"error,omitempty"`
}

// probeLine is one NDJSON line of `probe --targets`: the --json document
// of the target, and the batch part.
type probeLine struct {
	*probe.Report
	Batch batchLine `json:"batch"`
}

// vrfyLine is one NDJSON line of `vrfy --targets`.
type vrfyLine struct {
	SchemaVersion int                 `json:"schema_version"`
	Target        string              `json:"target"`
	Addresses     []render.VRFYAnswer `json:"addresses"`
	Reports       []*probe.Report     `json:"reports"`
	Batch         batchLine           `json:"batch"`
}

// addressLine is one NDJSON line of `address --targets`.
type addressLine struct {
	SchemaVersion int    `json:"schema_version"`
	Target        string `json:"target"`
	probe.AddressReport
	Batch batchLine `json:"batch"`
}

// runBatch is `probe|vrfy|address --targets FILE`.
func runBatch(ctx context.Context, sub string, mode batch.Mode, fs *flagSet, b *batchFlags, pf *probeFlags, e *env) int {
	if fs.NArg() != 0 {
		return argCountError(e, sub, "no arguments with --targets", fs.NArg(), "the targets come from the file")
	}
	format := formatOf(fs)
	if format != "text" && format != "ndjson" {
		return usageError(e, sub, fmt.Sprintf("--targets writes text or ndjson, not --format %s (one JSON document cannot stream)", format))
	}
	if j := fs.Lookup("json"); j != nil && j.Value.String() == "true" {
		return usageError(e, sub, "--json with --targets: use --format ndjson, one JSON object a line")
	}
	var shard batch.Shard
	if b.shard != "" {
		var err error
		if shard, err = batch.ParseShard(b.shard); err != nil {
			return usageError(e, sub, "--shard: "+err.Error())
		}
	}
	if mode != batch.ModeAddress {
		for _, c := range []struct {
			name string
			v    int
		}{{"--workers", b.workers}, {"--per-ip", b.perIP}, {"--max-conns", b.maxConns}, {"--per-conn", b.perConn}} {
			if c.v < 1 {
				return usageError(e, sub, fmt.Sprintf("%s must be at least 1, not %d", c.name, c.v))
			}
		}
		if b.perMinute < 0 {
			return usageError(e, sub, fmt.Sprintf("--per-minute must be 0 (no limit) or more, not %d", b.perMinute))
		}
		if b.backoff <= 0 {
			return usageError(e, sub, "--backoff must be positive")
		}
	}
	lines, dups, err := readTargetsFlag(b.targets, e)
	if err != nil {
		return usageError(e, sub, "--targets: "+err.Error())
	}
	total := len(lines)
	var done map[string]bool
	if b.resume != "" {
		f, err := os.Open(b.resume)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return usageError(e, sub, "--resume: "+err.Error())
		}
		if err == nil {
			done, _, err = batch.ReadDone(f)
			f.Close()
			if err != nil {
				return usageError(e, sub, "--resume: "+err.Error())
			}
		}
	}
	var todo []batch.Line
	skippedDone, outShard := 0, 0
	for _, l := range lines {
		switch {
		case !shard.Has(targetDomain(l.Text)):
			outShard++
		case done[l.Text]:
			skippedDone++
		default:
			todo = append(todo, l)
		}
	}

	cfg := batch.Config{Mode: mode}
	var limiter *batch.Limiter
	if mode != batch.ModeAddress {
		opts, err := pf.options(probe.Target{})
		if err != nil {
			return usageError(e, sub, err.Error())
		}
		pm := b.perMinute
		if pm == 0 {
			pm = batch.Unlimited
		}
		limiter = batch.NewLimiter(batch.Politeness{PerIP: b.perIP, PerMinute: pm, Global: b.maxConns, Backoff: b.backoff})
		rc := pf.netSet.resolver
		if rc.ConfigErr != nil {
			fmt.Fprintf(e.stderr, "smtpprobe %s: %s\n", sub, escapeUntrusted(rc.ConfigErr.Error()))
			return exitDNS
		}
		rc.Cache = resolver.NewCache()
		opts.Dialer = limiter.Dialer(opts.Dialer)
		opts.Resolver = rc
		cfg.Options, cfg.Resolver, cfg.Limiter, cfg.Workers, cfg.Budget, cfg.PerJob = opts, rc, limiter, b.workers, pf.maxTime, b.perConn
		cfg.MXSeed = pf.mxSeed
		if mode == batch.ModeVRFY {
			cfg.Options.Suites = []string{"vrfy"}
		}
	}

	quiet := quietOf(fs)
	var prog *batch.Progress
	if !quiet && isTerminalWriter(e.stderr) {
		prog = batch.NewProgress(e.stderr, len(todo), 250*time.Millisecond)
	}
	out := batch.NewWriter(e.stdout)
	table := &batchTable{w: out, mode: mode}
	emit := func(r batch.Result) error {
		prog.Done(map[bool]string{true: "", false: r.Kind()}[r.Kind() == "ok"])
		if format == "text" {
			return table.row(r)
		}
		return writeNDJSON(out, batchDocument(mode, r))
	}
	if format == "text" && len(todo) > 0 {
		table.header()
	}
	sum, runErr := batch.Run(ctx, cfg, todo, emit)
	prog.Stop()
	summary := batchSummary(sum, total, dups, skippedDone, outShard, shard)
	switch {
	case format == "text":
		out.WriteLine([]byte(summary + "\n"))
	case !quiet:
		fmt.Fprintln(e.stderr, "smtpprobe "+sub+": "+summary)
	}
	if runErr != nil || out.Err() != nil {
		fmt.Fprintf(e.stderr, "smtpprobe %s: writing the results: %v\n", sub, cmpErr(runErr, out.Err()))
		return exitCheck
	}
	if code, ok := signalExit(ctx); ok {
		fmt.Fprintf(e.stderr, "smtpprobe %s: interrupted: %d of %d targets finished and written; run again with --resume to do the rest\n", sub, sum.Done, len(todo))
		return code
	}
	return exitOK
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// readTargetsFlag reads the --targets file, or stdin for "-".
func readTargetsFlag(path string, e *env) ([]batch.Line, int, error) {
	if path == "-" {
		return batch.ReadTargets(e.stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return batch.ReadTargets(f)
}

// targetDomain is the domain a target's line is sharded by: the domain of
// an address or domain, the host of a host:port, lower-cased.
func targetDomain(text string) string {
	t := strings.Trim(text, "<>")
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		t = t[i+1:]
	}
	if pt, err := probe.ParseTarget(t); err == nil {
		if pt.Domain != "" {
			return strings.ToLower(pt.Domain)
		}
		if pt.Host != "" {
			return strings.ToLower(pt.Host)
		}
	}
	return strings.ToLower(t)
}

func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// batchDocument is the NDJSON object of one result.
func batchDocument(mode batch.Mode, r batch.Result) any {
	bl := batchLine{Line: r.Line.N, Kind: r.Kind(), ServerFactsFrom: r.FactsFrom}
	if r.Err != nil {
		bl.Error = r.Err.Error()
	}
	switch mode {
	case batch.ModeAddress:
		return addressLine{SchemaVersion: 1, Target: r.Line.Text, AddressReport: *r.Address, Batch: bl}
	case batch.ModeVRFY:
		doc := vrfyLine{SchemaVersion: probe.SchemaVersion, Target: r.Line.Text, Addresses: []render.VRFYAnswer{}, Reports: []*probe.Report{}, Batch: bl}
		if r.Report != nil {
			addr := vrfyAddress(r)
			answers, _ := vrfyAnswers(r.Report, []string{r.Line.Text}, []string{addr})
			doc.Addresses = answers
			doc.Reports = []*probe.Report{r.Report}
		} else {
			doc.Addresses = []render.VRFYAnswer{{Address: r.Line.Text, Answer: probe.AddressUnknown, Reason: bl.Error}}
		}
		return doc
	}
	rep := r.Report
	if rep == nil {
		rep = &probe.Report{SchemaVersion: probe.SchemaVersion, Target: r.Target, Hosts: []probe.HostReport{}}
	}
	return probeLine{Report: rep, Batch: bl}
}

// vrfyAddress is the address a vrfy result asked about, as sent.
func vrfyAddress(r batch.Result) string {
	for _, h := range r.Report.Hosts {
		for _, s := range h.Steps {
			if s.Step().Role == probe.RoleVRFYAddress {
				return s.Address
			}
		}
	}
	return r.Line.Text
}

// writeNDJSON writes v as one compact line, DEL and C1 controls escaped
// as in every JSON output, so server text cannot act on a terminal.
func writeNDJSON(w *batch.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return w.WriteLine(escapeC1(b.Bytes()))
}

func escapeC1(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || r >= 0x80 && r < 0xa0 {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// batchTable is the compact text output: one row a target.
type batchTable struct {
	w    *batch.Writer
	mode batch.Mode
}

const targetWidth = 34

func (t *batchTable) header() {
	t.w.WriteLine([]byte(fmt.Sprintf("%-*s %-18s %s\n", targetWidth, "TARGET", "RESULT", "DETAIL")))
}

func (t *batchTable) row(r batch.Result) error {
	result, detail := r.Kind(), ""
	switch {
	case r.Err != nil:
		detail = r.Err.Error()
	case r.Address != nil:
		result = "valid"
		if !r.Address.ValidMailbox {
			result = "invalid"
		}
		for _, f := range r.Address.Findings {
			if f.Severity == probe.SeverityError {
				detail = f.Message
				break
			}
		}
	case t.mode == batch.ModeVRFY && r.Report != nil:
		answers, _ := vrfyAnswers(r.Report, []string{r.Line.Text}, []string{vrfyAddress(r)})
		if len(answers) == 1 {
			result, detail = answers[0].Answer, answers[0].Reason
		}
	case r.Report != nil:
		detail = probeDetail(r)
	}
	target := escapeUntrusted(r.Line.Text)
	if utf8.RuneCountInString(target) > targetWidth {
		target = string([]rune(target)[:targetWidth-1]) + "…"
	}
	return t.w.WriteLine([]byte(fmt.Sprintf("%-*s %-18s %s\n", targetWidth, target, result, escapeUntrusted(detail))))
}

// probeDetail sums up a probe result in one line: the mailbox's answers,
// then the host's facts.
func probeDetail(r batch.Result) string {
	var h *probe.HostReport
	for i := range r.Report.Hosts {
		if r.Report.Hosts[i].Verdicts != nil {
			h = &r.Report.Hosts[i]
			break
		}
	}
	if h == nil {
		if len(r.Report.Hosts) > 0 {
			return r.Report.Hosts[0].Host + ": " + r.Report.Hosts[0].Error
		}
		return strings.Join(r.Report.Warnings, "; ")
	}
	var parts []string
	addr := ""
	if r.Target.User != "" {
		addr = r.Target.User + "@"
	}
	for _, s := range h.Steps {
		role := s.Step().Role
		mine := role == probe.RoleRcptAddress || role == probe.RoleVRFYAddress || role == probe.RoleRcptBaseline && addr != ""
		if mine && s.Reply != nil && (s.Address == "" || strings.HasPrefix(s.Address, addr)) {
			parts = append(parts, fmt.Sprintf("%s %d", strings.ToLower(string(s.Command)), s.Reply.Code))
		}
	}
	v := h.Verdicts
	if v.VRFYPolicy != nil {
		parts = append(parts, "vrfy-policy "+v.VRFYPolicy.Policy)
	}
	if v.EnvelopeSyntax != nil {
		parts = append(parts, "syntax "+v.EnvelopeSyntax.Verdict)
	}
	tls := "no"
	if h.TLS != nil {
		tls = "yes"
	}
	parts = append(parts, "tls "+tls, "at "+h.Host)
	if r.FactsFrom != "" {
		parts = append(parts, "server facts from "+r.FactsFrom)
	}
	return strings.Join(parts, ", ")
}

// batchSummary is the last line of a batch run.
func batchSummary(s batch.Summary, total, dups, resumed, outShard int, shard batch.Shard) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d targets done in %s", s.Done, total, s.Elapsed.Round(time.Millisecond))
	if secs := s.Elapsed.Seconds(); secs > 0 && s.Done > 0 {
		fmt.Fprintf(&b, " (%.0f/s)", float64(s.Done)/secs)
	}
	var kinds []string
	for _, k := range sortedKeys(s.Kinds) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, s.Kinds[k]))
	}
	if len(kinds) > 0 {
		b.WriteString(": " + strings.Join(kinds, ", "))
	}
	if resumed > 0 {
		fmt.Fprintf(&b, "; %d done before (--resume)", resumed)
	}
	if outShard > 0 {
		fmt.Fprintf(&b, "; %d in other shards than %s", outShard, shard)
	}
	if dups > 0 {
		fmt.Fprintf(&b, "; %d duplicate lines skipped", dups)
	}
	if s.Interrupted > 0 {
		fmt.Fprintf(&b, "; %d cut off, not written", s.Interrupted)
	}
	if s.MailHosts > 0 {
		fmt.Fprintf(&b, "; %d mail hosts, %d full probes, %d connections (at most %d at once to one IP)",
			s.MailHosts, s.FactsRuns, s.Limiter.Opened, s.Limiter.PeakPerIP)
	}
	if n := s.Limiter.Strikes[batch.StrikeRateLimited] + s.Limiter.Strikes[batch.StrikeTimeout]; n > 0 {
		fmt.Fprintf(&b, "; %d back-offs (%d rate-limited, %d timed out)", n, s.Limiter.Strikes[batch.StrikeRateLimited], s.Limiter.Strikes[batch.StrikeTimeout])
	}
	if s.DNS.Hits+s.DNS.Misses > 0 {
		fmt.Fprintf(&b, "; DNS %d asked, %d from the cache", s.DNS.Misses, s.DNS.Hits)
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
