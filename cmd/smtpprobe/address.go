package main

import "context"

func runAddress(ctx context.Context, args []string, e *env) int {
	return usageError(e, "address", "not built yet")
}
