// Command tattle stands in for the system resolver inside the test network
// namespace: it answers every DNS query on the address it is given with
// REFUSED and writes the query's name and type to a log, one line each.
//
// A hermetic test suite asks it nothing: every lookup in a test goes to a
// server the test started. A line in the log names a test that fell back
// to the system resolver, which outside the namespace would have sent a
// packet to a server off this machine.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"sync"

	"github.com/miekg/dns"
)

func main() {
	addr := flag.String("addr", "127.0.0.53:53", "address to listen on, UDP and TCP")
	logPath := flag.String("log", "", "file to append the queries to")
	ready := flag.String("ready", "", "file to create once both listeners are up")
	flag.Parse()
	out, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		mu.Lock()
		for _, question := range q.Question {
			fmt.Fprintf(out, "%s %s %s\n", w.RemoteAddr().Network(), question.Name, dns.TypeToString[question.Qtype])
		}
		out.Sync()
		mu.Unlock()
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeRefused)
		w.WriteMsg(m)
	})
	errs := make(chan error, 2)
	var started sync.WaitGroup
	for _, network := range []string{"udp", "tcp"} {
		started.Add(1)
		srv := &dns.Server{Addr: *addr, Net: network, Handler: handler, NotifyStartedFunc: started.Done}
		go func() { errs <- srv.ListenAndServe() }()
	}
	go func() {
		started.Wait()
		if *ready != "" {
			if err := os.WriteFile(*ready, nil, 0o644); err != nil {
				errs <- err
			}
		}
	}()
	log.Fatal(<-errs)
}
