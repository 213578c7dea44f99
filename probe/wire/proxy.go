package wire

// ProxyInfo names the proxy a run's connections went through, for the
// report: its URL without the password, and where DNS went.
type ProxyInfo struct {
	URL string `json:"url"`
	// DNS is "direct" when the lookups went straight to the DNS servers,
	// "proxy" when they went over TCP through the proxy.
	DNS string `json:"dns"`
}
