// Package steps is the lab itself: the seed's steps in order, each with its
// explanation, the equivalent manual commands, an action that drives the
// backend and a check that reads the live state to tell whether it is done.
// Steps talk only to a cluster.Backend and report through a Reporter; they
// never write to a terminal.
package steps

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Step is one panel of the lab.
type Step interface {
	// ID is the step's stable name, used by --from and --to.
	ID() string
	// Title is the one-line heading.
	Title() string
	// ShortTitle names the step where the title does not fit, such as the
	// guide's list of steps (at most 20 characters).
	ShortTitle() string
	// Phase is the story's name for the probe round the step takes
	// (PhaseLocal, ...), or "" for a step that does not probe.
	Phase() string
	// Explain says what the step does and why, true to Cilium's docs.
	Explain() string
	// Commands are what the learner would type to do the step by hand,
	// in the seed's terminals, with the lab's directory, node image,
	// Cilium version, values file and request count.
	Commands(v CommandVars) []Command
	// Run performs the step; it converges, so running it again is safe.
	Run(ctx context.Context, env *Env) (Outcome, error)
	// Check reads the live state (and the journal's probes) to tell
	// whether the step's effect is in place.
	Check(ctx context.Context, env *Env) (bool, error)
}

// Command is one block of the seed's manual commands and where to type it.
type Command struct {
	// Where is the seed's terminal: "US (Terminal 1)", "EU (Terminal 2)", "Both (Terminal 3)".
	Where string
	Lines []string
}

// Terminals as the seed names them.
const (
	TermUS     = "US cluster (Terminal 1)"
	TermEU     = "EU cluster (Terminal 2)"
	TermGlobal = "Global terminal (Terminal 3)"
)

// Outcome is what a finished step means, for the learner.
type Outcome struct {
	// Summary is one or two sentences on what happened and what it shows.
	Summary string
	// Warnings are things that went unexpectedly without failing the step.
	Warnings []string
	// Probes are the probes the step ran.
	Probes []ProbeRecord
}

// LogLine is one progress line, tagged with the cluster it concerns ("" for both).
type LogLine struct {
	Time    time.Time
	Cluster cluster.Name
	Text    string
}

// String prefixes the line with its cluster.
func (l LogLine) String() string {
	if l.Cluster == "" {
		return l.Text
	}
	return fmt.Sprintf("[%s] %s", l.Cluster, l.Text)
}

// Reporter receives a step's progress. The TUI turns it into messages, the
// headless mode into plain lines. Methods may be called from several
// goroutines at once when a step acts on both clusters.
type Reporter interface {
	// StepStarted is called before a step runs or is skipped.
	StepStarted(s Step, index int)
	// Log is one progress line.
	Log(line LogLine)
	// ProbeProgress gives a probe's running counts; Final is set on the last.
	ProbeProgress(p ProbeUpdate)
	// StepDone reports the result, with Err set when the step failed.
	StepDone(s Step, index int, r Result)
}

// ProbeUpdate is a probe's running counts, or its final result.
type ProbeUpdate struct {
	Step  string
	Phase string
	// Label is the round's label, as in ProbeRecord.
	Label  string
	Result cluster.ProbeResult
	Final  bool
}

// Result is how a step ended.
type Result struct {
	Outcome
	Err     error
	Skipped bool
	Elapsed time.Duration
}

// Env is what a step runs with.
type Env struct {
	Backend  cluster.Backend
	Reporter Reporter
	Journal  *Journal
	// Requests is the number of requests each probe sends.
	Requests int
	// LabDir is the lab directory, which the shown commands name.
	LabDir string
	// Setup is what the lab runs with, which the shown commands name.
	Setup Setup
	// Sequential makes steps act on one cluster after the other, as the
	// seed does by hand; by default both clusters are driven at once.
	Sequential bool
	// Settle bounds the wait for the mesh before a probe is judged.
	Settle Settle
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time

	// frozen, when set, answers statuses(): Resume checks every step on
	// a copy of the Env holding the statuses it read once (withStatuses).
	frozen *[2]cluster.Status
}

