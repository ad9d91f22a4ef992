package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

type scaleBackStep struct{ info }

func scaleBack() Step {
	return scaleBackStep{info{
		id:    "scale-back",
		title: "Scale US back to 1 and watch traffic return home",
		short: "Back home",
		phase: PhaseHome,
		explain: "When US's hello-world is back and ready, it is an active local backend again, so affinity local " +
			"sends US's requests home. Nothing had to be reconfigured: failover and return are automatic. " +
			"EU, with affinity none, mixes again.",
		commands: func(v CommandVars) []Command {
			return []Command{
				{Where: TermUS, Lines: []string{"kubectl scale deployment hello-world --replicas 1", "kubectl rollout status deployment hello-world", v.probe()}},
				{Where: TermEU, Lines: []string{v.probe()}},
			}
		},
	}}
}

func (s scaleBackStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	want := affinityState()
	want[cluster.US.Index()] = want[cluster.US.Index()].scaled(1)
	if err := converge(ctx, env, want); err != nil {
		return Outcome{}, err
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return Outcome{}, err
	}
	out, err := probeAndJudge(ctx, env, s.id, s.phase, map[cluster.Name]expectation{cluster.US: only(cluster.US), cluster.EU: mixed(st)})
	out.Summary = fmt.Sprintf("Traffic is back home (%s): US answers from US again, EU mixes again.", probeSummary(out.Probes))
	return out, err
}

func (s scaleBackStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	us := st[cluster.US.Index()].Demo
	return us.HelloWorld.Desired == 1 && us.HelloWorld.Ready == 1 && us.Service.Affinity == cluster.AffinityLocal && env.Journal.Probed(s.id), nil
}
