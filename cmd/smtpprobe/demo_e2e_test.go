package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// demoDNSRecorder serves the lab's zone through the lab's own DNS handler and
// notes every question asked.
type demoDNSRecorder struct {
	mu sync.Mutex
	qs []string // "MX demo.test."
}

func (r *demoDNSRecorder) questions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.qs)
}

// recordDemoDNS puts a recording DNS server (UDP and TCP on one port) in front
// of the lab's, and points the lab's probe at it.
func recordDemoDNS(t *testing.T, lab *demoLab) *demoDNSRecorder {
	t.Helper()
	rec := &demoDNSRecorder{}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		rec.mu.Lock()
		for _, q := range req.Question {
			rec.qs = append(rec.qs, dns.TypeToString[q.Qtype]+" "+strings.ToLower(q.Name))
		}
		rec.mu.Unlock()
		lab.dns.ServeDNS(w, req)
	})
	var pc net.PacketConn
	var l net.Listener
	for try := 0; l == nil; try++ { // the UDP port may be taken on TCP
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			if try == 10 {
				t.Fatal(err)
			}
		}
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: l, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() { defer close(done); srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { srv.Shutdown(); <-done })
	}
	lab.dnsAddr = pc.LocalAddr().String()
	return rec
}

func demoTestEnv() (*env, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, &stdout, &stderr
}

