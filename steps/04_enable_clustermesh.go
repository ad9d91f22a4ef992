package steps

import (
	"context"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

type enableStep struct{ info }

func enableClusterMesh() Step {
	return enableStep{info{
		id:    "enable-clustermesh",
		title: "Enable Cluster Mesh in both clusters",
		explain: "Enabling Cluster Mesh deploys the clustermesh-apiserver in each cluster: an etcd with the cluster's " +
			"state (nodes, endpoints, identities, global services), the apiserver that fills it and, on by default in " +
			"Cilium 1.19, kvstoremesh. Once the clusters are connected, kvstoremesh connects to the peer's " +
			"clustermesh-apiserver and caches the peer's state in the local etcd, and each agent reads the whole mesh " +
			"from its own cluster's clustermesh-apiserver: no agent dials the other cluster. " +
			"kind has no load balancer, so it is exposed as a NodePort service (not for production: it dies with its node). " +
			"The lab gives EU nodePort 32380 instead of the default 32379 (cilium clustermesh enable has no flag " +
			"for it, hence the helm upgrade), so no agent can mistake its own apiserver for the peer's (cilium/cilium#24692). A Job generates the apiserver's TLS certificates from the shared CA.",
		commands: []Command{
			{Where: TermUS, Lines: []string{"cilium clustermesh enable --service-type NodePort", "cilium clustermesh status --wait"}},
			{Where: TermEU, Lines: []string{
				"cilium clustermesh enable --service-type NodePort",
				"helm upgrade cilium cilium/cilium --namespace kube-system --reuse-values \\",
				"  --set clustermesh.apiserver.service.nodePort=32380",
				"cilium clustermesh status --wait",
			}},
		},
	}}
}

func (s enableStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	if err := env.forBoth(ctx, "enable cluster mesh in %s", env.Backend.EnableClusterMesh); err != nil {
		return Outcome{}, err
	}
	return Outcome{Summary: "clustermesh-apiserver is ready in both clusters, on NodePort 32379 in us and 32380 in eu; `cilium status` now shows ClusterMesh: OK. The clusters do not know each other yet."}, nil
}

func (s enableStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	for _, c := range cluster.Names() {
		m := st[c.Index()].Mesh
		if !m.Ready() || m.NodePort != c.MeshNodePort() {
			return false, nil
		}
	}
	return true, nil
}
