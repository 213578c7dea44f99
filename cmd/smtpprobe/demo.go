package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/resolver/resolvertest"
)

// demoDomain is the demo's mail domain. ".test" is reserved (RFC 2606 §2),
// so no real resolver will ever answer for it.
const demoDomain = "demo.test"

// demoMX are the demo domain's mail hosts, in preference order. Each gets
// its own loopback address so the probe dials them exactly as it would two
// real hosts; Linux routes all of 127.0.0.0/8 to the loopback interface.
var demoMX = []struct {
	name string
	ip   string
	pref uint16
}{
	{"mx1.demo.test", "127.0.0.2", 10},
	{"mx2.demo.test", "127.0.0.3", 20},
}

// demoPolicy is what the demo's mail hosts accept: one real mailbox, one
// that greylists, one over quota; every other local part is unknown.
var demoPolicy = probetest.Policy{
	Domain:          demoDomain,
	Mailboxes:       []string{"alice"},
	Greylisted:      []string{"greylisted"},
	OverQuota:       []string{"full"},
	MaxMessageBytes: 10 << 20,
}

// demoLab is the demo's small internet: an authoritative DNS server for
// demoDomain and SMTP servers behind its MX hosts, all on one port.
type demoLab struct {
	port    int
	hosts   []demoLabHost
	dns     *resolvertest.Server // authoritative for demoDomain
	dnsAddr string               // where the probe asks: dns.Addr(), unless a test interposes
}

// demoLabHost is one MX host of the lab and the server answering for it.
type demoLabHost struct {
	name   string
	pref   uint16
	ip     string
	server *probetest.PolicyServer // shared by every host when the lab fell back to 127.0.0.1
}

// listenFunc is net.Listen; tests replace it to simulate a machine where
// only 127.0.0.1 exists.
type listenFunc func(network, addr string) (net.Listener, error)

// startDemoLab starts one policy server per demo MX host, all on the same
// port, then a DNS server for the zone that names them. Where the extra
// loopback addresses cannot be bound (macOS has only 127.0.0.1 by default)
// every host points at one server on 127.0.0.1.
func startDemoLab(listen listenFunc) (*demoLab, error) {
	ips := make([]string, len(demoMX))
	for i, h := range demoMX {
		ips[i] = h.ip
	}
	ls, err := listenSamePort(listen, ips)
	if err != nil {
		l, err2 := listen("tcp", "127.0.0.1:0")
		if err2 != nil {
			return nil, fmt.Errorf("demo: cannot listen on loopback: %w", errors.Join(err, err2))
		}
		ls = []net.Listener{l}
	}
	lab := &demoLab{port: ls[0].Addr().(*net.TCPAddr).Port}
	for i, h := range demoMX {
		host := demoLabHost{name: h.name, pref: h.pref, ip: h.ip}
		if len(ls) == 1 { // the fallback: one server on 127.0.0.1 for all
			host.ip = "127.0.0.1"
		}
		if i >= len(ls) {
			host.server = lab.hosts[0].server
			lab.hosts = append(lab.hosts, host)
			continue
		}
		p := demoPolicy
		p.Hostname = h.name
		s, err := probetest.NewPolicyServer(ls[i], p)
		if err != nil {
			for _, l := range ls[i:] {
				l.Close()
			}
			lab.Close()
			return nil, fmt.Errorf("demo: %w", err)
		}
		host.server = s
		lab.hosts = append(lab.hosts, host)
	}
	dns, err := resolvertest.NewServer(lab.zone())
	if err != nil {
		lab.Close()
		return nil, fmt.Errorf("demo: DNS server: %w", err)
	}
	lab.dns, lab.dnsAddr = dns, dns.Addr()
	return lab, nil
}

