package main

import "context"

func runDemo(ctx context.Context, args []string, e *env) int {
	return usageError(e, "demo", "not built yet")
}
