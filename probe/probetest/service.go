package probetest

import (
	"net"
	"os"
	"testing"
	"time"
)

// NeedService reports a CI service a test needs as missing, when why is
// not "": under CI=true, where .ci/run starts every service, the test
// fails; elsewhere it is skipped, and start says how to bring the service
// up.
func NeedService(t testing.TB, why, start string) {
	t.Helper()
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s under CI=true (.ci/run starts it)", why)
	}
	t.Skipf("%s (start it with: %s)", why, start)
}

// NeedTCP is NeedService for a service that must accept TCP connections
// on addr; what names it in the message.
func NeedTCP(t testing.TB, what, addr, start string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		NeedService(t, what+" is not answering on "+addr+": "+err.Error(), start)
		return
	}
	c.Close()
}
