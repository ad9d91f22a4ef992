package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// probingStep is a step of the lab's story that brings the demo to a state
// and probes it (steps 7 to 11). Each of those files holds one as a
// description: the state to converge to, what the probe from each cluster
// must show, the summary; runProbing runs any of them.
type probingStep struct {
	info
	// deploy applies the demo's manifests in both clusters first.
	deploy bool
	// state is the demo in US and EU as the step teaches it.
	state [2]demoState
	// scales names the cluster whose scaling is the step's own change: it
	// is scaled, and its rollout waited for, even when the replicas
	// already match, so a rerun waits for the pods too ("" for none).
	scales cluster.Name
	// expect is what the judged probe from US and from EU must show.
	expect [2]probeWant
	// summary is the outcome's sentence; %s takes the probes' counts.
	summary string
	// done tells from the statuses whether the step's effect is in place;
	// Check also asks the journal for the step's probe.
	done func(st [2]cluster.Status) bool
	// supplies is the sentinel a backend reports until the step has run
	// (see provider), or nil.
	supplies error
}

// probeWant is what the judged probe from one cluster must show: every
// answer from one cluster, or (only "") answers from both clusters in
// proportion to their ready pods, which the statuses tell once converged.
type probeWant struct{ only cluster.Name }

// allFrom wants every answer from cluster c.
func allFrom(c cluster.Name) probeWant { return probeWant{only: c} }

// fromBoth wants answers from both clusters.
func fromBoth() probeWant { return probeWant{} }

func (p probingStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	return runProbing(ctx, env, p)
}

func (p probingStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	return p.done(st) && env.Journal.Probed(p.id), nil
}

func (p probingStep) provides() error { return p.supplies }

// runProbing runs a probing step: deploy when it says so, converge on its
// state, read the statuses when an expectation depends on the pods, let
// the mesh settle, probe, judge, and sum the outcome up.
func runProbing(ctx context.Context, env *Env, p probingStep) (Outcome, error) {
	if p.deploy {
		if err := env.forBoth(ctx, "deploy the demo in %s", env.Backend.DeployDemo); err != nil {
			return Outcome{}, err
		}
	}
	if err := converge(ctx, env, p.state, p.scales); err != nil {
		return Outcome{}, err
	}
	expect, err := p.expectations(ctx, env)
	if err != nil {
		return Outcome{}, err
	}
	out, err := probeAndJudge(ctx, env, p.id, p.phase, expect)
	out.Summary = fmt.Sprintf(p.summary, probeSummary(out.Probes))
	return out, err
}

// expectations turns the step's wants into the judgements of its probes;
// answers from both are weighed by the ready pods the clusters have now.
func (p probingStep) expectations(ctx context.Context, env *Env) (map[cluster.Name]expectation, error) {
	var st [2]cluster.Status
	if p.expect[0].only == "" || p.expect[1].only == "" {
		var err error
		if st, err = env.statuses(ctx); err != nil {
			return nil, err
		}
	}
	out := make(map[cluster.Name]expectation, 2)
	for _, c := range cluster.Names() {
		if w := p.expect[c.Index()]; w.only != "" {
			out[c] = only(w.only)
		} else {
			out[c] = mixed(st)
		}
	}
	return out, nil
}
