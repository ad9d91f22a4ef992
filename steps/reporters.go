package steps

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Tee sends every report to each reporter in turn.
func Tee(rs ...Reporter) Reporter { return tee(rs) }

type tee []Reporter

func (t tee) StepStarted(s Step, i int) {
	for _, r := range t {
		r.StepStarted(s, i)
	}
}

func (t tee) Log(l LogLine) {
	for _, r := range t {
		r.Log(l)
	}
}

func (t tee) ProbeProgress(p ProbeUpdate) {
	for _, r := range t {
		r.ProbeProgress(p)
	}
}

func (t tee) StepDone(s Step, i int, res Result) {
	for _, r := range t {
		r.StepDone(s, i, res)
	}
}

// LogFile writes a timestamped record of the lab to w (the lab directory's
// lab.log), so that what scrolled by can be read again after a failure.
type LogFile struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewLogFile returns a reporter that appends to w.
func NewLogFile(w io.Writer) *LogFile { return &LogFile{w: w, now: time.Now} }

func (f *LogFile) line(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.w, "%s %s\n", f.now().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// StepStarted records the step's start.
func (f *LogFile) StepStarted(s Step, i int) { f.line("step %d %s: started", i+1, s.ID()) }

// Log records a progress line.
func (f *LogFile) Log(l LogLine) { f.line("  %s", l) }

// ProbeProgress records final probe results only.
func (f *LogFile) ProbeProgress(p ProbeUpdate) {
	if p.Final {
		f.line("  probe (%s) %s", p.Phase, p.Result)
	}
}

// StepDone records the result.
func (f *LogFile) StepDone(s Step, i int, r Result) {
	switch {
	case r.Err != nil:
		f.line("step %d %s: failed: %v", i+1, s.ID(), r.Err)
	case r.Skipped:
		f.line("step %d %s: skipped (already done)", i+1, s.ID())
	default:
		f.line("step %d %s: done in %s: %s", i+1, s.ID(), r.Elapsed.Round(time.Millisecond), r.Summary)
	}
	for _, w := range r.Warnings {
		f.line("  warning: %s", w)
	}
}
