package mtasts

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smtpprobe/smtpprobe/probe/tlstest"
)

func TestMatchMX(t *testing.T) {
	cases := []struct {
		pattern, host string
		want          bool
	}{
		{"mx.example.com", "mx.example.com", true},
		{"mx.example.com", "MX.Example.COM.", true},
		{"mx.example.com.", "mx.example.com", true},
		{"mx.example.com", "mx.example.com.evil.net", false},
		{"mx.example.com", "evilmx.example.com", false},
		{"mx.example.com", "a.mx.example.com", false},
		{"*.example.com", "mail.example.com", true},
		{"*.example.com", "MAIL.example.com.", true},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", "example.com", false},
		{"*.example.com", ".example.com", false},
		{"*.example.com", "mail.example.com.evil.net", false},
		{"*.example.com", "mailexample.com", false},
		{"*.example.com", "notexample.com", false},
	}
	for _, c := range cases {
		if got := MatchMX(c.pattern, c.host); got != c.want {
			t.Errorf("MatchMX(%q, %q) = %v, want %v", c.pattern, c.host, got, c.want)
		}
	}
}

func TestParseTXT(t *testing.T) {
	cases := []struct {
		records []string
		found   bool
		id      string
		err     string
	}{
		{nil, false, "", ""},
		{[]string{"v=spf1 -all"}, false, "", ""},
		{[]string{"v=STSv1; id=20240101T000000;"}, true, "20240101T000000", ""},
		{[]string{"v=STSv1;id=abc"}, true, "abc", ""},
		{[]string{"v=STSv1 ; id=abc ; ext=x"}, true, "abc", ""},
		{[]string{"v=spf1 -all", "v=STSv1; id=abc"}, true, "abc", ""},
		{[]string{"v=STSv1; id=abc", "v=STSv1; id=def"}, true, "", "2 v=STSv1 TXT records"},
		{[]string{"v=STSv1;"}, true, "", "no id"},
		{[]string{"v=STSv1; id=has-hyphen"}, true, "", "letters and digits"},
		{[]string{"v=STSv1; id=" + strings.Repeat("a", 33)}, true, "", "1 to 32"},
		{[]string{"v=STSv1; id=a; id=b"}, true, "", "twice"},
		{[]string{"v=STSv1; id"}, true, "", "name=value"},
		{[]string{"v=STSv1;; id=a"}, true, "", "empty field"},
		{[]string{"v=STSv1x; id=a"}, false, "", ""},
		{[]string{"v=STSv1 id=a"}, true, "", "must follow a ';'"},
	}
	for _, c := range cases {
		txt, found, err := ParseTXT(c.records)
		if found != c.found || (c.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.err) || err == nil && txt.ID != c.id {
			t.Errorf("ParseTXT(%q) = %+v, %v, %v; want found %v id %q error %q", c.records, txt, found, err, c.found, c.id, c.err)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	good := "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 604800\n"
	p, err := ParsePolicy([]byte(good))
	if err != nil || p.Mode != "enforce" || p.MaxAge != 604800 || len(p.MX) != 2 || p.MX[1] != "*.example.net" {
		t.Fatalf("ParsePolicy(good) = %+v, %v", p, err)
	}
	if _, err := ParsePolicy([]byte(strings.ReplaceAll(good, "\n", "\r\n"))); err != nil {
		t.Errorf("CRLF line ends: %v", err)
	}
	if _, err := ParsePolicy([]byte(strings.TrimSuffix(good, "\n"))); err != nil {
		t.Errorf("no final line end: %v", err)
	}
	if _, err := ParsePolicy([]byte(good + "future_field: some value\n")); err != nil {
		t.Errorf("an unknown field must be ignored: %v", err)
	}
	if _, err := ParsePolicy([]byte("version: STSv1\nmode: none\nmax_age: 86400\n")); err != nil {
		t.Errorf("mode none without mx: %v", err)
	}
	bad := []struct{ body, err string }{
		{strings.ReplaceAll(good, "\n", "\r"), "CR not followed by LF"},
		{strings.Replace(good, "STSv1", "STSv2", 1), "version"},
		{strings.Replace(good, "enforce", "Enforce", 1), "mode \"Enforce\""},
		{strings.Replace(good, "604800", "31557601", 1), "above the maximum"},
		{strings.Replace(good, "604800", "-1", 1), "digits"},
		{strings.Replace(good, "604800", "12345678901", 1), "digits"},
		{strings.Replace(good, "version: STSv1\n", "", 1), "no version"},
		{strings.Replace(good, "max_age: 604800\n", "", 1), "no max_age"},
		{"version: STSv1\nmode: enforce\nmax_age: 60\n", "no mx pattern"},
		{good + "mode: testing\n", "given twice"},
		{strings.Replace(good, "mx1.example.com", "mx*.example.com", 1), "wildcard"},
		{strings.Replace(good, "mx1.example.com", "*.*.example.com", 1), "wildcard"},
		{strings.Replace(good, "mx1.example.com", "localhost", 1), "fully qualified"},
		{strings.Replace(good, "mx1.example.com", "mx_1.example.com", 1), "character"},
		{good + "just text\n", "not \"key: value\""},
		{good + "\n", "not \"key: value\""},
		{"version: STSv1\x00\n", "NUL"},
	}
	for _, c := range bad {
		if _, err := ParsePolicy([]byte(c.body)); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParsePolicy(%q) error %v, want %q", c.body, err, c.err)
		}
	}
}

// policyServer serves handler over HTTPS on loopback with a certificate
// for names from a test CA, and returns a Fetcher that reaches it for
// mta-sts.lab.test.
func policyServer(t *testing.T, names []string, handler http.HandlerFunc) (*Fetcher, *tlstest.CA) {
	t.Helper()
	ca := tlstest.NewCA(t, "Policy CA")
	leaf := ca.Leaf(t, tlstest.Options{DNSNames: names})
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = tlstest.TLSConfig(leaf)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	f := &Fetcher{
		RootCAs: ca.Pool(),
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			if a != "mta-sts.lab.test:443" {
				t.Errorf("dialled %s", a)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	return f, ca
}

const labPolicy = "version: STSv1\nmode: enforce\nmx: mx.lab.test\nmax_age: 86400\n"

func servePolicy(ct, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Write([]byte(body))
	}
}

func TestFetch(t *testing.T) {
	f, _ := policyServer(t, []string{"mta-sts.lab.test"}, servePolicy("text/plain; charset=utf-8", labPolicy))
	got := f.Fetch(context.Background(), "lab.test")
	if got.Stage != "" || string(got.Body) != labPolicy || got.Status != 200 {
		t.Fatalf("Fetch = %+v", got)
	}
}

func TestFetchFailures(t *testing.T) {
	var redirected bool
	cases := []struct {
		name    string
		names   []string
		handler http.HandlerFunc
		stage   string
		err     string
	}{
		{"redirect not followed", []string{"mta-sts.lab.test"}, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/elsewhere" {
				redirected = true
			}
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, "redirect", "must not follow"},
		{"404", []string{"mta-sts.lab.test"}, http.NotFound, "status", "HTTP 404"},
		{"wrong type", []string{"mta-sts.lab.test"}, servePolicy("text/html", labPolicy), "content-type", "text/html"},
		{"too large", []string{"mta-sts.lab.test"}, servePolicy("text/plain", labPolicy+strings.Repeat("x: y\n", MaxPolicySize/5+1)), "size", "larger than 65536"},
		{"certificate for another name", []string{"www.lab.test"}, servePolicy("text/plain", labPolicy), "tls", "not valid for that name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := policyServer(t, c.names, c.handler)
			got := f.Fetch(context.Background(), "lab.test")
			if got.Stage != c.stage || !strings.Contains(got.Error, c.err) {
				t.Fatalf("Fetch = stage %q error %q, want %q with %q", got.Stage, got.Error, c.stage, c.err)
			}
		})
	}
	if redirected {
		t.Error("the redirect was followed")
	}
	t.Run("untrusted root", func(t *testing.T) {
		f, _ := policyServer(t, []string{"mta-sts.lab.test"}, servePolicy("text/plain", labPolicy))
		f.RootCAs = tlstest.NewCA(t, "Someone else").Pool()
		got := f.Fetch(context.Background(), "lab.test")
		if got.Stage != "tls" || !strings.Contains(got.Error, "trusted root") {
			t.Fatalf("Fetch = %+v", got)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		f := &Fetcher{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
		got := f.Fetch(context.Background(), "lab.test")
		if got.Stage != "connect" || got.Error == "" {
			t.Fatalf("Fetch = %+v", got)
		}
	})
}

func TestJudge(t *testing.T) {
	okFetch := func(body string) *Fetch { return &Fetch{URL: PolicyURL("lab.test"), Status: 200, Body: []byte(body)} }
	txt := []string{"v=STSv1; id=1"}
	good := MX{Host: "mx.lab.test", TLS: true, PKIX: true, NameMatch: true}
	noTLS := MX{Host: "mx.lab.test", NoTLS: "STARTTLS not offered"}
	badCert := MX{Host: "mx.lab.test", TLS: true, NameMatch: true, CertProblem: "the certificate is self-signed"}
	other := MX{Host: "other.lab.test", TLS: true, PKIX: true, NameMatch: true}
	testing_ := strings.Replace(labPolicy, "enforce", "testing", 1)
	cases := []struct {
		name    string
		in      Input
		hosts   []MX
		verdict string
		mx      []string // per host verdict, "" for nil
	}{
		{"enforce pass", Input{TXT: txt, Fetch: okFetch(labPolicy)}, []MX{good}, EnforcePass, []string{MXPass}},
		{"not covered", Input{TXT: txt, Fetch: okFetch(labPolicy)}, []MX{good, other}, EnforceMXNotCovered, []string{MXPass, MXFailNotCovered}},
		{"bad cert", Input{TXT: txt, Fetch: okFetch(labPolicy)}, []MX{badCert}, EnforceFailCert, []string{MXFailCert}},
		{"no tls", Input{TXT: txt, Fetch: okFetch(labPolicy)}, []MX{noTLS}, EnforceFailNoTLS, []string{MXFailNoTLS}},
		{"421 is not notls", Input{TXT: txt, Fetch: okFetch(labPolicy)}, []MX{{Host: "mx.lab.test", Unreached: true, NoTLS: "the greeting was 421"}}, EnforceUnknown, []string{MXUnknown}},
		{"testing", Input{TXT: txt, Fetch: okFetch(testing_)}, []MX{noTLS}, Testing, []string{MXFailNoTLS}},
		{"none", Input{TXT: txt, Fetch: okFetch("version: STSv1\nmode: none\nmax_age: 60\n")}, []MX{good}, None, []string{""}},
		{"no policy", Input{TXT: []string{"v=spf1 -all"}}, []MX{good}, NoPolicy, []string{""}},
		{"invalid txt", Input{TXT: []string{"v=STSv1; id=1", "v=STSv1; id=2"}}, []MX{good}, InvalidTXT, []string{""}},
		{"dns failed", Input{DNSError: "SERVFAIL"}, []MX{good}, FetchFailed, []string{""}},
		{"fetch failed", Input{TXT: txt, Fetch: &Fetch{Stage: "redirect", Error: "HTTP 302"}}, []MX{good}, FetchFailed, []string{""}},
		{"invalid policy", Input{TXT: txt, Fetch: okFetch("version: STSv1\nmode: enforcing\n")}, []MX{good}, InvalidPolicy, []string{""}},
		{"wrong content type", Input{TXT: txt, Fetch: &Fetch{Stage: "content-type", Error: "text/html"}}, []MX{good}, InvalidPolicy, []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Domain = "lab.test"
			r, per := Judge(c.in, c.hosts)
			if c.verdict == EnforceMXNotCovered && !strings.Contains(r.Fix, `"mx: other.lab.test"`) {
				t.Errorf("the fix does not name the missing policy line: %s", r.Fix)
			}
			if r.Verdict != c.verdict || r.Reason == "" || !strings.HasPrefix(r.RFC, "RFC 8461") {
				t.Fatalf("verdict %s (%s, %s), want %s", r.Verdict, r.Reason, r.RFC, c.verdict)
			}
			for i, want := range c.mx {
				got := ""
				if per[i] != nil {
					got = per[i].Verdict
				}
				if got != want {
					t.Errorf("host %d: %q, want %q", i, got, want)
				}
			}
		})
	}
}
