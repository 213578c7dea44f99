package explain

import (
	"encoding/json"
	"strings"
)

// sesNotification is an Amazon SES event notification (SNS or event
// publishing): a bounce, a complaint or a delivery delay.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	// An SNS envelope carries the notification as a JSON string.
	Type    string `json:"Type"`
	Message string `json:"Message"`
	Bounce  *struct {
		BounceType        string         `json:"bounceType"`
		BounceSubType     string         `json:"bounceSubType"`
		BouncedRecipients []sesRecipient `json:"bouncedRecipients"`
		Timestamp         string         `json:"timestamp"`
		RemoteMtaIP       string         `json:"remoteMtaIp"`
		ReportingMTA      string         `json:"reportingMTA"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []sesRecipient `json:"complainedRecipients"`
		ComplaintFeedbackType string         `json:"complaintFeedbackType"`
		ComplaintSubType      string         `json:"complaintSubType"`
		UserAgent             string         `json:"userAgent"`
		ArrivalDate           string         `json:"arrivalDate"`
	} `json:"complaint"`
	DeliveryDelay *struct {
		DelayType         string         `json:"delayType"`
		DelayedRecipients []sesRecipient `json:"delayedRecipients"`
		ReportingMTA      string         `json:"reportingMTA"`
	} `json:"deliveryDelay"`
	Mail struct {
		MessageID     string `json:"messageId"`
		Source        string `json:"source"`
		Timestamp     string `json:"timestamp"`
		SourceIP      string `json:"sourceIp"`
		CommonHeaders struct {
			Subject   string   `json:"subject"`
			MessageID string   `json:"messageId"`
			From      []string `json:"from"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

type sesRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// sesSubtypes reads an SES bounce subtype when the notification quotes no
// server reply: the subtype is then SES's own finding.
var sesSubtypes = map[string]struct{ reason, cause, actor, fix string }{
	"noemail":                  {"userunknown", "mailbox-unknown", "sender", "remove the address: SES found that the recipient's domain or mailbox does not exist"},
	"suppressed":               {"onhold", "ses-suppression-list", "sender", "SES did not send: the address is on its global suppression list after recent hard bounces; remove it from your list"},
	"onaccountsuppressionlist": {"onhold", "account-suppression-list", "sender", "SES did not send: the address is on your account's suppression list; remove it there only if you know it works again"},
	"mailboxfull":              {"mailboxfull", "mailbox-full", "recipient", "the recipient must make room; retry later"},
	"messagetoolarge":          {"mesgtoobig", "message-too-big", "sender", "send a smaller message: link to large files instead of attaching them"},
	"contentrejected":          {"policyviolation", "content-policy", "sender", "the receiver refused the content; see the diagnostic for which rule"},
	"attachmentrejected":       {"policyviolation", "attachment-refused", "sender", "send without the attachment, or in a type the receiver accepts"},
}

// parseSESJSON reads the reports in a JSON value: one notification, an
// SNS envelope holding one, or an array of either.
func parseSESJSON(raw []byte) []Report {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		list = []json.RawMessage{raw}
	}
	var out []Report
	for _, v := range list {
		var n sesNotification
		if err := json.Unmarshal(v, &n); err != nil {
			continue
		}
		if n.Message != "" && n.NotificationType == "" && n.EventType == "" {
			var inner sesNotification
			if err := json.Unmarshal([]byte(n.Message), &inner); err == nil {
				n = inner
			}
		}
		if rep, ok := n.report(); ok {
			out = append(out, rep)
		}
	}
	return out
}

func (n *sesNotification) report() (Report, bool) {
	rep := Report{Format: "amazon-ses-json", Generator: "Amazon SES",
		From: n.Mail.Source, Subject: n.Mail.CommonHeaders.Subject, Date: n.Mail.Timestamp,
		OriginalMessageID: firstNonEmpty(n.Mail.CommonHeaders.MessageID, n.Mail.MessageID),
		OriginalSubject:   n.Mail.CommonHeaders.Subject}
	rep.Subject = ""
	switch t := strings.ToLower(firstNonEmpty(n.NotificationType, n.EventType)); {
	case t == "bounce" && n.Bounce != nil:
		b := n.Bounce
		_, rep.ReportingMTA = typedValue(b.ReportingMTA)
		for _, br := range b.BouncedRecipients {
			if len(rep.Recipients) >= maxRecipients {
				break
			}
			r := Recipient{Recipient: br.EmailAddress, Action: strings.ToLower(br.Action), Status: statusCode(br.Status), RemoteMTA: b.RemoteMtaIP}
			r.DiagnosticType, r.Diagnostic = typedValue(br.DiagnosticCode)
			if r.Action == "" {
				r.Action = "failed"
				if strings.EqualFold(b.BounceType, "Transient") {
					r.Action = "delayed"
				}
			}
			finishRecipient(&r, "")
			if st, ok := sesSubtypes[strings.ToLower(b.BounceSubType)]; ok && (r.Reason == "undefined" || r.Diagnostic == "") {
				r.Reason, r.Cause, r.Actor = st.reason, st.cause, st.actor
				if r.Fix == "" || r.Diagnostic == "" {
					r.Fix = st.fix
				}
				if r.Explanation == "" || r.Diagnostic == "" {
					r.Explanation = "Amazon SES bounce " + b.BounceType + "/" + b.BounceSubType
				}
			}
			rep.Recipients = append(rep.Recipients, r)
		}
		rep.Kind = kindOf(rep.Recipients)
	case t == "deliverydelay" && n.DeliveryDelay != nil:
		d := n.DeliveryDelay
		_, rep.ReportingMTA = typedValue(d.ReportingMTA)
		for _, dr := range d.DelayedRecipients {
			r := Recipient{Recipient: dr.EmailAddress, Action: "delayed", Status: statusCode(dr.Status)}
			r.DiagnosticType, r.Diagnostic = typedValue(dr.DiagnosticCode)
			if r.Diagnostic == "" {
				r.Diagnostic = "Amazon SES delivery delay: " + d.DelayType
			}
			finishRecipient(&r, "")
			rep.Recipients = append(rep.Recipients, r)
		}
		rep.Kind = "delay"
	case t == "complaint" && n.Complaint != nil:
		c := n.Complaint
		rep.Kind = "feedback"
		typ := strings.ToLower(firstNonEmpty(c.ComplaintFeedbackType, "other"))
		rep.Feedback = &Feedback{Type: typ, UserAgent: c.UserAgent, OriginalMailFrom: n.Mail.Source, SourceIP: n.Mail.SourceIP, ArrivalDate: c.ArrivalDate}
		for _, cr := range c.ComplainedRecipients {
			r := Recipient{Recipient: cr.EmailAddress, Diagnostic: "complaint: " + typ}
			finishRecipient(&r, "feedback")
			r.Cause = feedbackCause(typ)
			r.Explanation, r.Fix = feedbackReading(typ)
			rep.Recipients = append(rep.Recipients, r)
		}
	default:
		return rep, false
	}
	if rep.Recipients == nil {
		rep.Recipients = []Recipient{}
	}
	return rep, true
}
