package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

type affinityStep struct{ info }

func affinityLocal() Step {
	return affinityStep{info{
		id:    "affinity-local",
		title: "Prefer local backends in US, then probe",
		short: "Affinity local",
		phase: PhaseAffinity,
		explain: "Cross-cluster calls cost latency, so usually you want remote backends only as a fallback. " +
			"service.cilium.io/affinity=\"local\" on a global Service makes Cilium use local backends only, and remote " +
			"ones only when no local backend is active (terminating pods do not count). It is set in US only: US " +
			"should answer from US alone, while EU, still affinity none, keeps spreading its requests over both clusters.",
		commands: func(v CommandVars) []Command {
			return []Command{
				{Where: TermUS, Lines: []string{`kubectl annotate service hello-world service.cilium.io/affinity="local"`, v.probe()}},
				{Where: TermEU, Lines: []string{v.probe()}},
			}
		},
	}}
}

func (s affinityStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	if err := converge(ctx, env, affinityState()); err != nil {
		return Outcome{}, err
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return Outcome{}, err
	}
	out, err := probeAndJudge(ctx, env, s.id, s.phase, map[cluster.Name]expectation{cluster.US: only(cluster.US), cluster.EU: mixed(st)})
	out.Summary = fmt.Sprintf("US now answers from US only while EU still mixes (%s): affinity is a per-cluster choice.", probeSummary(out.Probes))
	return out, err
}

// affinityState is the lab from this step on: both global, US prefers its
// own backends, one replica each.
func affinityState() [2]demoState {
	return [2]demoState{demo(true, cluster.AffinityLocal), demo(true, cluster.AffinityNone)}
}

func (s affinityStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	svc := st[cluster.US.Index()].Demo.Service
	return svc.Global && svc.Affinity == cluster.AffinityLocal && env.Journal.Probed(s.id), nil
}
