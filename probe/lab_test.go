package probe

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The Postfix lab started by .ci/services/postfix.sh (scripts/lab up). Other
// integration tests rely on these two endpoints behaving as documented in the
// README's lab section.
var postfixLabEndpoints = []struct {
	name, addr string
	vrfy       bool // whether EHLO advertises VRFY (disable_vrfy_command = no)
}{
	{"strict", "127.0.0.1:2525", true},
	{"lenient", "127.0.0.1:2526", false},
	{"hidden", "127.0.0.1:2527", true}, // smtpd_banner = $myhostname ESMTP
}

// TestLabAnswers checks that both lab endpoints greet with 220 and advertise
// what the lab promises: STARTTLS on both (and it works, with the lab's
// certificate for mx.lab.test), VRFY only on the strict one. It
// skips on a machine without the lab and fails under CI=true.
func TestLabAnswers(t *testing.T) {
	for _, ep := range postfixLabEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", ep.addr, 3*time.Second)
			if err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatalf("Postfix lab %s at %s is not running (CI=true; .ci/services/postfix.sh starts it): %v", ep.name, ep.addr, err)
				}
				if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Logf("dial %s: %v", ep.addr, err)
				}
				t.Skipf("Postfix lab not running at %s; start it with scripts/lab up", ep.addr)
			}
			t.Cleanup(func() { conn.Close() })
			if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(conn)

			banner := readPostfixLabReply(t, r)
			if len(banner) != 1 || !strings.HasPrefix(banner[0], "220 mx.lab.test ") {
				t.Fatalf("banner = %q, want one line starting %q", banner, "220 mx.lab.test ")
			}

			if _, err := conn.Write([]byte("EHLO client.lab.test\r\n")); err != nil {
				t.Fatal(err)
			}
			ehlo := readPostfixLabReply(t, r)
			keywords := map[string]bool{}
			for _, l := range ehlo {
				if !strings.HasPrefix(l, "250") {
					t.Fatalf("EHLO reply line %q is not 250", l)
				}
				if f := strings.Fields(l[4:]); len(f) > 0 {
					keywords[strings.ToUpper(f[0])] = true
				}
			}
			if !keywords["STARTTLS"] {
				t.Errorf("EHLO %q does not offer STARTTLS", ehlo)
			}
			if keywords["VRFY"] != ep.vrfy {
				t.Errorf("EHLO advertises VRFY = %v, want %v (%q)", keywords["VRFY"], ep.vrfy, ehlo)
			}

			// STARTTLS with the lab's self-signed certificate for mx.lab.test.
			if _, err := conn.Write([]byte("STARTTLS\r\n")); err != nil {
				t.Fatal(err)
			}
			if st := readPostfixLabReply(t, r); !strings.HasPrefix(st[0], "220") {
				t.Fatalf("STARTTLS reply = %q, want 220", st)
			}
			tc := tls.Client(conn, &tls.Config{ServerName: "mx.lab.test", InsecureSkipVerify: true}) // self-signed by design
			if err := tc.Handshake(); err != nil {
				t.Fatalf("TLS handshake: %v", err)
			}
			if certs := tc.ConnectionState().PeerCertificates; len(certs) == 0 || certs[0].Subject.CommonName != "mx.lab.test" {
				t.Errorf("certificate subject is not CN=mx.lab.test")
			}
			tr := bufio.NewReader(tc)
			if _, err := tc.Write([]byte("EHLO client.lab.test\r\n")); err != nil {
				t.Fatal(err)
			}
			if e := readPostfixLabReply(t, tr); !strings.HasPrefix(e[0], "250") {
				t.Errorf("EHLO after STARTTLS = %q, want 250", e)
			}
			if _, err := tc.Write([]byte("QUIT\r\n")); err != nil {
				t.Fatal(err)
			}
			if q := readPostfixLabReply(t, tr); !strings.HasPrefix(q[len(q)-1], "221") {
				t.Errorf("QUIT reply = %q, want 221", q)
			}
		})
	}
}

// readPostfixLabReply reads one possibly multi-line reply and returns its lines
// without CRLF. The lab is Postfix, so a strict reader is good enough here.
func readPostfixLabReply(t *testing.T, r *bufio.Reader) []string {
	t.Helper()
	var lines []string
	for len(lines) < 100 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading reply after %q: %v", lines, err)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return lines
		}
	}
	t.Fatalf("reply longer than 100 lines: %q", lines[:3])
	return nil
}
