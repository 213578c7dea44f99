package probe

import "testing"

// TestSpecialUseDomain: names RFC 6761 and RFC 2606 reserve are known
// without asking DNS; lookalikes are not.
func TestSpecialUseDomain(t *testing.T) {
	for d, want := range map[string]bool{
		"client.test": true, "TEST": true, "a.b.example": true, "x.invalid.": true, "localhost": true,
		"mail.example.com": true, "example.org": true,
		"attest": false, "example.co": false, "mytest.com": false, "example.com.evil.net": false, "lab.test.example.de": false,
	} {
		if got := specialUseDomain(d); got != want {
			t.Errorf("specialUseDomain(%q) = %v, want %v", d, got, want)
		}
	}
}
