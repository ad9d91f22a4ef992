package steps_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// The whole lab on the simulated mesh at real speed, where every change
// takes one to four seconds to reach the other cluster: each probing step
// waits for the mesh (and says so), then its judged probe shows exactly
// what the step teaches. synctest's clock makes the minutes pass at once.
func TestSettleOnSimulatedMeshAtRealSpeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := sim.New(sim.Options{Seed: 8, Clock: sim.ScaledClock{Factor: 1}})
		if err != nil {
			t.Fatal(err)
		}
		j, _ := steps.NewJournal(nil, nil)
		rec := &recorder{}
		env := &steps.Env{Backend: b, Reporter: rec, Journal: j, Requests: 40}
		r := steps.NewRunner(env)
		last, _ := steps.Index(r.Steps, "scale-back")
		if err := r.RunRange(context.Background(), 0, last, false); err != nil {
			t.Fatalf("%v\n%s", err, strings.Join(rec.logs, "\n"))
		}
		waits := 0
		for _, l := range rec.logs {
			if strings.Contains(l, "Waiting for the mesh to propagate") {
				waits++
			}
		}
		if waits == 0 {
			t.Errorf("no step waited for the mesh, though every change takes seconds to arrive:\n%s", strings.Join(rec.logs, "\n"))
		}
		want := map[string][2]func(cluster.ProbeResult) bool{
			"deploy":         {allFrom(cluster.US), allFrom(cluster.EU)},
			"global":         {both, both},
			"affinity-local": {allFrom(cluster.US), both},
			"scale-down":     {allFrom(cluster.EU), allFrom(cluster.EU)},
			"scale-back":     {allFrom(cluster.US), both},
		}
		probes := j.Probes()
		if len(probes) != 10 {
			t.Fatalf("%d probes journaled, want 10 (settle probes are not rounds)", len(probes))
		}
		for _, p := range probes {
			if ok := want[p.Step][p.Result.From.Index()]; ok == nil || !ok(p.Result) {
				t.Errorf("%s: judged probe %s", p.Step, p.Result)
			}
		}
		for id, rs := range rec.results {
			for _, res := range rs {
				if len(res.Warnings) > 0 {
					t.Errorf("step %s warned: %v", id, res.Warnings)
				}
			}
		}
	})
}

func allFrom(c cluster.Name) func(cluster.ProbeResult) bool {
	return func(r cluster.ProbeResult) bool { return r.Answers.Of(c) == r.Requests }
}

func both(r cluster.ProbeResult) bool { return r.Answers.US > 0 && r.Answers.EU > 0 && r.Errors == 0 }

// laggard is a backend whose load balancers see a change only after k
// probes from each cluster: until then every request stays home, as when
// the peer's backends have not arrived yet.
type laggard struct {
	*sim.Backend
	k     int
	mu    sync.Mutex
	seen  map[cluster.Name]int
	ids   []string
	armed bool
}

func (l *laggard) Probe(ctx context.Context, p cluster.ProbeSpec, progress cluster.ProbeProgress) (cluster.ProbeResult, error) {
	l.mu.Lock()
	l.ids = append(l.ids, p.ID)
	stale := l.armed && l.seen[p.From] < l.k
	l.seen[p.From]++
	l.mu.Unlock()
	if !stale {
		return l.Backend.Probe(ctx, p, progress)
	}
	res := cluster.ProbeResult{From: p.From, Requests: p.Requests}
	res.Answers.Add(p.From, p.Requests)
	return res, nil
}

