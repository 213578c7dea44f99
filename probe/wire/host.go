package wire

// MailHost is one address to dial and the name it is known by: the MX
// host name or the host given, used for TLS SNI and verification; empty
// for an IP address.
type MailHost struct {
	Addr string `json:"address"` // host:port dialled
	Name string `json:"name,omitempty"`
	// Warning says what is surprising about the host: an MX host on
	// loopback or named localhost, or one with an address that names no
	// host. Skip is set for the latter: it is never dialled.
	Warning string `json:"warning,omitempty"`
	Skip    bool   `json:"skipped,omitempty"`
}
