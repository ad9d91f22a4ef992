package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Autopilot makes the guide walk the lab by itself, for a recorded demo or
// a booth: it reads each panel, types the step's commands, runs it, shows
// the result and goes on. Every wait is a tick, so the program stays
// responsive and a key press takes over at once.
type Autopilot struct {
	// Pace is the reading time of one word of a step's explanation; every
	// pause and the typing scale with it.
	Pace time.Duration
	// NoTyping shows the commands at once instead of typing them out.
	NoTyping bool
	// Loop opens a fresh lab after the teardown and walks it again;
	// without it the guide quits once the lab is done.
	Loop bool
}

// DefaultPace reads about 240 words a minute.
const DefaultPace = 250 * time.Millisecond

// The autopilot's waits, in units of its pace.
const (
	apMinRead      = 8  // the shortest look at a panel
	apLingerBase   = 12 // the look at a result, before its summary is read
	apCharsPerPace = 10 // typing speed: characters per pace
	apMinTypeTick  = 15 * time.Millisecond
)

// apStage is what the autopilot does now.
type apStage int

const (
	apWait   apStage = iota // for the lab to open
	apRead                  // the panel, before acting
	apType                  // the step's commands, character by character
	apRun                   // the step runs
	apSettle                // the step ended: waiting for the live state
	apLinger                // on the result
	apEnd                   // the lab is done: quitting or opening a fresh one
)

// apStageNames are shown in the footer.
var apStageNames = map[apStage]string{
	apWait:   "opening the lab",
	apRead:   "reading",
	apType:   "typing the commands",
	apRun:    "running the step",
	apSettle: "running the step",
	apLinger: "showing the result",
	apEnd:    "the lab is done",
}

// autopilot is the autopilot's state in the model.
type autopilot struct {
	cfg    Autopilot
	on     bool // configured
	paused bool
	stage  apStage
	// tag tells the current tick from stale ones: pausing or acting
	// before a tick fires makes it stale.
	tag   int
	typed int
	// mark is the number of status reads issued when the step ended: the
	// result is shown once a read issued after it has come back.
	mark int
}

// apTickMsg ends one of the autopilot's waits.
type apTickMsg struct{ tag int }

// words counts the words of a text, the unit of the reading time.
func words(s string) int { return len(strings.Fields(s)) }

// schedule ends the current wait after d.
func (a *autopilot) schedule(d time.Duration) tea.Cmd {
	a.tag++
	tag := a.tag
	return tea.Tick(max(d, time.Microsecond), func(time.Time) tea.Msg { return apTickMsg{tag: tag} })
}

// typeStep is how many characters one typing tick reveals, and how often.
func (a *autopilot) typeStep() (n int, every time.Duration) {
	per := a.cfg.Pace / apCharsPerPace
	if per >= apMinTypeTick {
		return 1, per
	}
	return int((apMinTypeTick + per - 1) / max(per, 1)), apMinTypeTick
}

// apStatus is the footer's line while the autopilot is on.
func (m *Model) apStatus() string {
	switch {
	case m.ap.paused:
		return "AUTOPILOT paused · space resumes · the keys are yours"
	case m.ap.stage == apEnd && m.ap.cfg.Loop:
		return "AUTOPILOT · the lab is done · starting over on a fresh lab"
	case m.ap.stage == apEnd:
		return "AUTOPILOT · the lab is done"
	}
	return "AUTOPILOT · " + apStageNames[m.ap.stage] + " · space pauses · any other key takes over"
}

// apStartLab leaves the welcome screen once the engine is known.
func (m *Model) apStartLab() tea.Cmd {
	if !m.ap.on || m.ap.paused || m.phase != phaseWelcome || m.welcome.detecting || m.welcome.openErr != nil {
		return nil
	}
	return m.startLab()
}

// apBegin looks at the panel under the cursor, once the lab is open or
// when the autopilot resumes.
func (m *Model) apBegin() tea.Cmd {
	if !m.ap.on || m.ap.paused || m.phase != phaseLab {
		return nil
	}
	m.dirty |= dFooter
	m.ap.tag++
	switch {
	case m.busy() || m.checking:
		m.ap.stage = apRun // what the learner started: wait for it
		return nil
	case !m.panes.have:
		m.ap.stage = apWait // for the clusters' first status
		return nil
	}
	return m.apRead()
}

// apRead starts the look at the current panel, long enough to read it.
func (m *Model) apRead() tea.Cmd {
	m.ap.stage = apRead
	m.dirty |= dFooter
	if m.lay.mode == modeCompact && m.view != viewStep {
		m.setView(viewStep)
	}
	text := playgroundIntro
	if cur := m.nav.current(); cur.kind == panelStep {
		text = m.steps[cur.step].Explain()
	}
	return m.ap.schedule(time.Duration(max(apMinRead, words(text))) * m.ap.cfg.Pace)
}

// apPause hands the keys over to the learner: what the autopilot was
// about to do is dropped, what runs goes on.
func (m *Model) apPause() {
	m.ap.paused = true
	m.ap.tag++
	if m.panel.typing >= 0 {
		m.panel.typing = -1
		m.dirty |= dPanel
	}
	m.dirty |= dFooter
}

// apStop pauses the autopilot and says why.
func (m *Model) apStop(format string, args ...any) tea.Cmd {
	m.apPause()
	return m.say("autopilot paused: "+format+" (space resumes)", args...)
}

