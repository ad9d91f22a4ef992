// Command clustermesh-lab is an interactive guide to the lab "Multi cluster
// networking with Cilium Cluster Mesh": it creates the US and EU kind
// clusters, installs Cilium, connects them with Cluster Mesh and shows global
// services, affinity and failover, on real clusters or on a simulated mesh.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError marks bad input, which exits with status 2 instead of 1.
type usageError struct{ error }

// Unwrap lets errors.As find a hint attached to the wrapped error.
func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// run executes the command line and returns the exit status; it never
// panics on bad input and prints errors as one line plus what to do next.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	err = withFlagHint(err)
	fmt.Fprintf(stderr, "clustermesh-lab: %v\n", err)
	if h := cluster.HintOf(err); h != "" {
		fmt.Fprintf(stderr, "  What to do: %s\n", h)
	}
	var ue usageError
	if errors.As(err, &ue) || isFlagError(err) {
		return 2
	}
	return 1
}

// isFlagError recognises cobra's and pflag's parse errors, which carry no type.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "invalid argument", "flag needs an argument", "unknown command", "accepts ", "bad flag syntax"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &labOptions{}
	root := &cobra.Command{
		Use:   "clustermesh-lab",
		Short: "An interactive lab guide to multi-cluster networking with Cilium Cluster Mesh",
		Long: `clustermesh-lab walks you through the lab "Multi cluster networking with Cilium
Cluster Mesh": two kind clusters (US and EU), Cilium in both, Cluster Mesh,
a global hello-world service, affinity and failover. Each step explains itself,
shows the equivalent kind / cilium / kubectl commands, runs them for you and
shows which cluster answered.

It needs nothing but Docker (or Podman). Without one, the simulated mesh
(--backend sim) runs the whole lab in this process and behaves as Cilium does.

Run without a command to start the lab: the interactive guide on a terminal,
plain text otherwise (see "run --headless").`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLab(cmd.Context(), cmd, o, runOptions{}, stdin, stdout)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	o.addFlags(root)
	root.AddCommand(
		newRunCmd(stdin, stdout),
		newStepsCmd(stdout),
		newSimulateCmd(stdout),
		newDoctorCmd(stdout),
		newVersionCmd(stdout),
		newHelmValuesCmd(stdout),
	)
	return root
}