// labAt runs the lab on a laggard up to (not including) the step id.
func labAt(t *testing.T, k int, id string) (*laggard, *steps.Env, *steps.Runner, *recorder, int) {
	t.Helper()
	b, err := sim.New(sim.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	l := &laggard{Backend: b, k: k, seen: map[cluster.Name]int{}}
	j, _ := steps.NewJournal(nil, nil)
	rec := &recorder{}
	env := &steps.Env{Backend: l, Reporter: rec, Journal: j, Requests: 20}
	r := steps.NewRunner(env)
	i, _ := steps.Index(r.Steps, id)
	if err := r.RunRange(context.Background(), 0, i-1, false); err != nil {
		t.Fatal(err)
	}
	l.armed, l.seen, l.ids = true, map[cluster.Name]int{}, nil
	return l, env, r, rec, i
}

// A change that shows after k probes: the step settles after k settle
// probes from each cluster, logs the wait, and journals one round only,
// judged on the propagated state.
func TestSettleWaitsForTheChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const k = 3
		l, env, r, rec, global := labAt(t, k, "global")
		before := len(env.Journal.Probes())
		res := r.RunStep(context.Background(), global)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		probes := env.Journal.Probes()[before:]
		if len(probes) != 2 || !both(probes[0].Result) || !both(probes[1].Result) {
			t.Errorf("journaled %v, want one mixed round", probes)
		}
		settles := map[string]bool{}
		for _, id := range l.ids {
			if strings.HasPrefix(id, "settle/global/") {
				settles[id] = true
			}
		}
		// k stale probes and at least one that sees the change, from each
		// cluster; both clusters name their n-th settle probe alike.
		if len(settles) < k+1 || len(l.ids) < 2*(k+1)+2 {
			t.Errorf("settle probes %v, want at least %d from each cluster", l.ids, k+1)
		}
		if got := strings.Join(rec.logs, "\n"); !strings.Contains(got, "Waiting for the mesh to propagate (1 s)") || !strings.Contains(got, "The mesh has propagated the change") {
			t.Errorf("log lacks the wait:\n%s", got)
		}
	})
}

// A change that never shows: the settle window runs out, the step fails
// saying what was still wrong and what to check, and no round is written.
func TestSettleWindowRunsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, env, r, _, down := labAt(t, 1_000_000, "scale-down")
		env.Settle = steps.Settle{Window: 10 * time.Second}
		before := len(env.Journal.Probes())
		res := r.RunStep(context.Background(), down)
		if res.Err == nil {
			t.Fatal("scale-down passed although the mesh never showed the failover")
		}
		msg, hint := res.Err.Error(), cluster.HintOf(res.Err)
		if !strings.Contains(msg, "from US the mesh did not settle within 10 s: the last 4 requests got US 4 · EU 0, want all from EU") {
			t.Errorf("error %q", msg)
		}
		if !strings.Contains(hint, "status panes") || !strings.Contains(hint, "cilium clustermesh status") {
			t.Errorf("hint %q", hint)
		}
		if n := len(env.Journal.Probes()); n != before {
			t.Errorf("%d rounds journaled by a step that never settled", n-before)
		}
		// The window is on the backend's timeline: a probe at 0 s and one
		// after each 1 s pause up to 10 s.
		if n := l.seen[cluster.US]; n != 11 {
			t.Errorf("%d settle probes from US in a 10 s window with 1 s pauses, want 11", n)
		}
	})
}

// On a backend without a timeline of its own (the real one) the window is
// wall-clock time, here synctest's.
func TestSettleWindowOnTheWallClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, env, r, _, down := labAt(t, 1_000_000, "scale-down")
		env.Backend = struct{ cluster.Backend }{l} // hides the simulated mesh's Sleep
		env.Settle = steps.Settle{Window: 10 * time.Second, Poll: 3 * time.Second}
		start := time.Now()
		res := r.RunStep(context.Background(), down)
		if res.Err == nil || !strings.Contains(res.Err.Error(), "did not settle within 10 s") {
			t.Fatalf("scale-down: %v", res.Err)
		}
		if took := time.Since(start); took != 12*time.Second {
			t.Errorf("gave up after %s, want 12 s (probes at 0, 3, 6, 9 and 12 s)", took)
		}
	})
}

