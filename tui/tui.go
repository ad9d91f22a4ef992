// Package tui is the interactive lab guide: a Bubble Tea program that walks
// the learner through the lab one panel a step, with the US | EU status and
// a chart of which cluster answered each probe. The root model holds what
// the pieces of the screen share and routes messages; each piece (welcome,
// step panel, playground, panes, probes, footer...) keeps its own state and
// its rendered lines, rendered again only when its data or size changes, so
// that View only joins strings. Long work runs in commands and in the lab's
// runner, never in Update or View.
package tui

import (
	"context"
	"fmt"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Options configure the guide.
type Options struct {
	// Backend is the backend to preselect: "sim" or "kind"; empty lets the
	// welcome screen choose from what Detect finds.
	Backend string
	// BackendFixed is set when the learner chose the backend by flag.
	BackendFixed bool
	// Detect names the container engine that answers, for the welcome
	// screen; an error means the real lab cannot run here.
	Detect func(ctx context.Context) (string, error)
	// Open opens the lab on the chosen backend ("sim" or "kind").
	Open func(ctx context.Context, backend string) (*steps.Session, error)
	// StatusEvery is how often the US | EU panes refresh; 0 picks a default
	// per backend.
	StatusEvery time.Duration
	// Now is the clock the step timers read; nil means time.Now.
	Now func() time.Time
	// NoQuiz turns predict-then-observe off: the guide never asks what
	// the learner expects before a probe (--no-quiz; an autopilot sets it).
	NoQuiz bool
	// Autopilot, when set, walks the lab without the learner.
	Autopilot *Autopilot
	// Reopen opens a fresh lab on the backend, setting the old one aside,
	// for the autopilot's loop; the guide closes the old session first.
	Reopen func(ctx context.Context, backend string) (*steps.Session, error)
	// Filter sees every message before the model does, as Bubble Tea's
	// WithFilter: the recorder learns the terminal's size from it.
	Filter func(tea.Model, tea.Msg) tea.Msg
}

// Backends the welcome screen offers.
const (
	backendKind = "kind"
	backendSim  = "sim"
)

// Run runs the guide on the terminal until the learner quits; it returns
// the session it opened (nil if none), for the caller to close.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) (*steps.Session, error) {
	m := New(ctx, opts)
	// The caller's context ends on a signal (SIGINT, SIGTERM, SIGHUP): the
	// guide then interrupts the running action and quits when it has
	// returned, instead of Bubble Tea's own handler leaving at once with
	// the action half done.
	popts := []tea.ProgramOption{tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignalHandler()}
	if opts.Filter != nil {
		popts = append(popts, tea.WithFilter(opts.Filter))
	}
	p := tea.NewProgram(m, popts...)
	stop := context.AfterFunc(ctx, func() { p.Send(signalMsg{}) })
	defer stop()
	final, err := p.Run()
	fm, _ := final.(*Model)
	var sess *steps.Session
	if fm != nil {
		sess = fm.sess
		fm.cancel()
	}
	if err != nil {
		return sess, fmt.Errorf("interactive guide: %w", err)
	}
	if fm != nil && fm.welcome.openErr != nil && fm.sess == nil {
		return nil, fm.welcome.openErr
	}
	return sess, nil
}

// NoColor returns the program option that turns colours off, for tests and
// for terminals that cannot show them.
func NoColor() tea.ProgramOption { return tea.WithColorProfile(colorprofile.Ascii) }
