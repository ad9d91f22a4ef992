package sim

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Scenario describes one cluster's side of a what-if question.
type Scenario struct {
	cluster.Settings
	Replicas int
	// Connected says whether this cluster's agents are connected to the
	// other cluster's clustermesh-apiserver.
	Connected bool
}

// DefaultScenario is the lab right after deploying: one replica, a local
// Service, agents connected.
func DefaultScenario() Scenario {
	return Scenario{Settings: cluster.DefaultSettings(), Replicas: 1, Connected: true}
}

// Bring drives the backend through the lab's setup (clusters, Cilium with a
// shared CA, Cluster Mesh, connect, demo app) and then applies the two
// scenarios, using the same operations the lab's steps use, and waits
// until the mesh has propagated them.
func (b *Backend) Bring(ctx context.Context, us, eu Scenario) error {
	log := cluster.Discard
	both := func(fn func(c cluster.Name) error) error {
		for _, c := range cluster.Names() {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	ops := []func() error{
		func() error { return both(func(c cluster.Name) error { return b.CreateCluster(ctx, c, log) }) },
		func() error { return b.InstallCilium(ctx, cluster.US, log) },
		func() error { return b.ShareCA(ctx, cluster.US, cluster.EU, log) },
		func() error { return b.InstallCilium(ctx, cluster.EU, log) },
		func() error { return both(func(c cluster.Name) error { return b.WaitCilium(ctx, c, log) }) },
		func() error { return both(func(c cluster.Name) error { return b.EnableClusterMesh(ctx, c, log) }) },
		func() error { return b.Connect(ctx, cluster.US, cluster.EU, log) },
		func() error { return both(func(c cluster.Name) error { return b.WaitConnected(ctx, c, log) }) },
		func() error { return both(func(c cluster.Name) error { return b.EnableHubble(ctx, c, log) }) },
		func() error { return both(func(c cluster.Name) error { return b.DeployDemo(ctx, c, log) }) },
	}
	for _, op := range ops {
		if err := op(); err != nil {
			return fmt.Errorf("set up the simulated mesh: %w", err)
		}
	}
	for _, c := range cluster.Names() {
		sc := us
		if c == cluster.EU {
			sc = eu
		}
		change := cluster.ServiceChange{Global: &sc.Global, Shared: &sc.Shared, Affinity: &sc.Affinity}
		if err := b.ConfigureService(ctx, c, change, log); err != nil {
			return err
		}
		if err := b.Scale(ctx, c, sc.Replicas, log); err != nil {
			return err
		}
		if !sc.Connected {
			if err := b.Disconnect(c); err != nil {
				return err
			}
		}
	}
	return b.WaitSettled(ctx)
}

// Explain says, in words, which backends a request from cluster from can
// reach right now and why, following the rules cluster.Candidates applies
// to what the cluster's agents see.
func (b *Backend) Explain(from cluster.Name) string {
	var local, remote cluster.Side
	var connected bool
	b.read(func(s *state) error {
		local, remote, connected = s.lbView(from)
		return nil
	})
	nl, nr := cluster.Candidates(local, remote, connected)
	return fmt.Sprintf("A request from %s can reach %d backend pod(s) in %s and %d in %s: %s.",
		from.Label(), nl, from.Label(), nr, from.Peer().Label(), cluster.Reason(from, local, remote, connected))
}
