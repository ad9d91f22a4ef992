package sim

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// fixedNow stamps probes at one instant, so that their flows replay exactly.
func fixedNow() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

// The flows of a probe are its requests as the load balancer decided them:
// forwarded to the cluster that answered, dropped where the request failed
// (no backend, or a stale one), so that their counts are the answer
// counts, in every scenario of the lab's story; the same seed replays the
// same flows, another seed draws others.
func TestFlowsAgreeWithAnswers(t *testing.T) {
	global := DefaultScenario()
	global.Global = true
	affinity := global
	affinity.Affinity = cluster.AffinityLocal
	failover := affinity
	failover.Replicas = 0
	none := DefaultScenario()
	none.Replicas = 0
	for _, tc := range []struct {
		name   string
		us, eu Scenario
		from   cluster.Name
		drop   string
	}{
		{"local only", DefaultScenario(), DefaultScenario(), cluster.US, ""},
		{"global", global, global, cluster.EU, ""},
		{"affinity local", affinity, global, cluster.US, ""},
		{"failover", failover, global, cluster.US, ""},
		{"no backend anywhere", none, none, cluster.US, cluster.DropNoBackend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe := func(seed uint64) cluster.ProbeResult {
				b := newTestBackend(t, Options{Seed: seed, Now: fixedNow})
				must(t, b.Bring(context.Background(), tc.us, tc.eu))
				res, err := b.Probe(context.Background(), cluster.ProbeSpec{From: tc.from, Requests: 400}, nil)
				must(t, err)
				return res
			}
			res := probe(7)
			checkFlows(t, res, tc.drop)
			if again := probe(7); !reflect.DeepEqual(again, res) {
				t.Error("the same seed drew other flows")
			}
			if res.Answers.US > 0 && res.Answers.EU > 0 {
				if other := probe(8); reflect.DeepEqual(other.Flows, res.Flows) {
					t.Error("another seed drew the same mixed flows")
				}
			}
		})
	}
}

// checkFlows checks each flow against the probe's counts: one flow a
// request, the source the client's busybox pod, FORWARDED flows to a named
// hello-world pod of the cluster that answered, cross-cluster exactly when
// that is the peer, DROPPED ones with the reason wantDrop.
func checkFlows(t *testing.T, res cluster.ProbeResult, wantDrop string) {
	t.Helper()
	if len(res.Flows) != res.Requests || res.FlowsOmitted != 0 {
		t.Fatalf("%d flows (%d omitted) for %d requests", len(res.Flows), res.FlowsOmitted, res.Requests)
	}
	var got cluster.Answers
	errors := 0
	for i, f := range res.Flows {
		if f.Source.Cluster != res.From || f.Source.Pod == "" || f.Source.Namespace != "default" || f.Source.Identity>>16 != uint32(res.From.ID()) {
			t.Fatalf("flow %d: source %+v", i, f.Source)
		}
		if i > 0 && !f.Time.After(res.Flows[i-1].Time) {
			t.Fatalf("flow %d is not after flow %d", i, i-1)
		}
		switch f.Verdict {
		case cluster.VerdictForwarded:
			d := f.Destination
			if d.Pod == "" || d.Identity>>16 != uint32(d.Cluster.ID()) || f.CrossCluster != (d.Cluster != res.From) || f.DropReason != "" {
				t.Fatalf("flow %d: %+v", i, f)
			}
			got.Add(d.Cluster, 1)
		case cluster.VerdictDropped:
			if f.DropReason != wantDrop || f.CrossCluster {
				t.Fatalf("flow %d: dropped %+v, want reason %q", i, f, wantDrop)
			}
			errors++
		default:
			t.Fatalf("flow %d: verdict %q", i, f.Verdict)
		}
	}
	if got != res.Answers || errors != res.Errors {
		t.Errorf("flows count US %d EU %d dropped %d; the probe counted %s", got.US, got.EU, errors, res)
	}
	s := cluster.SummarizeFlows(res.Flows)
	if s.Local != res.Answers.Of(res.From) || s.Cross != res.Answers.Of(res.From.Peer()) || s.Dropped != res.Errors {
		t.Errorf("summary %s against %s", s, res)
	}
}

// A request sent to a remote pod the agents still know of but that is
// gone is a DROPPED flow with Hubble's stale-backend reason; a probe
// asked for no flows (a settle probe) carries none, and a cluster without
// Hubble Relay gives none.
func TestFlowsStaleAndNone(t *testing.T) {
	ctx := context.Background()
	global := DefaultScenario()
	global.Global = true
	b := newTestBackend(t, Options{Seed: 3, Now: fixedNow})
	must(t, b.Bring(ctx, global, global))
	must(t, b.DeleteCluster(ctx, cluster.EU, cluster.Discard))
	res, err := b.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 200}, nil)
	must(t, err)
	if res.Errors == 0 {
		t.Fatalf("no stale backend hit: %s", res)
	}
	checkFlows(t, res, cluster.DropStaleBackend)

	res, err = b.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 50, NoFlows: true}, nil)
	must(t, err)
	if len(res.Flows) != 0 || res.FlowsOmitted != 0 {
		t.Errorf("a probe without flows carries %d", len(res.Flows))
	}
	must(t, b.update(func(s *state) error { s.Clusters[cluster.US].Cilium.Hubble = nil; return nil }))
	res, err = b.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 50}, nil)
	must(t, err)
	if len(res.Flows) != 0 {
		t.Errorf("a cluster without Hubble gave %d flows", len(res.Flows))
	}
}
