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
		short: "Check the machine",
		explain: "Two kind clusters of three nodes each run as six containers on this machine, sharing its kernel. " +
			"The checks: a Docker (or Podman) engine; Linux 5.10 or newer, for Cilium; the engine's cgroup version " +
			"(kubelet 1.35 refuses v1 unless the kind configs say otherwise, which the lab then does); about 8 GiB of " +
			"memory; inotify limits for several clusters; a Docker network kind clear of the clusters' pod and service " +
			"subnets; free host ports 32042, 31234 and 31235, which the seed's US kind config maps (31234 and 31235 are " +
			"the Hubble Relay and Hubble UI NodePorts); the node image's Kubernetes version against the versions the " +
			"Cilium release is tested with; and whether kind must pull that image from Docker Hub, which rate-limits " +
			"anonymous pulls.",
		commands: func(v CommandVars) []Command {
			return []Command{{Where: "Any terminal", Lines: []string{
				"docker info --format '{{.ServerVersion}} {{.MemTotal}} {{.KernelVersion}} cgroup v{{.CgroupVersion}}'",
				"sysctl fs.inotify.max_user_watches fs.inotify.max_user_instances",
				"docker network inspect kind --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}'",
				"ss -ltn '( sport = :32042 or sport = :31234 or sport = :31235 )'",
				"docker inspect --type=image --format '{{.Id}}' " + v.NodeImage,
			}}}
		},
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
