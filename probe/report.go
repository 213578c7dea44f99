package probe

import (
	"bytes"
	"encoding/json"

	"github.com/smtpprobe/smtpprobe/explain"
	"github.com/smtpprobe/smtpprobe/probe/dane"
	"github.com/smtpprobe/smtpprobe/probe/mtasts"
	"github.com/smtpprobe/smtpprobe/probe/tlsrpt"
	"github.com/smtpprobe/smtpprobe/probe/transport"
)

// SchemaVersion is the version of the probe JSON document.
const SchemaVersion = 1

// StepResult is one step as run: the exact line sent, the reply, how long
// it took, what the reply means after that command, and the verdict.
type StepResult struct {
	Name        string          `json:"name"`
	Suite       string          `json:"suite"`
	Case        string          `json:"case"`
	Command     explain.Command `json:"command"`
	Sent        string          `json:"sent"`
	Reply       *Reply          `json:"reply"` // null when none came
	RTTMS       float64         `json:"rtt_ms"`
	Annotation  string          `json:"annotation"`
	Outcome     Outcome         `json:"outcome"`
	Conformance Conformance     `json:"conformance"`
	Verdict     string          `json:"verdict"` // one sentence: outcome and whether RFC 5321 asks for it
	Expect      Expect          `json:"expect"`
	Ref         string          `json:"ref"`
	Connection  int             `json:"connection"`        // 1-based: which connection carried it
	Setup       bool            `json:"setup,omitempty"`   // housekeeping, not a probe case
	Error       string          `json:"error,omitempty"`   // transport error, if any
	Address     string          `json:"address,omitempty"` // the address the user asked about, for vrfy-given-N and rcpt-given-N; the text as given for rcpt-raw-N
	// ResentFrom is the connection the step was first sent on, when the
	// server hung up there before answering it and it went again on this
	// one; 0 when it was answered where it was first sent.
	ResentFrom int `json:"resent_from,omitempty"`
	// Cause is why a refused or deferred step was refused, one word of
	// explain.Causes; empty for a step that was accepted or not sent.
	Cause explain.Cause `json:"cause,omitempty"`
	// Blocklist is the list a blocklisted refusal names.
	Blocklist string `json:"blocklist,omitempty"`
	// RetryAfterS is the delay in seconds a greylisted or rate-limited
	// reply asks for, when its text gives one.
	RetryAfterS int `json:"retry_after_s,omitempty"`
	// Withheld says why the step's verdict was withheld: a baseline it
	// rests on failed, so its refusal says nothing about the line.
	Withheld string `json:"withheld,omitempty"`

	step Step
	cut  bool // not sent because the run ended: the verdicts that need it are unknown
	// timedOut: the reply did not complete within the deadline.
	timedOut bool
	// desync: the reply came with bytes no command asked for.
	desync bool
	// dropped: the server hung up before answering it, twice.
	dropped bool
}

// code is the reply code, 0 when there was no reply.
func (r StepResult) code() int {
	if r.Reply == nil || r.Outcome == NoReply || r.Outcome == Skipped {
		// A reply that never completed is no evidence: the "250-" a
		// server dripped past the deadline says nothing about the
		// mailbox. Verdicts are built from completed replies only.
		return 0
	}
	return r.Reply.Code
}

// Step returns the plan row the result came from.
func (r StepResult) Step() Step { return r.step }

// HELOFallback is EHLO refused and HELO tried instead.
type HELOFallback struct {
	EHLO Reply  `json:"ehlo"` // the refusal of EHLO
	HELO *Reply `json:"helo"` // the reply to HELO; null when none came
}

