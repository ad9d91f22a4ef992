package tui

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// phase is where the program is: choosing, opening, or in the lab.
type phase int

const (
	phaseWelcome phase = iota
	phaseOpening
	phaseLab
)

// dirt says which pieces of the screen must be rendered again.
type dirt uint

const (
	dHeader dirt = 1 << iota
	dTabs
	dList
	dPanel
	dPlay
	dPanes
	dProbes
	dFooter
	dWelcome
	dHelp
	dLayout // the size or the footer's height changed: lay out everything
)

// Model is the root model of the guide. It holds what the pieces share
// (the lab, what runs, the size) and routes each message to the pieces it
// concerns; each piece keeps its own state and rendered lines, and is
// rendered again only when its data or its size changed.
type Model struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	keys   keyMap
	help   help.Model
	st     styles
	spin   spin

	w, h     int
	lay      layout
	phase    phase
	view     view
	showHelp bool
	now      time.Time
	clockTag int

	// The lab.
	sess  *steps.Session
	ev    *events
	steps []steps.Step
	nav   nav
	// A step or action that runs: when its key was pressed, and how to
	// interrupt it.
	started   time.Time
	actCancel context.CancelFunc
	// action names a running action that is not a step ("probe", ...);
	// actPanel is the panel that started it.
	action   string
	actPanel int
	// checking is set from a step's end until the live state is read
	// again: nothing new starts meanwhile.
	checking   bool
	statusBusy bool

	// quiz asks what the learner expects before a probe (quiz.go).
	quiz quiz

	// Quitting: the prompt is up, the guide quits when the action ends, the
	// action was interrupted.
	confirmQuit, quitAfter, interrupted bool

	// The pieces of the screen.
	welcome welcome
	header  header
	tabs    tabs
	list    stepList
	panel   stepPanel
	play    playground
	panes   panes
	probes  probes
	// flowsOut is the flows view, drawn with the probes from their data.
	flowsOut piece
	footer   footer
	helpOut  []string
	small    []string

	// The autopilot, and the status reads issued and answered, which tell
	// it when the panes show the state after a step.
	ap                       autopilot
	statusIssued, statusDone int

	dirty dirt
	// flashFor is how long a footer message stays without a key press.
	flashFor time.Duration
}

// New builds the guide's model.
func New(ctx context.Context, opts Options) *Model {
	ctx, cancel := context.WithCancel(ctx)
	st := newStyles()
	list := steps.All()
	m := &Model{
		opts:   opts,
		ctx:    ctx,
		cancel: cancel,
		keys:   newKeyMap(),
		help:   help.New(),
		st:     st,
		spin:   newSpin(st),
		steps:  list,
		nav:    newNav(len(list)),
		panel:  newStepPanel(len(list)),
		play:   newPlayground(),
		welcome: welcome{
			choice:    opts.Backend,
			fixed:     opts.BackendFixed,
			detecting: opts.Detect != nil && !opts.BackendFixed,
		},
		actCancel: func() {},
		flashFor:  flashFor,
		quiz:      quiz{off: opts.NoQuiz},
	}
	m.now = m.clock()
	if opts.Autopilot != nil {
		m.ap = autopilot{cfg: *opts.Autopilot, on: true}
		m.quiz.off = true // the autopilot never asks
		if m.ap.cfg.Pace <= 0 {
			m.ap.cfg.Pace = DefaultPace
		}
	}
	if m.welcome.choice == "" {
		m.welcome.choice = backendSim
	}
	for i, s := range list {
		m.welcome.titles = append(m.welcome.titles, s.Title())
		m.welcome.shorts = append(m.welcome.shorts, s.ShortTitle())
		if s.ID() == steps.HubbleID {
			m.probes.hubbleStep = i + 1
		}
		if m.probes.firstProbe == 0 && s.Phase() != "" {
			m.probes.firstProbe = i + 1
		}
	}
	for _, pn := range m.nav.panels {
		if pn.kind == panelPlayground {
			m.list.labels = append(m.list.labels, "★  Playground")
		} else {
			m.list.labels = append(m.list.labels, fmt.Sprintf("%2d %s", pn.step+1, list[pn.step].ShortTitle()))
		}
	}
	m.list.nSteps = len(list)
	m.dirty = dLayout
	return m
}

// clock reads the time: the key press of a step starts its timer.
func (m *Model) clock() time.Time {
	if m.opts.Now != nil {
		return m.opts.Now()
	}
	return time.Now()
}

// Init detects the container engine for the welcome screen.
func (m *Model) Init() tea.Cmd {
	cmd := m.spin.run(m.spinning())
	if m.welcome.detecting {
		return tea.Batch(m.detectCmd(), cmd)
	}
	return tea.Batch(cmd, m.apStartLab())
}

