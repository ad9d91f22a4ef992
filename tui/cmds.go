package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Results of commands.
type (
	engineMsg struct {
		name string
		err  error
	}
	openedMsg struct {
		sess *steps.Session
		err  error
	}
	resumedMsg struct {
		next    int
		done    []bool
		history []steps.ProbeRecord
		err     error
	}
	statusMsg struct {
		st  [2]cluster.Status
		err error
	}
	statusTickMsg struct{}
	clockTickMsg  struct{ tag int }
)

func (m *Model) detectCmd() tea.Cmd {
	detect, ctx := m.opts.Detect, m.ctx
	return func() tea.Msg {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		name, err := detect(dctx)
		return engineMsg{name: name, err: err}
	}
}

func (m *Model) openCmd(backend string) tea.Cmd {
	open, ctx := m.opts.Open, m.ctx
	return func() tea.Msg {
		sess, err := open(ctx, backend)
		return openedMsg{sess: sess, err: err}
	}
}

// reopenCmd closes the lab and opens a fresh one on the same backend, for
// the autopilot's loop; the old session is forgotten first, so nothing
// reads it while it closes.
func (m *Model) reopenCmd() tea.Cmd {
	old, reopen, ctx := m.sess, m.opts.Reopen, m.ctx
	backend := old.Backend.Kind()
	m.sess = nil
	m.phase = phaseOpening
	m.welcome.opening, m.welcome.openErr = true, nil
	m.dirty |= dWelcome | dLayout
	return func() tea.Msg {
		if err := old.Close(); err != nil {
			return openedMsg{err: fmt.Errorf("close the finished lab: %w", err)}
		}
		sess, err := reopen(ctx, backend)
		return openedMsg{sess: sess, err: err}
	}
}

// resumeCmd re-checks the live state to find the first step not done, and
// reads the probe history from the journal.
func (m *Model) resumeCmd() tea.Cmd {
	sess, ctx := m.sess, m.ctx
	return func() tea.Msg {
		next, done, err := sess.Runner.Resume(ctx)
		return resumedMsg{next: next, done: done, history: sess.Journal.Probes(), err: err}
	}
}

// statusCmd reads both clusters at once.
func (m *Model) statusCmd() tea.Cmd {
	m.statusIssued++
	b, ctx := m.sess.Backend, m.ctx
	return func() tea.Msg {
		var out statusMsg
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for _, c := range cluster.Names() {
			wg.Go(func() {
				sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				out.st[c.Index()], errs[c.Index()] = b.Status(sctx, c)
			})
		}
		wg.Wait()
		out.err = errors.Join(errs...)
		return out
	}
}

// statusTick schedules the next status refresh.
func (m *Model) statusTick() tea.Cmd {
	return tea.Tick(m.statusEvery(), func(time.Time) tea.Msg { return statusTickMsg{} })
}

// runStepCmd runs a step on the runner; its reports, ending with StepDone,
// arrive through the events channel. A step that succeeded is followed by
// a look at the live state (Resume), in the same goroutine so that it never
// overlaps another step: a teardown undoes the steps before it.
func (m *Model) runStepCmd(ctx context.Context, step int) tea.Cmd {
	r, ev := m.sess.Runner, m.ev
	return func() tea.Msg {
		if res := r.RunStep(ctx, step); res.Err != nil {
			return nil
		}
		next, done, err := r.Resume(ctx)
		ev.send(progressMsg{next: next, done: done, err: err})
		return nil
	}
}

// actionCmd runs work that is not a step (a re-probe, a playground change)
// and reports its end through the events channel, behind its own reports.
func (m *Model) actionCmd(ctx context.Context, what string, fn func(ctx context.Context) ([]steps.ProbeRecord, error)) tea.Cmd {
	ev := m.ev
	return func() tea.Msg {
		recs, err := fn(ctx)
		ev.send(actionDoneMsg{what: what, recs: recs, err: err})
		return nil
	}
}
