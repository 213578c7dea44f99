package render

import (
	"github.com/smtpprobe/smtpprobe/probe"
)

// Rollup is the verdicts of every host of a report side by side: the JSON
// "rollup" of a report with more than one host, and the source of the
// text report's comparison table.
type Rollup struct {
	Hosts    []string    `json:"hosts"`    // host names, in the order probed
	Rows     []RollupRow `json:"rows"`     // one per verdict any host has
	Disagree int         `json:"disagree"` // rows whose hosts disagree
}

// RollupRow is one verdict across the hosts.
type RollupRow struct {
	Key    string   `json:"key"`    // the verdict's key in hosts[].verdicts, or "status"
	Values []string `json:"values"` // one per host, "" when a host has no such verdict
	Agree  bool     `json:"agree"`  // every host has the same value
}

// compare builds the rollup of r's hosts.
func compare(r *probe.Report) Rollup {
	c := Rollup{Hosts: []string{}, Rows: []RollupRow{}}
	index := map[string]int{}
	c.Rows = append(c.Rows, RollupRow{Key: "status", Values: make([]string, len(r.Hosts))})
	index["status"] = 0
	for i := range r.Hosts {
		h := &r.Hosts[i]
		c.Hosts = append(c.Hosts, h.Host)
		c.Rows[0].Values[i] = string(h.Status)
		for _, v := range hostVerdicts(h) {
			j, ok := index[v.key]
			if !ok {
				j = len(c.Rows)
				index[v.key] = j
				c.Rows = append(c.Rows, RollupRow{Key: v.key, Values: make([]string, len(r.Hosts))})
			}
			c.Rows[j].Values[i] = v.value
		}
	}
	for i := range c.Rows {
		row := &c.Rows[i]
		// hosts without the verdict (not probed) neither agree nor differ
		row.Agree = true
		seen := ""
		for _, v := range row.Values {
			switch {
			case v == "":
			case seen == "":
				seen = v
			case v != seen:
				row.Agree = false
			}
		}
		if !row.Agree {
			c.Disagree++
		}
	}
	return c
}
