package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

func newDoctorCmd(stdout io.Writer) *cobra.Command {
	var lab doctor.Lab
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run the real lab (engine, kernel, cgroups, memory, inotify, network, ports, images)",
		Long: `Check that this machine can run the lab on real kind clusters: a Docker or
Podman engine that answers; a kernel Cilium accepts (5.10 or newer); the
engine's cgroup version (on cgroup v1 the lab patches its kind configs for
kubelet 1.35); enough memory for six kind nodes; inotify limits for several
clusters; a Docker network kind clear of the lab's pod and service subnets;
host ports 32042, 31234 and 31235 free (the seed's US kind config maps them;
31234 and 31235 are the Hubble Relay and UI NodePorts); leftover us/eu
clusters; the Kubernetes version of the node image against the versions the
Cilium release is tested with; and whether kind must pull the node image
from Docker Hub. Each check that does not pass comes with its fix. Exits
non-zero when a check fails. The simulated mesh (--backend sim) needs none
of this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			checks := doctor.Run(cmd.Context(), doctor.SystemEnv(), lab)
			printChecks(stdout, checks)
			if cluster.Failed(checks) {
				return cluster.WithHint(errors.New("this machine cannot run the real lab yet"),
					"apply the fixes above, or run the simulated mesh: clustermesh-lab --backend sim")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&lab.NodeImage, "node-image", "", "node image the lab would use (default "+cluster.DefaultNodeImage+")")
	cmd.Flags().StringVar(&lab.CiliumVersion, "cilium-version", "", "Cilium version the lab would install (default "+cluster.DefaultCiliumVersion+")")
	return cmd
}

func printChecks(w io.Writer, checks []cluster.Check) {
	for _, c := range checks {
		fmt.Fprintf(w, "%-4s  %s: %s\n", strings.ToUpper(c.Status.String()), c.Name, c.Detail)
		if c.Status != cluster.Pass && c.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", c.Fix)
		}
	}
}
