package wire

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/probetest"
	"github.com/smtpprobe/smtpprobe/probe/tlstest"
)

func tlsConfigFor(addr string, p *testPKI, mode TLSMode) Config {
	cfg := config(addr)
	cfg.TLS, cfg.ServerName, cfg.RootCAs = mode, "mx.test", p.roots
	return cfg
}

// afterTLS is what a server does once TLS is up: a second EHLO that no
// longer offers STARTTLS, then QUIT.
var afterTLS = script(expect("EHLO client.test"), send("250-mx.test over TLS\r\n250 SIZE 2000\r\n"), quitOK)

func TestSTARTTLS(t *testing.T) {
	p := newPKI(t)
	srv := probetest.NewScripted(t, script(banner, ehloStartTL, send("220 2.0.0 go ahead\r\n"), probetest.StartTLS(serverTLS(p.good)), afterTLS)...)
	s, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSAuto))
	wantStatus(t, err, StatusOK)
	info := s.TLS()
	if info == nil || !info.Verified || !info.NameMatch || len(info.Problems) != 0 {
		t.Fatalf("TLS info %+v", info)
	}
	if info.Version == "" || info.Cipher == "" || info.Subject != "CN=mx.test" || !slices.Contains(info.SANs, "mx.test") ||
		!strings.Contains(info.Issuer, "smtpprobe test CA") || info.NotAfter.IsZero() {
		t.Errorf("TLS info %+v", info)
	}
	if n, _ := s.Extensions().Size(); n != 2000 || s.Extensions().Has("STARTTLS") {
		t.Errorf("extensions after TLS: %q", s.Extensions().Keywords())
	}
	if _, err := s.Quit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Err(); err != nil {
		t.Fatal(err)
	}
	if c := transcriptText(s, DirClient); c != "EHLO client.test\r\nSTARTTLS\r\nEHLO client.test\r\nQUIT\r\n" {
		t.Errorf("transcript of sent lines %q (the TLS handshake must not appear)", c)
	}
}

func TestImplicitTLS(t *testing.T) {
	p := newPKI(t)
	srv := probetest.NewScripted(t, script(probetest.StartTLS(serverTLS(p.good)), banner, ehloOK, quitOK)...)
	s, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSImplicit))
	wantStatus(t, err, StatusOK)
	if s.TLS() == nil || !s.TLS().Verified || s.Greeting().Code != 220 {
		t.Fatalf("TLS %+v greeting %+v", s.TLS(), s.Greeting())
	}
	s.Quit(context.Background())
	if err := srv.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestSTARTTLSRefused(t *testing.T) {
	p := newPKI(t)
	steps := script(banner, ehloStartTL, send("454 4.7.0 TLS not available due to local problem\r\n"), longStall)
	t.Run("auto continues in plain text", func(t *testing.T) {
		srv := probetest.NewScripted(t, steps...)
		s, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSAuto))
		wantStatus(t, err, StatusOK)
		if s.TLS() != nil || len(s.Deviations()) != 1 || s.Deviations()[0].Kind != "starttls-refused" {
			t.Fatalf("TLS %+v deviations %+v", s.TLS(), s.Deviations())
		}
	})
	t.Run("starttls required", func(t *testing.T) {
		srv := probetest.NewScripted(t, steps...)
		_, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSStartTLS))
		wantStatus(t, err, StatusTLSUnavailable)
	})
	t.Run("not offered but required", func(t *testing.T) {
		srv := probetest.NewScripted(t, script(banner, ehloOK, longStall)...)
		_, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSStartTLS))
		wantStatus(t, err, StatusTLSUnavailable)
	})
	t.Run("none never tries", func(t *testing.T) {
		srv := probetest.NewScripted(t, script(banner, expect("EHLO client.test"), send("250-mx.test\r\n250 STARTTLS\r\n"), quitOK)...)
		s, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSNone))
		wantStatus(t, err, StatusOK)
		s.Quit(context.Background())
		if err := srv.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSTARTTLSThenPlainText(t *testing.T) {
	p := newPKI(t)
	srv := probetest.NewScripted(t, script(banner, ehloStartTL, send("220 go ahead\r\n"), probetest.AwaitBytes(), send("250 still plain text\r\n"), longStall)...)
	s, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSAuto))
	wantStatus(t, err, StatusTLSHandshakeError)
	if !s.Closed() || s.TLS() != nil {
		t.Fatalf("closed %v TLS %+v", s.Closed(), s.TLS())
	}
	if len(s.Deviations()) == 0 || s.Deviations()[0].Kind != DevTLSPlaintext {
		t.Errorf("deviations %+v", s.Deviations())
	}
}

func TestTLSHandshakeFailure(t *testing.T) {
	// A server with no certificate aborts the handshake with an alert.
	srv := probetest.NewScripted(t, script(banner, ehloStartTL, send("220 go ahead\r\n"), probetest.StartTLS(&tls.Config{}))...)
	s, err := dial(t, tlsConfigFor(srv.Addr(), newPKI(t), TLSAuto))
	wantStatus(t, err, StatusTLSHandshakeError)
	if !s.Closed() {
		t.Error("session usable after a failed handshake")
	}
}