// onApTick does what the autopilot waited for.
func (m *Model) onApTick(msg apTickMsg) tea.Cmd {
	a := &m.ap
	if msg.tag != a.tag || a.paused || m.phase != phaseLab {
		return nil
	}
	if m.confirmQuit || m.showHelp {
		return a.schedule(a.cfg.Pace) // hold while the learner decides
	}
	switch a.stage {
	case apRead:
		return m.apAct()
	case apType:
		n, every := a.typeStep()
		a.typed += n
		m.dirty |= dPanel
		if a.typed < m.panel.typeTotal() {
			m.panel.typing = a.typed
			return a.schedule(every)
		}
		m.panel.typing = -1
		return m.apRunStep()
	case apLinger:
		cur := m.nav.current()
		if cur.kind == panelStep && m.nav.marks[m.nav.cursor] == markFailed {
			return m.apStop("step %d failed", cur.step+1)
		}
		if m.nav.complete() && m.nav.cursor == len(m.nav.panels)-1 {
			return m.apEnd()
		}
		return m.apNext()
	case apEnd:
		return m.apEnd()
	}
	return nil
}

// apAct acts on the panel just read: runs the step to do, or goes on.
func (m *Model) apAct() tea.Cmd {
	cur := m.nav.current()
	mk := m.nav.marks[m.nav.cursor]
	switch {
	case cur.kind == panelPlayground, mk == markDone, mk == markTorn:
		if m.nav.complete() && m.nav.cursor == len(m.nav.panels)-1 {
			return m.apEnd()
		}
		return m.apNext()
	case m.nav.cursor != m.nav.frontier():
		return m.apStop("this step comes later")
	case m.ap.cfg.NoTyping:
		return m.apRunStep()
	}
	m.ap.stage, m.ap.typed = apType, 0
	m.panel.typing = 0
	m.panel.sc.follow = true
	m.dirty |= dPanel | dFooter
	_, every := m.ap.typeStep()
	return m.ap.schedule(every)
}

// apRunStep runs the step under the cursor, as enter does.
func (m *Model) apRunStep() tea.Cmd {
	cmd := m.runStep()
	if m.nav.running < 0 {
		m.apPause() // refused: runStep said why
		return cmd
	}
	m.ap.stage = apRun
	m.ap.tag++
	m.dirty |= dFooter
	return cmd
}

// apNext goes on to the next panel and reads it.
func (m *Model) apNext() tea.Cmd {
	n, why := m.nav.apply(actNext)
	if why != "" {
		return m.apStop("%s", why)
	}
	m.nav = n.visit()
	m.syncLab()
	return m.apRead()
}

// apEnd ends the walk: the guide quits, or with Loop opens a fresh lab.
// It waits for the status read in flight, which reads the old lab.
func (m *Model) apEnd() tea.Cmd {
	m.ap.stage = apEnd
	m.dirty |= dFooter
	if !m.ap.cfg.Loop || m.opts.Reopen == nil {
		return tea.Quit
	}
	if m.statusBusy {
		return m.ap.schedule(m.ap.cfg.Pace)
	}
	m.ap.stage = apWait
	m.ap.tag++
	return m.reopenCmd()
}

// apObserve follows what runs, after every message: once the step ended
// and the live state was read again, the autopilot lingers on the result.
func (m *Model) apObserve() tea.Cmd {
	a := &m.ap
	if !a.on || a.paused || m.phase != phaseLab {
		return nil
	}
	switch {
	case a.stage == apWait && m.panes.have:
		return m.apRead()
	case a.stage == apRun && !m.busy() && !m.checking:
		a.stage, a.mark = apSettle, m.statusIssued
		fallthrough
	case a.stage == apSettle:
		if m.statusDone <= a.mark || m.statusBusy {
			return nil
		}
		a.stage = apLinger
		m.dirty |= dFooter
		summary := ""
		if cur := m.nav.current(); cur.kind == panelStep {
			summary = m.panel.results[cur.step].res.Summary
			// Below 120 x 40 the chart is a view of its own: a probing
			// step's result is shown there.
			if m.lay.mode == modeCompact && m.steps[cur.step].Phase() != "" {
				m.setView(viewProbes)
			}
		}
		return a.schedule(time.Duration(apLingerBase+words(summary)) * a.cfg.Pace)
	}
	return nil
}

// onApKey is a key press while the autopilot is configured: space pauses
// and resumes; the quit keys work as always; any other key hands the keys
// over (the autopilot pauses) and then does what it always does. handled
// is set when the key was the autopilot's.
func (m *Model) onApKey(msg tea.KeyPressMsg) (cmd tea.Cmd, handled bool) {
	if m.confirmQuit || keyIs(msg, m.keys.Quit) {
		return nil, false
	}
	if keyIs(msg, m.keys.Pause) {
		if m.ap.paused {
			m.ap.paused = false
			m.dirty |= dFooter
			if m.phase == phaseWelcome {
				return m.apStartLab(), true
			}
			return m.apBegin(), true
		}
		m.apPause()
		return nil, true
	}
	if !m.ap.paused {
		m.apPause()
	}
	return nil, false
}

// LongestPause is the autopilot's longest wait in which the screen may not
// change: the reading of the longest explanation or the look at the
// longest result. A recording's idle limit stays above it, so a replay
// keeps the demo's rhythm.
func LongestPause(a Autopilot) time.Duration {
	if a.Pace <= 0 {
		a.Pace = DefaultPace
	}
	n := max(apMinRead, words(playgroundIntro))
	for _, s := range steps.All() {
		n = max(n, words(s.Explain()))
	}
	// Summaries are a sentence or two; a generous bound.
	n = max(n, apLingerBase+60)
	return time.Duration(n) * a.Pace
}
