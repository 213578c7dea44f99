package batch

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestReadTargets(t *testing.T) {
	in := "\uFEFF# a comment\n\nalice@example.com\r\n  bob@example.com  \n   # indented comment\nalice@example.com\nmx.example.net:2525\n\"a#b\"@example.org\n"
	lines, dups, err := ReadTargets(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{{3, "alice@example.com"}, {4, "bob@example.com"}, {7, "mx.example.net:2525"}, {8, `"a#b"@example.org`}}
	if fmt.Sprint(lines) != fmt.Sprint(want) || dups != 1 {
		t.Fatalf("got %v dups %d, want %v dups 1", lines, dups, want)
	}
}

func TestReadTargetsRefusesBadLines(t *testing.T) {
	for in, want := range map[string]string{
		"ok@example.com\nbad\x01@example.com\n":                       "line 2 has a control character (U+0001)",
		"\xff\xfe@example.com\n":                                      "line 1 is not valid UTF-8",
		"a@b.example\n" + strings.Repeat("x", MaxLineBytes+10) + "\n": "line 2 is longer than",
	} {
		_, _, err := ReadTargets(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in[:min(len(in), 30)], err, want)
		}
	}
}

func TestParseShard(t *testing.T) {
	s, err := ParseShard("3/8")
	if err != nil || s != (Shard{3, 8}) {
		t.Fatalf("3/8: %v %v", s, err)
	}
	for _, bad := range []string{"8/8", "-1/4", "1", "a/b", "0/0", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every domain falls in exactly one shard, the hash does not change
// between versions (the fixed values), and the shards are not lopsided.
func TestShardCoversOnceAndIsStable(t *testing.T) {
	const n = 7
	count := make([]int, n)
	for i := range 7000 {
		d := fmt.Sprintf("d%d.example", i)
		in := 0
		for k := range n {
			if (Shard{k, n}).Has(d) {
				in++
				count[k]++
			}
		}
		if in != 1 {
			t.Fatalf("%s in %d shards", d, in)
		}
		if (Shard{k0(d, n), n}).Has(strings.ToUpper(d)+".") != true {
			t.Fatalf("%s: case or trailing dot changes the shard", d)
		}
	}
	for k, c := range count {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d holds %d of 7000", k, c)
		}
	}
	// FNV-1a 64 of "example.com" is 0xdd64...; fixed so a change of hash is seen.
	if got := ShardOf("example.com", 1000); got != shardExampleCom {
		t.Errorf("ShardOf(example.com, 1000) = %d, want %d", got, shardExampleCom)
	}
}

const shardExampleCom = 350 // FNV-1a 64 of "example.com", mod 1000

func k0(d string, n int) int { return ShardOf(d, n) }

func TestReadDone(t *testing.T) {
	in := `{"schema_version":1,"target":"a@example.com","addresses":[]}
{"schema_version":1,"target":{"input":"example.org","kind":"domain"},"hosts":[]}
{"schema_version":1,"target":"cut@example.com","incomplete":true,"incomplete_reason":"interrupted"}
{"schema_version":1,"target":"budget@example.com","incomplete":true,"incomplete_reason":"budget-spent"}
not json
{"schema_version":1,"target":"half@exa`
	done, bad, err := ReadDone(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a@example.com", "example.org", "budget@example.com"} {
		if !done[want] {
			t.Errorf("%s not done", want)
		}
	}
	if done["cut@example.com"] || done["half@exa"] || len(done) != 3 || bad != 2 {
		t.Errorf("done %v bad %d", done, bad)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriterLinesAndStickyError(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Write(map[string]string{"target": "<a@b.example>"}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\"target\":\"<a@b.example>\"}\n" || w.Lines() != 1 {
		t.Fatalf("%q", b.String())
	}
	fw := NewWriter(&failWriter{n: 1})
	fw.Write(1)
	if err := fw.Write(2); err == nil || fw.Write(3) == nil || fw.Lines() != 1 || fw.Err() == nil {
		t.Fatalf("write error not sticky: %v", err)
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, 10, time.Hour)
	t0 := time.Now()
	p.start = t0
	p.now = func() time.Time { return t0.Add(2 * time.Second) }
	p.Done("")
	p.Done("connection-refused")
	p.Done("")
	p.Done("connection-refused")
	if got, want := p.Line(), "4/10 targets (40%), 2.0/s, ETA 3s, failed: connection-refused 2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	p.Stop()
	if !strings.HasPrefix(b.String(), "\r4/10") || !strings.HasSuffix(b.String(), "\x1b[K\n") {
		t.Errorf("drawn %q", b.String())
	}
}
