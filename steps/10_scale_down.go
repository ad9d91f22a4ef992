package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

type scaleDownStep struct{ info }

func scaleDown() Step {
	return scaleDownStep{info{
		id:    "scale-down",
		title: "Scale hello-world in US to 0 and watch failover",
		short: "Failover",
		phase: PhaseFailover,
		explain: "Now simulate an outage in US by scaling its hello-world Deployment to zero. With affinity local, " +
			"US has no active local backend left, so Cilium fails over to the healthy remote backends: every US " +
			"request should now be answered by EU. EU's own requests stay in EU, since US has no backend to offer.",
		commands: func(v CommandVars) []Command {
			return []Command{
				{Where: TermUS, Lines: []string{"kubectl scale deployment hello-world --replicas 0", v.probe()}},
				{Where: TermEU, Lines: []string{v.probe()}},
			}
		},
	}}
}

func (s scaleDownStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	want := affinityState()
	want[cluster.US.Index()] = want[cluster.US.Index()].scaled(0)
	if err := converge(ctx, env, want); err != nil {
		return Outcome{}, err
	}
	out, err := probeAndJudge(ctx, env, s.id, s.phase, map[cluster.Name]expectation{cluster.US: only(cluster.EU), cluster.EU: only(cluster.EU)})
	out.Summary = fmt.Sprintf("US failed over to EU (%s): with no local backend left, affinity local falls back to the remote cluster.", probeSummary(out.Probes))
	return out, err
}

func (s scaleDownStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	hw := st[cluster.US.Index()].Demo.HelloWorld
	return hw.Present && hw.Desired == 0 && env.Journal.Probed(s.id), nil
}
