package steps_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// recorder is a Reporter that keeps what it is told.
type recorder struct {
	mu      sync.Mutex
	started []string
	results map[string][]steps.Result
	logs    []string
	finals  int
}

func (r *recorder) StepStarted(s steps.Step, i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, s.ID())
}

func (r *recorder) Log(l steps.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, l.String())
}

func (r *recorder) ProbeProgress(p steps.ProbeUpdate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Final {
		r.finals++
	}
}

func (r *recorder) StepDone(s steps.Step, i int, res steps.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.results == nil {
		r.results = map[string][]steps.Result{}
	}
	r.results[s.ID()] = append(r.results[s.ID()], res)
}

// lab is one simulated lab kept in memory.
type lab struct {
	backend *sim.Backend
	env     *steps.Env
	runner  *steps.Runner
	rec     *recorder
}

func newLab(t testing.TB, seed uint64, requests int) *lab {
	t.Helper()
	b, err := sim.New(sim.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	j, err := steps.NewJournal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	env := &steps.Env{Backend: b, Reporter: rec, Journal: j, Requests: requests}
	return &lab{backend: b, env: env, runner: steps.NewRunner(env), rec: rec}
}

func (l *lab) index(t testing.TB, id string) int {
	t.Helper()
	i, err := steps.Index(l.runner.Steps, id)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func (l *lab) run(t testing.TB, i int) steps.Result {
	t.Helper()
	res := l.runner.RunStep(context.Background(), i)
	if res.Err != nil {
		t.Fatalf("step %s: %v", l.runner.Steps[i].ID(), res.Err)
	}
	return res
}

func (l *lab) resume(t testing.TB) int {
	t.Helper()
	next, done, err := l.runner.Resume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range done {
		// After the teardown, steps before it may be undone (their
		// clusters are gone); otherwise done is exactly the steps before next.
		if d && i >= next || !d && i < next && next != len(done) {
			t.Fatalf("Resume: next %d but done = %v", next, done)
		}
	}
	return next
}

func (l *lab) statuses(t testing.TB) [2]cluster.Status {
	t.Helper()
	var out [2]cluster.Status
	for _, c := range cluster.Names() {
		st, err := l.backend.Status(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Index()] = st
	}
	return out
}

// within6Sigma reports whether k of n fits probability p (6 standard
// deviations: a false alarm has probability about 2e-9).
func within6Sigma(k, n int, p float64) bool {
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(k)-p*float64(n)) <= 6*sd
}

// Each probe of the lab shows what its step teaches: local only; both
// clusters; US only from US while EU mixes; US all from EU after the
// scale-down; back home.
func TestWholeLabProbes(t *testing.T) {
	const n = 200
	type want struct {
		// pUS is the probability of an answer from US; 0 and 1 are exact.
		pUS float64
	}
	expect := map[string][2]want{ // step -> {from US, from EU}
		"deploy":         {{1}, {0}},
		"global":         {{0.5}, {0.5}},
		"affinity-local": {{1}, {0.5}},
		"scale-down":     {{0}, {0}},
		"scale-back":     {{1}, {0.5}},
	}
	phases := map[string]string{"deploy": steps.PhaseLocal, "global": steps.PhaseGlobal, "affinity-local": steps.PhaseAffinity, "scale-down": steps.PhaseFailover, "scale-back": steps.PhaseHome}
	for _, seed := range []uint64{1, 2, 3, 1234} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			l := newLab(t, seed, n)
			if err := l.runner.RunRange(context.Background(), 0, len(l.runner.Steps)-1, true); err != nil {
				t.Fatal(err)
			}
			probes := l.env.Journal.Probes()
			if len(probes) != 2*len(expect) {
				t.Fatalf("%d probes recorded, want %d", len(probes), 2*len(expect))
			}
			for _, p := range probes {
				w, ok := expect[p.Step]
				if !ok {
					t.Errorf("unexpected probe in step %s", p.Step)
					continue
				}
				r := p.Result
				if p.Phase != phases[p.Step] || r.Requests != n || r.Done() != n || r.Errors != 0 {
					t.Errorf("%s (%s): %s", p.Step, p.Phase, r)
				}
				pUS := w[r.From.Index()].pUS
				switch pUS {
				case 0, 1:
					if r.Answers.US != int(pUS)*n {
						t.Errorf("%s: %s, want all answers from %s", p.Step, r, map[float64]string{0: "EU", 1: "US"}[pUS])
					}
				default:
					if !within6Sigma(r.Answers.US, n, pUS) {
						t.Errorf("%s: %s, want about %.0f%% from US", p.Step, r, pUS*100)
					}
				}
			}
			for _, p := range probes {
				if len(p.Result.Flows) != 0 {
					t.Errorf("%s: the journal keeps %d flows", p.Step, len(p.Result.Flows))
				}
			}
			for id, rs := range l.rec.results {
				for _, res := range rs {
					if len(res.Warnings) > 0 {
						t.Errorf("step %s warned: %v", id, res.Warnings)
					}
					// The step's outcome carries each probe's flows (the
					// hubble step ran before every probing step), which
					// tell the story as the counts do.
					for _, p := range res.Probes {
						s := cluster.SummarizeFlows(p.Result.Flows)
						if len(p.Result.Flows) != n || s.Local != p.Result.Answers.Of(p.Result.From) || s.Cross != p.Result.Answers.Of(p.Result.From.Peer()) || s.Dropped != p.Result.Errors {
							t.Errorf("%s: %d flows, %s, for %s", id, len(p.Result.Flows), s, p.Result)
						}
					}
				}
			}
			if l.rec.finals != len(probes) {
				t.Errorf("%d final probe reports, want %d", l.rec.finals, len(probes))
			}
			st := l.statuses(t)
			if st[0].Exists || st[1].Exists {
				t.Error("clusters still exist after teardown")
			}
		})
	}
}