// View assembles the pieces' cached lines; it renders nothing itself.
func (m *Model) View() tea.View {
	v := tea.NewView(m.frame())
	v.AltScreen = true
	v.WindowTitle = "clustermesh-lab"
	return v
}

// Update routes each message to what it concerns, then renders again the
// pieces whose data changed. It never blocks: work runs in commands.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(spinTickMsg); ok {
		return m, m.onSpin(msg) // the hot path: one glyph in a few lines
	}
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.dirty |= dLayout
	case tea.KeyPressMsg:
		cmd = m.onKey(msg)
	case signalMsg:
		cmd = m.onSignal()
	case flashDoneMsg:
		if m.footer.expire(msg) {
			m.dirty |= dFooter
		}
	case clockTickMsg:
		cmd = m.onClock(msg)
	case engineMsg:
		m.onEngine(msg)
		cmd = m.apStartLab()
	case apTickMsg:
		cmd = m.onApTick(msg)
	case openedMsg:
		cmd = m.onOpened(msg)
	case resumedMsg:
		cmd = m.onResumed(msg)
	case statusTickMsg:
		if m.sess != nil && !m.statusBusy {
			m.statusBusy = true
			cmd = m.statusCmd()
		}
	case statusMsg:
		cmd = m.onStatus(msg)
	case batchThen:
		c1 := m.onEvent(msg.batch)
		cmd = tea.Batch(c1, m.onEvent(msg.then), m.ev.next())
	case stepStartedMsg, logBatchMsg, probeMsg, stepDoneMsg, actionDoneMsg, progressMsg:
		cmd = tea.Batch(m.onEvent(msg), m.ev.next())
	}
	return m, tea.Batch(cmd, m.apObserve(), m.refresh())
}

// onSpin advances the spinner in the pieces that show it.
func (m *Model) onSpin(msg spinTickMsg) tea.Cmd {
	cmd, moved := m.spin.update(msg)
	if !moved {
		return cmd
	}
	g := m.spin.glyph()
	for _, p := range []*piece{&m.welcome.out, &m.tabs.out, &m.list.out, &m.panel.out, &m.play.out, &m.probes.out, &m.flowsOut} {
		p.spin(g)
	}
	return cmd
}

// spinning reports something that shows the spinner.
func (m *Model) spinning() bool {
	return m.welcome.detecting || m.phase == phaseOpening || m.busy() || m.probes.inFlight[0] || m.probes.inFlight[1]
}

// busy reports a running step or action.
func (m *Model) busy() bool { return m.nav.running >= 0 || m.action != "" }

// say shows a transient message in the footer.
func (m *Model) say(format string, args ...any) tea.Cmd {
	m.dirty |= dFooter
	return m.footer.say(fmt.Sprintf(format, args...), m.flashFor)
}

func (m *Model) onEngine(msg engineMsg) {
	w := &m.welcome
	w.detecting = false
	w.engine, w.engineErr = msg.name, msg.err
	if !w.fixed {
		w.choice = backendSim
		if msg.err == nil {
			w.choice = backendKind
		}
	}
	m.dirty |= dWelcome
}

func (m *Model) onStatus(msg statusMsg) tea.Cmd {
	m.statusBusy = false
	m.statusDone++
	if !m.panes.have || errText(msg.err) != errText(m.panes.err) || !reflect.DeepEqual(msg.st, m.panes.st) {
		m.panes.have, m.panes.st, m.panes.err = true, msg.st, msg.err
		m.play.st = msg.st
		m.dirty |= dPanes | dPlay
	}
	return m.statusTick()
}

// errText is an error's message, "" for none: each status read makes a new
// error value, so errors are compared by what they say.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// onClock moves the elapsed time of what runs.
func (m *Model) onClock(msg clockTickMsg) tea.Cmd {
	if msg.tag != m.clockTag {
		return nil
	}
	m.now = m.clock() // the clock that started the timer
	if !m.busy() {
		return nil
	}
	m.panel.now, m.play.now = m.now, m.now
	m.dirty |= dPanel | dPlay
	return m.clockTick()
}

// startClock starts the elapsed time of an action from its key press.
func (m *Model) startClock() tea.Cmd {
	m.started = m.clock()
	m.now = m.started
	m.clockTag++
	return m.clockTick()
}

func (m *Model) clockTick() tea.Cmd {
	tag := m.clockTag
	return tea.Tick(time.Second/4, func(time.Time) tea.Msg { return clockTickMsg{tag: tag} })
}

// setView shows another view in the compact mode.
func (m *Model) setView(v view) {
	m.view = v
	m.tabs.active = v
	m.tabs.fresh[v] = false
	m.dirty |= dTabs | dFooter
}

