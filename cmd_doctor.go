package main

import (
	"encoding/json"
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
	var asJSON, summary bool
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
of this.

For a workshop: --summary prints one short line per check (for a slide or a
chat message), --json one JSON document (version, ready, counts, and per
check its id, status, summary, detail and hint) that a script can collect
from every laptop in the room.`,
		Example: `  clustermesh-lab doctor
  clustermesh-lab doctor --summary
  clustermesh-lab doctor --json | jq -r '.checks[] | select(.status != "ok") | .summary'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && summary {
				return usagef("--json and --summary cannot go together: choose one output")
			}
			checks := doctor.Run(cmd.Context(), doctor.SystemEnv(), lab)
			switch {
			case asJSON:
				if err := writeDoctorJSON(stdout, checks); err != nil {
					return err
				}
			case summary:
				printSummaries(stdout, checks)
			default:
				printChecks(stdout, checks)
			}
			if cluster.Failed(checks) {
				return cluster.WithHint(errors.New("this machine cannot run the real lab yet"),
					"apply the fixes above, or run the simulated mesh: clustermesh-lab --backend sim")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&lab.NodeImage, "node-image", "", "node image the lab would use (default "+cluster.DefaultNodeImage+")")
	cmd.Flags().StringVar(&lab.CiliumVersion, "cilium-version", "", "Cilium version the lab would install (default "+cluster.DefaultCiliumVersion+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document (id, status, summary, detail, hint per check) instead of text")
	cmd.Flags().BoolVar(&summary, "summary", false, "print one short line per check, for a slide")
	return cmd
}

// writeDoctorJSON writes the checks as one indented JSON document.
func writeDoctorJSON(w io.Writer, checks []cluster.Check) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doctor.NewReport(checks)); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// printSummaries prints a glyph and the one-line summary of each check.
func printSummaries(w io.Writer, checks []cluster.Check) {
	for _, c := range doctor.NewReport(checks).Checks {
		fmt.Fprintf(w, "%s %s\n", summaryGlyph(c.Status), c.Summary)
	}
}

// summaryGlyph is doctor.Glyph for a report's status word.
func summaryGlyph(status string) string {
	switch status {
	case "warn":
		return doctor.Glyph(cluster.Warn)
	case "fail":
		return doctor.Glyph(cluster.Fail)
	}
	return doctor.Glyph(cluster.Pass)
}

func printChecks(w io.Writer, checks []cluster.Check) {
	for _, c := range checks {
		fmt.Fprintf(w, "%-4s  %s: %s\n", strings.ToUpper(c.Status.String()), c.Name, c.Detail)
		if c.Status != cluster.Pass && c.Fix != "" {
			fmt.Fprintf(w, "      fix: %s\n", c.Fix)
		}
	}
}
