package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
)

// Backend names accepted by --backend.
const (
	backendAuto = "auto"
	backendSim  = "sim"
	backendKind = "kind"
)

// simStateFile holds the simulated mesh in the lab directory.
const simStateFile = "sim-state.json"

// defaultRequests is the seed's probe: ten requests.
const defaultRequests = 10

// labOptions are the flags shared by the root command and run.
type labOptions struct {
	backend  string
	labDir   string
	seed     uint64
	simSpeed string
	requests int
	fresh    bool
	// noQuiz turns the guide's predict-then-observe questions off.
	noQuiz bool
	// seedSet records an explicit --seed, which must match a resumed lab's.
	seedSet bool
	// impliedBy names the backend-only flag that chose the backend under
	// --backend auto ("" when none did).
	impliedBy string
	kind      kindOptions
	demo      demoOptions
}

func (o *labOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.backend, "backend", backendAuto, "where the clusters run: kind (real clusters, needs Docker or Podman), sim (simulated mesh, needs nothing) or auto (the backend of a backend-only flag given, else kind when an engine answers, else sim)")
	f.StringVar(&o.labDir, "lab-dir", "", "lab directory for state, journal, logs and kubeconfigs: a lab directory, an empty one or a new one (default $XDG_STATE_HOME/clustermesh-lab/<backend>)")
	f.Uint64Var(&o.seed, "seed", 1, "simulated mesh only: seed for its random choices; the same seed replays the same lab")
	f.StringVar(&o.simSpeed, "sim-speed", "fast", "simulated mesh only: its latency, instant, fast (a tenth of real), real, or a factor such as 0.5")
	f.IntVar(&o.requests, "requests", defaultRequests, fmt.Sprintf("requests per probe (1..%d)", cluster.MaxProbeRequests))
	f.BoolVar(&o.fresh, "fresh", false, "move the lab directory aside (kept as <dir>.bak-<time>) and start a new lab; only a lab directory is ever moved")
	f.BoolVar(&o.noQuiz, "no-quiz", false, "interactive guide: do not ask what you expect before each probe (headless never asks)")
	addKindFlags(f, &o.kind)
	o.demo.addFlags(cmd)
}

// validate checks the flags before anything touches the machine.
func (o *labOptions) validate(cmd *cobra.Command) error {
	o.seedSet = cmd.Flags().Changed("seed")
	switch o.backend {
	case backendAuto, backendSim, backendKind:
	default:
		return usagef("invalid --backend %q: want sim, kind or auto", o.backend)
	}
	if o.requests < 1 || o.requests > cluster.MaxProbeRequests {
		return usagef("invalid --requests %d: want 1..%d", o.requests, cluster.MaxProbeRequests)
	}
	if _, err := sim.ParseSpeed(o.simSpeed); err != nil {
		return usageError{fmt.Errorf("invalid --sim-speed: %w", err)}
	}
	// A flag the backend has no use for is the first mistake to name,
	// before what the flag's file holds.
	if err := o.checkBackendFlags(cmd.Flags()); err != nil {
		return err
	}
	return o.kind.validate()
}

// runOptions are run's own flags.
type runOptions struct {
	headless bool
	from, to string
}