func TestResume(t *testing.T) {
	l := newLab(t, 1, 20)
	total := len(l.runner.Steps)
	if next := l.resume(t); next != 0 {
		t.Fatalf("fresh lab resumes at %d, want 0", next)
	}
	for i := range total {
		l.run(t, i)
		want := i + 1
		if next := l.resume(t); next != want {
			t.Fatalf("after step %d (%s): resume at %d, want %d", i, l.runner.Steps[i].ID(), next, want)
		}
		if l.runner.Steps[i].ID() == "scale-back" && want != l.index(t, "teardown") {
			t.Fatalf("after scale-back the next step is %d, want teardown", want)
		}
	}
	if next := l.resume(t); next != total {
		t.Fatalf("completed lab resumes at %d, want %d", next, total)
	}
}

// Scaling back undoes the scale-down's state; the scale-down must still
// count as done, and resuming must not redo it.
func TestResumeAfterScaleBackDoesNotRedoScaleDown(t *testing.T) {
	l := newLab(t, 1, 20)
	back := l.index(t, "scale-back")
	for i := 0; i <= back; i++ {
		l.run(t, i)
	}
	down := l.index(t, "scale-down")
	if ok, err := l.runner.Steps[down].Check(context.Background(), l.env); err != nil || ok {
		t.Fatalf("scale-down's own check after scale-back: %t, %v (the state it checks was undone)", ok, err)
	}
	if next := l.resume(t); next != back+1 {
		t.Fatalf("resume at %d, want %d (teardown)", next, back+1)
	}
	// RunRange with resume runs only the teardown.
	rec := &recorder{}
	l.env.Reporter = rec
	if err := l.runner.RunRange(context.Background(), 0, len(l.runner.Steps)-1, true); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rec.started, []string{"teardown"}) {
		t.Errorf("resumed run started %v, want only teardown", rec.started)
	}
	for i := 0; i <= back; i++ {
		if rs := rec.results[l.runner.Steps[i].ID()]; len(rs) != 1 || !rs[0].Skipped {
			t.Errorf("step %s: %+v, want reported as skipped", l.runner.Steps[i].ID(), rs)
		}
	}
}

// A teardown that started is resumed, even when it deleted nothing yet or
// only one cluster.
func TestResumeTeardownStarted(t *testing.T) {
	l := newLab(t, 1, 20)
	td := l.index(t, "teardown")
	for i := range td {
		l.run(t, i)
	}
	if err := l.env.Journal.MarkStarted("teardown", time.Now()); err != nil {
		t.Fatal(err)
	}
	if next := l.resume(t); next != td {
		t.Fatalf("teardown started, nothing deleted: resume at %d, want %d", next, td)
	}
	if err := l.backend.DeleteCluster(context.Background(), cluster.US, cluster.Discard); err != nil {
		t.Fatal(err)
	}
	if next := l.resume(t); next != td {
		t.Fatalf("teardown half done: resume at %d, want %d", next, td)
	}
	l.run(t, td)
	if next := l.resume(t); next != td+1 {
		t.Fatalf("teardown done: resume at %d", next)
	}
}

// A step interrupted after its change but before its probe is redone.
func TestResumeMidStep(t *testing.T) {
	l := newLab(t, 1, 20)
	g := l.index(t, "global")
	for i := range g {
		l.run(t, i)
	}
	for _, c := range cluster.Names() {
		if err := l.backend.ConfigureService(context.Background(), c, cluster.ServiceChange{Global: cluster.Bool(true)}, cluster.Discard); err != nil {
			t.Fatal(err)
		}
	}
	if next := l.resume(t); next != g {
		t.Fatalf("annotated but not probed: resume at %d, want %d (global)", next, g)
	}
}

