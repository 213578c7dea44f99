package probe

import (
	"context"
	"errors"
)

// Run is replaced when the wire layer lands.
func Run(ctx context.Context, opts Options) (*Report, error) {
	return nil, errors.New("not built yet")
}

// ErrDNS marks a DNS failure.
var ErrDNS = errors.New("DNS could not answer")
