package tui

import (
	"context"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// BenchmarkView measures View on a 160x48 terminal with the panes, the
// chart and the history filled after a whole lab.
func BenchmarkView(b *testing.B) {
	m := filledModel(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkUpdateStatus measures one Update on a status refresh that
// brings nothing new, the guide's most frequent message (4 a second on the
// simulated mesh).
func BenchmarkUpdateStatus(b *testing.B) {
	m := filledModel(b)
	st := m.panes.st
	b.ReportAllocs()
	for b.Loop() {
		m.Update(statusMsg{st: st})
	}
}

// BenchmarkUpdateSpinnerTick measures Update on a spinner tick while a
// re-probe runs (p pressed on the filled screen), beside View on that
// screen: a tick must cost less than assembling the screen.
func BenchmarkUpdateSpinnerTick(b *testing.B) {
	m := filledModel(b)
	m.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	if !m.busy() {
		b.Fatal("p did not start a probe")
	}
	b.Run("Update", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Update(spinTickMsg{tag: m.spin.tag})
		}
	})
	b.Run("View", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = m.View()
		}
	})
}

// filledModel runs the lab on the simulated mesh up to scale-back and
// loads the result into a model at 160x48, without a program.
func filledModel(b testing.TB) *Model {
	b.Helper()
	opts := testOptions(b)
	sess, err := opts.Open(context.Background(), backendSim)
	if err != nil {
		b.Fatal(err)
	}
	to, _ := steps.Index(sess.Runner.Steps, "scale-back")
	if err := sess.Runner.RunRange(context.Background(), 0, to, false); err != nil {
		b.Fatal(err)
	}
	m := New(context.Background(), opts)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m.Update(openedMsg{sess: sess})
	next, done, err := sess.Runner.Resume(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	m.Update(resumedMsg{next: next, done: done, history: sess.Journal.Probes()})
	var st [2]cluster.Status
	for _, c := range cluster.Names() {
		st[c.Index()], _ = sess.Backend.Status(context.Background(), c)
	}
	m.Update(statusMsg{st: st})
	return m
}
