package steps

import (
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func affinityLocal() Step {
	return probingStep{
		info: info{
			id:    "affinity-local",
			title: "Prefer local backends in US, then probe",
			short: "Affinity local",
			phase: PhaseAffinity,
			explain: "Cross-cluster calls cost latency, so usually you want remote backends only as a fallback. " +
				"service.cilium.io/affinity=\"local\" on a global Service makes Cilium use local backends only, and remote " +
				"ones only when no local backend is active (terminating pods do not count). It is set in US only: US " +
				"should answer from US alone, while EU, still affinity none, keeps spreading its requests over both clusters.",
			commands: func(v CommandVars) []Command {
				return []Command{
					{Where: TermUS, Lines: []string{`kubectl annotate service hello-world service.cilium.io/affinity="local"`, v.probe()}},
					{Where: TermEU, Lines: []string{v.probe()}},
				}
			},
		},
		// Both global; US prefers its own backends; one replica each.
		state:   [2]demoState{demo(true, cluster.AffinityLocal), demo(true, cluster.AffinityNone)},
		expect:  [2]probeWant{allFrom(cluster.US), fromBoth()},
		summary: "US now answers from US only while EU still mixes (%s): affinity is a per-cluster choice.",
		done: func(st [2]cluster.Status) bool {
			svc := st[cluster.US.Index()].Demo.Service
			return svc.Global && svc.Affinity == cluster.AffinityLocal
		},
	}
}
