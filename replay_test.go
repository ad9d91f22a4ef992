package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/real"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// issue 10 item 3: on a lab past the affinity step, `run --headless --from
// deploy --to deploy` brings the clusters back to the deploy step's state
// and journals a true "local only" round; --from global a true global one.
func TestReplayFromAStepThroughTheCLI(t *testing.T) {
	lab := newLab(t, "scale-back")
	for _, tc := range []struct {
		step, phase string
		ok          func(p probeOutcome) bool
	}{
		{"deploy", steps.PhaseLocal, func(p probeOutcome) bool {
			return (p.From == "us" && p.US == p.Requests) || (p.From == "eu" && p.EU == p.Requests)
		}},
		{"global", steps.PhaseGlobal, func(p probeOutcome) bool { return p.US > 0 && p.EU > 0 && p.Err == 0 }},
	} {
		before := len(readEnd(t, lab).probes)
		out := mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab, "--requests", "60", "--from", tc.step, "--to", tc.step)
		round := readEnd(t, lab).probes[before:]
		if len(round) != 2 {
			t.Fatalf("--from %s: %d probes journaled, want one round\n%s", tc.step, len(round), tail(out, 30))
		}
		for _, p := range round {
			if p.Step != tc.step || p.Phase != tc.phase || !tc.ok(p) {
				t.Errorf("--from %s: journaled %+v", tc.step, p)
			}
		}
	}
}

// The real backend says what to do in its own terms; the command line
// adds the flag that does it.
func TestFlagHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{cluster.WithHint(fmt.Errorf("pull: %w", real.ErrChartUnavailable), "check the network"), "check the network; give a downloaded chart with --cilium-chart FILE"},
		{fmt.Errorf("create: %w", real.ErrForeignCluster), "--us-kubeconfig/--us-context"},
		{fmt.Errorf("load: %w", real.ErrExternalCluster), "check --us-kubeconfig/--us-context or --eu-kubeconfig/--eu-context"},
		{fmt.Errorf("record: %w", real.ErrCorruptRecord), "--fresh"},
	} {
		got := withFlagHint(tc.err)
		if !errors.Is(got, tc.err) || !strings.Contains(cluster.HintOf(got), tc.want) {
			t.Errorf("%v: hint %q, want %q", tc.err, cluster.HintOf(got), tc.want)
		}
	}
	plain := errors.New("other")
	if withFlagHint(plain) != plain {
		t.Error("an error no flag fixes gained a hint")
	}
}
