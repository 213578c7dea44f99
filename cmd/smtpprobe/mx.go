package main

import "context"

func runMX(ctx context.Context, args []string, e *env) int {
	return usageError(e, "mx", "not built yet")
}