// Every step's check fails before it runs and passes after.
func TestStepChecks(t *testing.T) {
	l := newLab(t, 1, 20)
	ctx := context.Background()
	for i, s := range l.runner.Steps {
		ok, err := s.Check(ctx, l.env)
		if err != nil || ok {
			t.Errorf("step %s: check before run = %t, %v; want false", s.ID(), ok, err)
		}
		l.run(t, i)
		ok, err = s.Check(ctx, l.env)
		if err != nil || !ok {
			t.Errorf("step %s: check after run = %t, %v; want true", s.ID(), ok, err)
		}
	}
}

// Running a step twice converges on the same state, and its check still passes.
func TestStepsConverge(t *testing.T) {
	l := newLab(t, 1, 200)
	ctx := context.Background()
	for i, s := range l.runner.Steps {
		l.run(t, i)
		first := l.statuses(t)
		res := l.run(t, i)
		if len(res.Warnings) > 0 {
			t.Errorf("step %s again warned: %v", s.ID(), res.Warnings)
		}
		if again := l.statuses(t); !reflect.DeepEqual(again, first) {
			t.Errorf("step %s again changed the state:\n%+v\nwant\n%+v", s.ID(), again, first)
		}
		if ok, err := s.Check(ctx, l.env); err != nil || !ok {
			t.Errorf("step %s: check after running it twice = %t, %v", s.ID(), ok, err)
		}
	}
}

// Driving the clusters one after the other changes the timing only: the
// same seed gives the same state and the same probes.
func TestSequentialMatchesConcurrent(t *testing.T) {
	run := func(seq bool) ([2]cluster.Status, []cluster.ProbeResult) {
		l := newLab(t, 5, 100)
		l.env.Sequential = seq
		last := l.index(t, "scale-back")
		if err := l.runner.RunRange(context.Background(), 0, last, false); err != nil {
			t.Fatal(err)
		}
		var probes []cluster.ProbeResult
		for _, p := range l.env.Journal.Probes() {
			probes = append(probes, p.Result)
		}
		return l.statuses(t), probes
	}
	cs, cp := run(false)
	ss, sp := run(true)
	if !reflect.DeepEqual(cs, ss) {
		t.Errorf("state differs:\nconcurrent %+v\nsequential %+v", cs, ss)
	}
	if !reflect.DeepEqual(cp, sp) {
		t.Errorf("probes differ:\nconcurrent %v\nsequential %v", cp, sp)
	}
}

// A step that fails reports the error with a hint and is not journaled as done.
func TestStepFailure(t *testing.T) {
	l := newLab(t, 1, 20)
	connect := l.index(t, "connect")
	res := l.runner.RunStep(context.Background(), connect)
	if res.Err == nil || !strings.Contains(res.Err.Error(), `step "connect"`) || cluster.HintOf(res.Err) == "" {
		t.Fatalf("connect on a fresh lab: %v (hint %q)", res.Err, cluster.HintOf(res.Err))
	}
	if r, ok := l.env.Journal.Step("connect"); !ok || !r.Finished.IsZero() {
		t.Errorf("journal after the failure: %+v, %t; want started, not finished", r, ok)
	}
	err := l.runner.RunRange(context.Background(), connect, connect, true)
	if err == nil {
		t.Error("RunRange over a failing step succeeded")
	}
}

func TestIndexAndIDs(t *testing.T) {
	want := []string{"preflight", "create-clusters", "install-cilium", "enable-clustermesh", "connect", "hubble", "deploy", "global", "affinity-local", "scale-down", "scale-back", "teardown"}
	all := steps.All()
	var ids []string
	for i, s := range all {
		ids = append(ids, s.ID())
		if j, err := steps.Index(all, s.ID()); err != nil || j != i {
			t.Errorf("Index(%q) = %d, %v", s.ID(), j, err)
		}
		if s.Title() == "" || s.Explain() == "" || len(s.Commands(steps.CommandVars{})) == 0 {
			t.Errorf("step %s lacks a title, explanation or commands", s.ID())
		}
	}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("step ids %v, want %v", ids, want)
	}
	if _, err := steps.Index(all, "nope"); err == nil || !strings.Contains(err.Error(), "preflight") {
		t.Errorf("Index(nope): %v, want an error listing the ids", err)
	}
}

