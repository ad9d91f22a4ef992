package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

type createStep struct{ info }

func createClusters() Step {
	return createStep{info{
		id:    "create-clusters",
		title: "Create the US and EU clusters with kind",
		short: "Create clusters",
		explain: "Each region gets its own Kubernetes cluster: a control plane and two workers, running as containers. " +
			"The kind configs (the seed's kind-us-cluster.yaml and kind-eu-cluster.yaml, in the lab directory) disable the " +
			"default CNI, because Cilium will be the CNI, and give the clusters pod (10.1.0.0/16, 10.2.0.0/16) and service " +
			"(172.20.1.0/24, 172.20.2.0/24) ranges that do not overlap: Cluster Mesh routes pod IPs between clusters, so " +
			"they must be unique. The node image is pinned to Kubernetes 1.35: kind v0.33's default, 1.37, is newer than any " +
			"version Cilium 1.19 (tested with 1.32-1.35) or 1.20 (1.33-1.36) is tested with. Where the container engine runs on " +
			"cgroup v1, the lab adds a kubeadmConfigPatches entry with failCgroupV1: false to both configs, because kubelet " +
			"1.35 refuses to start on cgroup v1 otherwise. The nodes stay NotReady until a CNI is installed. The lab " +
			"creates both clusters at once, except in an autopilot demo on the simulated mesh, which takes one after the other " +
			"so that every run on the same seed shows the same log.",
		commands: func(v CommandVars) []Command {
			var out []Command
			for _, c := range cluster.Names() {
				lines := append(v.cd(),
					kubeconfigOf(c),
					fmt.Sprintf("kind create cluster --name %s --config %s \\", c, labfiles.KindConfigFile(c)),
					"  --image "+v.NodeImage,
				)
				if v.Preload {
					// The images after the node image, loaded into every node.
					lines = append(lines, "clustermesh-lab images list --preload --cilium-version "+v.CiliumVersion+" | tail -n +2 | \\",
						"  xargs kind load docker-image --name "+string(c))
				}
				out = append(out, Command{Where: terminal(c), Lines: lines})
			}
			return out
		},
	}}
}

func (s createStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	took, wall, err := env.bothTimed(ctx, func(ctx context.Context, c cluster.Name) error {
		if err := env.Backend.CreateCluster(ctx, c, env.logger(c)); err != nil {
			return fmt.Errorf("create cluster %s: %w", c, err)
		}
		return nil
	})
	if err != nil {
		return Outcome{}, err
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return Outcome{}, err
	}
	nodes := "the nodes are NotReady until Cilium is installed"
	if st[0].Nodes.All() && st[1].Nodes.All() {
		nodes = "their nodes are Ready"
	}
	// The step's duration is the reporter's to show (one duration, one
	// source); the summary only says what creating both at once saved.
	sum := fmt.Sprintf("Clusters us and eu are up with %d and %d nodes (contexts kind-us and kind-eu); %s.",
		st[0].Nodes.Total, st[1].Nodes.Total, nodes)
	if saved := took[0] + took[1] - wall; !env.Sequential && saved > time.Second {
		sum += fmt.Sprintf(" Creating them one after the other would have taken %s (%s saved).", round(took[0]+took[1]), round(saved))
	}
	return Outcome{Summary: sum}, nil
}

func (s createStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	return st[0].Exists && st[1].Exists && st[0].Nodes.Total == 3 && st[1].Nodes.Total == 3, nil
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
