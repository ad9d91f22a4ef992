package cluster

import (
	"fmt"
	"strings"
)

// Answers counts the requests each cluster's hello-world answered.
type Answers struct {
	US int `json:"us"`
	EU int `json:"eu"`
}

// Of returns the count for cluster n.
func (a Answers) Of(n Name) int {
	if n == EU {
		return a.EU
	}
	return a.US
}

// Add counts k more answers from cluster n.
func (a *Answers) Add(n Name, k int) {
	if n == EU {
		a.EU += k
	} else {
		a.US += k
	}
}

// Total is the number of answered requests.
func (a Answers) Total() int { return a.US + a.EU }

// ProbeSpec says what a probe does: Requests requests to hello-world:80
// from the busybox pod of cluster From.
type ProbeSpec struct {
	From     Name
	Requests int
	// ID names the probe, such as "global/6" (its step and the round it
	// records). A backend whose answers are random, the simulated mesh,
	// draws them from a stream named by the ID, so a probe retried after
	// an interruption answers as its first try would have and the settle
	// probes taken before a judged one take nothing from it. "" draws the
	// backend's next stream.
	ID string
	// NoFlows leaves the flows out of the result (a settle probe, which
	// nobody looks at).
	NoFlows bool
}

// ProbeResult is the outcome of a probe, or its running counts while it is
// in flight. Its JSON form is the one `clustermesh-lab simulate -o json` prints.
type ProbeResult struct {
	From     Name    `json:"from"`
	Requests int     `json:"requests"`
	Answers  Answers `json:"answers"`
	Errors   int     `json:"errors"`
	// Flows are the probe's requests as Hubble saw them, oldest first: on
	// the simulated mesh from its load balancer's decisions, on the real
	// one from Hubble Relay (none without it). At most MaxProbeFlows, the
	// newest; FlowsOmitted counts the older ones left out.
	Flows        []Flow `json:"flows,omitempty"`
	FlowsOmitted int    `json:"flowsOmitted,omitempty"`
}

// Done is the number of requests that have finished, answered or not.
func (p ProbeResult) Done() int { return p.Answers.Total() + p.Errors }

// Share is the fraction of finished requests in the given bucket; bucket is
// a cluster name or "errors".
func (p ProbeResult) Share(n int) float64 {
	if p.Done() == 0 {
		return 0
	}
	return float64(n) / float64(p.Done())
}

// String summarises the probe: "from us: 10 requests, US 10, EU 0, errors 0".
func (p ProbeResult) String() string {
	return fmt.Sprintf("from %s: %d requests, US %d, EU %d, errors %d", p.From, p.Requests, p.Answers.US, p.Answers.EU, p.Errors)
}

// ClassifyAnswer maps one line printed by the probe loop to the cluster that
// answered it; ok is false for an error line, and skip for the empty lines
// the loop's `echo ""` prints.
func ClassifyAnswer(line string) (from Name, ok, skip bool) {
	l := strings.TrimSpace(line)
	switch {
	case l == "":
		return "", false, true
	case strings.Contains(l, "Hello world from US!"):
		return US, true, false
	case strings.Contains(l, "Hello world from Europe!"):
		return EU, true, false
	}
	return "", false, false
}

// MaxProbeRequests bounds one probe: enough for any chart, small enough
// that a typo cannot keep a real busybox busy for hours.
const MaxProbeRequests = 10_000
