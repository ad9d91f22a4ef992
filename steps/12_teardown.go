package steps

import (
	"context"
)

const teardownID = "teardown"

type teardownStep struct{ info }

func teardown() Step {
	return teardownStep{info{
		id:    teardownID,
		title: "Tear down both clusters",
		short: "Tear down",
		explain: "Deleting the two kind clusters removes their containers, and with them everything the lab " +
			"installed. The lab directory keeps the journal and the probe history.",
		commands: func(v CommandVars) []Command {
			return []Command{{Where: TermGlobal, Lines: []string{"kind delete cluster --name us", "kind delete cluster --name eu"}}}
		},
	}}
}

func (s teardownStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	if err := env.forBoth(ctx, "delete cluster %s", env.Backend.DeleteCluster); err != nil {
		return Outcome{}, err
	}
	return Outcome{Summary: "The lab's kind clusters are deleted (clusters you brought with --us-kubeconfig or --eu-kubeconfig keep running; the lab only forgets them). Thanks for following the lab!"}, nil
}

// Check passes only for a teardown this lab started: clusters that were
// never created are not "torn down".
func (s teardownStep) Check(ctx context.Context, env *Env) (bool, error) {
	if _, started := env.Journal.Step(teardownID); !started {
		return false, nil
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	return !st[0].Exists && !st[1].Exists, nil
}
