package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/stepstest"
)

// TestShownCommandsNameWhatExistsOnTheSimulatedMesh runs the lab on the
// simulated mesh in a lab directory and, after each step, replays the
// step's commands in the seed's terminals (starting elsewhere, so the cd
// lines matter): every file, kubeconfig and context they name exists.
func TestShownCommandsNameWhatExistsOnTheSimulatedMesh(t *testing.T) {
	ctx := context.Background()
	dir, err := labdir.Open(filepath.Join(t.TempDir(), "my lab"), "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sim.New(sim.Options{Seed: 1, Store: dir.Store("sim-state.json"), Dir: dir.Path()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteLabFiles(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range cluster.Names() {
		for _, name := range []string{labfiles.KindConfigFile(c), labfiles.DemoFile(c)} {
			if _, err := os.Stat(dir.File(name)); err != nil {
				t.Errorf("before the first step: %v", err)
			}
		}
	}
	sess, err := steps.OpenSession(dir, b, 12)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ts := &stepstest.Terminals{Home: t.TempDir()}
	for i, s := range sess.Runner.Steps {
		if res := sess.Runner.RunStep(ctx, i); res.Err != nil {
			t.Fatalf("step %s: %v", s.ID(), res.Err)
		}
		stepstest.CheckStep(t, ts, s, sess.Env.CommandVars())
	}
	// The simulated kubeconfigs say what they are, and point nowhere.
	if _, err := os.Stat(dir.File(labfiles.KubeconfigFile(cluster.US))); err == nil {
		t.Error("the teardown left the kubeconfig of us")
	}
}

// lineRecorder keeps each step's log lines and summary.
type lineRecorder struct {
	recorder
	step  string
	lines map[string][]string
}

func (r *lineRecorder) StepStarted(s steps.Step, i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step = s.ID()
}

func (r *lineRecorder) Log(l steps.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lines == nil {
		r.lines = map[string][]string{}
	}
	r.lines[r.step] = append(r.lines[r.step], l.Text)
}

func (r *lineRecorder) StepDone(s steps.Step, i int, res steps.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines[s.ID()] = append(r.lines[s.ID()], res.Summary)
}

// TestOnlyTrueLines runs the lab on the simulated mesh and looks for the
// cilium-cli-style lines that claimed what nobody checked: a Kubernetes
// distribution "auto-detected", `cilium status` saying "ClusterMesh: OK",
// a NodePort warning at enable (where the step set the type itself).
// The enable step reports the NodePorts it read, the same in both clusters.
func TestOnlyTrueLines(t *testing.T) {
	l := newLab(t, 1, 10)
	rec := &lineRecorder{}
	l.env.Reporter = rec
	for i := range l.runner.Steps {
		l.run(t, i)
	}
	for step, lines := range rec.lines {
		for _, line := range lines {
			for _, claim := range []string{"Auto-detected", "ClusterMesh: OK", "32380"} {
				if strings.Contains(line, claim) {
					t.Errorf("step %s claims %q: %s", step, claim, line)
				}
			}
			if step == "enable-clustermesh" && strings.Contains(line, "NodePort detected") {
				t.Errorf("enable warns about a NodePort it set itself: %s", line)
			}
		}
	}
	sum := rec.lines["enable-clustermesh"][len(rec.lines["enable-clustermesh"])-1]
	if !strings.Contains(sum, "NodePort 32379 in us, 32379 in eu") {
		t.Errorf("enable summary %q does not report the NodePorts read", sum)
	}
	if !slices.ContainsFunc(rec.lines["connect"], func(s string) bool { return strings.Contains(s, "NodePort detected") }) {
		t.Errorf("connect, which reads the Service type, no longer reports it:\n%s", strings.Join(rec.lines["connect"], "\n"))
	}
}

// TestPreloadCommands: with the images preloaded, the create step shows
// loading them into every node after kind creates the cluster, and the
// install step turns off the chart's digests; without, neither.
func TestPreloadCommands(t *testing.T) {
	byID := map[string]steps.Step{}
	for _, s := range steps.All() {
		byID[s.ID()] = s
	}
	text := func(id string, preload bool) string {
		var out []string
		for _, c := range byID[id].Commands(steps.CommandVars{Setup: steps.Setup{Preload: preload}}) {
			out = append(out, c.Lines...)
		}
		return strings.Join(out, "\n")
	}
	for _, c := range cluster.Names() {
		load := "xargs kind load docker-image --name " + string(c)
		create := text("create-clusters", true)
		if !strings.Contains(create, load) || strings.Index(create, load) < strings.Index(create, "kind create cluster --name "+string(c)) {
			t.Errorf("preloading, create lacks %q after kind create:\n%s", load, create)
		}
	}
	if install := text("install-cilium", true); strings.Count(install, "useDigest=false") < 5 {
		t.Errorf("preloading, install does not turn off digests:\n%s", install)
	}
	if strings.Contains(text("create-clusters", false), "kind load") || strings.Contains(text("install-cilium", false), "useDigest") {
		t.Error("without preload, the commands load or un-digest images")
	}
}
