package steps

import (
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func makeGlobal() Step {
	global := demo(true, cluster.AffinityNone)
	return probingStep{
		info: info{
			id:    "global",
			title: "Make hello-world a global service, then probe",
			short: "Global service",
			phase: PhaseGlobal,
			explain: "The annotation service.cilium.io/global=\"true\", set on the Service in every cluster that takes part, " +
				"makes Cilium merge the backends of all clusters' hello-world Services (same name and namespace). " +
				"Each cluster still exports its own pods (service.cilium.io/shared defaults to true). Cilium's load balancer " +
				"then picks uniformly among all ready backend pods, local and remote: with one pod per cluster, about half " +
				"of the answers should come from each side. The annotation travels: EndpointSlice and Service, the " +
				"cluster's clustermesh-apiserver, the peer's kvstoremesh, the peer's agents. That takes seconds, so the lab " +
				"probes with a few requests until the mesh has propagated the change, and only then judges the probe.",
			commands: func(v CommandVars) []Command {
				return []Command{{Where: TermUS + " & " + TermEU, Lines: []string{`kubectl annotate service hello-world service.cilium.io/global="true"`, v.probe()}}}
			},
		},
		state:   [2]demoState{global, global},
		expect:  [2]probeWant{fromBoth(), fromBoth()},
		summary: "Answers now come from both clusters (%s): each cluster load-balances across the backends of the whole mesh.",
		done: func(st [2]cluster.Status) bool {
			return st[0].Demo.Service.Global && st[1].Demo.Service.Global
		},
	}
}
