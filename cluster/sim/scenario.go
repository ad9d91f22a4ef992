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
// scenarios, using the same operations the lab's steps use.
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
	return nil
}

// Explain says, in words, which backends a request from cluster from can
// reach and why, following the rules Candidates applies.
func (b *Backend) Explain(from cluster.Name) string {
	var local, remote Side
	var connected bool
	b.read(func(s *state) error {
		local, remote, connected = s.Clusters[from].side(), s.Clusters[from.Peer()].side(), s.connectedTo(from)
		return nil
	})
	nl, nr := Candidates(local, remote, connected)
	why := explainRule(from, local, remote, connected, nl, nr)
	if nl+nr == 0 {
		why += "; with no backend to pick, every request fails"
	}
	return fmt.Sprintf("A request from %s can reach %d backend pod(s) in %s and %d in %s: %s.",
		from.Label(), nl, from.Label(), nr, from.Peer().Label(), why)
}

func explainRule(from cluster.Name, local, remote Side, connected bool, nl, nr int) string {
	peer := from.Peer().Label()
	switch {
	case !local.ServiceExists:
		return "there is no hello-world Service in " + from.Label()
	case !local.Settings.Global:
		return "the Service is not global in " + from.Label() + ", so only local pods are used"
	case !connected:
		return from.Label() + "'s agents are not connected to " + peer + ", so no remote backend is known"
	case !remote.Settings.Global:
		return "the Service is not global in " + peer + ", so " + peer + " exports nothing"
	case !remote.Settings.Shared:
		return peer + " marks its Service shared=false, so it exports no backend"
	case local.Settings.Affinity == cluster.AffinityLocal && nl > 0:
		return "affinity local keeps requests home while a local backend is active"
	case local.Settings.Affinity == cluster.AffinityLocal:
		return "affinity local, but no local backend is active: failover to " + peer
	case local.Settings.Affinity == cluster.AffinityRemote && nr > 0:
		return "affinity remote prefers " + peer + "'s backends while one is active"
	case local.Settings.Affinity == cluster.AffinityRemote:
		return "affinity remote, but " + peer + " has no active backend: falling back to local"
	}
	return "affinity none spreads requests uniformly over every ready pod of both clusters"
}
