package tui

import (
	"context"
	"fmt"
	"strings"

	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// apWalk is one autopilot walk of a fresh simulated lab, as the test saw it.
type apWalk struct {
	// frames are the screens at the end of each reading and of each look
	// at a result: the moments the autopilot acts on.
	frames []string
	final  string
	probes []string
}

// walk runs the autopilot on a fresh simulated lab (instant: no clock)
// until it quits, and keeps its frames and the journal's probes.
func walk(t *testing.T, w, h int, ap Autopilot) apWalk {
	t.Helper()
	dir := t.TempDir()
	opts := testOptionsIn(t, dir, nil)
	// The lab's directory is in the commands shown: another one each walk.
	norm := func(s string) string { return strings.ReplaceAll(normalize(s), dir, "$LAB") }
	var sess *steps.Session
	open := opts.Open
	opts.Open = func(ctx context.Context, backend string) (*steps.Session, error) {
		s, err := open(ctx, backend)
		sess = s
		return s, err
	}
	opts.Autopilot = &ap
	var run apWalk
	filter := func(model tea.Model, msg tea.Msg) tea.Msg {
		m := model.(*Model)
		if tick, ok := msg.(apTickMsg); ok && tick.tag == m.ap.tag && (m.ap.stage == apRead || m.ap.stage == apLinger) {
			run.frames = append(run.frames, fmt.Sprintf("[%s]\n%s", apStageNames[m.ap.stage], norm(m.View().Content)))
		}
		return msg
	}
	tm := teatest.NewTestModel(t, New(context.Background(), opts), teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithFilter(filter), NoColor()))
	final := tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model)
	run.final = norm(final.View().Content)
	for _, p := range sess.Journal.Probes() {
		run.probes = append(run.probes, fmt.Sprintf("%s %s from %s: %s", p.Step, p.Title(), p.Result.From.Label(), steps.DescribeProbe(p.Result)))
	}
	return run
}

// fastPace makes every wait of the autopilot a tick: the test then lasts
// as long as the simulated lab and its status reads.
const fastPace = time.Microsecond

// The autopilot walks the whole lab by itself and quits at the end; on the
// simulated mesh with the same seed, two walks show the same frames at the
// same moments and probe the same answers.
func TestAutopilotWalksTheLabTheSameEveryTime(t *testing.T) {
	first := walk(t, 120, 40, Autopilot{Pace: fastPace})
	second := walk(t, 120, 40, Autopilot{Pace: fastPace})

	requireContains(t, first.final, fmt.Sprintf("Step %d of %d", len(steps.All()), len(steps.All())), "✓ Done", "AUTOPILOT · the lab is done", "local only", "failover", "back home")
	// Every step read, then run and looked at; the playground read.
	reads, lingers := 0, 0
	for _, f := range first.frames {
		switch {
		case strings.HasPrefix(f, "[reading]"):
			reads++
		case strings.HasPrefix(f, "[showing the result]"):
			lingers++
		}
	}
	if n := len(steps.All()); reads != n+1 || lingers != n {
		t.Errorf("%d readings and %d results shown, want %d panels read (the steps and the playground) and %d steps' results", reads, lingers, n+1, n)
	}
	if len(first.probes) == 0 {
		t.Fatal("the autopilot probed nothing")
	}
	for i, f := range first.frames {
		if strings.Contains(f, quizPrompt) {
			t.Errorf("frame %d asks the quiz's question:\n%s", i, f)
		}
	}
	if strings.Join(first.probes, "\n") != strings.Join(second.probes, "\n") {
		t.Errorf("the probes differ between two walks:\n%s\n---\n%s", strings.Join(first.probes, "\n"), strings.Join(second.probes, "\n"))
	}
	if len(first.frames) != len(second.frames) {
		t.Fatalf("%d frames, then %d", len(first.frames), len(second.frames))
	}
	for i := range first.frames {
		if first.frames[i] != second.frames[i] {
			t.Errorf("frame %d differs:\n%s\n---\n%s", i, first.frames[i], second.frames[i])
		}
	}
	if first.final != second.final {
		t.Errorf("the last screen differs:\n%s\n---\n%s", first.final, second.final)
	}
}

// TestAutopilotGolden keeps the autopilot's last screen at each size: the
// end of the lab, which a recording of the walk ends on too.
func TestAutopilotGolden(t *testing.T) {
	for _, size := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			out := walk(t, size.w, size.h, Autopilot{Pace: fastPace, NoTyping: true}).final
			requireFits(t, out, size.w, size.h)
			requireContains(t, out, "Tear down", "AUTOPILOT · the lab is done")
			golden.RequireEqual(t, out)
		})
	}
}

