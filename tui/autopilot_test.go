package tui

import (
	"context"
	"fmt"
	"strings"

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

	requireContains(t, first.final, "Step 11 of 11", "✓ Done", "AUTOPILOT · the lab is done", "local only", "failover", "back home")
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
	if reads != 12 || lingers != 11 {
		t.Errorf("%d readings and %d results shown, want 12 panels read and 11 steps' results", reads, lingers)
	}
	if len(first.probes) == 0 {
		t.Fatal("the autopilot probed nothing")
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