func newRunCmd(stdin io.Reader, stdout io.Writer) *cobra.Command {
	o := &labOptions{}
	ro := runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the lab's steps in order (interactive guide, or plain text with --headless)",
		Long: `Run the lab's steps in order. Steps whose check passes on the live state are
skipped, so running again resumes where the lab stopped. With --from, steps run
from that step on even if already done (probes are taken again).

--headless prints each step, its commands, its progress, its result and each
probe's distribution as plain text, and exits non-zero on the first failure.
It is chosen automatically when stdout is not a terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLab(cmd.Context(), cmd, o, ro, stdin, stdout)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVar(&ro.headless, "headless", false, "print plain text instead of the interactive guide")
	cmd.Flags().StringVar(&ro.from, "from", "", "first step to run, even if done (ids: clustermesh-lab steps)")
	cmd.Flags().StringVar(&ro.to, "to", "", "last step to run (default: the last step)")
	return cmd
}

// runLab validates the flags, opens the lab and runs it headless or in the TUI.
func runLab(ctx context.Context, cmd *cobra.Command, o *labOptions, ro runOptions, stdin io.Reader, stdout io.Writer) error {
	if err := o.validate(cmd); err != nil {
		return err
	}
	if err := o.demo.validate(cmd, ro.headless); err != nil {
		return err
	}
	list := steps.All()
	from, to := 0, len(list)-1
	var err error
	if ro.from != "" {
		if from, err = steps.Index(list, ro.from); err != nil {
			return usageError{fmt.Errorf("--from: %w", err)}
		}
	}
	if ro.to != "" {
		if to, err = steps.Index(list, ro.to); err != nil {
			return usageError{fmt.Errorf("--to: %w", err)}
		}
	}
	if from > to {
		return usagef("--from %s comes after --to %s", list[from].ID(), list[to].ID())
	}
	var notes []string
	if !ro.headless {
		note, ok := canDrawTUI(stdin, stdout)
		ro.headless = !ok
		notes = append(notes, note)
		if flag := o.demo.needsTUI(); !ok && flag != "" {
			why := note
			if why == "" {
				why = "Standard output is not a terminal."
			}
			return usageError{cluster.WithHint(fmt.Errorf("%s needs the interactive guide, which cannot run here: %s", flag, why),
				"run it in a terminal (stdin and stdout on the terminal, TERM not dumb)")}
		}
	}
	if !ro.headless {
		return runTUI(ctx, o, stdin, stdout)
	}
	kind, note, err := chooseBackend(ctx, o.backend, o.impliedBy, len(o.kind.external()) == 2)
	if err != nil {
		return err
	}
	sess, err := openSession(ctx, o, kind, stdout)
	if err != nil {
		return err
	}
	defer sess.Close()
	for _, n := range append(notes, note) {
		if n != "" {
			fmt.Fprintln(stdout, n)
		}
	}
	err = runHeadless(ctx, sess, ro.from != "", from, to, stdout)
	fmt.Fprintln(stdout, exitNote(sess))
	return err
}

// canDrawTUI tells whether the interactive guide can run on these streams;
// when it cannot, note says why for the learner ("" when stdout is not a
// terminal: plain text is then what anyone expects).
func canDrawTUI(stdin io.Reader, stdout io.Writer) (note string, ok bool) {
	const plain = "so the lab runs as plain text (run --headless chooses that without this note)."
	switch {
	case !isTerminal(stdout):
		return "", false
	case os.Getenv("TERM") == "dumb":
		return "This terminal (TERM=dumb) cannot draw the interactive guide, " + plain, false
	case !isTerminal(stdin):
		return "Standard input is not a terminal, so the interactive guide could not read your keys, " + plain, false
	}
	return "", true
}

// exitNote is the last line of a run that opened the lab: where the lab is
// kept and whether it is complete, from the steps' checks on the live state.
func exitNote(sess *steps.Session) string {
	// The run's context may be cancelled (a signal): the note still reads
	// the state, briefly.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next, _, err := sess.Runner.Resume(ctx)
	total, dir := len(sess.Runner.Steps), sess.Dir.Path()
	var note string
	switch {
	case err != nil:
		note = fmt.Sprintf("The lab is kept in %s; its progress could not be read: %v.", dir, err)
	case next >= total:
		note = fmt.Sprintf("The lab is complete: its clusters were torn down in the last step; the journal keeps every probe. It is kept in %s; start a new one with --fresh.", dir)
	default:
		note = fmt.Sprintf("The lab is not complete (%d of %d steps done); it is kept in %s. Run clustermesh-lab again to resume at step %d (%s).",
			next, total, dir, next+1, sess.Runner.Steps[next].ID())
	}
	if score := steps.ScoreText(sess.Journal.Probes()); score != "" {
		note += " Predict, then observe: " + score + "."
	}
	return note
}

// runHeadless runs the range with plain-text output.
func runHeadless(ctx context.Context, sess *steps.Session, forced bool, from, to int, stdout io.Writer) error {
	rep := headless.New(stdout, len(sess.Runner.Steps))
	rep.Vars = sess.Env.CommandVars()
	sess.SetReporter(rep)
	fmt.Fprintf(stdout, "clustermesh-lab · %s · lab directory %s\n", backendLabel(sess), sess.Dir.Path())
	if !forced {
		next, _, err := sess.Runner.Resume(ctx)
		if err != nil {
			return err
		}
		if next >= len(sess.Runner.Steps) {
			return nil
		}
		if next > from && next <= to {
			fmt.Fprintf(stdout, "Resuming at step %d (%s): the steps before it are done.\n", next+1, sess.Runner.Steps[next].ID())
		}
	}
	err := sess.Runner.RunRange(ctx, from, to, !forced)
	if errors.Is(err, steps.ErrStopped) || ctx.Err() != nil {
		return cluster.WithHint(errors.New("interrupted"), "run the same command again to resume where the lab stopped")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nDone: steps %s to %s. Probe history:\n", sess.Runner.Steps[from].ID(), sess.Runner.Steps[to].ID())
	for _, p := range sess.Journal.Probes() {
		fmt.Fprintf(stdout, "  %-15s %-14s %s\n", p.Title(), "from "+p.Result.From.Label()+":", steps.DescribeProbe(p.Result))
	}
	return nil
}

func backendLabel(sess *steps.Session) string {
	if sess.Backend.Kind() == backendSim {
		return fmt.Sprintf("simulated mesh (seed %d)", sess.Dir.Meta().Seed)
	}
	return "real clusters (kind backend)"
}

// chooseBackend resolves auto and refuses kind where no engine answers,
// unless the learner brings both clusters, which then need no engine.
// impliedBy names the flag that chose the backend, for the error.
func chooseBackend(ctx context.Context, want, impliedBy string, ownClusters bool) (kind, note string, err error) {
	switch {
	case want == backendSim:
		return backendSim, "", nil
	case ownClusters:
		return backendKind, "", nil
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = doctor.DetectEngine(dctx, doctor.SystemEnv())
	if err == nil {
		return backendKind, "", nil
	}
	if want == backendKind {
		if impliedBy != "" {
			return "", "", cluster.WithHint(fmt.Errorf("%s needs real clusters, and the kind backend needs a container engine: %w", impliedBy, err),
				fmt.Sprintf("start Docker (or Podman) and check with `clustermesh-lab doctor`, bring both clusters (--us-kubeconfig/--us-context and --eu-kubeconfig/--eu-context), or drop %s for the simulated mesh", impliedBy))
		}
		return "", "", cluster.WithHint(fmt.Errorf("the kind backend needs a container engine: %w", err),
			"start Docker (or Podman) and check with `clustermesh-lab doctor`, or use --backend sim for the simulated mesh")
	}
	return backendSim, "No Docker or Podman engine answers: using the simulated mesh (--backend sim).", nil
}

// openSession opens (or sets aside, with --fresh) the lab directory and the backend.
func openSession(ctx context.Context, o *labOptions, kind string, stdout io.Writer) (*steps.Session, error) {
	path := o.labDir
	if path == "" {
		p, err := labdir.DefaultPath(kind)
		if err != nil {
			return nil, err
		}
		path = p
	}
	if o.fresh {
		backup, err := labdir.SetAside(path, time.Now())
		if err != nil {
			return nil, err
		}
		if backup != "" {
			fmt.Fprintf(stdout, "Moved the previous lab to %s\n", backup)
		}
	}
	dir, err := labdir.Open(path, kind, o.seed)
	if err != nil {
		return nil, err
	}
	if o.seedSet && dir.Meta().Seed != o.seed {
		dir.Close()
		return nil, usageError{cluster.WithHint(fmt.Errorf("lab directory %s was started with --seed %d, not %d", dir.Path(), dir.Meta().Seed, o.seed),
			"drop --seed to resume it, or add --fresh to start a new lab with this seed")}
	}
	backend, err := newBackend(ctx, kind, dir, o)
	if err != nil {
		dir.Close()
		return nil, err
	}
	// The seed's files go into the lab directory before any command that
	// names them is shown.
	if err := backend.WriteLabFiles(ctx); err != nil {
		backend.Close()
		dir.Close()
		return nil, cluster.WithHint(fmt.Errorf("write the lab's files into %s: %w", dir.Path(), err), "check that the lab directory is writable, or choose another --lab-dir")
	}
	sess, err := steps.OpenSession(dir, backend, o.requests)
	if err != nil {
		backend.Close()
		dir.Close()
		return nil, err
	}
	if kind == backendKind {
		sess.Env.Setup = o.kind.setup()
	}
	return sess, nil
}

// newBackend builds the backend for an open lab directory.
func newBackend(ctx context.Context, kind string, dir *labdir.Dir, o *labOptions) (cluster.Backend, error) {
	switch kind {
	case backendSim:
		factor, _ := sim.ParseSpeed(o.simSpeed)
		b, err := sim.New(sim.Options{Seed: dir.Meta().Seed, Clock: sim.ScaledClock{Factor: factor}, Store: dir.Store(simStateFile), Dir: dir.Path()})
		var ce *sim.CorruptError
		if errors.As(err, &ce) {
			return nil, dir.Corrupt(simStateFile, ce.Err)
		}
		return b, err
	case backendKind:
		return newKindBackend(ctx, dir, o)
	}
	return nil, fmt.Errorf("unknown backend %q", kind)
}

// isTerminal reports whether a stream of this process is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
