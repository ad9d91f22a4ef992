package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

const preflightID = "preflight"

type preflightStep struct{ info }

func preflight() Step {
	return preflightStep{info{
		id:    preflightID,
		title: "Check the machine",
		explain: "Two kind clusters of three nodes each run as six containers on this machine. " +
			"kind needs a running Docker (or Podman) engine, about 8 GiB of memory for six nodes, " +
			"inotify limits high enough for several clusters, and free host ports 32042, 31234 and 31235, " +
			"which the US control plane maps to the host (31234 and 31235 are Hubble relay and UI's NodePorts).",
		commands: []Command{{Where: "Any terminal", Lines: []string{
			"docker info --format '{{.ServerVersion}} {{.MemTotal}}'",
			"sysctl fs.inotify.max_user_watches fs.inotify.max_user_instances",
			"ss -ltn '( sport = :32042 or sport = :31234 or sport = :31235 )'",
		}}},
	}}
}

func (s preflightStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	checks := env.Backend.Preflight(ctx)
	var out Outcome
	var failed []string
	log := env.logger("")
	for _, c := range checks {
		log.Logf("%-4s %s: %s", strings.ToUpper(c.Status.String()), c.Name, c.Detail)
		switch c.Status {
		case cluster.Warn:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: %s (fix: %s)", c.Name, c.Detail, c.Fix))
		case cluster.Fail:
			failed = append(failed, fmt.Sprintf("%s: %s", c.Name, c.Detail))
		}
	}
	if len(failed) > 0 {
		var fixes []string
		for _, c := range checks {
			if c.Status == cluster.Fail && c.Fix != "" {
				fixes = append(fixes, c.Fix)
			}
		}
		return out, cluster.WithHint(fmt.Errorf("preflight failed: %s", strings.Join(failed, "; ")), strings.Join(fixes, "; "))
	}
	out.Summary = fmt.Sprintf("%d checks passed, %d warnings: this machine can run the lab.", len(checks)-len(out.Warnings), len(out.Warnings))
	return out, nil
}

// Check passes once the checks ran; later steps fail with their own clear
// errors if the machine changes under the lab.
func (s preflightStep) Check(ctx context.Context, env *Env) (bool, error) {
	r, ok := env.Journal.Step(preflightID)
	return ok && !r.Finished.IsZero(), nil
}
