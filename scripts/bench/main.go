// Command bench measures the probe engine: the full default suite against
// the lab Postfix (scripts/lab up) through a relay on loopback that delays
// every chunk each way, in each scheduling mode, side by side.
//
//	go run ./scripts/bench [-target 127.0.0.1:2525] [-delay 25ms]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/smtpprobe/smtpprobe/probe"
)

func main() {
	target := flag.String("target", "127.0.0.1:2525", "the SMTP server to probe")
	delay := flag.Duration("delay", 25*time.Millisecond, "delay added each way (the RTT grows by twice this)")
	dump := flag.String("dump", "", "a directory to write each mode's report into, as JSON")
	flag.Parse()
	relay, err := startRelay(*target, *delay)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Printf("default suite against %s through a relay adding %v each way (+%v RTT)\n\n", *target, *delay, 2**delay)
	fmt.Printf("%-22s %10s %8s %12s %7s %12s\n", "mode", "wall", "RTT", "connections", "groups", "RTT on path")
	checks, defaultWall := 0, time.Duration(0)
	for _, m := range []struct {
		name string
		set  func(*probe.Options)
	}{
		{"default (3 at once)", func(o *probe.Options) {}},
		{"sequential pipelined", func(o *probe.Options) { o.Connections = 1 }},
		{"lock-step", func(o *probe.Options) { o.LockStep = true }},
	} {
		t, _ := probe.ParseTarget(relay)
		o := probe.Options{Target: t, Domain: "lab.test", User: "alice", HELO: "client.test", TLS: "none", Timeout: 10 * time.Second}
		m.set(&o)
		start := time.Now()
		rep, err := probe.Run(context.Background(), o)
		wall := time.Since(start)
		if err != nil || len(rep.Hosts) == 0 || rep.Hosts[0].Schedule == nil {
			fmt.Fprintln(os.Stderr, "bench:", m.name, err)
			os.Exit(1)
		}
		if *dump != "" {
			b, _ := json.MarshalIndent(rep, "", " ")
			os.WriteFile(filepath.Join(*dump, strings.ReplaceAll(m.name, " ", "_")+".json"), b, 0o644)
		}
		h := rep.Hosts[0]
		sc := h.Schedule
		fmt.Printf("%-22s %8.0fms %8.1f %12d %7d %12d\n", m.name, float64(wall.Microseconds())/1000,
			float64(wall)/float64(2**delay), h.Connections, sc.Groups, sc.RoundTrips)
		if checks == 0 {
			defaultWall = wall
			for _, st := range h.Steps {
				if !st.Setup && st.Outcome != probe.Skipped {
					checks++
				}
			}
		}
	}
	swaks(relay, *delay, checks, defaultWall)
}

// swaks times the same checks done the way swaks does them, one session
// per check (connect, greeting, EHLO, MAIL, RCPT, QUIT): the mean of a few
// runs through the relay, times the checks the default run sent. It is
// left out when swaks is not installed (Debian: apt install swaks).
func swaks(relay string, delay time.Duration, checks int, ours time.Duration) {
	bin, err := exec.LookPath("swaks")
	if err != nil || checks == 0 {
		fmt.Println("\n(swaks not installed: no comparison)")
		return
	}
	host, port, _ := net.SplitHostPort(relay)
	const runs = 5
	start := time.Now()
	for range runs {
		cmd := exec.Command(bin, "--server", host, "--port", port, "--helo", "client.test",
			"--from", "postmaster@client.test", "--to", "alice@lab.test", "--quit-after", "RCPT", "--silent", "2")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: swaks: %v\n%s", err, out)
			return
		}
	}
	per := time.Since(start) / runs
	total := per * time.Duration(checks)
	fmt.Printf("%-22s %8.0fms %8.1f %12d %7s %12d   (%d checks × %.0f ms a run; %.0f × the default mode)\n", "swaks, a run per check",
		float64(total.Microseconds())/1000, float64(total)/float64(2*delay), checks, "-", 6*checks,
		checks, float64(per.Microseconds())/1000, float64(total)/float64(ours))
}

// startRelay listens on loopback and copies each connection to target,
// holding every chunk for delay in each direction.
func startRelay(target string, delay time.Duration) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// The kernel finished the handshake with the client at
				// once; on a link the SYN, the SYN-ACK and the ACK each
				// cross it before the server accepts and greets, and
				// the greeting crosses it once more: 2 RTT in all from
				// the client's connect, as on the wire.
				time.Sleep(3 * delay)
				s, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				go pipe(s, c, delay)
				pipe(c, s, delay)
			}()
		}
	}()
	return ln.Addr().String(), nil
}

// pipe copies src to dst, each chunk delivered delay after it was read,
// in order.
func pipe(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	q := make(chan chunk, 1024)
	go func() {
		for c := range q {
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.b); err != nil {
				break
			}
		}
		dst.(*net.TCPConn).CloseWrite()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			q <- chunk{time.Now().Add(delay), append([]byte(nil), buf[:n]...)}
		}
		if err != nil {
			if err != io.EOF {
				src.Close()
			}
			close(q)
			return
		}
	}
}
