package wire

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// replyCases are the reply fixtures: each is fed whole, one byte at a
// time, through a tiny buffer, and with every CRLF turned into LF.
var replyCases = []struct {
	name     string
	in       string
	code     int
	enhanced string
	lines    []string
	devs     []DeviationKind // deviation kinds, in order
	err      error           // nil, io.EOF, io.ErrUnexpectedEOF, or errLimit
}{
	{name: "simple", in: "250 OK\r\n", code: 250, lines: []string{"OK"}},
	{name: "multiline-ehlo", in: "250-mx.example.com Hello\r\n250-SIZE 10240000\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
		code: 250, lines: []string{"mx.example.com Hello", "SIZE 10240000", "PIPELINING", "STARTTLS"}},
	{name: "bare-code", in: "250\r\n", code: 250, lines: []string{""}},
	{name: "empty-texts", in: "250-\r\n250 \r\n", code: 250, lines: []string{"", ""}},
	{name: "bare-lf", in: "250-a\n250 b\n", code: 250, lines: []string{"a", "b"}, devs: []DeviationKind{DevBareLF, DevBareLF}},
	{name: "missing-space", in: "250OK\r\n", code: 250, lines: []string{"OK"}, devs: []DeviationKind{DevMissingSpace}},
	{name: "mixed-codes", in: "250-first\r\n550 second\r\n", code: 550, lines: []string{"first", "second"}, devs: []DeviationKind{DevMixedCodes}},
	{name: "non-code-continuation", in: "220-hello\r\nwelcome to the server\r\n220 ready\r\n", code: 220,
		lines: []string{"hello", "welcome to the server", "ready"}, devs: []DeviationKind{DevNonCodeLine}},
	{name: "long-line", in: "250 " + strings.Repeat("x", 600) + "\r\n", code: 250, lines: []string{strings.Repeat("x", 600)}, devs: []DeviationKind{DevLongLine}},
	{name: "over-cap-line", in: "250-" + strings.Repeat("y", 10000) + "\r\n250 end\r\n", code: 250,
		lines: []string{strings.Repeat("y", DefaultLineBytes-4), "end"}, devs: []DeviationKind{DevLongLine, DevLineTruncated}},
	{name: "utf8-text", in: "250 h\xc3\xa9llo\r\n", code: 250, lines: []string{"héllo"}, devs: []DeviationKind{Dev8Bit}},
	{name: "invalid-utf8", in: "250 \xff\xfe bad\r\n", code: 250, lines: []string{"\xff\xfe bad"}, devs: []DeviationKind{Dev8Bit, DevInvalidUTF8}},
	{name: "nul-byte", in: "250 a\x00b\r\n", code: 250, lines: []string{"a\x00b"}, devs: []DeviationKind{DevNUL}},
	{name: "bare-cr", in: "250 a\rb\r\n", code: 250, lines: []string{"a\rb"}, devs: []DeviationKind{DevBareCR}},
	{name: "ansi-escapes", in: "220 \x1b[31mred\x1b]8;;http://x/\x07link\x1b]8;;\x07\x1b]0;title\x07\r\n", code: 220,
		lines: []string{"\x1b[31mred\x1b]8;;http://x/\x07link\x1b]8;;\x07\x1b]0;title\x07"}, devs: []DeviationKind{DevControlChar}},
	{name: "eof-mid-line", in: "250-a\r\n250 par", code: 250, lines: []string{"a", "par"}, devs: []DeviationKind{DevTruncated}, err: io.ErrUnexpectedEOF},
	{name: "eof-after-continuation", in: "250-a\r\n", code: 250, lines: []string{"a"}, devs: []DeviationKind{DevTruncated}, err: io.ErrUnexpectedEOF},
	{name: "empty", in: "", err: io.EOF},
	{name: "code-000", in: "000 zero\r\n", code: 0, lines: []string{"zero"}, devs: []DeviationKind{DevInvalidCode}},
	{name: "code-999", in: "999 nine\r\n", code: 999, lines: []string{"nine"}, devs: []DeviationKind{DevInvalidCode}},
	{name: "code-abc", in: "abc letters\r\n", code: 0, lines: []string{"abc letters"}, devs: []DeviationKind{DevInvalidCode}},
	{name: "code-2500", in: "2500 four digits\r\n", code: 0, lines: []string{"2500 four digits"}, devs: []DeviationKind{DevInvalidCode}},
	{name: "enhanced", in: "550 5.1.1 <nobody@example.com>: User unknown\r\n", code: 550, enhanced: "5.1.1",
		lines: []string{"5.1.1 <nobody@example.com>: User unknown"}},
	{name: "enhanced-3-digit-detail", in: "550 5.7.606 Access denied\r\n", code: 550, enhanced: "5.7.606",
		lines: []string{"5.7.606 Access denied"}},
	{name: "enhanced-class-mismatch", in: "421 5.7.32 try later\r\n", code: 421, enhanced: "5.7.32",
		lines: []string{"5.7.32 try later"}, devs: []DeviationKind{DevEnhancedClass}},
	{name: "enhanced-at-end-qmail", in: "553 sorry, not in rcpthosts (#5.7.1)\r\n", code: 553,
		lines: []string{"sorry, not in rcpthosts (#5.7.1)"}},
	{name: "too-many-lines", in: strings.Repeat("250-x\r\n", DefaultLines+5), code: 250,
		lines: slices.Repeat([]string{"x"}, DefaultLines), devs: []DeviationKind{DevTooManyLines}, err: errLimit},
}

