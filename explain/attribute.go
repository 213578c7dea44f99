package explain

import "sync"

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

// attribute returns, for each server source with a matching row, its
// most specific row; shared is set on each when more than one server's
// templates match the whole text.
func attribute(code int, enhanced, text string) []attribution {
	m := matchReply(code, enhanced, text, "")
	shared := len(m.sharedSources()) > 1
	best := map[string]*compiled{}
	var order []string
	for _, c := range m.rows {
		if !isServer(c.row.source) {
			continue // a blocklist's verdict, in some server's words
		}
		b, ok := best[c.row.source]
		if !ok {
			order = append(order, c.row.source)
		}
		if !ok || ranksBelow(b, c) {
			best[c.row.source] = c
		}
	}
	out := make([]attribution, 0, len(order))
	for _, s := range order {
		c := best[s]
		a := attribution{Source: s, key: s + "\x00" + c.row.words + c.row.text + "\x00" + c.row.codes, mta: isServer(s)}
		if t := m.templateOf(s, ""); t != nil {
			a.template = t.row.text
			a.shared = shared
		} else {
			a.shared = len(order) > 1
		}
		out = append(out, a)
	}
	return out
}