// TestDemoTraffic runs the demo and checks, from the servers' side, that
// the probe asked DNS what a sending MTA asks, held one full session with
// the preferred MX host, and never sent DATA.
func TestDemoTraffic(t *testing.T) {
	lab := startDemoTestLab(t, net.Listen)
	rec := recordDemoDNS(t, lab)
	e, stdout, stderr := demoTestEnv()
	if code := lab.run(context.Background(), []string{"--json"}, e); code != exitOK {
		t.Fatalf("demo exit %d\nstderr:\n%s", code, stderr)
	}

	qs := rec.questions()
	for _, want := range []string{"MX demo.test.", "A mx1.demo.test."} {
		if !slices.Contains(qs, want) {
			t.Errorf("DNS never asked %q; questions: %q", want, qs)
		}
	}

	mx1, mx2 := lab.hosts[0].server, lab.hosts[1].server
	for _, s := range lab.servers() {
		if s.DataSeen() {
			t.Errorf("server %s received DATA or BDAT: %q", s.Addr(), s.Commands())
		}
		if l := s.Logged(); len(l) != 0 {
			t.Errorf("server %s logged errors: %q", s.Addr(), l)
		}
	}
	verbs := mx1.Verbs()
	for _, v := range []string{"EHLO", "STARTTLS", "VRFY", "MAIL", "RCPT", "QUIT"} {
		if verbs[v] == 0 {
			t.Errorf("mx1 never received %s; it saw %v", v, verbs)
		}
	}
	if verbs["EHLO"] < 2 {
		t.Errorf("mx1 saw %d EHLO, want one before and one after STARTTLS", verbs["EHLO"])
	}
	if verbs["QUIT"] != mx1.Connections() {
		t.Errorf("mx1: %d QUIT over %d connections; every session must end with QUIT", verbs["QUIT"], mx1.Connections())
	}
	rcpts := mx1.Recipients()
	for _, want := range []string{"alice@demo.test", "greylisted@demo.test", "full@demo.test", "postmaster@demo.test"} {
		if !slices.Contains(rcpts, want) {
			t.Errorf("mx1 never saw RCPT TO %s; saw %q", want, rcpts)
		}
	}
	if lab.hosts[1].server != mx1 && mx2.Connections() != 0 {
		t.Errorf("mx2 got %d connections although mx1, preferred, answered", mx2.Connections())
	}

	var report struct {
		SchemaVersion int `json:"schema_version"`
		Hosts         []struct {
			Host  string `json:"host"`
			Steps []struct {
				Reply *struct {
					Code     int    `json:"code"`
					Enhanced string `json:"enhanced"`
				} `json:"reply"`
			} `json:"steps"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("demo --json is not JSON: %v\n%s", err, stdout)
	}
	if report.SchemaVersion != 1 || len(report.Hosts) == 0 || report.Hosts[0].Host != "mx1.demo.test" {
		t.Fatalf("report: schema %d, hosts %+v", report.SchemaVersion, report.Hosts)
	}
	seen := map[string]bool{}
	for _, st := range report.Hosts[0].Steps {
		if st.Reply != nil {
			seen[strconv.Itoa(st.Reply.Code)+" "+st.Reply.Enhanced] = true
		}
	}
	for _, want := range []string{"250 2.0.0", "252 2.5.0", "550 5.1.1", "450 4.2.0", "452 4.2.2"} {
		if !seen[want] {
			t.Errorf("no step drew %s; replies seen: %v", want, seen)
		}
	}
}

// The demo's goldens live in the repository's testdata/demo.
const demoTestdata = "../../testdata/demo"

// demoGoldenArgs fix what differs from one machine to the next: the HELO
// name defaults to this machine's FQDN, and its length would shift the
// report's columns.
var demoGoldenArgs = []string{"--helo", "localhost", "--color", "never"}

// Replacements that keep the report's width: the random mailbox has a
// fixed length, dates keep their shape.
var (
	demoRandomRE = regexp.MustCompile(`smtpprobe-[a-z0-9]{10}`)
	demoDateRE   = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?\b`)
	demoPortRE   = regexp.MustCompile(`\b(127\.0\.0\.[123]):\d+\b`)
	demoCipherRE = regexp.MustCompile(`\bTLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)\b`)
	demoMsRE     = regexp.MustCompile(`(?m)^( *)\d+\.\dms `)
	demoWallRE   = regexp.MustCompile(`(?m)\b\d+\.\dms$`) // the schedule's wall time
)

// normaliseDemoText replaces what changes from run to run: the random
// mailbox, certificate dates, ports, the TLS 1.3 cipher (AES or ChaCha20
// depending on the CPU) and transcript timings.
func normaliseDemoText(s string) string {
	s = demoRandomRE.ReplaceAllString(s, "smtpprobe-RANDOM0000")
	s = demoDateRE.ReplaceAllStringFunc(s, func(d string) string {
		if len(d) > 10 {
			return "YYYY-MM-DDThh:mm:ssZ"
		}
		return "YYYY-MM-DD"
	})
	s = demoPortRE.ReplaceAllString(s, "$1:PORT")
	s = demoCipherRE.ReplaceAllString(s, "TLS13_CIPHER")
	s = demoMsRE.ReplaceAllString(s, "${1}T.Tms ")
	s = demoWallRE.ReplaceAllString(s, "T.Tms")
	return s
}

// normaliseDemoJSON does the same to the JSON document, zeroes timings and
// sorts the DNS queries, which the resolver sends concurrently.
func normaliseDemoJSON(t *testing.T, b []byte) string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if strings.HasSuffix(k, "_ms") || strings.HasSuffix(k, "_ns") {
					v[k] = 0 // a timing: rtt_ms, at_ms, ...
				} else {
					v[k] = walk(x)
				}
			}
			if tr, ok := v["transcript"].([]any); ok {
				v["transcript"] = mergeDemoTranscript(tr)
			}
			if qs, ok := v["queries"].([]any); ok {
				slices.SortStableFunc(qs, func(a, b any) int {
					return strings.Compare(demoQueryKey(a), demoQueryKey(b))
				})
			}
			return v
		case []any:
			for i, x := range v {
				v[i] = walk(x)
			}
			return v
		case string:
			return normaliseDemoText(v)
		}
		return v
	}
	out, err := json.MarshalIndent(walk(doc), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return demoPortRE.ReplaceAllString(string(out), "$1:PORT") + "\n"
}

