package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labdir"
)

type deployStep struct{ info }

func deployDemo() Step {
	return deployStep{info{
		id:    "deploy",
		title: "Deploy hello-world and busybox, then probe",
		short: "Deploy & probe",
		phase: PhaseLocal,
		explain: "Each cluster gets the same application: a hello-world Deployment (nginx answering with a JSON " +
			"message naming its cluster) behind a Service called hello-world, and a busybox pod to call it from. " +
			"The manifests are the seed's deployment-us.yaml and deployment-eu.yaml, in the lab directory. The probe runs the seed's wget loop inside busybox. The clusters are connected, but a Service is only " +
			"shared across the mesh once it is annotated as global, so every answer should come from the local cluster.",
		commands: func(v CommandVars) []Command {
			var out []Command
			for _, c := range cluster.Names() {
				out = append(out, Command{Where: terminal(c), Lines: []string{
					"kubectl apply -f " + labdir.DemoFile(c),
					"kubectl rollout status deployment hello-world",
					"kubectl rollout status deployment busybox-deployment",
					v.probe(),
				}})
			}
			return out
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
	out, err := probeAndJudge(ctx, env, s.id, s.phase, map[cluster.Name]expectation{cluster.US: only(cluster.US), cluster.EU: only(cluster.EU)})
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
