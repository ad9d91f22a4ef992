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
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run the real lab (container engine, memory, inotify, host ports)",
		Long: `Check that this machine can run the lab on real kind clusters: a Docker or
Podman engine that answers, enough memory for six kind nodes, inotify limits
for several clusters, and host ports 32042, 31234 and 31235 free. Each check
that does not pass comes with its fix. Exits non-zero when a check fails.
The simulated mesh (--backend sim) needs none of this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			checks := doctor.Run(cmd.Context(), doctor.SystemEnv())
			printChecks(stdout, checks)
			if cluster.Failed(checks) {
				return cluster.WithHint(errors.New("this machine cannot run the real lab yet"),
					"apply the fixes above, or run the simulated mesh: clustermesh-lab --backend sim")
			}
			return nil
		},
	}
}

func printChecks(w io.Writer, checks []cluster.Check) {
	for _, c := range checks {
		fmt.Fprintf(w, "%-4s  %s: %s\n", strings.ToUpper(c.Status.String()), c.Name, c.Detail)
		if c.Status != cluster.Pass && c.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", c.Fix)
		}
	}
}