// mergeDemoTranscript joins consecutive transcript entries of one
// direction on one connection: the transcript records bytes as each read
// returned them, and TCP may split a multi-line reply anywhere.
func mergeDemoTranscript(tr []any) []any {
	var out []any
	for _, x := range tr {
		e, ok := x.(map[string]any)
		if !ok {
			return tr
		}
		if n := len(out); n > 0 {
			prev := out[n-1].(map[string]any)
			if prev["dir"] == e["dir"] && prev["connection"] == e["connection"] {
				ps, _ := prev["data"].(string)
				es, _ := e["data"].(string)
				prev["data"] = ps + es
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func demoQueryKey(q any) string {
	m, _ := q.(map[string]any)
	return fmt.Sprint(m["name"], " ", m["type"], " ", m["transport"])
}

func TestDemoGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"report.txt", nil},
		{"report.json", []string{"--json"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			lab := startDemoTestLab(t, net.Listen)
			e, stdout, stderr := demoTestEnv()
			if code := lab.run(context.Background(), append(slices.Clone(demoGoldenArgs), tc.args...), e); code != exitOK {
				t.Fatalf("demo exit %d\nstderr:\n%s", code, stderr)
			}
			var got string
			if strings.HasSuffix(tc.golden, ".json") {
				got = normaliseDemoJSON(t, stdout.Bytes())
			} else {
				got = normaliseDemoText(stdout.String())
			}
			checkGolden(t, filepath.Join(demoTestdata, tc.golden), got)
		})
	}
}

// The normalisation must not hide what it should not: it keeps reply
// codes and names, and only rewrites the volatile parts.
func TestNormaliseDemoText(t *testing.T) {
	in := "Host mx1.demo.test [127.0.0.2:38837]\n  valid       2026-11-28 to 2026-11-29\n  tls         TLS 1.3, TLS_CHACHA20_POLY1305_SHA256\n  VRFY smtpprobe-ktosa3oqxw  252 2.5.0\n      36.8ms *: TLS established\n"
	want := "Host mx1.demo.test [127.0.0.2:PORT]\n  valid       YYYY-MM-DD to YYYY-MM-DD\n  tls         TLS 1.3, TLS13_CIPHER\n  VRFY smtpprobe-RANDOM0000  252 2.5.0\n      T.Tms *: TLS established\n"
	if got := normaliseDemoText(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// runDemo end to end through its own flags: the lab starts, the report is
// printed, the equivalent probe command goes to stderr, and every server
// goroutine is gone afterwards.
func TestRunDemo(t *testing.T) {
	before := runtime.NumGoroutine()
	e, stdout, stderr := demoTestEnv()
	if code := runDemo(context.Background(), []string{"--color", "never"}, e); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	for _, want := range []string{"mx1.demo.test", "252 2.5.0", "550 5.1.1", "450 4.2.0", "452 4.2.2", "vrfy_policy"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if !regexp.MustCompile(`running: smtpprobe probe alice@demo\.test --rcpt greylisted@demo\.test --rcpt full@demo\.test --dns 127\.0\.0\.1:\d+ --port \d+ --connections 1 --color never\n`).MatchString(stderr.String()) {
		t.Errorf("stderr does not give the equivalent probe command:\n%s", stderr)
	}
	waitGoroutines(t, before)
}

// A cancelled run (Ctrl-C) ends promptly and still shuts the lab down.
func TestRunDemoCanceled(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e, _, stderr := demoTestEnv()
	done := make(chan int, 1)
	go func() { done <- runDemo(ctx, nil, e) }()
	select {
	case code := <-done:
		if code != exitInterrupted {
			t.Errorf("a cancelled demo exited %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled demo did not return")
	}
	waitGoroutines(t, before)
}

// waitGoroutines fails t unless the goroutine count settles back to n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > n {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", n, got, buf[:runtime.Stack(buf, true)])
	}
}

// On a machine with only 127.0.0.1 both MX names lead to one server, and
// the demo still prints a whole report of it.
func TestDemoFallbackReport(t *testing.T) {
	lab := startDemoTestLab(t, onlyLocalhost)
	e, stdout, stderr := demoTestEnv()
	if code := lab.run(context.Background(), []string{"--color", "never"}, e); code != exitOK {
		t.Fatalf("demo exit %d\nstderr:\n%s", code, stderr)
	}
	for _, want := range []string{"127.0.0.1", "Host mx1.demo.test [127.0.0.1:", "252 2.5.0", "450 4.2.0", "452 4.2.2", "vrfy_policy         hides"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if lab.hosts[0].server.DataSeen() {
		t.Error("DATA was sent")
	}
}
