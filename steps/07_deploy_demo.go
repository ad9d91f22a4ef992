package steps

import (
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

func deployDemo() Step {
	local := demo(false, cluster.AffinityNone)
	return probingStep{
		info: info{
			id:    "deploy",
			title: "Deploy hello-world and busybox, then probe",
			short: "Deploy & probe",
			phase: PhaseLocal,
			explain: "Each cluster gets the same application: a hello-world Deployment (nginx answering with a JSON " +
				"message naming its cluster) behind a Service called hello-world, and a busybox pod to call it from. " +
				"The manifests are the seed's deployment-us.yaml and deployment-eu.yaml, in the lab directory. The probe runs the seed's wget loop inside busybox. The clusters are connected, but a Service is only " +
				"shared across the mesh once it is annotated as global, so every answer should come from the local cluster.",
			commands: func(v CommandVars) []Command {
				var out []Command
				for _, c := range cluster.Names() {
					out = append(out, Command{Where: terminal(c), Lines: []string{
						"kubectl apply -f " + labfiles.DemoFile(c),
						"kubectl rollout status deployment hello-world",
						"kubectl rollout status deployment busybox-deployment",
						v.probe(),
					}})
				}
				return out
			},
		},
		deploy:  true,
		state:   [2]demoState{local, local},
		expect:  [2]probeWant{allFrom(cluster.US), allFrom(cluster.EU)},
		summary: "Answers stay local (%s): the service is not global yet, so each cluster load-balances only to its own pods.",
		done: func(st [2]cluster.Status) bool {
			return st[0].Demo.Deployed() && st[1].Demo.Deployed()
		},
		supplies: cluster.ErrNoDemo,
	}
}
