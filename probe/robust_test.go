package probe

import "testing"

func TestSizeOverDoesNotOverflow(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{1000, "1001"}, {9223372036854775807, "9223372036854775808"}, {-5, "1"}} {
		if got := sizeOver(tc.n); got != tc.want {
			t.Errorf("sizeOver(%d) = %s; want %s", tc.n, got, tc.want)
		}
	}
}
