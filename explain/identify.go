package explain

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Software is what one session's replies say about the MTA that sent them:
// the most likely name, the version when the server gave one, how sure the
// reading is, and every clue it rests on.
type Software struct {
	// Name is the MTA or provider ("Postfix", "Exim", "Microsoft 365"), or
	// "" when no clue points to a known one.
	Name    string `json:"name"`
	Version string `json:"version,omitempty"` // as the banner or EHLO reply gave it
	// Confidence is "high" (the server names itself, or many independent
	// clues agree), "medium", "low" (one weak clue, or a close rival), or
	// "none" when Name is empty.
	Confidence string `json:"confidence"`
	// Evidence lists each clue in plain words, strongest first, for the
	// winner and the candidates alike.
	Evidence []string `json:"evidence"`
	// Candidates are the other MTAs the clues also fit, best first; a
	// reading is never narrowed to one name by guess.
	Candidates []SoftwareCandidate `json:"candidates,omitempty"`
}

// SoftwareCandidate is another MTA the session's clues fit.
type SoftwareCandidate struct {
	Name       string `json:"name"`
	Confidence string `json:"confidence"`
}

// SessionEvidence is what a session showed of the server: the greeting,
// the EHLO reply, and every other reply with the command that drew it.
type SessionEvidence struct {
	Banner  string   // the greeting's text, lines joined by a space, code removed
	EHLO    []string // the EHLO reply's lines after the code: its greeting line, then the keywords
	Replies []SessionReply
}

// SessionReply is one reply of a session and the command that drew it.
type SessionReply struct {
	Command  Command
	Code     int
	Enhanced string
	Text     string
}

// Clue weights. A banner that names the software settles it; the rest add
// up, so a hidden banner is still read from the EHLO reply and the texts.
const (
	weightBannerName    = 10
	weightBannerShape   = 1
	weightGreeting      = 2
	weightKeyword       = 3
	weightOrderLong     = 3 // four or more keywords in the MTA's own order
	weightOrderShort    = 1 // two or three
	weightReply         = 2 // per distinct reply template of the MTA
	weightContradiction = -2
	maxReplyWeight      = 8
	highScore           = 8
	mediumScore         = 5
	lowScore            = 2
)

// clue is one piece of evidence for one MTA.
type clue struct {
	mta    string
	weight int
	says   string
}

// Identify reads the MTA from a session: the banner (which may name it and
// its version), the EHLO greeting line's shape, the EHLO keyword set and
// its order (every MTA advertises its extensions in a fixed order of its
// own), and the reply texts that match an MTA's stock templates. It works
// when the banner hides the name: Postfix with smtpd_banner = $myhostname
// ESMTP still lists ETRN after VRFY and answers in its own words.
func Identify(s SessionEvidence) Software {
	fp := fingerprintSet()
	var clues []clue
	version := map[string]string{}
	banner := strings.ToLower(strings.Join(strings.Fields(s.Banner), " "))
	named := map[string]bool{}
	for _, b := range fp.banners {
		m := b.re.FindStringSubmatch(banner)
		if m == nil {
			continue
		}
		if b.names {
			if named[b.mta] {
				continue
			}
			named[b.mta] = true
			says := "the banner names " + b.mta
			if len(m) > 1 && m[1] != "" && version[b.mta] == "" {
				version[b.mta] = m[1]
				says += " " + m[1]
			}
			clues = append(clues, clue{b.mta, weightBannerName, says})
		} else {
			clues = append(clues, clue{b.mta, weightBannerShape, "the banner has " + b.mta + "'s default shape (" + b.shape + ")"})
		}
	}
	if len(s.EHLO) > 0 {
		greet := strings.ToLower(strings.Join(strings.Fields(s.EHLO[0]), " "))
		for _, g := range fp.greetings {
			if g.re.MatchString(greet) {
				clues = append(clues, clue{g.mta, weightGreeting, "the EHLO greeting line has " + g.mta + "'s shape (" + g.shape + ")"})
			}
		}
		kw := ehloKeywords(s.EHLO[1:])
		for _, k := range fp.keywords {
			if slices.Contains(kw, k.keyword) {
				clues = append(clues, clue{k.mta, weightKeyword, "EHLO advertises " + k.keyword + ", which " + k.mta + " offers"})
			}
		}
		if len(kw) >= 2 {
			for _, o := range fp.orders {
				if inOrder(kw, o.keywords) {
					w := weightOrderShort
					if len(kw) >= 4 {
						w = weightOrderLong
					}
					clues = append(clues, clue{o.mta, w, "the EHLO keywords (" + strings.Join(kw, " ") + ") are in " + o.mta + "'s order"})
				}
			}
		}
	}
	clues = append(clues, replyClues(s.Replies)...)
	if len(s.EHLO) > 0 {
		clues = append(clues, contradictions(clues, ehloKeywords(s.EHLO[1:]), fp.orders)...)
	}
	return decide(clues, version)
}