// syncLab pushes the lab's state (the cursor, the marks, what runs) into
// the pieces that show it.
func (m *Model) syncLab() {
	if m.sess == nil {
		return
	}
	cur := m.nav.current()
	m.header.position = "Playground"
	if cur.kind == panelStep {
		m.header.position = fmt.Sprintf("Step %d of %d", cur.step+1, len(m.steps))
		s := m.steps[cur.step]
		rec, _ := m.sess.Journal.Step(s.ID())
		m.panel.show(&m.st, cur.step, s, m.commandsOf(cur.step), rec)
		p := &m.panel
		p.mark = m.nav.marks[m.nav.cursor]
		p.frontier = m.nav.cursor == m.nav.frontier()
		p.hasNext = m.nav.cursor < len(m.nav.panels)-1
		p.running = m.nav.running == m.nav.cursor
		p.probing = m.action != "" && m.actPanel == m.nav.cursor
		p.started, p.now, p.quitting = m.started, m.now, m.quitAfter
		p.asking = m.quiz.asking && m.quiz.panel == m.nav.cursor
		p.quizOff, p.score, p.requests = m.quiz.off, m.quiz.score, m.sess.Env.Requests
		p.ownRound = ownRound(m.probes.history, s.ID())
	}
	m.play.action = ""
	if m.action != "" && m.nav.panels[m.actPanel].kind == panelPlayground {
		m.play.action = m.action
	}
	m.play.started, m.play.now = m.started, m.now
	m.list.nav = m.nav
	m.dirty |= dHeader | dList | dTabs | dPanel | dPlay | dFooter
}

// commandsOf is step i's equivalent commands, with the lab's directory,
// versions and request count.
func (m *Model) commandsOf(i int) []steps.Command {
	return m.steps[i].Commands(m.sess.Env.CommandVars())
}

// refresh lays the screen out again if its size changed, renders the
// pieces marked dirty, and starts or stops the spinner.
func (m *Model) refresh() tea.Cmd {
	if m.dirty&(dFooter|dLayout) != 0 {
		m.syncFooter()
		m.footer.w = m.w
		m.footer.out = m.footer.render(&m.st)
		if len(m.footer.out) != m.lay.footerH {
			m.dirty |= dLayout
		}
	}
	if m.dirty&dLayout != 0 {
		m.layOut()
		m.syncFooter() // the keys depend on the mode; the height does not
		m.footer.out = m.footer.render(&m.st)
	}
	d, st, g := m.dirty, &m.st, m.spin.glyph()
	m.dirty = 0
	if d&dHeader != 0 {
		m.header.w = m.w
		m.header.out = m.header.render(st)
	}
	if m.lay.mode == modeSmall {
		m.small = renderSmall(st, m.w, m.h)
		return m.spin.run(m.spinning())
	}
	if d&dWelcome != 0 && m.phase != phaseLab {
		m.welcome.out = newPiece(m.welcome.render(st), g)
	}
	if m.phase == phaseLab {
		if d&(dList|dTabs) != 0 {
			m.list.marks = m.list.renderMarks(st)
			if m.list.column {
				m.list.out = newPiece(m.list.renderColumn(st), g)
			} else {
				m.list.out = newPiece([]string{fit(" "+m.list.marks, m.w)}, g)
			}
			m.tabs.marks = m.list.marks
			m.tabs.w = m.w
			m.tabs.out = newPiece([]string{m.tabs.render(st)}, g)
		}
		if d&dPanel != 0 && m.panel.step != nil {
			m.panel.out = newPiece(m.panel.render(st), g)
		}
		if d&dPlay != 0 {
			m.play.out = newPiece(m.play.render(st), g)
		}
		if d&dPanes != 0 {
			m.panes.out = m.panes.render(st)
		}
		if d&dProbes != 0 {
			m.probes.out = newPiece(m.probes.render(st), g)
			m.flowsOut = newPiece(m.probes.renderFlows(st, m.probes.flowsW, m.probes.flowsH), g)
		}
	}
	if d&dHelp != 0 && m.showHelp {
		hw, hh := m.panel.w, m.panel.h
		if m.phase != phaseLab {
			hw, hh = m.welcome.w, m.welcome.h
		}
		m.helpOut = m.renderHelp(hw, hh)
	}
	return m.spin.run(m.spinning())
}

