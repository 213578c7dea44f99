package probe_test

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/smtpprobe/smtpprobe/probe"
)

// A reply with a missing CR and a line in another code is read, not
// rejected: each oddity is a deviation.
func ExampleReadReply() {
	in := "550-5.1.1 <bob@example.com>: Recipient address rejected\n551 5.1.1 User unknown\r\n"
	r, err := probe.ReadReply(bufio.NewReader(strings.NewReader(in)), probe.Limits{})
	fmt.Println(r.Code, r.Enhanced, err)
	for _, d := range r.Deviations {
		fmt.Println(d.Line, d.Kind)
	}
	// Output:
	// 551 5.1.1 <nil>
	// 1 bare-lf
	// 2 mixed-codes
}
