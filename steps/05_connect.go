package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

type connectStep struct{ info }

func connectClusters() Step {
	return connectStep{info{
		id:    "connect",
		title: "Connect the two clusters",
		short: "Connect clusters",
		explain: "Connecting reads, from each cluster, its name and id, the clustermesh-apiserver's NodePort, a node's IP, " +
			"the client certificate agents use for remote clusters and the CA; checks that names and ids differ and " +
			"the CAs match; then tells each cluster's Cilium about the other (a clustermesh.config.clusters entry). " +
			"The kvstoremesh of each cluster's clustermesh-apiserver then connects to the peer's clustermesh-apiserver " +
			"at <peer>.mesh.cilium.io (a name that resolves to the peer's node IP and matches the server certificate) " +
			"and caches the peer's state in its local etcd; the agents connect only to their local clustermesh-apiserver " +
			"and find the peer there. The status panes show both layers: the peer link and the agents.",
		commands: func(v CommandVars) []Command {
			return []Command{
				{Where: TermGlobal, Lines: []string{
					bothKubeconfigs + " \\",
					"  kubectl config view --flatten > " + labfiles.MergedKubeconfig,
					"export KUBECONFIG=./" + labfiles.MergedKubeconfig,
					"cilium clustermesh connect --context kind-us --destination-context kind-eu",
				}},
				{Where: TermUS + " & " + TermEU, Lines: []string{"cilium clustermesh status --wait"}},
			}
		},
	}}
}

func (s connectStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	if err := env.Backend.Connect(ctx, cluster.US, cluster.EU, env.logger("")); err != nil {
		return Outcome{}, fmt.Errorf("connect us and eu: %w", err)
	}
	if err := env.forBoth(ctx, "wait for the agents of %s to connect", env.Backend.WaitConnected); err != nil {
		return Outcome{}, err
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return Outcome{}, err
	}
	var conns []string
	for _, c := range cluster.Names() {
		p, _ := st[c.Index()].Mesh.Peer(c.Peer())
		conns = append(conns, fmt.Sprintf("%s sees %s", c, p))
	}
	return Outcome{Summary: "The mesh is up: " + strings.Join(conns, "; ") + ". Services are still local until they are made global."}, nil
}

func (s connectStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	for _, c := range cluster.Names() {
		if p, ok := st[c.Index()].Mesh.Peer(c.Peer()); !ok || !p.OK() {
			return false, nil
		}
	}
	return true, nil
}
