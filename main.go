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
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
// A signal (SIGINT, SIGTERM, SIGHUP) stops the lab cleanly, then the exit
// status is the shell's for that signal: 130 for SIGINT, 143 for SIGTERM.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, received, stop := signalContext()
	defer stop()
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if received() != nil && errors.Is(err, context.Canceled) && cluster.HintOf(err) == "" {
		err = errors.New("interrupted")
	}
	if err != nil {
		err = withFlagHint(err)
		// One line, also for errors joined from both clusters.
		fmt.Fprintf(stderr, "clustermesh-lab: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		if h := cluster.HintOf(err); h != "" {
			fmt.Fprintf(stderr, "  What to do: %s\n", h)
		}
	}
	var ue usageError
	switch sig, ok := received().(syscall.Signal); {
	case ok:
		return 128 + int(sig)
	case err == nil:
		return 0
	case errors.As(err, &ue) || isFlagError(err):
		return 2
	}
	return 1
}

// signalContext returns a context cancelled by the first SIGINT, SIGTERM
// or SIGHUP, and a function that tells which one arrived (nil for none).
// After the first, the signals' default action is restored: a second
// ctrl+c ends the process at once, should the clean stop hang.
func signalContext() (ctx context.Context, received func() os.Signal, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var got atomic.Value
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			got.Store(s)
			signal.Stop(ch)
			cancel()
		case <-done:
		}
	}()
	received = func() os.Signal {
		s, _ := got.Load().(os.Signal)
		return s
	}
	stop = func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
	return ctx, received, stop
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
		Args:          unknownCommand,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLab(cmd.Context(), cmd, o, runOptions{}, stdin, stdout)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// "clustermesh-lab simualte --us ..." fails on --us, which the
		// root does not know: the misspelt command is the mistake.
		if c == c.Root() && c.Flags().NArg() > 0 {
			return unknownCommand(c, c.Flags().Args())
		}
		err = fmt.Errorf("%w (see %s --help)", err, c.CommandPath())
		if near := nearestFlag(c, err.Error()); near != "" {
			err = cluster.WithHint(err, "did you mean --"+near+"?")
		}
		return usageError{err}
	})
	o.addFlags(root)
	root.AddCommand(
		newRunCmd(stdin, stdout),
		newStepsCmd(stdout),
		newSimulateCmd(stdout),
		newDoctorCmd(stdout),
		newVersionCmd(stdout),
		newHelmValuesCmd(stdout),
		newImagesCmd(stdout, stderr),
		newBundleCmd(stdout),
	)
	return root
}

// unknownCommand is the root command's argument check. Cobra suggests the
// nearest command only for a root without one, and the root takes no
// arguments: a word that is no command gets its suggestion here.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	err := fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usageError{cluster.WithHint(err, fmt.Sprintf("did you mean %s %s? (%s --help lists the commands)", cmd.CommandPath(), s[0], cmd.CommandPath()))}
	}
	return usageError{cluster.WithHint(err, cmd.CommandPath()+" --help lists the commands")}
}

// nearestFlag returns the flag of c closest to the unknown one an error
// names ("unknown flag: --fersh"), within two edits, or "".
func nearestFlag(c *cobra.Command, msg string) string {
	_, rest, ok := strings.Cut(msg, "unknown flag: --")
	if !ok {
		return ""
	}
	typed, _, _ := strings.Cut(rest, " ")
	best, bestD := "", 3
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if d := editDistance(typed, f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
