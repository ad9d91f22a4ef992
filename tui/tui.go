// Package tui is the interactive lab guide: a Bubble Tea program that walks
// the learner through the lab one panel a step, with the US | EU status side
// by side and a chart of which cluster answered each probe. One root model
// holds the state; small render functions, named for what they draw, turn
// it into cached strings that View only assembles. Long work runs in
// commands and in the lab's runner, never in Update or View.
package tui

import (
	"context"
	"fmt"
	"io"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
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
	// Requests per probe, shown in the chart's title.
	Requests int
	// Seed of the simulated mesh, shown in the header.
	Seed uint64
}

// Backends the welcome screen offers.
const (
	backendKind = "kind"
	backendSim  = "sim"
)

// phase is where the program is: choosing, opening, or in the lab.
type phase int

const (
	phaseWelcome phase = iota
	phaseOpening
	phaseLab
)

// maxLogLines caps each step's scroll-back.
const maxLogLines = 500

// Minimum terminal size for the full layout.
const (
	minWidth  = 100
	minHeight = 34
)

// Model is the root model of the guide.
type Model struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc

	keys    keyMap
	help    help.Model
	st      styles
	spinner spinner.Model
	logView viewport.Model

	width, height int
	phase         phase
	now           time.Time

	// Welcome screen.
	choice    string
	engine    string
	engineErr error
	detecting bool
	openErr   error

	// The lab.
	sess    *steps.Session
	ev      *events
	nav     nav
	titles  []string
	results map[int]steps.Result
	logs    map[int][]steps.LogLine
	started map[int]time.Time

	status     [2]cluster.Status
	statusErr  error
	statusBusy bool
	haveStatus bool

	history   []steps.ProbeRecord
	live      [2]cluster.ProbeResult
	livePhase string
	// inFlight marks the clusters whose probe is still running; newRound
	// clears the chart when the next probe starts.
	inFlight  [2]bool
	newRound  bool
	action    string // a running action that is not a step
	actionErr error

	pgCluster cluster.Name
	// logScrolled is set while the learner reads back in the log, which
	// then stops following new lines.
	logScrolled bool

	showExplain bool
	confirmQuit bool
	quitAfter   bool
	flash       string
	flashUntil  time.Time

	cache renders
}

// renders are the cached pieces of the screen, rebuilt in Update when their
// data or the size changes.
type renders struct {
	header, sidebar, panel, panes, chart, history, footer string
	layout                                                layout
}

// New builds the guide's model.
func New(ctx context.Context, opts Options) *Model {
	ctx, cancel := context.WithCancel(ctx)
	m := &Model{
		opts:        opts,
		ctx:         ctx,
		cancel:      cancel,
		keys:        newKeyMap(),
		help:        help.New(),
		st:          newStyles(),
		spinner:     spinner.New(spinner.WithSpinner(spinner.MiniDot)),
		logView:     viewport.New(),
		choice:      opts.Backend,
		detecting:   opts.Detect != nil && !opts.BackendFixed,
		results:     map[int]steps.Result{},
		logs:        map[int][]steps.LogLine{},
		started:     map[int]time.Time{},
		showExplain: true,
		pgCluster:   cluster.US,
		now:         time.Now(),
	}
	m.spinner.Style = m.st.running
	if m.choice == "" {
		m.choice = backendSim
	}
	list := steps.All()
	m.nav = newNav(len(list))
	for _, s := range list {
		m.titles = append(m.titles, s.Title())
	}
	return m
}

// Init detects the container engine for the welcome screen.
func (m *Model) Init() tea.Cmd {
	if m.detecting {
		return m.detectCmd()
	}
	return nil
}

// View assembles the cached renders for the current size and phase.
func (m *Model) View() tea.View {
	v := tea.NewView(m.frame())
	v.AltScreen = true
	v.WindowTitle = "clustermesh-lab"
	return v
}

// Run runs the guide on the terminal until the learner quits; it returns
// the session it opened (nil if none), for the caller to close.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) (*steps.Session, error) {
	m := New(ctx, opts)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
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
	if fm != nil && fm.openErr != nil && fm.sess == nil {
		return nil, fm.openErr
	}
	return sess, nil
}

// NoColor returns the program option that turns colours off, for tests and
// for terminals that cannot show them.
func NoColor() tea.ProgramOption { return tea.WithColorProfile(colorprofile.Ascii) }
