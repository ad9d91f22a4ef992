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
// earlier step's state (scaling back undoes scaling down). done marks the
// steps before it.
//
// The teardown is the exception, as it undoes everything: it completes the
// lab only when the journal shows the lab did something the teardown undid
// (a step that ran and whose check no longer passes), and then only the
// steps whose check still passes (the machine's preflight) are done. A
// teardown that started is resumed, not skipped over; a lab that was only
// ever torn down starts from the top.
func (r *Runner) Resume(ctx context.Context) (next int, done []bool, err error) {
	done = make([]bool, len(r.Steps))
	st, err := r.Env.statuses(ctx)
	if err != nil {
		return 0, nil, err
	}
	// The checks read the statuses read above, from a copy of the Env:
	// the shared one stays live for whoever else holds it meanwhile.
	frozen := r.Env.withStatuses(st)
	checks := make([]bool, len(r.Steps))
	for i, s := range r.Steps {
		if checks[i], err = s.Check(ctx, frozen); err != nil {
			return 0, nil, fmt.Errorf("check step %q: %w", s.ID(), err)
		}
	}
	td, err := Index(r.Steps, teardownID)
	if err == nil {
		_, started := r.Env.Journal.Step(teardownID)
		switch {
		case checks[td] && r.ranBefore(td, func(j int) bool { return !checks[j] }):
			for i := range td {
				done[i] = checks[i]
			}
			done[td] = true
			return td + 1, done, nil
		case started && !checks[td] && r.ranBefore(td, func(int) bool { return true }):
			for i := range td {
				done[i] = true
			}
			return td, done, nil
		}
	}
	for i := len(r.Steps) - 1; i >= 0; i-- {
		if checks[i] && i != td {
			next = i + 1
			break
		}
	}
	for i := range next {
		done[i] = true
	}
	return next, done, nil
}

// ranBefore reports whether the journal records a step j before step i
// for which also(j) holds.
func (r *Runner) ranBefore(i int, also func(j int) bool) bool {
	for j, s := range r.Steps[:i] {
		if _, ran := r.Env.Journal.Step(s.ID()); ran && also(j) {
			return true
		}
	}
	return false
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
