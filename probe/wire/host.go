package wire

// MailHost is one address to dial and the name it is known by: the MX
// host name or the host given, used for TLS SNI and verification; empty
// for an IP address.
type MailHost struct {
	Addr string `json:"address"` // host:port dialled
	Name string `json:"name,omitempty"`
}
