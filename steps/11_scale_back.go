package steps

import (
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func scaleBack() Step {
	return probingStep{
		info: info{
			id:    "scale-back",
			title: "Scale US back to 1 and watch traffic return home",
			short: "Back home",
			phase: PhaseHome,
			explain: "When US's hello-world is back and ready, it is an active local backend again, so affinity local " +
				"sends US's requests home. Nothing had to be reconfigured: failover and return are automatic. " +
				"EU, with affinity none, mixes again.",
			commands: func(v CommandVars) []Command {
				return []Command{
					{Where: TermUS, Lines: []string{"kubectl scale deployment hello-world --replicas 1", "kubectl rollout status deployment hello-world", v.probe()}},
					{Where: TermEU, Lines: []string{v.probe()}},
				}
			},
		},
		// The affinity step's clusters, US scaled back to 1 by this step.
		state:   [2]demoState{demo(true, cluster.AffinityLocal), demo(true, cluster.AffinityNone)},
		scales:  cluster.US,
		expect:  [2]probeWant{allFrom(cluster.US), fromBoth()},
		summary: "Traffic is back home (%s): US answers from US again, EU mixes again.",
		done: func(st [2]cluster.Status) bool {
			us := st[cluster.US.Index()].Demo
			return us.HelloWorld.Desired == 1 && us.HelloWorld.Ready == 1 && us.Service.Affinity == cluster.AffinityLocal
		},
	}
}
