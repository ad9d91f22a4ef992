package sim_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
)

// bringAt sets up the mesh on a clock running at the given speed.
func bringAt(t *testing.T, speed float64, us, eu sim.Scenario) *sim.Backend {
	t.Helper()
	b, err := sim.New(sim.Options{Seed: 4, Clock: sim.ScaledClock{Factor: speed}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Bring(context.Background(), us, eu); err != nil {
		t.Fatal(err)
	}
	return b
}

// A change in EU reaches US's load balancer only after the propagation
// delay (EndpointSlice -> clustermesh-apiserver -> kvstoremesh -> agents):
// meanwhile US still sends requests to EU's pod that is gone, and they
// fail. The clock is synctest's, so the seconds pass without waiting.
func TestPropagationDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		b := bringAt(t, 1, scenario(global), scenario(global))
		if !b.Settled() {
			t.Fatal("the mesh is not settled after Bring")
		}
		if err := b.Scale(ctx, cluster.EU, 0, cluster.Discard); err != nil {
			t.Fatal(err)
		}
		if b.Settled() {
			t.Fatal("EU's scale-down reached US at once")
		}
		if ex := b.Explain(cluster.US); !strings.Contains(ex, "1 in EU") {
			t.Errorf("Explain before the change arrived: %q, want EU's stale backend", ex)
		}
		// 20 requests take 0.8 s, less than the shortest delay (1 s).
		if r := probe(t, b, cluster.US, 20); r.Errors == 0 || r.Answers.EU != 0 {
			t.Errorf("from US before the change arrived: %s, want failed requests to EU's gone pod", r)
		}
		time.Sleep(5 * time.Second) // the longest delay is 4 s
		if !b.Settled() {
			t.Fatal("not settled 5 s after the change")
		}
		if r := probe(t, b, cluster.US, 400); r.Answers.US != 400 {
			t.Errorf("from US once the change arrived: %s, want all from US", r)
		}
	})
}

// At instant speed nothing is held back: existing instant tests and the
// recorded deterministic runs keep their answers.
func TestPropagationInstant(t *testing.T) {
	ctx := context.Background()
	b := bringAt(t, 0, scenario(global), scenario(global))
	if err := b.Scale(ctx, cluster.EU, 0, cluster.Discard); err != nil {
		t.Fatal(err)
	}
	if !b.Settled() {
		t.Error("a change is in flight at instant speed")
	}
	if r := probe(t, b, cluster.US, 400); r.Answers.US != 400 {
		t.Errorf("from US right after EU scaled to 0: %s, want all from US", r)
	}
}

// The two layers: EU's clustermesh-apiserver scaled to 0 takes down US's
// peer link (US's kvstoremesh cannot reach it) while US's agents stay
// connected to their own apiserver and keep EU's last known backends;
// EU's own agents lose their local apiserver. Changes in EU wait for the
// link to return.
func TestPeerLinkDownKeepsTheCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		b := bringAt(t, 1, scenario(global), scenario(global))
		if err := b.ScaleAPIServer(ctx, cluster.EU, 0, cluster.Discard); err != nil {
			t.Fatal(err)
		}
		us, eu := statuses(t, b)
		link, _ := us.Mesh.Link(cluster.EU)
		agents, _ := us.Mesh.Peer(cluster.EU)
		if link.Connected || !strings.Contains(link.Status, "clustermesh-apiserver in eu is not ready") {
			t.Errorf("us → eu link with eu's apiserver at 0: %+v, want down", link)
		}
		if !agents.OK() || agents.ViaKVStoreMesh != 3 {
			t.Errorf("us's agents with eu's apiserver at 0: %+v, want connected to their own apiserver", agents)
		}
		if got := link.String(cluster.US); !strings.HasPrefix(got, "peer link us→eu: down: ") {
			t.Errorf("link line %q", got)
		}
		if p, _ := eu.Mesh.Peer(cluster.US); p.Connected != 0 || !strings.Contains(p.Problem, "local clustermesh-apiserver") {
			t.Errorf("eu's agents without their apiserver: %+v", p)
		}
		if err := b.Scale(ctx, cluster.EU, 2, cluster.Discard); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if ex := b.Explain(cluster.US); !strings.Contains(ex, "1 backend pod(s) in US and 1 in EU") {
			t.Errorf("US with the link down: %q, want EU's last known single backend", ex)
		}
		if err := b.ScaleAPIServer(ctx, cluster.EU, 1, cluster.Discard); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		us, _ = statuses(t, b)
		if l, _ := us.Mesh.Link(cluster.EU); !l.OK() {
			t.Errorf("link after eu's apiserver returned: %+v", l)
		}
		if ex := b.Explain(cluster.US); !strings.Contains(ex, "1 backend pod(s) in US and 2 in EU") {
			t.Errorf("US once the link is back: %q, want EU's two backends", ex)
		}
	})
}

// Connecting brings up both layers, in order: the kvstoremesh link first,
// then the agents; a peer without Cluster Mesh leaves the link down and
// WaitConnected says so.
func TestConnectBringsUpBothLayers(t *testing.T) {
	ctx := context.Background()
	b, err := sim.New(sim.Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Bring(ctx, scenario(), scenario()); err != nil {
		t.Fatal(err)
	}
	us, _ := statuses(t, b)
	if l, _ := us.Mesh.Link(cluster.EU); !l.OK() || !strings.Contains(l.Status, "eu.mesh.cilium.io") {
		t.Errorf("link after connect: %+v", l)
	}
	if err := b.DeleteCluster(ctx, cluster.EU, cluster.Discard); err != nil {
		t.Fatal(err)
	}
	err = b.WaitConnected(ctx, cluster.US, cluster.Discard)
	if err == nil || !strings.Contains(err.Error(), "kvstoremesh in us cannot connect to eu: cluster eu does not exist") {
		t.Errorf("WaitConnected to a deleted peer: %v", err)
	}
}

func statuses(t *testing.T, b *sim.Backend) (us, eu cluster.Status) {
	t.Helper()
	var err error
	if us, err = b.Status(context.Background(), cluster.US); err != nil {
		t.Fatal(err)
	}
	if eu, err = b.Status(context.Background(), cluster.EU); err != nil {
		t.Fatal(err)
	}
	return us, eu
}
