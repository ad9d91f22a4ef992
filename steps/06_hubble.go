package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// HubbleID is the hubble step's id.
const HubbleID = "hubble"

type hubbleStep struct{ info }

func observeHubble() Step {
	return hubbleStep{info{
		id:    HubbleID,
		title: "Observe the mesh with Hubble",
		short: "Hubble",
		explain: "Hubble is how a Cilium user sees where a request went: every agent records the flows it forwards or drops, " +
			"each naming the source pod and cluster, the destination pod and cluster, the identities and the verdict. " +
			"Hubble Relay gathers them over the agents' peer service and serves Hubble's observer API; with Cluster Mesh and " +
			"one shared CA it shows the flows of the whole mesh. Hubble UI draws them as a service map. " +
			"`cilium hubble enable --ui` turns both on with a Helm upgrade; the lab also makes their Services NodePorts on " +
			"the chart's ports, 31234 (relay) and 31235 (UI), which the seed's US kind config maps to the host: " +
			"`hubble observe --server localhost:31234` and a browser on http://localhost:31235 then work from your machine. " +
			"EU gets the same values, one command in both terminals as for Cluster Mesh; its ports are not mapped to the host, " +
			"so reach EU's relay on its control plane's address on the kind network or with `cilium hubble port-forward`. " +
			"A values file (--cilium-values) that keeps relay or UI off wins: the step says so and waits only for what is on.",
		commands: func(v CommandVars) []Command {
			upgrade := []string{
				"cilium upgrade --version " + v.CiliumVersion + " --reuse-values \\",
				fmt.Sprintf("  --set hubble.relay.service.type=NodePort --set hubble.relay.service.nodePort=%d \\", cluster.HubbleRelayNodePort),
				fmt.Sprintf("  --set hubble.ui.service.type=NodePort --set hubble.ui.service.nodePort=%d", cluster.HubbleUINodePort),
			}
			if v.ValuesFile != "" {
				upgrade[len(upgrade)-1] += " \\"
				upgrade = append(upgrade, "  --values "+shellQuote(v.ValuesFile))
			}
			both := append([]string{"cilium hubble enable --ui"}, upgrade...)
			both = append(both, "cilium status --wait")
			return []Command{
				{Where: TermUS + " & " + TermEU, Lines: both},
				{Where: TermUS, Lines: []string{
					fmt.Sprintf("hubble observe --server localhost:%d --from-label app=busybox --last 20", cluster.HubbleRelayNodePort),
				}},
			}
		},
	}}
}

func (s hubbleStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	if err := env.forBoth(ctx, "enable hubble in %s", env.Backend.EnableHubble); err != nil {
		return Outcome{}, err
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return Outcome{}, err
	}
	var parts, warnings []string
	for _, c := range cluster.Names() {
		h := st[c.Index()].Hubble
		parts = append(parts, fmt.Sprintf("%s: %s", c.Label(), strings.TrimPrefix(h.Line(), "hubble ")))
		var off []string
		if !h.RelayWanted {
			off = append(off, "Relay")
		}
		if !h.UIWanted {
			off = append(off, "UI")
		}
		if len(off) > 0 {
			warnings = append(warnings, fmt.Sprintf("Hubble %s stays off in %s: the Helm values (your --cilium-values) turn it off, so the step did not wait for it", strings.Join(off, " and "), c.Label()))
		}
	}
	summary := "Hubble is on (" + strings.Join(parts, "; ") + ")."
	if len(warnings) == 2 && !st[0].Hubble.RelayWanted && !st[0].Hubble.UIWanted && !st[1].Hubble.RelayWanted && !st[1].Hubble.UIWanted {
		summary = "Hubble Relay and UI stay off in both clusters, as the Helm values say: the probes carry no flows."
	}
	if st[cluster.US.Index()].Hubble.RelayReady() {
		summary += fmt.Sprintf(" From this machine: hubble observe --server localhost:%d", cluster.HubbleRelayNodePort)
		if st[cluster.US.Index()].Hubble.UIReady() {
			summary += fmt.Sprintf(", and Hubble UI at http://localhost:%d", cluster.HubbleUINodePort)
		}
		summary += ". The probes from here on carry their flows."
	}
	return Outcome{Summary: summary, Warnings: warnings}, nil
}

func (s hubbleStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	return st[0].Hubble.Ready() && st[1].Hubble.Ready(), nil
}
