package wire

import (
	"encoding/json"
	"slices"
	"testing"
)

var ehloLines = []string{
	"SIZE 35882577",
	"8BITMIME",
	"AUTH LOGIN PLAIN XOAUTH2",
	"AUTH=LOGIN PLAIN",
	"ENHANCEDSTATUSCODES",
	"PIPELINING",
	"chunking",
	"SMTPUTF8",
	"STARTTLS",
	"DSN",
	"REQUIRETLS",
	"BINARYMIME",
	"X-EXPS GSSAPI NTLM",
	"",
}

func TestParseExtensions(t *testing.T) {
	e := ParseExtensions(ehloLines)
	for _, kw := range []string{"SIZE", "8BITMIME", "AUTH", "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING",
		"SMTPUTF8", "STARTTLS", "DSN", "REQUIRETLS", "BINARYMIME", "X-EXPS", "starttls"} {
		if !e.Has(kw) {
			t.Errorf("Has(%q) = false", kw)
		}
	}
	if e.Has("VRFY") || e.Params("VRFY") != nil {
		t.Error("VRFY was not advertised")
	}
	if got := e.Params("auth"); !slices.Equal(got, []string{"LOGIN", "PLAIN", "XOAUTH2"}) {
		t.Errorf("AUTH params = %q", got)
	}
	if n, ok := e.Size(); n != 35882577 || !ok {
		t.Errorf("Size = %d %v", n, ok)
	}
	want := []string{"SIZE", "8BITMIME", "AUTH", "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING", "SMTPUTF8",
		"STARTTLS", "DSN", "REQUIRETLS", "BINARYMIME", "X-EXPS"}
	if got := e.Keywords(); !slices.Equal(got, want) {
		t.Errorf("Keywords = %q", got)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil || len(m["PIPELINING"]) != 0 || m["PIPELINING"] == nil || m["SIZE"][0] != "35882577" {
		t.Errorf("JSON = %s (%v)", b, err)
	}
}

func TestExtensionsSize(t *testing.T) {
	for _, tc := range []struct {
		line string
		n    int64
		ok   bool
	}{{"SIZE", 0, true}, {"SIZE 0", 0, true}, {"SIZE 1000", 1000, true}, {"SIZE lots", 0, false}, {"SIZE -5", 0, false}, {"PIPELINING", 0, false}} {
		n, ok := ParseExtensions([]string{tc.line}).Size()
		if n != tc.n || ok != tc.ok {
			t.Errorf("%q: Size = %d %v, want %d %v", tc.line, n, ok, tc.n, tc.ok)
		}
	}
}

func TestExtensionsOf(t *testing.T) {
	e := ExtensionsOf(Reply{Code: 250, Lines: []string{"mx.example.com greets you", "PIPELINING"}})
	if e.Has("MX.EXAMPLE.COM") || !e.Has("PIPELINING") {
		t.Errorf("Keywords = %q; the first line is the greeting, not a keyword", e.Keywords())
	}
	if len(ExtensionsOf(Reply{Code: 250, Lines: []string{"hi"}}).Keywords()) != 0 {
		t.Error("a one-line EHLO reply has no extensions")
	}
}

func FuzzParseExtensions(f *testing.F) {
	for _, l := range ehloLines {
		f.Add(l, "SIZE 10")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		e := ParseExtensions([]string{a, b})
		for _, kw := range e.Keywords() {
			if !e.Has(kw) {
				t.Fatalf("Keywords lists %q but Has says no", kw)
			}
		}
		if n, ok := e.Size(); ok && n < 0 {
			t.Fatalf("negative size %d", n)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatal(err)
		}
	})
}
