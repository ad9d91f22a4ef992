package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// probeLoop is the seed's probe, run in the busybox pod.
const probeLoop = `kubectl exec -it deploy/busybox-deployment -- /bin/sh -c 'for i in $(seq 1 10); do wget -qO- hello-world:80; echo ""; done'`

type deployStep struct{ info }

func deployDemo() Step {
	return deployStep{info{
		id:    "deploy",
		title: "Deploy hello-world and busybox, then probe",
		explain: "Each cluster gets the same application: a hello-world Deployment (nginx answering with a JSON " +
			"message naming its cluster) behind a Service called hello-world, and a busybox pod to call it from. " +
			"The probe runs the seed's wget loop inside busybox. The clusters are connected, but a Service is only " +
			"shared across the mesh once it is annotated as global, so every answer should come from the local cluster.",
		commands: []Command{
			{Where: TermUS, Lines: []string{"kubectl apply -f deployment-us.yaml", probeLoop}},
			{Where: TermEU, Lines: []string{"kubectl apply -f deployment-eu.yaml", probeLoop}},
		},
	}}
}

func (s deployStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	if err := env.forBoth(ctx, "deploy the demo in %s", env.Backend.DeployDemo); err != nil {
		return Outcome{}, err
	}
	local := demo(false, cluster.AffinityNone)
	if err := converge(ctx, env, [2]demoState{local, local}); err != nil {
		return Outcome{}, err
	}
	out, err := probeAndJudge(ctx, env, s.id, PhaseLocal, map[cluster.Name]expectation{cluster.US: only(cluster.US), cluster.EU: only(cluster.EU)})
	out.Summary = fmt.Sprintf("Answers stay local (%s): the service is not global yet, so each cluster load-balances only to its own pods.", probeSummary(out.Probes))
	return out, err
}

func (s deployStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	return st[0].Demo.Deployed() && st[1].Demo.Deployed() && env.Journal.Probed(s.id), nil
}