// withStatuses returns a copy of e whose statuses() are st, never the
// clusters': e itself is left as it is, as others may be reading it.
func (e *Env) withStatuses(st [2]cluster.Status) *Env {
	cp := *e
	cp.frozen = &st
	return &cp
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// logger returns a cluster.Logger that tags lines with cluster c.
func (e *Env) logger(c cluster.Name) cluster.Logger {
	return cluster.LoggerFunc(func(line string) {
		e.Reporter.Log(LogLine{Time: e.now(), Cluster: c, Text: line})
	})
}

// both runs fn for US and EU, concurrently unless Sequential, and returns
// the first error (US first).
func (e *Env) both(ctx context.Context, fn func(ctx context.Context, c cluster.Name) error) error {
	_, _, err := e.bothTimed(ctx, fn)
	return err
}

// forBoth runs op on both clusters, as both does, with each cluster's
// logger, and wraps an error with what failed where: format holds one %s
// for the cluster ("enable cluster mesh in %s").
func (e *Env) forBoth(ctx context.Context, format string, op func(ctx context.Context, c cluster.Name, log cluster.Logger) error) error {
	return e.both(ctx, func(ctx context.Context, c cluster.Name) error {
		if err := op(ctx, c, e.logger(c)); err != nil {
			return fmt.Errorf(format+": %w", c, err)
		}
		return nil
	})
}

// bothTimed is both, also returning how long each cluster took and the
// wall time, so a step can tell the learner what running both at once saved.
func (e *Env) bothTimed(ctx context.Context, fn func(ctx context.Context, c cluster.Name) error) (took [2]time.Duration, wall time.Duration, err error) {
	start := time.Now()
	errs := make([]error, 2)
	run := func(i int, c cluster.Name) {
		t := time.Now()
		errs[i] = fn(ctx, c)
		took[i] = time.Since(t)
	}
	if e.Sequential {
		for i, c := range cluster.Names() {
			if run(i, c); errs[i] != nil {
				break
			}
		}
	} else {
		var wg sync.WaitGroup
		for i, c := range cluster.Names() {
			wg.Go(func() { run(i, c) })
		}
		wg.Wait()
	}
	return took, time.Since(start), errors.Join(errs...)
}

// statuses reads both clusters' status.
func (e *Env) statuses(ctx context.Context) ([2]cluster.Status, error) {
	if e.frozen != nil {
		return *e.frozen, nil
	}
	var out [2]cluster.Status
	for _, c := range cluster.Names() {
		st, err := e.Backend.Status(ctx, c)
		if err != nil {
			return out, fmt.Errorf("read status of %s: %w", c, err)
		}
		out[c.Index()] = st
	}
	return out, nil
}

// info holds the descriptive half of a step, shared by every step type.
type info struct {
	id, title, short, phase, explain string
	commands                         func(v CommandVars) []Command
}

func (i info) ID() string         { return i.id }
func (i info) Title() string      { return i.title }
func (i info) ShortTitle() string { return i.short }
func (i info) Phase() string      { return i.phase }
func (i info) Explain() string    { return i.explain }

// Commands fills in the lab's defaults for what v leaves empty.
func (i info) Commands(v CommandVars) []Command { return i.commands(v.withDefaults()) }

// All returns the lab's steps in the seed's order.
func All() []Step {
	return []Step{
		preflight(),
		createClusters(),
		installCilium(),
		enableClusterMesh(),
		connectClusters(),
		observeHubble(),
		deployDemo(),
		makeGlobal(),
		affinityLocal(),
		scaleDown(),
		scaleBack(),
		teardown(),
	}
}

// Index returns the position of the step with the given id.
func Index(list []Step, id string) (int, error) {
	for i, s := range list {
		if s.ID() == id {
			return i, nil
		}
	}
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID()
	}
	return -1, fmt.Errorf("unknown step %q: want one of %v", id, ids)
}