// errLimit stands for any *LimitError in the table.
var errLimit = errors.New("limit")

func sameErr(got, want error) bool {
	var le *LimitError
	if want == errLimit {
		return errors.As(got, &le)
	}
	return got == want
}

func kinds(r Reply) []DeviationKind {
	var k []DeviationKind
	for _, d := range r.Deviations {
		k = append(k, d.Kind)
	}
	return k
}

func TestReadReply(t *testing.T) {
	for _, tc := range replyCases {
		t.Run(tc.name, func(t *testing.T) {
			whole, err := ReadReply(bufio.NewReader(strings.NewReader(tc.in)), Limits{})
			if !sameErr(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if whole.Code != tc.code || whole.Enhanced != tc.enhanced {
				t.Errorf("code %d enhanced %q, want %d %q", whole.Code, whole.Enhanced, tc.code, tc.enhanced)
			}
			if !slices.Equal(whole.Lines, tc.lines) {
				t.Errorf("lines = %q, want %q", whole.Lines, tc.lines)
			}
			if !slices.Equal(kinds(whole), tc.devs) {
				t.Errorf("deviations = %v, want %v", kinds(whole), tc.devs)
			}
			if tc.err == nil && !whole.Has(DevLineTruncated) && string(whole.Raw) != tc.in {
				t.Errorf("raw = %.80q, want the input", whole.Raw)
			}
			checkGolden(t, tc.name, whole, err)

			for name, r := range map[string]*bufio.Reader{
				"one-byte":     bufio.NewReader(iotest.OneByteReader(strings.NewReader(tc.in))),
				"small-buffer": bufio.NewReaderSize(strings.NewReader(tc.in), 16),
			} {
				got, err2 := ReadReply(r, Limits{})
				if !sameErr(err2, tc.err) || !reflect.DeepEqual(got, whole) {
					t.Errorf("%s: got %+v, %v; want the same as whole", name, got, err2)
				}
			}

			lf := strings.ReplaceAll(tc.in, "\r\n", "\n")
			got, err2 := ReadReply(bufio.NewReader(strings.NewReader(lf)), Limits{})
			if !sameErr(err2, tc.err) || got.Code != tc.code || got.Enhanced != tc.enhanced {
				t.Errorf("LF: code %d %q err %v", got.Code, got.Enhanced, err2)
			}
			if lf != tc.in && !got.Has(DevBareLF) {
				t.Errorf("LF: no bare-lf deviation: %v", kinds(got))
			}
			strip := func(k []DeviationKind) []DeviationKind {
				return slices.DeleteFunc(k, func(s DeviationKind) bool { return s == DevBareLF || s == DevLongLine })
			}
			if !slices.Equal(strip(kinds(got)), strip(slices.Clone(tc.devs))) {
				t.Errorf("LF: deviations %v, want %v plus bare-lf", kinds(got), tc.devs)
			}
		})
	}
}

// TestReadReplyLeavesNextReply checks that exactly one reply is consumed.
func TestReadReplyLeavesNextReply(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("250-a\r\n250 b\r\n354 next\r\n"))
	if r, err := ReadReply(br, Limits{}); err != nil || len(r.Lines) != 2 {
		t.Fatalf("first: %+v %v", r, err)
	}
	r, err := ReadReply(br, Limits{})
	if err != nil || r.Code != 354 {
		t.Fatalf("second: %+v %v", r, err)
	}
	if _, err := ReadReply(br, Limits{}); err != io.EOF {
		t.Fatalf("third: %v, want EOF", err)
	}
}