// contradictions weigh against an MTA that other clues point to when the
// EHLO reply lists a keyword its stock code never sends (patched builds
// and proxies do add some, so it weakens the reading rather than ruling
// it out).
func contradictions(clues []clue, kw []string, orders []orderRow) []clue {
	var out []clue
	pointed := map[string]bool{}
	for _, c := range clues {
		pointed[c.mta] = true
	}
	for _, o := range orders {
		if !pointed[o.mta] {
			continue
		}
		var foreign []string
		for _, k := range kw {
			if !slices.Contains(o.keywords, k) {
				foreign = append(foreign, k)
			}
		}
		if len(foreign) > 0 {
			out = append(out, clue{o.mta, weightContradiction, "but EHLO advertises " + strings.Join(foreign, " ") + ", which stock " + o.mta + " never does"})
		}
	}
	return out
}

// replyClues credits each MTA whose stock template a reply matches; one
// template counts once however often the session drew it, and a text that
// several servers share credits each of them.
func replyClues(replies []SessionReply) []clue {
	var out []clue
	seen := map[string]bool{}
	total := map[string]int{}
	for _, r := range replies {
		for _, a := range attribute(r.Code, r.Enhanced, r.Text) {
			if !a.mta || seen[a.key] || total[a.Source] >= maxReplyWeight {
				continue
			}
			seen[a.key] = true
			total[a.Source] += weightReply
			what := "a reply"
			if r.Command != "" && r.Command != Unknown {
				what = "the reply to " + strings.ToUpper(string(r.Command))
			}
			says := fmt.Sprintf("%s (%d) matches %s's stock wording", what, r.Code, a.Source)
			if a.template != "" {
				says = fmt.Sprintf("%s (%d) is %s's template %q", what, r.Code, a.Source, a.template)
			}
			if a.shared {
				says += ", which other servers share"
			}
			w := weightReply
			if a.shared {
				w = 1
			}
			out = append(out, clue{a.Source, w, says})
		}
	}
	return out
}

// decide adds the clues up per MTA and names the best; rivals within
// reach stay as candidates.
func decide(clues []clue, version map[string]string) Software {
	score := map[string]int{}
	for _, c := range clues {
		score[c.mta] += c.weight
	}
	names := make([]string, 0, len(score))
	for n := range score {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if score[names[i]] != score[names[j]] {
			return score[names[i]] > score[names[j]]
		}
		return names[i] < names[j]
	})
	sw := Software{Confidence: "none", Evidence: []string{}}
	if len(names) == 0 || score[names[0]] < lowScore {
		sw.Evidence = evidenceOf(clues, names)
		return sw
	}
	best := names[0]
	sw.Name, sw.Version = best, version[best]
	sw.Confidence = level(score[best])
	for _, n := range names[1:] {
		conf := level(score[n])
		if conf == "none" {
			continue // one slight clue: in the evidence, not a candidate
		}
		sw.Candidates = append(sw.Candidates, SoftwareCandidate{n, conf})
		// A rival that comes close means the clues do not tell them apart.
		if score[best]-score[n] < 3 && sw.Confidence == "high" {
			sw.Confidence = "medium"
		}
		if score[best] == score[n] {
			sw.Confidence = "low"
		}
	}
	// No candidate is surer than the name itself.
	for i := range sw.Candidates {
		if rank(sw.Candidates[i].Confidence) > rank(sw.Confidence) {
			sw.Candidates[i].Confidence = sw.Confidence
		}
	}
	sw.Evidence = evidenceOf(clues, names)
	return sw
}