// HostReport is the probe of one host.
type HostReport struct {
	Host       string        `json:"host"`            // MX name or host given
	Preference *uint16       `json:"preference"`      // MX preference; null for a host target
	Address    string        `json:"address"`         // host:port dialled
	Status     SessionStatus `json:"status"`          // kebab-case outcome of the first connection: ok, connection-refused...
	Error      string        `json:"error,omitempty"` // the transport error behind a status other than ok
	Banner     *Reply        `json:"banner"`          // the greeting
	EHLO       *Reply        `json:"ehlo"`            // the EHLO (or HELO) reply
	// HELOName is the name the prober announced in EHLO/HELO.
	HELOName string `json:"helo_name"`
	// HELOFallback is set when the server refused EHLO and the prober
	// fell back to HELO (RFC 5321 §4.1.4): no extensions are known then.
	HELOFallback *HELOFallback `json:"helo_fallback"`
	Extensions   Extensions    `json:"extensions"` // from the EHLO reply
	// Software is the MTA the banner, EHLO reply and replies point to;
	// null when no greeting was read.
	Software    *explain.Software `json:"software"`
	TLS         *TLSInfo          `json:"tls"`                  // null when the session was not encrypted
	Connections int               `json:"connections"`          // sessions the suite needed
	Schedule    *Schedule         `json:"schedule"`             // how the plan was run: mode, groups, round trips, wall time; null when it was not
	Steps       []StepResult      `json:"steps"`                // in the order sent
	Verdicts    *Verdicts         `json:"verdicts"`             // null when the host could not be probed
	Incomplete  bool              `json:"incomplete"`           // the run ended before every step was sent
	Deviations  []Deviation       `json:"deviations,omitempty"` // session-level: unsolicited bytes, STARTTLS injection, ...
	Transcript  []TranscriptLine  `json:"transcript"`           // every byte sent and received, within the caps
	// TranscriptDropped counts the bytes the transcript's caps left out.
	TranscriptDropped int `json:"transcript_dropped"`
	// DANE and MTASTS are the host's transport-security verdicts; null
	// for a host target, or when the check was not made (MTASTS also
	// when no policy applies).
	DANE   *dane.Result     `json:"dane"`
	MTASTS *mtasts.MXResult `json:"mta_sts"`

	observed *transport.Observation // what the first session showed of TLS
}

// Report is the whole probe, the document `smtpprobe probe --json` prints.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Target        Target `json:"target"`
	Domain        string `json:"domain"` // the mail domain probed
	// DomainNote says where Domain came from when the target was a host
	// and no domain was given, and suggests --domain.
	DomainNote string `json:"domain_note,omitempty"`
	// Proxy names the SOCKS5 proxy every connection went through, and
	// where DNS went; absent when connections were direct.
	Proxy *ProxyInfo `json:"proxy,omitempty"`
	// Identity is what the server sees of the prober (EHLO name and
	// sender), decided and checked before connecting; each host's
	// helo_name is what it was actually told.
	Identity *Identity    `json:"identity"`
	MX       *MXResult    `json:"mx"`       // null unless the target was a domain or address
	Hosts    []HostReport `json:"hosts"`    // probed in order
	Verdicts *Verdicts    `json:"verdicts"` // of the first host probed successfully
	// Incomplete is true when the run ended before it was done: its time
	// budget ran out or it was interrupted; IncompleteReason says which
	// ("budget-spent" or "interrupted"). What was seen is reported; the
	// verdicts that needed the missing steps are unknown or null.
	Incomplete       bool     `json:"incomplete"`
	IncompleteReason string   `json:"incomplete_reason,omitempty"`
	Warnings         []string `json:"warnings,omitempty"`
	// DANE, MTASTS and TLSRPT are the domain's transport-security
	// verdicts (RFC 7672, RFC 8461, RFC 8460); null for a host target or
	// when the check was not made.
	DANE   *dane.Result   `json:"dane"`
	MTASTS *mtasts.Result `json:"mta_sts"`
	TLSRPT *tlsrpt.Result `json:"tls_rpt"`
	// Transport is the whole check behind them, every MX host layer by
	// layer, for the text report; `smtpprobe tls --json` prints it.
	Transport *transport.Report `json:"-"`
}

// marshalPlain is json.Marshal without HTML escaping: a MarshalJSON
// method's output is not escaped again, and "<" must stay "<" in SMTP
// paths for people reading the JSON.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
