package cluster

import "fmt"

// SideOf is the load balancer's view of a cluster's hello-world, read from
// its status, so the rules can be explained for any backend.
func SideOf(st Status) Side {
	if !st.Exists || !st.Demo.Service.Exists {
		return Side{}
	}
	return Side{ServiceExists: true, Settings: st.Demo.Service.Settings, Ready: st.Demo.HelloWorld.Ready}
}

// ConnectedOf reports whether the cluster's agents all see their peer (in
// 1.19 through the local clustermesh-apiserver, which KVStoreMesh keeps
// filled with the peer's state).
func ConnectedOf(st Status) bool {
	p, ok := st.Mesh.Peer(st.Cluster.Peer())
	return ok && p.OK()
}

// Describe says which backends a request from cluster from can reach and
// why, applying Candidates' rules to the two sides:
// "1 US pod(s), 1 EU pod(s): affinity none spreads ...".
func Describe(from Name, local, remote Side, connected bool) string {
	nl, nr := Candidates(local, remote, connected)
	return fmt.Sprintf("%d %s pod(s), %d %s pod(s): %s", nl, from.Label(), nr, from.Peer().Label(), Reason(from, local, remote, connected))
}

// Reason names the rule of Candidates that decides where a request from
// cluster from goes, and says when it must fail for want of a backend.
func Reason(from Name, local, remote Side, connected bool) string {
	nl, nr := Candidates(local, remote, connected)
	why := rule(from, local, remote, connected, nl, nr)
	if nl+nr == 0 {
		why += "; with no backend to pick, every request fails"
	}
	return why
}

func rule(from Name, local, remote Side, connected bool, nl, nr int) string {
	peer := from.Peer().Label()
	switch {
	case !local.ServiceExists:
		return "there is no hello-world Service in " + from.Label()
	case !local.Settings.Global:
		return "the Service is not global in " + from.Label() + ", so only local pods are used"
	case !connected:
		return from.Label() + "'s agents do not see " + peer + " (not connected), so no remote backend is known"
	case !remote.Settings.Global:
		return "the Service is not global in " + peer + ", so " + peer + " exports nothing"
	case !remote.Settings.Shared:
		return peer + " marks its Service shared=false, so it exports no backend"
	case local.Settings.Affinity == AffinityLocal && nl > 0:
		return "affinity local keeps requests home while a local backend is active"
	case local.Settings.Affinity == AffinityLocal:
		return "affinity local, but no local backend is active: failover to " + peer
	case local.Settings.Affinity == AffinityRemote && nr > 0:
		return "affinity remote prefers " + peer + "'s backends while one is active"
	case local.Settings.Affinity == AffinityRemote:
		return "affinity remote, but " + peer + " has no active backend: falling back to local"
	}
	return "affinity none spreads requests uniformly over every ready pod of both clusters"
}