// listenSamePort binds the first address on a free port, then every other
// address on that same port. Another program may hold the port on a later
// address, so it retries with a new port a few times.
func listenSamePort(listen listenFunc, ips []string) ([]net.Listener, error) {
	var lastErr error
	for range 20 {
		first, err := listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return nil, err
		}
		port := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
		ls := []net.Listener{first}
		for _, ip := range ips[1:] {
			var l net.Listener
			l, err = listen("tcp", net.JoinHostPort(ip, port))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		if err == nil {
			return ls, nil
		}
		for _, l := range ls {
			l.Close()
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("no port free on every demo address: %w", lastErr)
}

// zone is the demo domain as an RFC 1035 master file: the MX records and
// the address of every host as the lab bound it.
func (l *demoLab) zone() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s.\n$TTL 300\n", demoDomain)
	fmt.Fprintf(&b, "@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n", demoDomain, demoDomain)
	fmt.Fprintf(&b, "@ IN NS ns.%s.\n", demoDomain)
	for _, h := range l.hosts {
		fmt.Fprintf(&b, "@ IN MX %d %s.\n", h.pref, h.name)
	}
	fmt.Fprintf(&b, "ns IN A 127.0.0.1\n")
	for _, h := range l.hosts {
		fmt.Fprintf(&b, "%s. IN A %s\n", h.name, h.ip)
	}
	return b.String()
}

// servers returns each distinct policy server once.
func (l *demoLab) servers() []*probetest.PolicyServer {
	var out []*probetest.PolicyServer
	for _, h := range l.hosts {
		if len(out) == 0 || out[len(out)-1] != h.server {
			out = append(out, h.server)
		}
	}
	return out
}

// Close stops every server of the lab and waits for them.
func (l *demoLab) Close() error {
	var errs []error
	if l.dns != nil {
		errs = append(errs, l.dns.Close())
	}
	for _, s := range l.servers() {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

const demoExamples = `  smtpprobe demo              # the report a person reads
  smtpprobe demo -v           # with the full C:/S: transcript and timings
  smtpprobe demo --json       # the JSON document scripts read
  smtpprobe demo -q           # the verdict lines only
`

func runDemo(ctx context.Context, args []string, e *env) int {
	fs := newFlagSet("demo", "smtpprobe demo [flags]", demoExamples)
	of := addOutputFlags(fs, "reply codes")
	of.addVerboseFlag(fs, "print the full transcript with timings")
	if done, code := parseFlags(fs, args, e); done {
		return code
	}
	if _, err := of.options(fs, e); err != nil {
		return usageError(e, "demo", err.Error())
	}
	if fs.NArg() > 0 {
		return argCountError(e, "demo", "no arguments", fs.NArg(), "")
	}

	lab, err := startDemoLab(net.Listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "smtpprobe demo: %v\n", err)
		return exitConnection
	}
	defer lab.Close()

	// The flags that shape the output are passed on as given.
	var output []string
	for _, name := range []string{"format", "json", "quiet", "color", "verbose"} {
		f := fs.Lookup(name)
		switch {
		case !f.Changed:
		case f.Value.Type() == "bool" && f.Value.String() == "true":
			output = append(output, "--"+name)
		case f.Value.Type() == "bool":
			output = append(output, "--"+name+"=false")
		default:
			output = append(output, "--"+name, f.Value.String())
		}
	}
	code := lab.run(ctx, output, e)
	if ctx.Err() != nil {
		// Ctrl-C or a stop signal: whatever the probe made of it, the
		// report is partial.
		fmt.Fprintln(e.stderr, "smtpprobe demo: interrupted; the report is incomplete")
		return exitInterrupted
	}
	return code
}

// run probes the lab's domain through the probe subcommand, with output
// the flags that shape the report (--json, -v, --color).
func (l *demoLab) run(ctx context.Context, output []string, e *env) int {
	args := append(l.probeArgs(), output...)
	if !slices.Contains(output, "--quiet") {
		fmt.Fprintf(e.stderr, "smtpprobe demo: %s served on loopback; running: smtpprobe probe %s\n",
			demoDomain, strings.Join(args, " "))
	}
	return runProbe(ctx, args, e)
}

// demoTarget is the address the demo probes: a mailbox that exists, so the
// report shows a 250 beside the refusals.
const demoTarget = "alice@" + demoDomain

// probeArgs are the arguments of the `smtpprobe probe` run the demo makes:
// only the DNS server and the port differ from a probe of a real domain.
// The extra recipients draw the greylisting and over-quota replies.
func (l *demoLab) probeArgs() []string {
	return []string{
		demoTarget,
		"--rcpt", "greylisted@" + demoDomain,
		"--rcpt", "full@" + demoDomain,
		"--dns", l.dnsAddr,
		"--port", strconv.Itoa(l.port),
		// One connection at a time, pipelined: the demo's report reads
		// the same on every run.
		"--connections", "1",
	}
}
