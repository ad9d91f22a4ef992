package cluster

import (
	"fmt"
	"time"
)

// Verdict is what the datapath did with a flow, as Hubble names it.
type Verdict string

// The verdicts a probe's flows carry.
const (
	VerdictForwarded Verdict = "FORWARDED"
	VerdictDropped   Verdict = "DROPPED"
)

// Drop reasons a probe meets, as Hubble names them (flow.proto DropReason).
const (
	// DropNoBackend: the Service has no backend the load balancer may use.
	DropNoBackend = "SERVICE_BACKEND_NOT_FOUND"
	// DropStaleBackend: a backend the agents still know of is gone.
	DropStaleBackend = "STALE_OR_UNROUTABLE_IP"
)

// Endpoint is one end of a flow: a pod (or, for a request no backend took,
// the Service it was sent to) in a cluster, with its security identity.
type Endpoint struct {
	Cluster   Name   `json:"cluster"`
	Namespace string `json:"namespace,omitempty"`
	// Pod is the pod's name; "" when the flow reached no pod.
	Pod string `json:"pod,omitempty"`
	// Identity is Cilium's numeric security identity; in a mesh the
	// cluster id is in its upper bits (id << 16), so identities of two
	// clusters never collide.
	Identity uint32 `json:"identity,omitempty"`
}

// String names the endpoint as hubble observe does: "default/busybox-…";
// "default/?" when no pod is known.
func (e Endpoint) String() string {
	if e.Pod == "" {
		return e.Namespace + "/?"
	}
	return e.Namespace + "/" + e.Pod
}

// To names where the flow went: the destination pod, or the Service
// when the request reached no pod.
func (f Flow) To() string {
	if f.Destination.Pod == "" && f.Service != "" {
		return f.Service
	}
	return f.Destination.String()
}

// Flow is one request of a probe as Hubble records it: from the client pod
// to the backend pod the load balancer picked, and what happened to it.
type Flow struct {
	Time        time.Time `json:"time"`
	Source      Endpoint  `json:"source"`
	Destination Endpoint  `json:"destination"`
	// Service is the Service the request was sent to ("default/hello-world"),
	// as Hubble's destination_service names it.
	Service string  `json:"service,omitempty"`
	Verdict Verdict `json:"verdict"`
	// DropReason is Hubble's drop reason, for a DROPPED flow.
	DropReason string `json:"dropReason,omitempty"`
	// CrossCluster is set when source and destination are in different
	// clusters: the request crossed the mesh.
	CrossCluster bool `json:"crossCluster"`
}

// Forwarded reports a flow that reached its destination pod.
func (f Flow) Forwarded() bool { return f.Verdict == VerdictForwarded }

// String is the flow on one line: "default/busybox-… (us) -> default/hello-world-… (eu) FORWARDED ⇄".
func (f Flow) String() string {
	s := fmt.Sprintf("%s (%s) -> %s (%s) %s", f.Source, f.Source.Cluster, f.To(), f.Destination.Cluster, f.Verdict)
	if f.DropReason != "" {
		s += " " + f.DropReason
	}
	if f.CrossCluster {
		s += " cross-cluster"
	}
	return s
}

// FlowSummary counts a probe's flows: forwarded within the client's
// cluster, forwarded across the mesh, and dropped.
type FlowSummary struct {
	Local   int `json:"local"`
	Cross   int `json:"crossCluster"`
	Dropped int `json:"dropped"`
}

// Total is the number of flows counted.
func (s FlowSummary) Total() int { return s.Local + s.Cross + s.Dropped }

// String is "8 local · 2 cross-cluster · 0 dropped".
func (s FlowSummary) String() string {
	return fmt.Sprintf("%d local · %d cross-cluster · %d dropped", s.Local, s.Cross, s.Dropped)
}

// SummarizeFlows counts flows by kind.
func SummarizeFlows(flows []Flow) FlowSummary {
	var s FlowSummary
	for _, f := range flows {
		switch {
		case !f.Forwarded():
			s.Dropped++
		case f.CrossCluster:
			s.Cross++
		default:
			s.Local++
		}
	}
	return s
}

// MaxProbeFlows bounds the flows a probe keeps (the newest): a lab's
// probe never sends more, and a what-if of millions would not print.
const MaxProbeFlows = MaxProbeRequests
