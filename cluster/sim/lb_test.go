package sim_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
)

// Statistical tests through the full simulator; the rules themselves are
// tested in package cluster (lb_test.go).

var (
	local  = cluster.AffinityLocal
	remote = cluster.AffinityRemote
)

// scenario is a cluster's what-if settings, starting from the lab's default
// (one replica, local Service, connected).
func scenario(mods ...func(*sim.Scenario)) sim.Scenario {
	s := sim.DefaultScenario()
	for _, m := range mods {
		m(&s)
	}
	return s
}

func global(s *sim.Scenario)   { s.Global = true }
func unshared(s *sim.Scenario) { s.Shared = false }
func offline(s *sim.Scenario)  { s.Connected = false }
func replicas(n int) func(*sim.Scenario) {
	return func(s *sim.Scenario) { s.Replicas = n }
}
func affinity(a cluster.Affinity) func(*sim.Scenario) {
	return func(s *sim.Scenario) { s.Affinity = a }
}

// bring sets up the mesh with the two scenarios.
func bring(t testing.TB, seed uint64, us, eu sim.Scenario) *sim.Backend {
	t.Helper()
	// One instant for every probe: flows are stamped with it, so that a
	// seed replays them exactly.
	b, err := sim.New(sim.Options{Seed: seed, Now: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Bring(context.Background(), us, eu); err != nil {
		t.Fatal(err)
	}
	return b
}

func probe(t testing.TB, b *sim.Backend, from cluster.Name, n int) cluster.ProbeResult {
	t.Helper()
	res, err := b.Probe(context.Background(), cluster.ProbeSpec{From: from, Requests: n}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done() != n || res.Requests != n || res.From != from {
		t.Fatalf("probe from %s: %d requests finished of %d: %+v", from, res.Done(), n, res)
	}
	return res
}

// checkBinomial asserts that k successes in n trials fit probability p: exact
// when p is 0 or 1, else within 6 standard deviations (a false alarm has
// probability about 2e-9 per check, so any seed passes).
func checkBinomial(t *testing.T, what string, k, n int, p float64) {
	t.Helper()
	if p == 0 || p == 1 {
		if want := int(p) * n; k != want {
			t.Errorf("%s: %d of %d, want exactly %d", what, k, n, want)
		}
		return
	}
	mean := p * float64(n)
	sd := math.Sqrt(float64(n) * p * (1 - p))
	if d := math.Abs(float64(k) - mean); d > 6*sd {
		t.Errorf("%s: %d of %d (%.4f), want %.4f ± 6σ (%.0f ± %.0f)", what, k, n, float64(k)/float64(n), p, mean, 6*sd)
	}
}

// statSeeds are the seeds each statistical case runs with.
var statSeeds = []uint64{1, 2, 3, 42, 1 << 40}

const statRequests = 20000

func TestLoadBalancerDistributions(t *testing.T) {
	cases := []struct {
		name   string
		us, eu sim.Scenario
		from   cluster.Name
		// pUS and pErr are the probabilities that a request is answered
		// by US or fails; EU answers the rest.
		pUS, pErr float64
	}{
		// Per-backend, not per-cluster, weighting.
		{"1 US pod, 3 EU pods, from US: a quarter from US", scenario(global), scenario(global, replicas(3)), cluster.US, 0.25, 0},
		{"1 US pod, 3 EU pods, from EU: a quarter from US", scenario(global), scenario(global, replicas(3)), cluster.EU, 0.25, 0},
		{"2 US pods, 3 EU pods: 40% from US", scenario(global, replicas(2)), scenario(global, replicas(3)), cluster.US, 0.4, 0},
		{"1 and 1: half each", scenario(global), scenario(global), cluster.EU, 0.5, 0},
		// shared=false.
		{"US shared=false still uses EU's backends", scenario(global, unshared), scenario(global), cluster.US, 0.5, 0},
		{"US shared=false exports nothing to EU", scenario(global, unshared), scenario(global, replicas(3)), cluster.EU, 0, 0},
		// Remote affinity and its fallback.
		{"affinity remote: all from EU", scenario(global, affinity(remote), replicas(2)), scenario(global), cluster.US, 0, 0},
		{"affinity remote, EU at 0: falls back to US", scenario(global, affinity(remote)), scenario(global, replicas(0)), cluster.US, 1, 0},
		{"affinity remote, EU not shared: falls back to US", scenario(global, affinity(remote)), scenario(global, unshared), cluster.US, 1, 0},
		// Local affinity and failover.
		{"affinity local: all from US", scenario(global, affinity(local)), scenario(global, replicas(3)), cluster.US, 1, 0},
		{"affinity local, US at 0: failover to EU", scenario(global, affinity(local), replicas(0)), scenario(global, replicas(3)), cluster.US, 0, 0},
		{"affinity local in US does not change EU", scenario(global, affinity(local)), scenario(global), cluster.EU, 0.5, 0},
		{"affinity local, US at 0, EU not shared: errors", scenario(global, affinity(local), replicas(0)), scenario(global, unshared), cluster.US, 0, 1},
		// A global service with zero local backends and affinity none.
		{"affinity none, US at 0: all from EU", scenario(global, replicas(0)), scenario(global, replicas(2)), cluster.US, 0, 0},
		// No backends anywhere.
		{"no backend anywhere, global, from US: every request fails", scenario(global, replicas(0)), scenario(global, replicas(0)), cluster.US, 0, 1},
		{"no backend anywhere, global, from EU: every request fails", scenario(global, replicas(0)), scenario(global, replicas(0)), cluster.EU, 0, 1},
		{"local Service at 0: every request fails", scenario(replicas(0)), scenario(), cluster.US, 0, 1},
		// Mesh not connected.
		{"US not connected: local only", scenario(global, offline), scenario(global, replicas(3)), cluster.US, 1, 0},
		{"US not connected, EU still connected: EU mixes", scenario(global, offline), scenario(global), cluster.EU, 0.5, 0},
		{"both not connected: EU local only", scenario(global, offline), scenario(global, offline), cluster.EU, 0, 0},
		{"not connected, affinity local, US at 0: errors", scenario(global, offline, affinity(local), replicas(0)), scenario(global), cluster.US, 0, 1},
		// Non-global local or remote Service.
		{"US not global: local only", scenario(), scenario(global, replicas(3)), cluster.US, 1, 0},
		{"US not global: exports nothing to EU", scenario(replicas(3)), scenario(global), cluster.EU, 0, 0},
		{"EU not global: US gets nothing from it", scenario(global), scenario(replicas(3)), cluster.US, 1, 0},
		// Affinity is ignored for non-global services.
		{"affinity remote on a local Service: local only", scenario(affinity(remote), replicas(2)), scenario(global), cluster.US, 1, 0},
		{"affinity local on a local Service at 0: no failover, errors", scenario(affinity(local), replicas(0)), scenario(global), cluster.US, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, seed := range statSeeds {
				b := bring(t, seed, tc.us, tc.eu)
				res := probe(t, b, tc.from, statRequests)
				what := fmt.Sprintf("seed %d: %s", seed, res)
				checkBinomial(t, what+": answers from US", res.Answers.US, statRequests, tc.pUS)
				checkBinomial(t, what+": errors", res.Errors, statRequests, tc.pErr)
				checkBinomial(t, what+": answers from EU", res.Answers.EU, statRequests, max(0, 1-tc.pUS-tc.pErr))
			}
		})
	}
}

// Scaling to 0 fails over and scaling back returns traffic home, through the
// same Scale operation the lab uses.
func TestLocalAffinityFailoverAndReturn(t *testing.T) {
	for _, seed := range statSeeds {
		b := bring(t, seed, scenario(global, affinity(local)), scenario(global))
		ctx := context.Background()
		if r := probe(t, b, cluster.US, 1000); r.Answers.US != 1000 {
			t.Fatalf("seed %d: before scale-down: %s, want all from US", seed, r)
		}
		if err := b.Scale(ctx, cluster.US, 0, cluster.Discard); err != nil {
			t.Fatal(err)
		}
		if r := probe(t, b, cluster.US, 1000); r.Answers.EU != 1000 {
			t.Fatalf("seed %d: after scale-down: %s, want all from EU", seed, r)
		}
		if err := b.Scale(ctx, cluster.US, 1, cluster.Discard); err != nil {
			t.Fatal(err)
		}
		if r := probe(t, b, cluster.US, 1000); r.Answers.US != 1000 {
			t.Fatalf("seed %d: after scale-back: %s, want all from US again", seed, r)
		}
		r := probe(t, b, cluster.EU, statRequests)
		checkBinomial(t, fmt.Sprintf("seed %d: EU after scale-back: %s", seed, r), r.Answers.US, statRequests, 0.5)
	}
}

// gateClock lets every sleep through at once except the first non-zero one
// after arm, which blocks until release: it freezes an operation between
// two of its state changes.
type gateClock struct {
	mu      sync.Mutex
	armed   bool
	blocked chan struct{}
	release chan struct{}
}

func (g *gateClock) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.blocked, g.release = true, make(chan struct{}), make(chan struct{})
}

func (g *gateClock) Sleep(ctx context.Context, d time.Duration) error {
	g.mu.Lock()
	catch := g.armed && d > 0
	if catch {
		g.armed = false
	}
	blocked, release := g.blocked, g.release
	g.mu.Unlock()
	if !catch {
		return ctx.Err()
	}
	close(blocked)
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Terminating pods do not count: while US's only pod is terminating, US with
// affinity local has no active local backend and fails over at once, and EU
// sends it nothing.
func TestTerminatingPodsDoNotCount(t *testing.T) {
	gate := &gateClock{}
	b, err := sim.New(sim.Options{Seed: 7, Clock: gate})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Bring(ctx, scenario(global, affinity(local)), scenario(global)); err != nil {
		t.Fatal(err)
	}
	gate.arm()
	done := make(chan error, 1)
	go func() { done <- b.Scale(ctx, cluster.US, 0, cluster.Discard) }()
	select {
	case <-gate.blocked:
	case err := <-done:
		t.Fatalf("Scale returned before its rollout waited: %v", err)
	}
	// The pod is now terminating: desired 0, ready 0, the rollout not done.
	st, err := b.Status(ctx, cluster.US)
	if err != nil {
		t.Fatal(err)
	}
	if hw := st.Demo.HelloWorld; hw.Desired != 0 || hw.Ready != 0 {
		t.Fatalf("US hello-world while terminating: %+v, want desired 0, ready 0", hw)
	}
	if r := probe(t, b, cluster.US, 2000); r.Answers.EU != 2000 {
		t.Errorf("from US while its pod terminates: %s, want every answer from EU", r)
	}
	if r := probe(t, b, cluster.EU, 2000); r.Answers.EU != 2000 {
		t.Errorf("from EU while US's pod terminates: %s, want every answer from EU", r)
	}
	if ex := b.Explain(cluster.US); !strings.Contains(ex, "0 backend pod(s) in US and 1 in EU") {
		t.Errorf("Explain(US) while terminating = %q, want no US backend", ex)
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The same seed replays the same answers; different seeds, and successive
// probes of one lab, draw different ones.
func TestProbeDeterminism(t *testing.T) {
	us, eu := scenario(global, replicas(2)), scenario(global, replicas(3))
	series := func(seed uint64) []cluster.ProbeResult {
		b := bring(t, seed, us, eu)
		var out []cluster.ProbeResult
		for range 3 {
			out = append(out, probe(t, b, cluster.US, 1000), probe(t, b, cluster.EU, 1000))
		}
		return out
	}
	first := series(11)
	if again := series(11); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("seed 11 twice:\n%v\n%v", first, again)
	}
	if first[0].Answers == first[2].Answers && first[2].Answers == first[4].Answers && reflect.DeepEqual(first[0].Flows, first[2].Flows) {
		t.Errorf("three successive probes from US are identical (%v): each probe should draw a new stream", first[0])
	}
	distinct := map[string]bool{}
	for seed := uint64(1); seed <= 5; seed++ {
		distinct[fmt.Sprint(series(seed))] = true
	}
	if len(distinct) < 4 {
		t.Errorf("seeds 1..5 gave only %d distinct series of probes", len(distinct))
	}
}

// Probing from both clusters at once answers exactly as probing one after
// the other: each cluster's probes have their own random stream.
func TestConcurrentProbesMatchSequential(t *testing.T) {
	us, eu := scenario(global), scenario(global, replicas(3))
	seq := bring(t, 5, us, eu)
	wantUS, wantEU := probe(t, seq, cluster.US, 5000), probe(t, seq, cluster.EU, 5000)

	con := bring(t, 5, us, eu)
	var gotUS, gotEU cluster.ProbeResult
	var wg sync.WaitGroup
	wg.Go(func() { gotEU = probe(t, con, cluster.EU, 5000) })
	wg.Go(func() { gotUS = probe(t, con, cluster.US, 5000) })
	wg.Wait()
	if !reflect.DeepEqual(gotUS, wantUS) || !reflect.DeepEqual(gotEU, wantEU) {
		t.Errorf("concurrent probes %v / %v differ from sequential %v / %v", gotUS, gotEU, wantUS, wantEU)
	}
}

// Progress reports running counts that end at the final result.
func TestProbeProgress(t *testing.T) {
	b := bring(t, 3, scenario(global), scenario(global))
	var last cluster.ProbeResult
	calls := 0
	res, err := b.Probe(context.Background(), cluster.ProbeSpec{From: cluster.US, Requests: 500}, func(p cluster.ProbeResult) {
		if p.Done() < last.Done() {
			t.Errorf("progress went backwards: %v after %v", p, last)
		}
		last = p
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(last, res) || calls < 2 {
		t.Errorf("progress: %d calls, last %v, result %v", calls, last, res)
	}
}

func TestProbeBadInput(t *testing.T) {
	b := bring(t, 1, scenario(), scenario())
	for _, n := range []int{0, -1, sim.MaxRequests + 1} {
		if _, err := b.Probe(context.Background(), cluster.ProbeSpec{From: cluster.US, Requests: n}, nil); err == nil {
			t.Errorf("Probe(%d requests) succeeded, want an error", n)
		}
	}
	empty, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = empty.Probe(context.Background(), cluster.ProbeSpec{From: cluster.US, Requests: 10}, nil)
	if !errors.Is(err, cluster.ErrNoCluster) {
		t.Errorf("Probe on a mesh without clusters: err %v, want ErrNoCluster", err)
	}
}

// Explain names the rule that decided, for the simulate command.
func TestExplain(t *testing.T) {
	cases := []struct {
		us, eu sim.Scenario
		from   cluster.Name
		want   []string
	}{
		{scenario(global), scenario(global, replicas(3)), cluster.US, []string{"1 backend pod(s) in US and 3 in EU", "uniformly"}},
		{scenario(global, affinity(local), replicas(0)), scenario(global), cluster.US, []string{"0 backend pod(s) in US and 1 in EU", "failover"}},
		{scenario(global, offline), scenario(global), cluster.US, []string{"not connected"}},
		{scenario(global), scenario(global, unshared), cluster.US, []string{"shared=false"}},
		{scenario(replicas(0)), scenario(global), cluster.US, []string{"not global", "every request fails"}},
	}
	for _, tc := range cases {
		b := bring(t, 1, tc.us, tc.eu)
		got := b.Explain(tc.from)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("Explain(%s) with us %+v, eu %+v = %q, want it to mention %q", tc.from, tc.us, tc.eu, got, w)
			}
		}
	}
}
