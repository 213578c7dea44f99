package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// needShell returns the path of a shell, skipping when it is missing on
// a laptop and failing in CI, where .ci/services/shells.sh installs it.
func needShell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (.ci/services/shells.sh install)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	out, errOut, code := runCLI(t, "completion", shell)
	if code != exitOK || errOut != "" {
		t.Fatalf("completion %s: exit %d, stderr %q", shell, code, errOut)
	}
	path := filepath.Join(t.TempDir(), "smtpprobe."+shell)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The bash script, loaded by a real bash, completes subcommands, their
// flags, the values of flags with a fixed set, and help's topics.
func TestCompletionBash(t *testing.T) {
	bash := needShell(t, "bash")
	script := completionScript(t, "bash")
	for _, tc := range []struct {
		words string // the command line, the last word being completed
		want  []string
		not   []string
	}{
		{"smtpprobe pro", []string{"probe"}, []string{"vrfy"}},
		{"smtpprobe ''", []string{"probe", "vrfy", "why", "address", "mx", "explain", "demo", "version", "completion", "man", "help"}, nil},
		{"smtpprobe probe --fo", []string{"--format"}, []string{"--quiet"}},
		{"smtpprobe probe --all", []string{"--all-mx"}, nil},
		{"smtpprobe probe --rcpt", []string{"--rcpt", "--rcpt-raw"}, []string{"--vrfy"}},
		{"smtpprobe tls --fail-on ''", []string{"dane", "mta-sts", "tls-rpt", "starttls"}, []string{"catch-all"}},
		{"smtpprobe mx -", []string{"--dns", "--ptr", "--format", "--json", "-q", "--quiet", "--color"}, []string{"--all-mx"}},
		{"smtpprobe probe --color ''", []string{"auto", "always", "never"}, nil},
		{"smtpprobe explain --format nd", []string{"ndjson"}, []string{"json"}},
		{"smtpprobe explain --context rc", []string{"rcpt"}, nil},
		{"smtpprobe why --as ''", []string{"mail", "rcpt"}, nil},
		{"smtpprobe help ex", []string{"exit-codes", "explain"}, []string{"probe"}},
		{"smtpprobe completion ''", []string{"bash", "zsh", "fish"}, nil},
	} {
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `source "$1"; eval "COMP_WORDS=($2)"; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _smtpprobe; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script, tc.words)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("%s: %v\n%s", tc.words, err, stderr.String())
		}
		got := strings.Fields(string(out))
		for _, w := range tc.want {
			if !contains(got, w) {
				t.Errorf("%s: %q not offered; got %q", tc.words, w, got)
			}
		}
		for _, w := range tc.not {
			if contains(got, w) {
				t.Errorf("%s: %q offered; got %q", tc.words, w, got)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The zsh script loads into a real zsh with compinit without an error and
// defines the completion function.
func TestCompletionZshLoads(t *testing.T) {
	zsh := needShell(t, "zsh")
	script := completionScript(t, "zsh")
	cmd := exec.Command(zsh, "-f", "-c", `autoload -U compinit && compinit -u -D && source "$1" && whence -w _smtpprobe && print -r -- ${_comps[smtpprobe]}`, "zsh", script)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "_smtpprobe: function") || !strings.HasSuffix(strings.TrimSpace(string(out)), "_smtpprobe") {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "error") || strings.Contains(string(out), "parse") {
		t.Errorf("zsh complained:\n%s", out)
	}
}

// zshCompletionInit runs in an interactive zsh on a pseudo-terminal: it
// loads compinit and the script, binds TAB to complete-word, and makes
// compadd print every word a completer offers ("offer:WORD") instead of
// adding it; once the completion is over it prints "sp-done" and exits.
// Calls that only compute (-O, -A, -D) go to the real compadd.
const zshCompletionInit = `PROMPT='' RPROMPT=''
autoload -U compinit && compinit -u -D
source "$SP_SCRIPT"
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
bindkey '^I' complete-word
compadd() {
  if (( ${@[(I)-[OAD]]} )); then
    builtin compadd "$@"
    return
  fi
  local -a got
  builtin compadd -O got "$@"
  local w
  for w in $got; do print -r -- "offer:$w"; done
}
sp_done() { print -r -- "sp-done"; exit }
comppostfuncs=(sp_done)
print -r -- "sp-ready"
`

// zshCompletionDriver starts that interactive zsh under zpty, types the
// line and a TAB, and prints what the terminal showed up to "sp-done".
const zshCompletionDriver = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "source ${(q)1}"
zpty -r z line '*sp-ready*' || exit 3
zpty -n -w z "$2"$'\t'
zpty -r z out '*sp-done*' || exit 4
print -r -- $out
`

var zshOffer = regexp.MustCompile(`offer:([^\r\n]*)`)

// The zsh script, driven by a real interactive zsh on a pseudo-terminal
// (zpty), offers what TAB should: subcommands, flags, the values of flags
// with a fixed set, help's topics.
func TestCompletionZsh(t *testing.T) {
	zsh := needShell(t, "zsh")
	script := completionScript(t, "zsh")
	dir := t.TempDir()
	initFile, driver := filepath.Join(dir, "init.zsh"), filepath.Join(dir, "drive.zsh")
	if err := os.WriteFile(initFile, []byte(zshCompletionInit), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(driver, []byte(zshCompletionDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string // what is typed before TAB
		want []string
		not  []string
	}{
		{"smtpprobe pr", []string{"probe"}, []string{"vrfy", "mx"}},
		{"smtpprobe ", []string{"probe", "vrfy", "why", "address", "tls", "mx", "explain", "demo", "version", "completion", "man", "help"}, nil},
		{"smtpprobe probe --rcpt", []string{"--rcpt", "--rcpt-raw"}, []string{"--vrfy"}},
		{"smtpprobe probe --fo", []string{"--format"}, []string{"--quiet", "--rcpt"}},
		{"smtpprobe probe --color ", []string{"auto", "always", "never"}, []string{"json"}},
		{"smtpprobe probe --suite ", []string{"vrfy", "syntax", "all"}, nil},
		{"smtpprobe mx --format nd", []string{"ndjson"}, []string{"json", "text"}},
		{"smtpprobe explain --context rc", []string{"rcpt"}, []string{"mail"}},
		{"smtpprobe why --as ", []string{"mail", "rcpt"}, nil},
		{"smtpprobe tls --fail-on ", []string{"dane", "mta-sts", "tls-rpt", "starttls"}, []string{"catch-all"}},
		{"smtpprobe help ex", []string{"exit-codes", "explain"}, []string{"probe"}},
		{"smtpprobe completion ", []string{"bash", "zsh", "fish"}, nil},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a guard against a hang, not a measurement
		cmd := exec.CommandContext(ctx, zsh, "-f", driver, initFile, tc.line)
		cmd.Env = append(os.Environ(), "HOME="+dir, "SP_SCRIPT="+script, "TERM=dumb")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%q: %v\n%q", tc.line, err, out)
		}
		var got []string
		for _, m := range zshOffer.FindAllStringSubmatch(string(out), -1) {
			got = append(got, m[1])
		}
		for _, w := range tc.want {
			if !contains(got, w) {
				t.Errorf("%q: %q not offered; got %q", tc.line, w, got)
			}
		}
		for _, w := range tc.not {
			if contains(got, w) {
				t.Errorf("%q: %q offered; got %q", tc.line, w, got)
			}
		}
	}
}

// The fish script, loaded by a real fish, completes subcommands, flags and
// flag values (complete -C asks fish what it would offer).
func TestCompletionFish(t *testing.T) {
	fish := needShell(t, "fish")
	script := completionScript(t, "fish")
	for _, tc := range []struct {
		line string
		want string
	}{
		{"smtpprobe pro", "probe"},
		{"smtpprobe probe --form", "--format"},
		{"smtpprobe probe --color=", "--color=always"},
		{"smtpprobe mx --format ", "ndjson"},
		{"smtpprobe why --as ", "rcpt"},
		{"smtpprobe probe --rcpt-r", "--rcpt-raw"},
		{"smtpprobe tls --fail-on ", "starttls"},
		{"smtpprobe ", "tls"},
		{"smtpprobe help ex", "exit-codes"},
	} {
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, tc.line)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.line, err, out)
		}
		var words []string
		for _, l := range strings.Split(string(out), "\n") {
			w, _, _ := strings.Cut(l, "\t")
			words = append(words, w)
		}
		if !contains(words, tc.want) {
			t.Errorf("%q: %q not offered:\n%s", tc.line, tc.want, out)
		}
	}
}