// TestReadReplyCaps checks the byte budget against a line without end and
// an endless multi-line reply, with small caps.
func TestReadReplyCaps(t *testing.T) {
	lim := Limits{LineBytes: 64, Lines: 10, ReplyBytes: 1000}
	endless := io.MultiReader(strings.NewReader("250 "), neverEnding('z'))
	r, err := ReadReply(bufio.NewReader(endless), lim)
	var le *LimitError
	if !errors.As(err, &le) || le.What != "reply bytes" || le.Limit != 1000 {
		t.Fatalf("err = %v, want the reply bytes cap", err)
	}
	if r.Code != 250 || len(r.Lines) != 1 || len(r.Lines[0]) != 60 || !r.Has(DevReplyTooLarge) || !r.Has(DevLineTruncated) {
		t.Errorf("reply = code %d lines %d %v", r.Code, len(r.Lines), kinds(r))
	}
	if len(r.Raw) > 64 {
		t.Errorf("raw kept %d bytes, cap is 64", len(r.Raw))
	}

	r, err = ReadReply(bufio.NewReader(repeatReader("250-more\r\n")), lim)
	if !errors.As(err, &le) || le.What != "reply lines" || len(r.Lines) != 10 {
		t.Fatalf("endless reply: %d lines, err %v", len(r.Lines), err)
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type repeater struct {
	s string
	i int
}

func repeatReader(s string) io.Reader { return &repeater{s: s} }

func (r *repeater) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.s[r.i%len(r.s)]
		r.i++
	}
	return len(p), nil
}

// golden is the JSON form of a reply as stored in testdata/replies/.
type golden struct {
	Code       int         `json:"code"`
	Enhanced   string      `json:"enhanced"`
	Lines      []string    `json:"lines"`
	Raw        string      `json:"raw"`
	Deviations []Deviation `json:"deviations"`
	Err        string      `json:"err"`
}

func checkGolden(t *testing.T, name string, r Reply, err error) {
	t.Helper()
	g := golden{Code: r.Code, Enhanced: r.Enhanced, Lines: r.Lines, Raw: fmt.Sprintf("%q", r.Raw), Deviations: r.Deviations}
	if err != nil {
		g.Err = err.Error()
	}
	got, _ := json.MarshalIndent(g, "", "  ")
	got = append(got, '\n')
	path := filepath.Join("testdata", "replies", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatalf("%v (run go test -update)", rerr)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden:\n got %s\nwant %s", path, got, want)
	}
}

var enhancedCases = []struct {
	in, want string
	ok       bool
}{
	{"5.1.1 User unknown", "5.1.1", true},
	{"2.0.0", "2.0.0", true},
	{"4.7.606 x", "4.7.606", true},
	{"5.7.1234 x", "", false},
	{"3.1.1 x", "", false},
	{"5.1 x", "", false},
	{"5..1 x", "", false},
	{"5.1.1x", "", false},
	{"5.1.1.1 x", "", false},
	{"mx.example.com", "", false},
	{"", "", false},
}

func TestParseEnhanced(t *testing.T) {
	for _, tc := range enhancedCases {
		got, ok := ParseEnhanced(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseEnhanced(%q) = %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, tc := range replyCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := Limits{LineBytes: 32, Lines: 8, ReplyBytes: 512}
		r, err := ReadReply(bufio.NewReader(strings.NewReader(string(in))), lim)
		if len(r.Lines) > lim.Lines || len(r.Raw) > lim.ReplyBytes {
			t.Fatalf("caps exceeded: %d lines, %d raw bytes", len(r.Lines), len(r.Raw))
		}
		for _, l := range r.Lines {
			if len(l) > lim.LineBytes {
				t.Fatalf("line of %d bytes kept", len(l))
			}
		}
		if err == nil && !r.Has(DevLineTruncated) && !strings.HasPrefix(string(in), string(r.Raw)) {
			t.Fatalf("raw %q is not a prefix of the input", r.Raw)
		}
		if r.Enhanced != "" {
			if _, ok := ParseEnhanced(r.Enhanced); !ok {
				t.Fatalf("enhanced %q does not parse", r.Enhanced)
			}
		}
		one, err2 := ReadReply(bufio.NewReader(iotest.OneByteReader(strings.NewReader(string(in)))), lim)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(one, r) {
			t.Fatalf("one byte at a time differs: %+v vs %+v", one, r)
		}
	})
}

func FuzzParseEnhanced(f *testing.F) {
	for _, tc := range enhancedCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := ParseEnhanced(s)
		if !ok {
			if code != "" {
				t.Fatalf("code %q without ok", code)
			}
			return
		}
		if !strings.HasPrefix(s, code) || len(code) < 5 || len(code) > 9 || strings.Count(code, ".") != 2 {
			t.Fatalf("ParseEnhanced(%q) = %q", s, code)
		}
		if again, ok := ParseEnhanced(code); !ok || again != code {
			t.Fatalf("not idempotent: %q", code)
		}
	})
}