// layOut computes the layout and gives every piece its size.
func (m *Model) layOut() {
	l := computeLayout(m.w, m.h, len(m.footer.out))
	m.lay = l
	m.dirty |= dHeader | dTabs | dList | dPanel | dPlay | dPanes | dProbes | dWelcome | dHelp
	if l.mode == modeSmall {
		return
	}
	m.welcome.w, m.welcome.h = m.w, m.h-1-l.footerH
	st := &m.st
	switch l.mode {
	case modeDashboard:
		m.list.column = l.sidebar
		m.list.w, m.list.h = l.sidebarW, l.topH
		m.panel.setSize(st, l.mainW, l.topH)
		m.play.setSize(st, l.mainW, l.topH)
		m.panes.w, m.panes.h, m.panes.stacked = m.w, l.panesH, false
		m.probes.w, m.probes.h, m.probes.stacked, m.probes.chartW = m.w, l.probH, false, l.chartW
		m.probes.flowsW, m.probes.flowsH = l.mainW, l.topH
	default:
		m.list.column = false
		m.panel.setSize(st, m.w, l.bodyH)
		m.play.setSize(st, m.w, l.bodyH)
		m.panes.w, m.panes.h, m.panes.stacked = m.w, l.bodyH, true
		m.probes.w, m.probes.h, m.probes.stacked = m.w, l.bodyH, true
		m.probes.flowsW, m.probes.flowsH = m.w, l.bodyH
	}
}

// mainPiece is what the step panel's place shows: the full help, the
// playground or the step.
func (m *Model) mainPiece() []string {
	switch {
	case m.showHelp:
		return m.helpOut
	case m.view == viewFlows && !m.quiz.asking:
		// On one screen, the flows take the step panel's place (4 or v);
		// a question of the quiz is asked in the panel, so it shows then.
		return m.flowsOut.lines
	case m.nav.current().kind == panelPlayground:
		return m.play.out.lines
	}
	return m.panel.out.lines
}

// syncFooter gives the footer the quit prompt, the lasting state and the
// keys of the current context.
func (m *Model) syncFooter() {
	f := &m.footer
	f.prompt, f.status = "", ""
	switch {
	case m.confirmQuit && m.busy():
		f.prompt = "An action is running. Quit when it finishes, leaving nothing half-done? [y/n] (ctrl+c interrupts it)"
	case m.confirmQuit:
		f.prompt = "Nothing runs now. Quit? [y/n]"
	case m.quitAfter && m.interrupted:
		f.status = "Interrupting the current action, then quitting (ctrl+c again leaves at once)"
	case m.quitAfter:
		f.status = "Quitting when the current action ends (ctrl+c interrupts it)"
	case m.ap.on:
		f.status = m.apStatus()
	}
	compact := m.lay.mode == modeCompact
	h := helpKeys{k: m.keys, welcome: m.phase != phaseLab, compact: compact, panel: !compact || m.view == viewStep}
	h.playground = m.phase == phaseLab && m.nav.current().kind == panelPlayground
	h.asking = m.quiz.asking
	f.keys = h.ShortHelp()
}

// renderHelp is the full help in the step panel's place.
func (m *Model) renderHelp(w, h int) []string {
	hm := m.help
	hm.SetWidth(w - 4)
	lines := []string{m.st.subtitle.Render("Keys"), ""}
	lines = append(lines, strings.Split(hm.FullHelpView(helpKeys{k: m.keys}.FullHelp()), "\n")...)
	lines = append(lines, "")
	note := "Previous steps are read-only: going back never re-runs them. Below 120 x 40 the step, the clusters and the probes are views: 1, 2, 3 or v. Any key closes this help."
	for _, ln := range wrap(note, w-4) {
		lines = append(lines, m.st.muted.Render(ln))
	}
	return m.st.box(lines, w, h, true)
}

// renderSmall asks for a bigger terminal in whatever room there is, down
// to a few cells.
func renderSmall(st *styles, w, h int) []string {
	msgs := []string{
		fmt.Sprintf("The terminal is %dx%d: the guide needs at least %dx%d. Enlarge it, or press q to quit.", w, h, minWidth, minHeight),
		fmt.Sprintf("Needs %dx%d (now %dx%d). q quits.", minWidth, minHeight, w, h),
		fmt.Sprintf("Needs %dx%d", minWidth, minHeight),
		fmt.Sprintf("%dx%d", minWidth, minHeight),
	}
	var lines []string
	for _, msg := range msgs {
		lines = wrap(msg, w)
		if len(lines) <= h {
			break
		}
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	top := (h - len(lines)) / 2
	out := blank(w, h)
	for i, ln := range lines {
		pad := (w - width(ln)) / 2
		out[top+i] = fit(strings.Repeat(" ", pad)+st.warn.Render(ln), w)
	}
	return out
}

// statusEvery is how often the panes refresh.
func (m *Model) statusEvery() time.Duration {
	switch {
	case m.opts.StatusEvery > 0:
		return m.opts.StatusEvery
	case m.sess != nil && m.sess.Backend.Kind() == backendSim:
		return 250 * time.Millisecond
	}
	return 2 * time.Second
}
