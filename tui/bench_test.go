package tui

import (
	"context"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// BenchmarkView measures View on a 160x48 terminal with the panes, the
// chart and the history filled after a whole lab (goal: p50 under 1 ms).
func BenchmarkView(b *testing.B) {
	m := filledModel(b)
	b.ReportAllocs()
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		_ = m.View()
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
}

// BenchmarkUpdateRender measures one Update that re-renders every piece,
// as a status refresh does.
func BenchmarkUpdateRender(b *testing.B) {
	m := filledModel(b)
	st := m.status
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Update(statusMsg{st: st})
	}
}

// filledModel runs the lab on the simulated mesh up to scale-back and
// loads the result into a model at 160x48, without a program.
func filledModel(b *testing.B) *Model {
	b.Helper()
	opts := testOptions(b)
	sess, err := opts.Open(context.Background(), backendSim)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sess.Close() })
	to, _ := steps.Index(sess.Runner.Steps, "scale-back")
	if err := sess.Runner.RunRange(context.Background(), 0, to, false); err != nil {
		b.Fatal(err)
	}
	m := New(context.Background(), opts)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m.Update(openedMsg{sess: sess})
	m.Update(resumedMsg{next: to + 1, history: sess.Journal.Probes()})
	var st [2]cluster.Status
	for _, c := range cluster.Names() {
		st[c.Index()], _ = sess.Backend.Status(context.Background(), c)
	}
	m.Update(statusMsg{st: st})
	return m
}
