package steps

import (
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func scaleDown() Step {
	return probingStep{
		info: info{
			id:    "scale-down",
			title: "Scale hello-world in US to 0 and watch failover",
			short: "Failover",
			phase: PhaseFailover,
			explain: "Now simulate an outage in US by scaling its hello-world Deployment to zero. With affinity local, " +
				"US has no active local backend left, so Cilium fails over to the healthy remote backends: every US " +
				"request should now be answered by EU. EU's own requests stay in EU, since US has no backend to offer.",
			commands: func(v CommandVars) []Command {
				return []Command{
					{Where: TermUS, Lines: []string{"kubectl scale deployment hello-world --replicas 0", v.probe()}},
					{Where: TermEU, Lines: []string{v.probe()}},
				}
			},
		},
		// The affinity step's clusters, with US scaled to 0 by this step.
		state:   [2]demoState{demo(true, cluster.AffinityLocal).replicas(0), demo(true, cluster.AffinityNone)},
		scales:  cluster.US,
		expect:  [2]probeWant{allFrom(cluster.EU), allFrom(cluster.EU)},
		summary: "US failed over to EU (%s): with no local backend left, affinity local falls back to the remote cluster.",
		done: func(st [2]cluster.Status) bool {
			hw := st[cluster.US.Index()].Demo.HelloWorld
			return hw.Present && hw.Desired == 0
		},
	}
}
