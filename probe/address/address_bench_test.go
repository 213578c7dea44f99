package address

import (
	"strings"
	"testing"
)

// BenchmarkAnalyzeAddress measures a typical address and hostile long
// inputs (the analyser must stay linear-ish on anything a user can paste).
func BenchmarkAnalyzeAddress(b *testing.B) {
	inputs := map[string]string{
		"plain":        "first.last@example.com",
		"idn":          "jörg@bücher.example",
		"long-comment": strings.Repeat("(", 5000) + "a@b" + strings.Repeat(")", 5000),
		"long-idn":     "a@" + strings.Repeat("ü", 20000) + ".example",
		"many-labels":  "a@" + strings.Repeat("ü.", 10000) + "example",
		"many-at":      strings.Repeat("@", 20000),
		"many-quotes":  strings.Repeat(`"\`, 10000) + "@x",
		"brackets":     strings.Repeat("<", 10000) + "a@b" + strings.Repeat(">", 10000),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				AnalyzeAddress(in)
			}
		})
	}
}
