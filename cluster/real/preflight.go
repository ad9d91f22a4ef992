package real

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

// Preflight checks the machine for kind clusters and what the lab will run
// on them (doctor.Run with the node image and Cilium version), and that the
// kubeconfig of each cluster the learner brings loads and names its
// context. When the learner brings both clusters nothing of the machine is
// needed.
func (b *Backend) Preflight(ctx context.Context) []cluster.Check {
	var checks []cluster.Check
	switch {
	case len(b.opts.External) == len(cluster.Names()):
	case b.opts.Preflight != nil:
		checks = b.opts.Preflight(ctx)
	default:
		checks = doctor.Run(ctx, doctor.SystemEnv(), doctor.Lab{NodeImage: b.NodeImage(), CiliumVersion: b.localChartVersion()})
	}
	if b.opts.Bundle != "" {
		// Offline, nothing is pulled: the create step loads the bundle's
		// images (the node image with them) into the engine.
		for i, c := range checks {
			if c.ID == doctor.IDImages {
				checks[i] = cluster.Check{ID: c.ID, Name: c.Name, Status: cluster.Pass,
					Summary: c.Name + ": from the bundle, none pulled",
					Detail:  "the images come from the bundle " + b.opts.Bundle + " (verified when the command line was read): the create step loads them into the engine and every node, and nothing is pulled"}
			}
		}
	}
	if never := neverPulled(b.opts.Values, ""); len(never) > 0 && b.opts.Bundle == "" {
		for i, c := range checks {
			if c.ID == doctor.IDImages {
				checks[i].Detail += fmt.Sprintf("; %s sets pullPolicy Never for %s: the nodes never pull those images, so they must be in the node image already or loaded with --preload (else their pods stay in ErrImageNeverPull)",
					b.opts.ValuesFile, strings.Join(never, ", "))
			}
		}
	}
	for _, c := range cluster.Names() {
		if k, ok := b.external(c); ok {
			checks = append(checks, b.externalCheck(c, k))
		}
	}
	return checks
}

// neverPulled lists the values' paths whose pullPolicy is Never (as
// hack/e2e's values set them for images built on the machine), sorted.
func neverPulled(vals map[string]any, prefix string) []string {
	var out []string
	for k, v := range vals {
		switch t := v.(type) {
		case map[string]any:
			out = append(out, neverPulled(t, prefix+k+".")...)
		case string:
			if k == "pullPolicy" && t == "Never" {
				out = append(out, strings.TrimSuffix(prefix, "."))
			}
		}
	}
	slices.Sort(out)
	return out
}

// localChartVersion is the Cilium version the lab will install, for the
// Kubernetes check: the one asked for, else the local chart's own (as
// CheckChart reads it; the install loads the chart again).
func (b *Backend) localChartVersion() string {
	if v := b.wantVersion(); v != "" {
		return v
	}
	if info, err := CheckChart(b.opts.ChartPath, ""); err == nil {
		return info.Version
	}
	return ""
}

// externalCheck loads the kubeconfig of a cluster the learner brings,
// without contacting the cluster (the create step does): a missing or
// broken file, or a context that is not in it, fails here, naming the
// cluster.
func (b *Backend) externalCheck(c cluster.Name, k Kubeconfig) cluster.Check {
	check := cluster.Check{Name: "Cluster " + string(c) + " (yours)"}
	_, _, err := b.restConfig(c)
	if err != nil {
		check.Status, check.Detail, check.Fix = cluster.Fail, err.Error(), cluster.HintOf(err)
		return check
	}
	check.Status = cluster.Pass
	check.Detail = fmt.Sprintf("%s loads; the lab never deletes this cluster", k)
	if len(b.opts.External) == len(cluster.Names()) {
		check.Detail += "; no container engine, memory or host ports needed here"
		return check
	}
	peer := c.Peer()
	check.Status = cluster.Warn
	check.Detail += fmt.Sprintf(", and %s is a kind cluster on this machine: Cluster Mesh needs each cluster to reach the other's node IPs, which a cluster outside this machine's container network cannot", peer)
	check.Fix = fmt.Sprintf("bring %s too, or make sure your cluster runs on this machine's container network (another kind cluster does)", peer)
	return check
}