// Space pauses and resumes the autopilot; any other key hands the keys
// over and does what it always does; the quit keys work as always.
func TestAutopilotKeys(t *testing.T) {
	opts := testOptions(t)
	// An hour a word: the autopilot sits reading the first step.
	opts.Autopilot = &Autopilot{Pace: time.Hour}
	h := startWith(t, 120, 40, opts)
	h.waitFor("the autopilot reading step 1", func(m *Model) bool {
		return m.phase == phaseLab && m.ap.stage == apRead && !m.ap.paused
	})
	h.waitScreen("AUTOPILOT · reading · space pauses")
	h.key(" ")
	h.waitFor("paused", func(m *Model) bool { return m.ap.paused })
	h.waitScreen("AUTOPILOT paused · space resumes")
	h.key(" ")
	h.waitFor("resumed", func(m *Model) bool { return !m.ap.paused && m.ap.stage == apRead })
	// e hides the explanation, as always, and takes the keys.
	h.key("e")
	h.waitFor("e taken over", func(m *Model) bool { return m.ap.paused && !m.panel.showExplain })
	// enter runs the step, as always.
	h.key("enter")
	h.waitFor("preflight run by hand", func(m *Model) bool { return m.nav.marks[0] == markDone && !m.checking })
	// space hands back to the autopilot, which looks at the result first.
	h.key(" ")
	h.waitFor("the autopilot on the result", func(m *Model) bool { return !m.ap.paused && m.ap.stage == apRead && m.nav.cursor == 0 })
	// q quits, as always when nothing runs.
	h.key("q")
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(hangGuard))
}

// With Loop, the autopilot opens a fresh lab after the teardown and walks
// it again, on the same seed.
func TestAutopilotLoop(t *testing.T) {
	opts := testOptions(t)
	var opened atomic.Int32
	opts.Reopen = func(ctx context.Context, backend string) (*steps.Session, error) {
		opened.Add(1)
		return testOptions(t).Open(ctx, backend)
	}
	opts.Autopilot = &Autopilot{Pace: fastPace, NoTyping: true, Loop: true}
	h := startWith(t, 120, 40, opts)
	h.waitFor("the second lab's first step done", func(m *Model) bool {
		return opened.Load() == 1 && m.phase == phaseLab && m.nav.marks[0] == markDone && m.nav.frontier() < 3
	})
	h.inspect(func(m *Model) {
		if n := len(m.sess.Journal.Probes()); n != 0 {
			t.Errorf("the fresh lab's journal has %d probes from the last one", n)
		}
		if len(m.probes.history) != 0 {
			t.Errorf("the chart kept %d rounds of the last lab", len(m.probes.history))
		}
	})
	h.key(" ") // paused and idle: nothing writes to the lab as the test ends
	h.waitFor("the autopilot paused, nothing running", func(m *Model) bool { return m.ap.paused && !m.busy() && !m.checking })
}

// While a step the autopilot started runs, q asks first, as always; the
// autopilot waits for the answer, stays on, and goes on once the step ends.
func TestAutopilotQuitPromptWhileAStepRuns(t *testing.T) {
	gate := gateClock{open: make(chan struct{})}
	opts := testOptionsIn(t, t.TempDir(), gate)
	opts.Autopilot = &Autopilot{Pace: fastPace, NoTyping: true}
	h := startWith(t, 120, 40, opts)
	// The preflight waits for nothing; creating the clusters waits for the gate.
	h.waitFor("the autopilot running step 2", func(m *Model) bool { return m.ap.stage == apRun && m.nav.running == 1 })
	h.key("q")
	h.waitFor("the quit prompt", func(m *Model) bool { return m.confirmQuit })
	h.waitScreen("An action is running. Quit when it finishes")
	h.key("n")
	h.waitFor("the prompt gone, the autopilot on", func(m *Model) bool { return !m.confirmQuit && !m.ap.paused && m.ap.stage == apRun })
	close(gate.open)
	h.waitFor("the autopilot on step 3", func(m *Model) bool { return m.nav.marks[1] == markDone && m.nav.cursor >= 2 && !m.ap.paused })
	// Paused and idle, so nothing writes to the lab directory as it goes.
	h.key(" ")
	h.waitFor("the autopilot paused, nothing running", func(m *Model) bool { return m.ap.paused && !m.busy() && !m.checking })
}