// A backend's missing prerequisite reaches the learner as the step to run.
func TestPrerequisiteHints(t *testing.T) {
	l := newLab(t, 1, 10)
	for _, tc := range []struct {
		step, want string
	}{
		{"install-cilium", "run step 2 (create-clusters) first"},
		{"connect", "run step 2 (create-clusters) first"},
		{"global", "run step 2 (create-clusters) first"},
	} {
		res := l.runner.RunStep(context.Background(), l.index(t, tc.step))
		if !errors.Is(res.Err, cluster.ErrNoCluster) || cluster.HintOf(res.Err) != tc.want {
			t.Errorf("%s on an empty lab: %v, hint %q, want %q", tc.step, res.Err, cluster.HintOf(res.Err), tc.want)
		}
	}
	for i := 0; i <= l.index(t, "connect"); i++ {
		l.run(t, i)
	}
	res := l.runner.RunStep(context.Background(), l.index(t, "scale-down"))
	if want := fmt.Sprintf("run step %d (deploy) first", l.index(t, "deploy")+1); !errors.Is(res.Err, cluster.ErrNoDemo) || cluster.HintOf(res.Err) != want {
		t.Errorf("scale-down before deploy: %v, hint %q, want %q", res.Err, cluster.HintOf(res.Err), want)
	}
	// Outside a step (the guide's re-probe), the same mapping.
	if err := steps.Prerequisite(fmt.Errorf("probe: %w", cluster.ErrNotConnected)); cluster.HintOf(err) != "run step 5 (connect) first" {
		t.Errorf("Prerequisite: hint %q", cluster.HintOf(err))
	}
	// A backend's own hint is kept before the step to run.
	err := steps.Prerequisite(cluster.WithHint(fmt.Errorf("x: %w", cluster.ErrMeshNotEnabled), "delete the Secret"))
	if h := cluster.HintOf(err); h != "delete the Secret; then run step 4 (enable-clustermesh)" {
		t.Errorf("combined hint %q", h)
	}
}

// scripted answers the settle probes of one cluster from a script, then
// from the mesh; judged probes always come from the mesh.
type scripted struct {
	*sim.Backend
	from   cluster.Name
	mu     sync.Mutex
	script []func(n int) cluster.ProbeResult
	sizes  []int
}

func (s *scripted) Probe(ctx context.Context, p cluster.ProbeSpec, progress cluster.ProbeProgress) (cluster.ProbeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.From != s.from || !strings.HasPrefix(p.ID, "settle/") {
		return s.Backend.Probe(ctx, p, progress)
	}
	s.sizes = append(s.sizes, p.Requests)
	if len(s.script) == 0 {
		return s.Backend.Probe(ctx, p, progress)
	}
	next := s.script[0]
	s.script = s.script[1:]
	r := next(p.Requests)
	r.From, r.Requests = p.From, p.Requests
	return r, nil
}

// A stale state that happens to answer as expected does not settle: the
// confirmation requests that follow at once catch it, and the step waits.
func TestSettleNeedsAConfirmedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, err := sim.New(sim.Options{Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		j, _ := steps.NewJournal(nil, nil)
		rec := &recorder{}
		s := &scripted{Backend: b, from: cluster.EU}
		env := &steps.Env{Backend: s, Reporter: rec, Journal: j, Requests: 20}
		r := steps.NewRunner(env)
		down, _ := steps.Index(r.Steps, "scale-down")
		if err := r.RunRange(context.Background(), 0, down-1, false); err != nil {
			t.Fatal(err)
		}
		euOnly := func(n int) cluster.ProbeResult {
			var res cluster.ProbeResult
			res.Answers.EU = n
			return res
		}
		staleHit := func(n int) cluster.ProbeResult { // one request to US's gone pod
			res := euOnly(n - 1)
			res.Errors = 1
			return res
		}
		s.sizes = nil
		s.script = []func(int) cluster.ProbeResult{euOnly, staleHit}
		if res := r.RunStep(context.Background(), down); res.Err != nil {
			t.Fatal(res.Err)
		}
		if want := []int{4, 12, 4, 12}; fmt.Sprint(s.sizes) != fmt.Sprint(want) {
			t.Errorf("EU's settle probes asked for %v requests, want %v (4 that agree, 12 that catch the stale pod, a pause, then 4 + 12)", s.sizes, want)
		}
		if got := strings.Join(rec.logs, "\n"); !strings.Contains(got, "[eu] Waiting for the mesh to propagate (0 s): 12 requests got US 0 · EU 11 · errors 1, want all from EU") {
			t.Errorf("log:\n%s", got)
		}
	})
}
