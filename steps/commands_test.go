package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
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
		for _, name := range []string{labdir.KindConfigFile(c), labdir.DemoFile(c)} {
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
		ran, err := ts.Replay(s.Commands(sess.Env.CommandVars()))
		if err != nil {
			t.Fatalf("step %s: %v", s.ID(), err)
		}
		for _, r := range ran {
			for _, m := range stepstest.Missing(r) {
				t.Errorf("after step %s, %s in %s: %s", s.ID(), r.Cmd, r.Terminal, m)
			}
		}
	}
	// The simulated kubeconfigs say what they are, and point nowhere.
	if _, err := os.Stat(dir.File(labdir.KubeconfigFile(cluster.US))); err == nil {
		t.Error("the teardown left the kubeconfig of us")
	}
}
