package main

import "context"

func runExplain(ctx context.Context, args []string, e *env) int {
	return usageError(e, "explain", "not built yet")
}
