package sim

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// labState runs the lab's setup on a simulated mesh with a store and
// returns the saved state, as sim-state.json holds it mid-lab.
func labState(t testing.TB) []byte {
	t.Helper()
	store := &memStore{}
	b, err := New(Options{Seed: 1, Store: store})
	must(t, err)
	must(t, b.Bring(context.Background(), DefaultScenario(), DefaultScenario()))
	must(t, b.Scale(context.Background(), cluster.US, 2, cluster.Discard))
	_, err = b.Probe(context.Background(), cluster.ProbeSpec{From: cluster.US, Requests: 10}, nil)
	must(t, err)
	return store.data
}

// A saved state the simulation could not have written is corrupt, with the
// reason, and never drawn or acted on.
func TestImpossibleStates(t *testing.T) {
	good := labState(t)
	if _, err := New(Options{Seed: 1, Store: &memStore{data: good}}); err != nil {
		t.Fatalf("the lab's own state: %v", err)
	}
	edit := func(fn func(s *state)) string {
		var s state
		must(t, json.Unmarshal(good, &s))
		fn(&s)
		out, err := json.Marshal(&s)
		must(t, err)
		return string(out)
	}
	us := func(s *state) *clusterState { return s.Clusters[cluster.US] }
	for _, tc := range []struct {
		name, data, want string
	}{
		{"a third cluster", edit(func(s *state) { s.Clusters["mars"] = &clusterState{} }), `unknown cluster "mars"`},
		{"probes from mars", edit(func(s *state) { s.Probes["mars"] = 1 }), `probes counted from unknown cluster "mars"`},
		{"another seed", strings.Replace(string(good), `"seed":1`, `"seed":2`, 1), "state of seed 2, lab of seed 1"},
		{"negative agents", edit(func(s *state) { us(s).Cilium.AgentsReady = -1 }), "cilium: -1 agents ready on 3 nodes"},
		{"more agents than nodes", edit(func(s *state) { us(s).Cilium.AgentsReady = 4 }), "4 agents ready on 3 nodes"},
		{"a ready node without its agent", edit(func(s *state) { us(s).Cilium.AgentsReady = 2 }), "node us-worker2: ready true with 2 agents ready"},
		{"no workers", edit(func(s *state) {
			for i := range us(s).Nodes {
				us(s).Nodes[i].Role = "control-plane"
			}
		}), "3 control planes and 0 workers"},
		{"a node without an address", edit(func(s *state) { us(s).Nodes[1].IP = "" }), "node us-worker"},
		{"a repeated node", edit(func(s *state) { us(s).Nodes[2].Name = "us-worker" }), `repeated name "us-worker"`},
		{"cilium on a deleted cluster", edit(func(s *state) { us(s).Nodes = nil }), "holds objects but does not exist"},
		{"cluster id 0", edit(func(s *state) { us(s).Cilium.ClusterID = 0 }), "cluster id 0 is outside 1..255"},
		{"max connected 7", edit(func(s *state) { us(s).Cilium.MaxConnected = 7 }), "max connected clusters 7"},
		{"NodePort 80", edit(func(s *state) { us(s).Cilium.Mesh.NodePort = 80 }), "NodePort 80 is outside 30000..32767"},
		{"a mesh entry without address", edit(func(s *state) { us(s).Cilium.Mesh.Clusters[0].IPs = nil }), "mesh entry eu: no address"},
		{"a mesh entry for itself", edit(func(s *state) { us(s).Cilium.Mesh.Clusters[0].Name = "us" }), `mesh entry "us": want one entry, for eu`},
		{"two mesh entries", edit(func(s *state) {
			us(s).Cilium.Mesh.Clusters = append(us(s).Cilium.Mesh.Clusters, us(s).Cilium.Mesh.Clusters[0])
		}), `mesh entry "eu": want one entry`},
		{"more agents connected than nodes", edit(func(s *state) { us(s).Cilium.Mesh.Clusters[0].Connected = 1000 }), "1000 agents connected on 3 nodes"},
		{"a billion replicas", edit(func(s *state) { us(s).Deployments[helloWorld].Replicas = 1e9 }), "1000000000 replicas is outside 0..50"},
		{"negative replicas", edit(func(s *state) { us(s).Deployments[helloWorld].Replicas = -1 }), "-1 replicas"},
		{"more pods than replicas", edit(func(s *state) { us(s).Deployments[helloWorld].Replicas = 1 }), "2 pods pending or running for 1 replicas"},
		{"a pod on no node", edit(func(s *state) { us(s).Deployments[helloWorld].Pods[0].Node = "mars-1" }), `on unknown node "mars-1"`},
		{"a pod in an unknown phase", edit(func(s *state) { us(s).Deployments[helloWorld].Pods[0].Phase = "Dancing" }), `unknown phase "Dancing"`},
		{"pods never created", edit(func(s *state) { us(s).Deployments[helloWorld].Created = 0 }), "2 pods but 0 ever created"},
		{"an unknown deployment", edit(func(s *state) { us(s).Deployments["x"] = &deployment{} }), `unknown deployment "x"`},
		{"a null deployment", edit(func(s *state) { us(s).Deployments[helloWorld] = nil }), "deployment hello-world: empty"},
		{"a null service", edit(func(s *state) { us(s).Services[helloWorld] = nil }), `unknown service "hello-world"`},
		{"global=maybe", edit(func(s *state) {
			us(s).Services[helloWorld].Annotations = map[string]string{cluster.AnnotationGlobal: "maybe"}
		}), `service.cilium.io/global="maybe"`},
		{"an unknown annotation", edit(func(s *state) {
			us(s).Services[helloWorld].Annotations = map[string]string{"x": "y"}
		}), `unknown annotation "x"`},
		{"cilium without its CA (found by FuzzState)", edit(func(s *state) { delete(us(s).Secrets, secretCA) }), "cilium runs without its secret cilium-ca"},
		{"cilium named as the other cluster (found by FuzzState)", edit(func(s *state) { us(s).Cilium.ClusterName = "eu" }), `cilium: cluster name "eu", want us`},
		{"a negative cache", edit(func(s *state) { us(s).Cilium.Mesh.Clusters[0].Cache = &cluster.Side{ServiceExists: true, Ready: -2} }), "mesh entry eu: -2 ready pods cached"},
		{"an unknown secret", edit(func(s *state) { us(s).Secrets["x"] = secret{CA: "1"} }), `unknown secret "x"`},
	} {
		_, err := New(Options{Seed: 1, Store: &memStore{data: []byte(tc.data)}})
		var ce *CorruptError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a corrupt state: %q", tc.name, err, tc.want)
		}
	}
}