// docs/smtpprobe.1 is what `smtpprobe man` prints (go test -run
// TestManPage -update rewrites it), and man renders it without a warning.
func TestManPage(t *testing.T) {
	out, _, code := runCLI(t, "man")
	if code != exitOK || !strings.HasPrefix(out, `.\" smtpprobe(1)`) {
		t.Fatalf("exit %d:\n%.200s", code, out)
	}
	checkGolden(t, filepath.Join("..", "..", "docs", "smtpprobe.1"), out)
	for _, c := range commands {
		if !strings.Contains(out, ".SS "+c.name+"\n") {
			t.Errorf("the page has no section for %s", c.name)
		}
	}
	for _, f := range []string{`\fB\-\-format\fR`, `\fB\-q\fR, \fB\-\-quiet\fR`, `\fB\-\-all\-mx\fR`, `\fB\-\-context\fR`} {
		if !strings.Contains(out, f) {
			t.Errorf("the page lacks %s", f)
		}
	}
	if _, err := exec.LookPath("man"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("man is not installed")
		}
		t.Skip("man is not installed")
	}
	cmd := exec.CommandContext(context.Background(), "man", "--warnings", "-l", filepath.Join("..", "..", "docs", "smtpprobe.1"))
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	text, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man -l: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"SMTPPROBE(1)", "EXIT STATUS", "--format", "§"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
}
