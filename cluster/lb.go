package cluster

// Side is what a cluster's load balancer knows about one cluster's
// hello-world Service when it builds the backend list (shared/CILIUM.md,
// "Global services"). For the remote cluster it is what reached the local
// agents through the mesh, which may lag behind the remote cluster itself.
type Side struct {
	// ServiceExists is false when the cluster has no hello-world Service.
	ServiceExists bool     `json:"serviceExists,omitempty"`
	Settings      Settings `json:"settings"`
	// Ready counts the cluster's active backend pods: ready and not
	// terminating.
	Ready int `json:"ready,omitempty"`
}

// Candidates returns how many local and remote backend pods a request from
// the local cluster may go to; the load balancer then picks one of them
// uniformly, so each pod (not each cluster) gets an equal share.
//
// connected says whether the local cluster's agents see the remote cluster
// (through their local clustermesh-apiserver, whose KVStoreMesh caches the
// remote cluster's state). Remote backends are only known through a
// connected mesh, only when the local Service is global, and only from a
// remote Service that is global and shared. Affinity applies to global
// services only: local (or remote) uses the preferred side's backends and
// fails over to the other side when the preferred side has no active
// backend.
func Candidates(local, remote Side, connected bool) (nLocal, nRemote int) {
	if !local.ServiceExists {
		return 0, 0
	}
	nLocal = local.Ready
	if !local.Settings.Global {
		return nLocal, 0
	}
	if connected && remote.ServiceExists && remote.Settings.Global && remote.Settings.Shared {
		nRemote = remote.Ready
	}
	switch local.Settings.Affinity {
	case AffinityLocal:
		if nLocal > 0 {
			return nLocal, 0
		}
		return 0, nRemote
	case AffinityRemote:
		if nRemote > 0 {
			return 0, nRemote
		}
		return nLocal, 0
	}
	return nLocal, nRemote
}