// FuzzState feeds the simulated mesh any saved state. It never panics; a
// state it accepts can be drawn, probed and driven through every
// operation of the lab without panicking or hanging, and every state the
// operations then save loads again. Corpus: testdata/fuzz/FuzzState
// (states of real labs and findings).
func FuzzState(f *testing.F) {
	f.Add(labState(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Every operation below is bounded by its context: one that
		// outlives them all ignores it, and crashing the worker makes the
		// fuzzer keep the input.
		watchdog := time.AfterFunc(time.Minute, func() { panic("the simulated mesh hangs on this state") })
		defer watchdog.Stop()
		store := &memStore{data: data}
		b, err := New(Options{Seed: 1, Store: store})
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("a bad state that is not reported as corrupt: %v", err)
			}
			return
		}
		log := cluster.Discard
		for _, c := range cluster.Names() {
			if _, err := b.Status(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			_ = b.Explain(c)
		}
		yes, local := true, cluster.AffinityLocal
		ops := []func(ctx context.Context, c cluster.Name) error{
			func(ctx context.Context, c cluster.Name) error {
				_, err := b.Probe(ctx, cluster.ProbeSpec{From: c, Requests: 20, ID: "fuzz"}, nil)
				return err
			},
			func(ctx context.Context, c cluster.Name) error { return b.WaitSettled(ctx) },
			func(ctx context.Context, c cluster.Name) error { return b.ScaleAPIServer(ctx, c, 0, log) },
			func(ctx context.Context, c cluster.Name) error { return b.ScaleAPIServer(ctx, c, 1, log) },
			func(ctx context.Context, c cluster.Name) error {
				return b.ConfigureService(ctx, c, cluster.ServiceChange{Global: &yes, Affinity: &local}, log)
			},
			func(ctx context.Context, c cluster.Name) error { return b.Scale(ctx, c, 2, log) },
			func(ctx context.Context, c cluster.Name) error { return b.WaitConnected(ctx, c, log) },
			func(ctx context.Context, c cluster.Name) error { return b.Connect(ctx, c, c.Peer(), log) },
			func(ctx context.Context, c cluster.Name) error { return b.EnableClusterMesh(ctx, c, log) },
			func(ctx context.Context, c cluster.Name) error { return b.WaitCilium(ctx, c, log) },
			func(ctx context.Context, c cluster.Name) error { return b.InstallCilium(ctx, c, log) },
			func(ctx context.Context, c cluster.Name) error { return b.ShareCA(ctx, c, c.Peer(), log) },
			func(ctx context.Context, c cluster.Name) error { return b.DeployDemo(ctx, c, log) },
			func(ctx context.Context, c cluster.Name) error { return b.CreateCluster(ctx, c, log) },
			func(ctx context.Context, c cluster.Name) error { return b.DeleteCluster(ctx, c, log) },
		}
		for i, op := range ops {
			for _, c := range cluster.Names() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := op(ctx, c)
				cancel()
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("operation %d on %s hangs on this state", i, c)
				}
			}
			if _, err := New(Options{Seed: 1, Store: &memStore{data: store.data}}); err != nil {
				t.Fatalf("after operation %d the simulation saved a state it refuses: %v\n%s", i, err, store.data)
			}
		}
	})
}
