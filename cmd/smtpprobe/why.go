package main

import "context"

func runWhy(ctx context.Context, args []string, e *env) int {
	return usageError(e, "why", "not built yet")
}
