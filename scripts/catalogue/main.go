// Command catalogue derives and checks smtpprobe's reply catalogue
// (explain/catalogue/*.tsv) against each MTA's own source, so that a new
// release can be diffed.
//
//	go run ./scripts/catalogue check
//	    parse every catalogue file and compile every template; exit 1 on
//	    a bad row. Needs no sources (CI runs this).
//	go run ./scripts/catalogue check NAME=SRC...
//	    also look every row of NAME.tsv up in the source it names: SRC is a
//	    git directory (a bare mirror, read at HEAD) or a plain file. A row
//	    whose fixed text is no longer in that file is reported and the exit
//	    status is 1: the text was reworded or removed.
//	go run ./scripts/catalogue extract NAME SRC
//	    list the reply templates the extraction rules find in NAME's
//	    source files, "{}" for each printf conversion, and mark those no
//	    catalogue row has yet (+): the rows a new release may need.
//
// Example, with mirrors fetched into /work/.mirror:
//
//	go run ./scripts/catalogue check postfix=/work/.mirror/vdukhovni+postfix/repo
//	go run ./scripts/catalogue extract postfix /work/.mirror/vdukhovni+postfix/repo
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/smtpprobe/smtpprobe/explain"
)

// rule finds reply templates in one source file of an MTA: the pattern's
// named groups are code, enh (optional) and text.
type rule struct {
	file    string
	pattern *regexp.Regexp
}

// rules are the extraction rules per catalogue file name.
var rules = map[string][]rule{
	"postfix": {
		{"postfix/src/smtpd/smtpd.c", regexp.MustCompile(`smtpd_chat_reply\(state,\s*"(?P<code>[245]\d\d)(?: (?P<enh>[245]\.\d+\.\d+))? (?P<text>[^"]*)"`)},
		{"postfix/src/smtpd/smtpd_check.c", regexp.MustCompile(`"(?P<text><%s>: (?:%s|Sender address|Recipient address) rejected: [^"]*|<%s>: Relay access denied|Client host rejected: [^"]*)"`)},
	},
	"exim": {
		{"src/src/smtp_in.c", regexp.MustCompile(`synprot_error\(L_\w+,\s*(?P<code>[245]\d\d),\s*\w+,\s*US"(?P<text>[^"]*)"`)},
		{"src/src/smtp_in.c", regexp.MustCompile(`smtp_printf\("(?P<code>[245]\d\d) (?P<text>[^"\\]*)`)},
	},
	"sendmail": {
		{"sendmail/srvrsmtp.c", regexp.MustCompile(`(?:usrerr|message)\("(?P<code>[245]\d\d)(?: (?P<enh>[245]\.\d+\.\d+))? (?P<text>[^"]*)"`)},
		{"sendmail/parseaddr.c", regexp.MustCompile(`usrerr\("(?P<code>[245]\d\d)(?: (?P<enh>[245]\.\d+\.\d+))? (?P<text>[^"]*)"`)},
	},
	"opensmtpd": {
		{"usr.sbin/smtpd/smtp_session.c", regexp.MustCompile(`smtp_reply\(s,\s*"(?P<code>[245]\d\d) (?P<text>[^"]*)"`)},
	},
	"qmail": {
		{"qmail-smtpd.c", regexp.MustCompile(`out\("(?P<code>[245]\d\d) (?P<text>[^"\\]*)`)},
	},
	"chasquid": {
		{"internal/smtpsrv/conn.go", regexp.MustCompile(`return (?P<code>[245]\d\d), "(?:(?P<enh>[245]\.\d+\.\d+) )?(?P<text>[^"]*)"`)},
	},
	"haraka": {
		{"connection.js", regexp.MustCompile("respond\\((?P<code>[245]\\d\\d), *['\"`](?P<text>[^'\"`]*)")},
	},
	"mox": {
		{"smtpserver/server.go", regexp.MustCompile(`xsmtp\w*Errorf\([^,]+, [^,]+, "(?P<text>[^"]*)"`)},
	},
}

// conversion matches a printf conversion or a template literal's ${...}.
var conversion = regexp.MustCompile(`%[-#0-9.*l]*[a-zA-Z]|\$\{[^}]*\}`)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "check":
		err = check(os.Args[2:])
	case "extract":
		if len(os.Args) != 4 {
			usage()
		}
		err = extract(os.Args[2], os.Args[3])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalogue:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: catalogue check [NAME=SRC...] | catalogue extract NAME SRC")
	os.Exit(2)
}