func rank(confidence string) int {
	return map[string]int{"low": 1, "medium": 2, "high": 3}[confidence]
}

func level(score int) string {
	switch {
	case score >= highScore:
		return "high"
	case score >= mediumScore:
		return "medium"
	case score >= lowScore:
		return "low"
	}
	return "none"
}

// evidenceOf lists the clues grouped by MTA in the order of names,
// strongest first within each.
func evidenceOf(clues []clue, names []string) []string {
	out := []string{}
	for _, n := range names {
		var mine []clue
		for _, c := range clues {
			if c.mta == n {
				mine = append(mine, c)
			}
		}
		sort.SliceStable(mine, func(i, j int) bool { return mine[i].weight > mine[j].weight })
		for _, c := range mine {
			out = append(out, c.says)
		}
	}
	return out
}

// ehloKeywords returns the upper-cased first word of each EHLO keyword
// line, each once, in the order sent; words that are not ESMTP keywords
// (RFC 5321 §4.1.1.1: ehlo-keyword) are left out.
func ehloKeywords(lines []string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		k := strings.ToUpper(f[0])
		if i := strings.IndexByte(k, '='); i > 0 {
			k = k[:i] // the old "AUTH=LOGIN" form
		}
		if !isKeyword(k) || slices.Contains(out, k) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func isKeyword(k string) bool {
	if k == "" || len(k) > 40 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' && i > 0 || c == '_') {
			return false
		}
	}
	return true
}

// inOrder reports whether every keyword of kw is one that order lists,
// and they come in order's sequence.
func inOrder(kw, order []string) bool {
	last := -1
	for _, k := range kw {
		i := slices.Index(order, k)
		if i <= last {
			return false
		}
		last = i
	}
	return true
}

// fingerprints are the compiled identification rows, built on first use.
type fingerprints struct {
	banners   []bannerRow
	greetings []greetingRow
	keywords  []keywordRow
	orders    []orderRow
}

type bannerRow struct {
	mta   string
	names bool   // the pattern is the MTA's own name; otherwise only its default shape
	shape string // for a shape: what it looks like, in words
	re    *regexp.Regexp
}

type greetingRow struct {
	mta, shape string
	re         *regexp.Regexp
}

type keywordRow struct{ mta, keyword string }

type orderRow struct {
	mta      string
	keywords []string
}

var fingerprintSet = sync.OnceValue(func() *fingerprints {
	f := &fingerprints{}
	for _, r := range bannerFingerprints {
		f.banners = append(f.banners, bannerRow{mta: r.mta, names: r.shape == "", shape: r.shape, re: regexp.MustCompile(r.pattern)})
	}
	for _, r := range greetingFingerprints {
		f.greetings = append(f.greetings, greetingRow{mta: r.mta, shape: r.shape, re: regexp.MustCompile(r.pattern)})
	}
	for _, r := range keywordFingerprints {
		for _, k := range strings.Fields(r.pattern) {
			f.keywords = append(f.keywords, keywordRow{r.mta, k})
		}
	}
	for _, r := range orderFingerprints {
		f.orders = append(f.orders, orderRow{r.mta, strings.Fields(r.pattern)})
	}
	return f
})
