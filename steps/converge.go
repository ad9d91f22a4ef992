package steps

import (
	"context"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// demoState is the demo application of one cluster as a step describes it.
type demoState struct {
	cluster.Settings
	Replicas int
}

// demo is a global-or-not hello-world with one replica and the default
// sharing, as the lab's story has it.
func demo(global bool, aff cluster.Affinity) demoState {
	return demoState{Settings: cluster.Settings{Global: global, Shared: true, Affinity: aff}, Replicas: 1}
}

// replicas is d with n hello-world replicas.
func (d demoState) replicas(n int) demoState {
	d.Replicas = n
	return d
}

// converge brings both clusters' demo to the state a step describes
// before it probes, changing only what differs (the annotations with one
// `kubectl annotate`, the replicas with one `kubectl scale`), so that a
// step run again, or replayed with --from, is judged against the state it
// teaches and never a later one. The cluster scales names (if any) is
// scaled whatever its replicas: that is the step's own change, whose
// rollout (and, scaling down, the pods' going) a rerun must wait for too.
func converge(ctx context.Context, env *Env, want [2]demoState, scales cluster.Name) error {
	st, err := env.statuses(ctx)
	if err != nil {
		return err
	}
	return env.forBoth(ctx, "bring hello-world in %s to this step's state", func(ctx context.Context, c cluster.Name, log cluster.Logger) error {
		cur, w := st[c.Index()].Demo, want[c.Index()]
		if change, ok := settingsChange(cur.Service.Settings, w.Settings); ok {
			if err := env.Backend.ConfigureService(ctx, c, change, log); err != nil {
				return err
			}
		}
		if c == scales || cur.HelloWorld.Desired != w.Replicas {
			return env.Backend.Scale(ctx, c, w.Replicas, log)
		}
		return nil
	})
}

// settingsChange is the patch from cur to want; ok is false when there is
// nothing to change.
func settingsChange(cur, want cluster.Settings) (c cluster.ServiceChange, ok bool) {
	if cur.Global != want.Global {
		c.Global, ok = cluster.Bool(want.Global), true
	}
	if cur.Shared != want.Shared {
		c.Shared, ok = cluster.Bool(want.Shared), true
	}
	if cur.Affinity != want.Affinity {
		c.Affinity, ok = cluster.AffinityPtr(want.Affinity), true
	}
	return c, ok
}
