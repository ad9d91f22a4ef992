package main

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/real"
)

// helmValuesOptions are the flags of `clustermesh-lab helm-values`.
type helmValuesOptions struct {
	cluster, stage, version string
	peerIP                  string
	peerPort                int
	valuesFile              string
}

func newHelmValuesCmd(stdout io.Writer) *cobra.Command {
	o := &helmValuesOptions{}
	cmd := &cobra.Command{
		Use:   "helm-values",
		Short: "Print the Helm values the lab applies to a cluster at a stage (install, enable, connect, hubble)",
		Long: `Print, as YAML, the Helm values the lab applies to the cilium release of one
cluster at one stage, with the helm command that applies them, so that you can
do by hand what the lab does:

  install  cluster name and id, IPAM and the values cilium-cli uses on kind
  enable   Cluster Mesh's clustermesh-apiserver behind a NodePort
  connect  the peer as a clustermesh.config.clusters entry; it depends on the
           live peer, so give its node IP (--peer-ip) and NodePort (--peer-port)
  hubble   Hubble Relay and UI on, their Services NodePorts 31234 and 31235
           (the seed's US kind config maps them to the host)

The values come from the same code the kind backend uses. With
--cilium-values, your file's values are merged over the lab's as the lab
merges them (the values the step's own command sets stay the lab's).`,
		Example: `  clustermesh-lab helm-values --cluster us --stage install > values.yaml
  clustermesh-lab helm-values --cluster eu --stage connect --peer-ip 172.18.0.2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return printHelmValues(stdout, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cluster, "cluster", "", "cluster: us or eu")
	f.StringVar(&o.stage, "stage", "", "stage: install, enable, connect or hubble")
	f.StringVar(&o.version, "cilium-version", real.DefaultCiliumVersion, "Cilium chart version (decides the format of the connect stage's values)")
	f.StringVar(&o.peerIP, "peer-ip", "", "connect stage: the peer's node IP (on kind, its control plane's address on the docker network)")
	f.IntVar(&o.peerPort, "peer-port", 0, fmt.Sprintf("connect stage: the peer's clustermesh-apiserver NodePort (default the chart's, %d, which both clusters use)", cluster.DefaultMeshNodePort))
	f.StringVar(&o.valuesFile, "cilium-values", "", "your extra Helm values (YAML file), merged over the lab's as the lab does")
	return cmd
}

// printHelmValues validates the flags and prints the header and the YAML.
func printHelmValues(w io.Writer, o *helmValuesOptions) error {
	if o.cluster == "" || o.stage == "" {
		return usagef("helm-values needs --cluster (us or eu) and --stage (install, enable, connect or hubble)")
	}
	c, err := cluster.ParseName(o.cluster)
	if err != nil {
		return usageError{fmt.Errorf("--cluster: %w", err)}
	}
	stage, err := real.ParseStage(o.stage)
	if err != nil {
		return usageError{fmt.Errorf("--stage: %w", err)}
	}
	var peer real.PeerEntry
	if stage == real.StageConnect {
		if net.ParseIP(o.peerIP) == nil {
			return usageError{cluster.WithHint(fmt.Errorf("the connect stage needs --peer-ip, the node IP of %s (got %q)", c.Peer(), o.peerIP),
				fmt.Sprintf("read it with: kubectl --context %s get nodes -o wide", c.Peer().Context()))}
		}
		port := o.peerPort
		if port == 0 {
			port = cluster.DefaultMeshNodePort
		}
		if port < 1 || port > 65535 {
			return usagef("invalid --peer-port %d: want 1..65535", port)
		}
		peer = real.PeerEntry{Name: string(c.Peer()), IPs: []string{o.peerIP}, Port: port}
	} else if o.peerIP != "" || o.peerPort != 0 {
		return usagef("--peer-ip and --peer-port only apply to --stage connect")
	}
	vals, err := real.StageValues(stage, c, o.version, peer)
	if err != nil {
		return usageError{err}
	}
	merged := ""
	if o.valuesFile != "" {
		user, err := real.ReadValuesFile(o.valuesFile)
		if err != nil {
			return usageError{fmt.Errorf("--cilium-values: %w", err)}
		}
		vals = real.MergeUserValues(stage, vals, user)
		merged = fmt.Sprintf("# They include your values from %s, merged over the lab's.\n", o.valuesFile)
	}
	out, err := yaml.Marshal(vals)
	if err != nil {
		return fmt.Errorf("render the values: %w", err)
	}
	file := fmt.Sprintf("values-%s-%s.yaml", c, stage)
	fmt.Fprintf(w, "# Helm values clustermesh-lab applies to the cilium release of %s at stage %q (Cilium %s).\n", c, stage, o.version)
	fmt.Fprint(w, merged)
	fmt.Fprintf(w, "# Save them as %s and apply them with:\n", file)
	fmt.Fprintf(w, "#   helm repo add cilium %s\n", real.DefaultChartRepo)
	fmt.Fprintf(w, "#   %s --kube-context %s\n", real.HelmCommand(stage, o.version, file), c.Context())
	fmt.Fprintf(w, "# or, as --set flags:\n#   %s\n", strings.Join(real.SetArgs(vals), " "))
	_, err = w.Write(out)
	return err
}
