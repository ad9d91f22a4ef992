package steps

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Runner runs the lab's steps in order against one Env, for both the
// headless mode and the TUI.
type Runner struct {
	Steps []Step
	Env   *Env
}

// NewRunner returns a runner over the lab's steps.
func NewRunner(env *Env) *Runner { return &Runner{Steps: All(), Env: env} }

// Resume reads the live state and returns the index of the first step still
// to do: the step after the last one whose Check passes, since every step
// builds on the ones before it and later steps may legitimately undo an
// earlier step's state (scaling back undoes scaling down). A teardown that
// started is resumed, not skipped over. done marks the steps before it.
func (r *Runner) Resume(ctx context.Context) (next int, done []bool, err error) {
	done = make([]bool, len(r.Steps))
	st, err := r.Env.statuses(ctx)
	if err != nil {
		return 0, nil, err
	}
	r.Env.frozen = &st
	defer func() { r.Env.frozen = nil }()
	for i := len(r.Steps) - 1; i >= 0; i-- {
		ok, err := r.Steps[i].Check(ctx, r.Env)
		if err != nil {
			return 0, nil, fmt.Errorf("check step %q: %w", r.Steps[i].ID(), err)
		}
		if ok {
			next = i + 1
			break
		}
	}
	if t, err := Index(r.Steps, teardownID); err == nil && next <= t {
		if _, started := r.Env.Journal.Step(teardownID); started {
			next = t
		}
	}
	for i := range next {
		done[i] = true
	}
	return next, done, nil
}

// RunStep runs one step, journaling and reporting it.
func (r *Runner) RunStep(ctx context.Context, i int) Result {
	s := r.Steps[i]
	env := r.Env
	env.Reporter.StepStarted(s, i)
	start := time.Now()
	if err := env.Journal.MarkStarted(s.ID(), env.now()); err != nil {
		res := Result{Err: err}
		env.Reporter.StepDone(s, i, res)
		return res
	}
	out, err := s.Run(ctx, env)
	res := Result{Outcome: out, Err: err, Elapsed: time.Since(start)}
	if err == nil {
		if jerr := env.Journal.MarkDone(s.ID(), env.now(), out.Summary); jerr != nil {
			res.Err = jerr
		}
	} else {
		res.Err = fmt.Errorf("step %q: %w", s.ID(), withPrerequisite(r.Steps, i, err))
	}
	env.Reporter.StepDone(s, i, res)
	return res
}

// Skip reports a step as already done without running it (StepDone only).
func (r *Runner) Skip(i int) {
	r.Env.Reporter.StepDone(r.Steps[i], i, Result{Skipped: true, Outcome: Outcome{Summary: "already done: its check passes on the live state"}})
}

// ErrStopped is returned when the context ends between steps.
var ErrStopped = errors.New("stopped")

// RunRange runs steps from..to inclusive and stops at the first failure.
// When resume is set, the range starts at the resume point if that is
// later than from, and the steps before it are reported as skipped.
func (r *Runner) RunRange(ctx context.Context, from, to int, resume bool) error {
	start := from
	if resume {
		next, _, err := r.Resume(ctx)
		if err != nil {
			return err
		}
		start = max(from, next)
		for i := from; i < start && i <= to; i++ {
			r.Skip(i)
		}
	}
	for i := start; i <= to; i++ {
		if ctx.Err() != nil {
			return ErrStopped
		}
		if res := r.RunStep(ctx, i); res.Err != nil {
			return res.Err
		}
	}
	return nil
}