// catalogueFiles reads explain/catalogue/*.tsv from the repository root.
func catalogueFiles() (map[string][]explain.CatalogueRow, error) {
	paths, err := filepath.Glob("explain/catalogue/*.tsv")
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no explain/catalogue/*.tsv here; run from the repository root")
	}
	out := map[string][]explain.CatalogueRow{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		rows, err := explain.ParseCatalogueFile(filepath.Base(p), string(data))
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(filepath.Base(p), ".tsv")] = rows
	}
	return out, nil
}

func check(args []string) error {
	files, err := catalogueFiles()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	total := 0
	for n, rows := range files {
		names = append(names, n)
		total += len(rows)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("%-10s %3d rows\n", n, len(files[n]))
	}
	fmt.Printf("%-10s %3d rows\n", "total", total)
	bad := 0
	for _, a := range args {
		name, src, ok := strings.Cut(a, "=")
		if !ok || files[name] == nil {
			return fmt.Errorf("%q: want NAME=SRC with NAME one of %s", a, strings.Join(names, ", "))
		}
		found, missing := 0, 0
		cache := map[string]string{}
		for _, r := range files[name] {
			text, err := sourceText(src, r.Source, cache)
			if err != nil {
				return err
			}
			if present(r.Text, text) {
				found++
				continue
			}
			missing++
			fmt.Printf("%s:%d: %q not found in %s\n", r.File, r.Line, r.Text, r.Source)
		}
		fmt.Printf("%s: %d of %d rows found in the source\n", name, found, found+missing)
		bad += missing
	}
	if bad > 0 {
		return fmt.Errorf("%d rows not found in their source", bad)
	}
	return nil
}

// sourceText reads file from src: at HEAD when src is a git directory, the
// whole of src when it is a plain file.
func sourceText(src, file string, cache map[string]string) (string, error) {
	key := src + "\x00" + file
	if t, ok := cache[key]; ok {
		return t, nil
	}
	st, err := os.Stat(src)
	if err != nil {
		return "", err
	}
	var data []byte
	if st.IsDir() {
		data, err = exec.Command("git", "--git-dir="+src, "show", "HEAD:"+file).Output()
		if err != nil {
			// A row may name a file of another layout or release.
			data = nil
		}
	} else {
		data, err = os.ReadFile(src)
		if err != nil {
			return "", err
		}
	}
	cache[key] = string(data)
	return cache[key], nil
}

// present tells whether a template's fixed text is in the source: each
// fixed piece whole, or, for texts the source assembles from parts
// (Postfix's "<%s>: %s rejected: %s"), each of its words of four letters
// or more.
func present(tmpl, source string) bool {
	lower := strings.ToLower(source)
	for _, piece := range pieces(tmpl) {
		if strings.Contains(source, piece) {
			continue
		}
		for _, w := range strings.FieldsFunc(strings.ToLower(piece), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			if len(w) >= 4 && !strings.Contains(lower, w) {
				return false
			}
		}
	}
	return true
}

// pieces are a template's fixed parts, trimmed.
func pieces(tmpl string) []string {
	var out []string
	for _, p := range regexp.MustCompile(`\{[^}]*\}`).Split(tmpl, -1) {
		if p = strings.TrimSpace(p); len(p) >= 3 {
			out = append(out, p)
		}
	}
	return out
}

// norm reduces a template to compare it with extracted text: lower case,
// every variable "{}".
func norm(s string) string {
	s = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(s, "{}")
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

func extract(name, src string) error {
	rs := rules[name]
	if rs == nil {
		return fmt.Errorf("no extraction rules for %q", name)
	}
	files, err := catalogueFiles()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range files[name] {
		have[norm(r.Text)] = true
	}
	cache := map[string]string{}
	seen := map[string]bool{}
	for _, r := range rs {
		text, err := sourceText(src, r.file, cache)
		if err != nil {
			return err
		}
		if text == "" {
			fmt.Printf("# %s: not in this source\n", r.file)
			continue
		}
		for _, m := range r.pattern.FindAllStringSubmatch(text, -1) {
			get := func(g string) string {
				if i := r.pattern.SubexpIndex(g); i > 0 {
					return m[i]
				}
				return ""
			}
			t := conversion.ReplaceAllString(get("text"), "{}")
			line := get("code") + "\t" + get("enh") + "\t" + t
			if seen[line] {
				continue
			}
			seen[line] = true
			mark := " "
			if !have[norm(t)] {
				mark = "+"
			}
			fmt.Printf("%s %s\t%s\n", mark, line, r.file)
		}
	}
	return nil
}
