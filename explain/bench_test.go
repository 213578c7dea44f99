package explain

import "testing"

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
