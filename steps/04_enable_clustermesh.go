package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

type enableStep struct{ info }

func enableClusterMesh() Step {
	return enableStep{info{
		id:    "enable-clustermesh",
		title: "Enable Cluster Mesh in both clusters",
		short: "Enable Cluster Mesh",
		explain: "Enabling Cluster Mesh deploys the clustermesh-apiserver in each cluster: an etcd with the cluster's " +
			"state (nodes, endpoints, identities, global services), the apiserver that fills it and, on by default in " +
			"Cilium 1.19, kvstoremesh. Once the clusters are connected, kvstoremesh connects to the peer's " +
			"clustermesh-apiserver and caches the peer's state in the local etcd, and each agent reads the whole mesh " +
			"from its own cluster's clustermesh-apiserver: no agent dials the other cluster. " +
			"kind has no load balancer, so it is exposed as a NodePort Service (not for production: it dies with its node). " +
			"The same command runs in both clusters, as in the seed, so both apiservers take the chart's NodePort, 32379. " +
			"That is safe here: kind keeps kube-proxy, so Cilium's datapath does not handle NodePort frontends, and a " +
			"connection to the peer's node on 32379 leaves the node instead of landing on the local apiserver (that " +
			"trap, cilium/cilium#24692, needs kube-proxy replacement). A Job generates the apiserver's TLS certificates " +
			"from the shared CA.",
		commands: func(v CommandVars) []Command {
			return []Command{{Where: TermUS + " & " + TermEU, Lines: []string{
				"cilium clustermesh enable --service-type NodePort",
				"cilium clustermesh status --wait",
			}}}
		},
	}}
}

func (s enableStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	if err := env.forBoth(ctx, "enable cluster mesh in %s", env.Backend.EnableClusterMesh); err != nil {
		return Outcome{}, err
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Summary: fmt.Sprintf("clustermesh-apiserver is ready in both clusters (Deployment rolled out, certificates issued), "+
		"each behind a %s Service: NodePort %d in us, %d in eu. The clusters do not know each other yet.",
		st[0].Mesh.ServiceType, st[0].Mesh.NodePort, st[1].Mesh.NodePort)}, nil
}

func (s enableStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	for _, c := range cluster.Names() {
		m := st[c.Index()].Mesh
		if !m.Ready() || m.ServiceType != "NodePort" {
			return false, nil
		}
	}
	return true, nil
}
