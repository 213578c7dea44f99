package main

import "context"

func runVRFY(ctx context.Context, args []string, e *env) int {
	return usageError(e, "vrfy", "not built yet")
}
