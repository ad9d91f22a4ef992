package real

import (
	"context"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

// Preflight checks the machine for kind clusters and what the lab will run
// on them (doctor.Run with the node image and Cilium version). When the
// learner brings both clusters nothing of that is needed, and the checks
// say so.
func (b *Backend) Preflight(ctx context.Context) []cluster.Check {
	if len(b.opts.External) == len(cluster.Names()) {
		var checks []cluster.Check
		for _, c := range cluster.Names() {
			checks = append(checks, cluster.Check{Name: "Cluster " + string(c), Status: cluster.Pass,
				Detail: "your own (" + b.opts.External[c].String() + "): no container engine, memory or host ports needed here"})
		}
		return checks
	}
	if b.opts.Preflight != nil {
		return b.opts.Preflight(ctx)
	}
	return doctor.Run(ctx, doctor.SystemEnv(), doctor.Lab{NodeImage: b.NodeImage(), CiliumVersion: b.localChartVersion()})
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
