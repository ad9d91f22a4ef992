package sim

import (
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// SideOf is the load balancer's view of a cluster's hello-world, read from
// its status, so the rules can be explained for any backend.
func SideOf(st cluster.Status) Side {
	if !st.Exists || !st.Demo.Service.Exists {
		return Side{}
	}
	return Side{ServiceExists: true, Settings: st.Demo.Service.Settings, Ready: st.Demo.HelloWorld.Ready}
}

// ConnectedOf reports whether the cluster's agents are all connected to its peer.
func ConnectedOf(st cluster.Status) bool {
	p, ok := st.Mesh.Peer(st.Cluster.Peer())
	return ok && p.OK()
}

// Describe says which backends a request from cluster from can reach and
// why, applying Candidates' rules to the two sides.
func Describe(from cluster.Name, local, remote Side, connected bool) string {
	nl, nr := Candidates(local, remote, connected)
	why := explainRule(from, local, remote, connected, nl, nr)
	if nl+nr == 0 {
		why += "; with no backend to pick, every request fails"
	}
	return fmt.Sprintf("%d %s pod(s), %d %s pod(s): %s", nl, from.Label(), nr, from.Peer().Label(), why)
}
