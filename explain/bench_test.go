package explain

import (
	"slices"
	"testing"
)

func BenchmarkExplainWithContext(b *testing.B) {
	for b.Loop() {
		_ = Explain(550, "5.1.1", "<a@example.net>: Recipient address rejected: User unknown in virtual mailbox table", RCPT).Brief()
	}
}

func BenchmarkParseQuery(b *testing.B) {
	for b.Loop() {
		_, _ = ParseQuery("550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy")
	}
}

// BenchmarkBuildRecognizers is the one-time cost of the first Recognize
// call: parsing the embedded catalogue and compiling every row's codes
// and templates (word patterns compile later, per row, when first needed).
func BenchmarkBuildRecognizers(b *testing.B) {
	for b.Loop() {
		rows, err := parseCatalogue()
		if err != nil {
			b.Fatal(err)
		}
		_ = rows
		mustCompileRecognizers(append(slices.Clone(recognizerTables), catalogueRows()))
	}
}