func TestCertificateProblems(t *testing.T) {
	p := newPKI(t)
	cases := []struct {
		name    string
		cert    tls.Certificate
		problem string
		name_ok bool
	}{
		{"expired", p.expired, "expired on", true},
		{"self-signed", p.selfSigned, "self-signed", true},
		{"wrong name", p.wrong, `not valid for "mx.test"`, false},
	}
	for _, tc := range cases {
		for _, verify := range []bool{false, true} {
			name := tc.name
			if verify {
				name += " with TLSVerify"
			}
			t.Run(name, func(t *testing.T) {
				srv := probetest.NewScripted(t, script(banner, ehloStartTL, send("220 go ahead\r\n"), probetest.StartTLS(serverTLS(tc.cert)), afterTLS)...)
				cfg := tlsConfigFor(srv.Addr(), p, TLSAuto)
				cfg.TLSVerify = verify
				s, err := dial(t, cfg)
				info := s.TLS()
				if info == nil || info.Verified == (tc.name != "wrong name") || info.NameMatch != tc.name_ok || !hasProblem(info, tc.problem) {
					t.Fatalf("TLS info %+v", info)
				}
				if verify {
					wantStatus(t, err, StatusTLSHandshakeError)
					return
				}
				wantStatus(t, err, StatusOK)
				if rep, err := s.Quit(context.Background()); err != nil || rep.Code != 221 {
					t.Fatalf("the session goes on despite the certificate: %+v %v", rep, err)
				}
			})
		}
	}
}

// TestSTARTTLSInjection is the CVE-2011-0411 class seen from the client:
// plain-text lines sent right behind the 220 must never be read as if
// they came through TLS.
func TestSTARTTLSInjection(t *testing.T) {
	p := newPKI(t)
	srv := probetest.NewScripted(t, script(banner, ehloStartTL,
		send("220 go ahead\r\n250-injected.example\r\n250 AUTH PLAIN\r\n"),
		probetest.StartTLS(serverTLS(p.good)), afterTLS)...)
	s, err := dial(t, tlsConfigFor(srv.Addr(), p, TLSAuto))
	wantStatus(t, err, StatusOK)
	if s.TLS() == nil || s.Extensions().Has("AUTH") || !strings.Contains(s.EHLOReply().Text(), "over TLS") {
		t.Fatalf("injected bytes were read as the TLS EHLO reply: %+v", s.EHLOReply())
	}
	found := false
	for _, d := range s.Deviations() {
		found = found || d.Kind == DevSTARTTLSInject
	}
	if !found {
		t.Errorf("no injection deviation: %+v", s.Deviations())
	}
	if got := transcriptText(s, DirServer); !strings.Contains(got, "injected.example") {
		t.Error("the injected bytes must stay in the transcript")
	}
}

// TestCertificateWithOnlyACN: a certificate naming the host only in its
// subject CN, with no subjectAltName, is valid for no name, and the
// problem says so instead of listing an empty set of names.
func TestCertificateWithOnlyACN(t *testing.T) {
	ca := tlstest.NewCA(t, "Lab CA")
	leaf := ca.Leaf(t, tlstest.Options{CommonName: "mx.test"})
	srv := probetest.NewScripted(t, script(banner, ehloStartTL, send("220 go ahead\r\n"), probetest.StartTLS(tlstest.TLSConfig(leaf)), afterTLS)...)
	cfg := config(srv.Addr())
	cfg.TLS, cfg.ServerName, cfg.RootCAs = TLSAuto, "mx.test", ca.Pool()
	s, err := dial(t, cfg)
	wantStatus(t, err, StatusOK)
	info := s.TLS()
	if info == nil || !info.Verified || info.NameMatch || len(info.Chain) != 1 {
		t.Fatalf("TLS info %+v", info)
	}
	if !hasProblem(info, `it has no subjectAltName, and its CN "mx.test" is not used for name checks (RFC 6125 §6.4.4)`) || hasProblem(info, "it names )") {
		t.Fatalf("problems %q", info.Problems)
	}
	if r := s.STARTTLSReply(); r == nil || r.Code != 220 {
		t.Errorf("STARTTLS reply %+v", r)
	}
}

// Hello finishes a session dialled with NoHello as Dial would have:
// after the steps sent before any EHLO, EHLO, STARTTLS when offered, and
// EHLO again over TLS, with the extensions of the last.
func TestHelloAfterNoHello(t *testing.T) {
	p := newPKI(t)
	srv := probetest.NewScripted(t, script(banner, expect("MAIL FROM:<a@b.test>"), send("503 5.5.1 say hello first\r\n"),
		ehloStartTL, send("220 2.0.0 go ahead\r\n"), probetest.StartTLS(serverTLS(p.good)), afterTLS)...)
	cfg := tlsConfigFor(srv.Addr(), p, TLSAuto)
	cfg.NoHello = true
	s, err := dial(t, cfg)
	wantStatus(t, err, StatusOK)
	if s.EHLOReply().Code != 0 || s.TLS() != nil {
		t.Fatalf("a session dialled with NoHello said EHLO or began TLS: %+v", s.EHLOReply())
	}
	if rep, err := s.Cmd(context.Background(), "MAIL FROM:<a@b.test>"); err != nil || rep.Code != 503 {
		t.Fatalf("MAIL before EHLO: %+v %v", rep, err)
	}
	if err := s.Hello(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.TLS() == nil || s.EHLOReply().Code != 250 {
		t.Errorf("after Hello: TLS %v, EHLO %+v", s.TLS(), s.EHLOReply())
	}
	if n, _ := s.Extensions().Size(); n != 2000 {
		t.Errorf("extensions after Hello: %q", s.Extensions().Keywords())
	}
	if _, err := s.Quit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Err(); err != nil {
		t.Fatal(err)
	}
}

// A server that hangs up on the EHLO leaves Hello's session closed.
func TestHelloHangUp(t *testing.T) {
	srv := probetest.NewScripted(t, banner, expect("EHLO client.test"), probetest.Close())
	cfg := config(srv.Addr())
	cfg.NoHello = true
	s, err := dial(t, cfg)
	wantStatus(t, err, StatusOK)
	if err := s.Hello(context.Background()); err == nil || !s.Closed() {
		t.Errorf("Hello against a hang-up: %v, closed %v; want an error and a closed session", err, s.Closed())
	}
}
