package probe

// Placeholders until the wire layer and resolver land.
type Extensions map[string][]string
type TLSInfo struct{}
type MXResult struct{}
