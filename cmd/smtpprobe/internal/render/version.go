package render

import "fmt"

// Version is the document of `smtpprobe version`: what the toolchain
// stamped into the binary.
type Version struct {
	SchemaVersion int    `json:"schema_version"`
	Version       string `json:"version"`               // module version, "(devel)", or as set at link time
	Module        string `json:"module,omitempty"`      // module path
	Commit        string `json:"commit,omitempty"`      // VCS revision, when built from a checkout
	CommitTime    string `json:"commit_time,omitempty"` // its time (RFC 3339)
	Modified      bool   `json:"modified,omitempty"`    // the checkout had uncommitted changes
	GoVersion     string `json:"go_version,omitempty"`
	OS            string `json:"os,omitempty"`
	Arch          string `json:"arch,omitempty"`
}

// Text writes "smtpprobe VERSION", then the commit and the Go version.
func (d *Version) Text(p *Printer) {
	p.line("smtpprobe " + d.Version)
	if d.Commit != "" {
		c := d.Commit
		if d.CommitTime != "" {
			c += " (" + d.CommitTime + ")"
		}
		if d.Modified {
			c += ", with uncommitted changes"
		}
		p.line("commit    " + c)
	}
	if d.GoVersion != "" {
		p.line(fmt.Sprintf("go        %s %s/%s", d.GoVersion, d.OS, d.Arch))
	}
}

// Quiet writes the version alone.
func (d *Version) Quiet(p *Printer) { p.line(d.Version) }

// Records is the document as one record.
func (d *Version) Records() []any { return []any{d} }
