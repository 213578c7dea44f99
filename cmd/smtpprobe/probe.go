package main

import "context"

func runProbe(ctx context.Context, args []string, e *env) int {
	return usageError(e, "probe", "not built yet")
}
