package explain

import (
	"strings"
	"sync"
)

// attribution is one source whose own template a reply text matches.
type attribution struct {
	Source   string
	key      string // identifies the template, to count it once
	template string // the template's text, for evidence; may be empty
	mta      bool   // the source is the server software (not a blocklist)
	shared   bool   // other sources' templates match the same text
}

// isServer tells whether a recognizer source is server software (an MTA
// or a provider's mail service) rather than a blocklist or a technique
// such as greylisting, whose verdicts arrive in some MTA's words.
func isServer(source string) bool { return serverSources()[source] }

// serverSources are the sources the identification rows name, and the
// providers the recognizers know.
var serverSources = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{srcOutlook: true, srcYahoo: true, srcGmail: true, srcM365: true, srcExchange: true}
	for _, t := range [][]fingerprintRow{bannerFingerprints, greetingFingerprints, keywordFingerprints, orderFingerprints} {
		for _, r := range t {
			m[r.mta] = true
		}
	}
	return m
})

// attribute returns, for each source with a matching recognizer row, its
// most specific row; shared is set on each when more than one server's
// rows match the text.
func attribute(code int, enhanced, text string) []attribution {
	if len(text) > maxRecognizeText {
		text = text[:maxRecognizeText]
	}
	enh, hasEnh := parseEnhanced(enhanced)
	if !hasEnh {
		if m := leadingEnhanced.FindStringSubmatch(text); m != nil && (code < 200 || code > 599 || int(m[1][0]-'0') == code/100) {
			enh, hasEnh = parseEnhanced(m[1])
		} else if m := trailingEnhanced.FindStringSubmatch(text); m != nil {
			enh, hasEnh = parseEnhanced(m[1])
		}
	}
	rows := recognizersByClass[0]
	if code >= 200 && code <= 599 {
		rows = recognizersByClass[code/100]
	}
	folded := strings.ToLower(foldContinuations(text))
	best := map[string]*compiled{}
	var order []string
	for i := range rows {
		c := &rows[i]
		if !c.matches(code, enh, hasEnh, folded) {
			continue
		}
		b, ok := best[c.row.source]
		if !ok {
			order = append(order, c.row.source)
		}
		if !ok || b.spec.less(c.spec) {
			best[c.row.source] = c
		}
	}
	servers := 0
	for _, s := range order {
		if isServer(s) {
			servers++
		}
	}
	out := make([]attribution, 0, len(order))
	for _, s := range order {
		c := best[s]
		out = append(out, attribution{Source: s, key: s + "\x00" + c.row.words + "\x00" + c.row.codes,
			mta: isServer(s), shared: servers > 1 && isServer(s)})
	}
	return out
}
