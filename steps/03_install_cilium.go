package steps

import (
	"context"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

type installStep struct{ info }

func installCilium() Step {
	return installStep{info{
		id:    "install-cilium",
		title: "Install Cilium in both clusters",
		short: "Install Cilium",
		explain: "Cilium becomes each cluster's CNI. Every cluster in a mesh needs a unique name and a numeric id " +
			"(1 to 255): US is cluster 1, EU cluster 2, with IPAM in kubernetes mode so pods get addresses from the " +
			"node's podCIDR. The Helm chart generates a CA (Secret cilium-ca) at install; the clusters of a mesh must " +
			"trust the same CA, so the lab copies US's cilium-ca into EU before installing there, as Cilium's docs " +
			"advise (the seed skipped this and got \"CA certificates do not match\"). Nodes turn Ready as their agent starts. " +
			"A values file given with --cilium-values (shown as --values) is laid over the lab's values at every install and " +
			"upgrade; the three --set values stay the lab's, as they would for cilium install.",
		commands: func(v CommandVars) []Command {
			return []Command{
				{Where: TermUS, Lines: ciliumInstall(v, cluster.US)},
				{Where: TermGlobal, Lines: append(v.cd(),
					"export "+bothKubeconfigs,
					"kubectl --context kind-us -n kube-system get secret cilium-ca -o yaml | \\",
					"  kubectl --context kind-eu create -f -",
				)},
				{Where: TermEU, Lines: ciliumInstall(v, cluster.EU)},
			}
		},
	}}
}

// ciliumInstall is the seed's `cilium install` for c, at the lab's Cilium
// version and with the learner's values file when there is one.
func ciliumInstall(v CommandVars, c cluster.Name) []string {
	lines := []string{
		"cilium install --version " + v.CiliumVersion + " \\",
		"  --set cluster.name=" + string(c) + " \\",
		fmt.Sprintf("  --set cluster.id=%d \\", c.ID()),
		"  --set ipam.mode=kubernetes",
	}
	if v.ValuesFile != "" {
		lines[len(lines)-1] += " \\"
		lines = append(lines, "  --values "+shellQuote(v.ValuesFile))
	}
	if v.Preload {
		// Preloaded images have no registry digest in the nodes (the lab
		// turns off every useDigest of the chart; these are the main ones).
		lines[len(lines)-1] += " \\"
		lines = append(lines, "  --set image.useDigest=false --set operator.image.useDigest=false \\",
			"  --set clustermesh.apiserver.image.useDigest=false --set envoy.image.useDigest=false \\",
			"  --set certgen.image.useDigest=false")
	}
	return append(lines, "cilium status --wait")
}

// Run installs in US, shares its CA, then installs in EU while US's agents
// start: only the CA copy orders the two clusters.
func (s installStep) Run(ctx context.Context, env *Env) (Outcome, error) {
	b := env.Backend
	install := func(ctx context.Context, c cluster.Name) error {
		if err := b.InstallCilium(ctx, c, env.logger(c)); err != nil {
			return fmt.Errorf("install cilium in %s: %w", c, err)
		}
		return nil
	}
	wait := func(ctx context.Context, c cluster.Name) error {
		if err := b.WaitCilium(ctx, c, env.logger(c)); err != nil {
			return fmt.Errorf("wait for cilium in %s: %w", c, err)
		}
		return nil
	}
	share := func(ctx context.Context) error {
		if err := b.ShareCA(ctx, cluster.US, cluster.EU, env.logger("")); err != nil {
			return fmt.Errorf("share the cilium CA from us to eu: %w", err)
		}
		return nil
	}
	if err := install(ctx, cluster.US); err != nil {
		return Outcome{}, err
	}
	err := env.both(ctx, func(ctx context.Context, c cluster.Name) error {
		if c == cluster.US {
			if env.Sequential {
				if err := wait(ctx, c); err != nil {
					return err
				}
				return share(ctx)
			}
			return wait(ctx, c)
		}
		if !env.Sequential {
			if err := share(ctx); err != nil {
				return err
			}
		}
		if err := install(ctx, c); err != nil {
			return err
		}
		return wait(ctx, c)
	})
	if err != nil {
		return Outcome{}, err
	}
	st, err := env.statuses(ctx)
	if err != nil {
		return Outcome{}, err
	}
	// Say what the status read, not what the step meant to do.
	ca := "their cilium-ca certificates differ"
	if st[0].Cilium.CA != "" && st[0].Cilium.CA == st[1].Cilium.CA {
		ca = "both trust one CA (cilium-ca " + st[0].Cilium.CA + ")"
	}
	return Outcome{Summary: fmt.Sprintf("Cilium %s runs in both clusters: us is cluster %d and eu cluster %d, %d of %d nodes are Ready, and %s.",
		st[0].Cilium.Version, st[0].Cilium.ClusterID, st[1].Cilium.ClusterID, st[0].Nodes.Ready+st[1].Nodes.Ready, st[0].Nodes.Total+st[1].Nodes.Total, ca)}, nil
}

func (s installStep) Check(ctx context.Context, env *Env) (bool, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return false, err
	}
	for _, c := range cluster.Names() {
		ci := st[c.Index()]
		if !ci.Exists || !ci.Cilium.Ready() || ci.Cilium.ClusterName != string(c) || ci.Cilium.ClusterID != c.ID() || !ci.Nodes.All() {
			return false, nil
		}
	}
	return st[0].Cilium.CA != "" && st[0].Cilium.CA == st[1].Cilium.CA, nil
}
