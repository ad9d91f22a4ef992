package tui

import (
	"context"
	"errors"
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
		history []steps.ProbeRecord
		err     error
	}
	statusMsg struct {
		st  [2]cluster.Status
		err error
	}
	statusTickMsg struct{}
	clockTickMsg  time.Time
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

// resumeCmd re-checks the live state to find the first step not done, and
// reads the probe history from the journal.
func (m *Model) resumeCmd() tea.Cmd {
	sess, ctx := m.sess, m.ctx
	return func() tea.Msg {
		next, _, err := sess.Runner.Resume(ctx)
		return resumedMsg{next: next, history: sess.Journal.Probes(), err: err}
	}
}

// statusCmd reads both clusters at once.
func (m *Model) statusCmd() tea.Cmd {
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
	every := m.opts.StatusEvery
	if every == 0 {
		every = 2 * time.Second
		if m.sess != nil && m.sess.Backend.Kind() == backendSim {
			every = 250 * time.Millisecond
		}
	}
	return tea.Tick(every, func(time.Time) tea.Msg { return statusTickMsg{} })
}

// clockTick keeps the elapsed time of a running action moving.
func clockTick() tea.Cmd {
	return tea.Tick(time.Second/4, func(t time.Time) tea.Msg { return clockTickMsg(t) })
}

// runStepCmd runs a step on the runner; its reports, ending with StepDone,
// arrive through the events channel.
func (m *Model) runStepCmd(step int) tea.Cmd {
	r, ctx := m.sess.Runner, m.ctx
	return func() tea.Msg {
		r.RunStep(ctx, step)
		return nil
	}
}

// actionCmd runs work that is not a step (a re-probe, a playground change)
// and reports its end through the events channel, behind its own reports.
func (m *Model) actionCmd(what string, fn func(ctx context.Context) error) tea.Cmd {
	ev, ctx := m.ev, m.ctx
	return func() tea.Msg {
		err := fn(ctx)
		ev.send(actionDoneMsg{what: what, err: err})
		return nil
	}
}

// probeCmd probes from both clusters and records the probes under phase.
func (m *Model) probeCmd(step, phase string) tea.Cmd {
	env := m.sess.Env
	return m.actionCmd("probe", func(ctx context.Context) error {
		_, err := steps.Reprobe(ctx, env, step)
		return err
	})
}