// Replaying from a step converges: after the whole story (and a playground
// change on top), running deploy again brings the clusters back to a local
// Service with one replica each and journals a true "local only" round;
// global brings back a global Service without affinity. No step is judged
// against a later state, and no false round is written.
func TestReplayFromAStepConverges(t *testing.T) {
	l := newLab(t, 1, 100)
	ctx := context.Background()
	if err := l.runner.RunRange(ctx, 0, l.index(t, "scale-back"), false); err != nil {
		t.Fatal(err)
	}
	// The playground: EU no longer shares and runs three replicas.
	if err := l.backend.ConfigureService(ctx, cluster.EU, cluster.ServiceChange{Shared: cluster.Bool(false)}, cluster.Discard); err != nil {
		t.Fatal(err)
	}
	if err := l.backend.Scale(ctx, cluster.EU, 3, cluster.Discard); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step, phase string
		us          cluster.Settings
		judge       [2]func(cluster.ProbeResult) bool
	}{
		{"deploy", steps.PhaseLocal, cluster.Settings{Global: false, Shared: true, Affinity: cluster.AffinityNone}, [2]func(cluster.ProbeResult) bool{allFrom(cluster.US), allFrom(cluster.EU)}},
		{"global", steps.PhaseGlobal, cluster.Settings{Global: true, Shared: true, Affinity: cluster.AffinityNone}, [2]func(cluster.ProbeResult) bool{both, both}},
		{"affinity-local", steps.PhaseAffinity, cluster.Settings{Global: true, Shared: true, Affinity: cluster.AffinityLocal}, [2]func(cluster.ProbeResult) bool{allFrom(cluster.US), both}},
	} {
		eu := tc.us
		eu.Affinity = cluster.AffinityNone
		i := l.index(t, tc.step)
		before := len(l.env.Journal.Probes())
		if err := l.runner.RunRange(ctx, i, i, false); err != nil {
			t.Fatalf("--from %s --to %s: %v", tc.step, tc.step, err)
		}
		round := l.env.Journal.Probes()[before:]
		if len(round) != 2 {
			t.Fatalf("%s: %d probes journaled, want one round", tc.step, len(round))
		}
		for _, p := range round {
			if p.Step != tc.step || p.Phase != tc.phase || !tc.judge[p.Result.From.Index()](p.Result) {
				t.Errorf("%s: journaled %s %s %s", tc.step, p.Step, p.Phase, p.Result)
			}
		}
		st := l.statuses(t)
		if got := st[cluster.US.Index()].Demo.Service.Settings; got != tc.us {
			t.Errorf("%s: US Service %+v, want %+v", tc.step, got, tc.us)
		}
		if got := st[cluster.EU.Index()].Demo.Service.Settings; got != eu {
			t.Errorf("%s: EU Service %+v, want %+v", tc.step, got, eu)
		}
		for _, c := range cluster.Names() {
			if hw := st[c.Index()].Demo.HelloWorld; hw.Desired != 1 || hw.Ready != 1 {
				t.Errorf("%s: hello-world in %s %+v, want one replica", tc.step, c, hw)
			}
		}
	}
}

// A torn-down lab is complete, but the steps whose clusters are gone are
// not done: only those whose check still passes (preflight) and the
// teardown are.
func TestResumeAfterTeardown(t *testing.T) {
	l := newLab(t, 1, 20)
	for i := range l.runner.Steps {
		l.run(t, i)
	}
	next, done, err := l.runner.Resume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if next != len(l.runner.Steps) {
		t.Fatalf("torn-down lab resumes at %d, want complete (%d)", next, len(l.runner.Steps))
	}
	for i, s := range l.runner.Steps {
		want := s.ID() == "preflight" || s.ID() == "teardown"
		if done[i] != want {
			t.Errorf("after teardown, step %s done = %t, want %t", s.ID(), done[i], want)
		}
	}
}

// A lab that was only torn down (teardown run on a fresh lab) is not
// complete: it starts from the top.
func TestResumeOnlyTornDown(t *testing.T) {
	l := newLab(t, 1, 20)
	l.run(t, l.index(t, "teardown"))
	if next := l.resume(t); next != 0 {
		t.Fatalf("a lab that was only torn down resumes at %d, want 0", next)
	}
}

// Short titles fit the guide's list, and exactly the probing steps have a
// probe phase, each its own.
func TestShortTitlesAndPhases(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range steps.All() {
		if n := len([]rune(s.ShortTitle())); n == 0 || n > 20 {
			t.Errorf("step %s: short title %q has %d characters, want 1..20", s.ID(), s.ShortTitle(), n)
		}
		if p := s.Phase(); p != "" {
			if seen[p] {
				t.Errorf("phase %q used twice", p)
			}
			seen[p] = true
		}
	}
	if len(seen) != 5 {
		t.Errorf("%d probing steps, want the story's five", len(seen))
	}
}
