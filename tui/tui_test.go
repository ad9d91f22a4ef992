package tui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Golden files are made with colours off; regenerate them with
// `go test ./tui -update` (make golden).

// testOptions open a fresh simulated lab in a temporary directory, with
// the clusters driven one after the other so the logs keep one order. The
// quiz is off: the tests that are about it (and the goldens) turn it on.
func testOptions(t testing.TB) Options {
	o := testOptionsIn(t, t.TempDir(), nil)
	o.NoQuiz = true
	return o
}

// testOptionsIn opens the lab in dir, with the simulated mesh's clock.
func testOptionsIn(t testing.TB, dir string, clock sim.Clock) Options {
	t.Helper()
	return Options{
		Detect: func(context.Context) (string, error) { return "", errors.New("no engine answers") },
		Open: func(ctx context.Context, backend string) (*steps.Session, error) {
			d, err := labdir.Open(dir, backend, 1)
			if err != nil {
				return nil, err
			}
			// Flows are stamped at one instant, so that the goldens hold.
			now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
			b, err := sim.New(sim.Options{Seed: 1, Clock: clock, Store: d.Store("sim-state.json"), Now: now})
			if err != nil {
				return nil, err
			}
			s, err := steps.OpenSession(d, b, 10)
			if err != nil {
				return nil, err
			}
			s.Env.Sequential = true
			t.Cleanup(func() { s.Close() })
			return s, nil
		},
	}
}

// hangGuard is how long a test waits for the program before it gives up:
// a guard against hangs, not a speed limit (-race on a busy machine is slow).
const hangGuard = 3 * time.Minute

// peek runs fn on the model inside the program's event loop, where reading
// it is safe.
type peek struct {
	fn   func(*Model)
	done chan struct{}
}

// harness drives the guide through a real Bubble Tea program.
type harness struct {
	t  *testing.T
	tm *teatest.TestModel
	// statuses counts the status reads that reached the model.
	statuses atomic.Int64
	// answers are the keys runTo answers the quiz with, by step id; a
	// step not named skips the question (enter).
	answers map[string]string
}

func start(t *testing.T, w, h int) *harness { return startWith(t, w, h, testOptions(t)) }

func startWith(t *testing.T, w, hgt int, opts Options) *harness {
	t.Helper()
	m := New(context.Background(), opts)
	h := &harness{t: t}
	filter := func(model tea.Model, msg tea.Msg) tea.Msg {
		switch msg := msg.(type) {
		case peek:
			msg.fn(model.(*Model))
			close(msg.done)
			return nil
		case statusMsg:
			h.statuses.Add(1)
		}
		return msg
	}
	h.tm = teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, hgt),
		teatest.WithProgramOptions(tea.WithFilter(filter), NoColor()))
	t.Cleanup(func() { h.tm.Quit() })
	return h
}

// inspect runs fn on the live model and waits for it.
func (h *harness) inspect(fn func(*Model)) {
	h.t.Helper()
	p := peek{fn: fn, done: make(chan struct{})}
	h.tm.Send(p)
	select {
	case <-p.done:
	case <-time.After(hangGuard):
		h.t.Fatal("the program did not answer")
	}
}

// waitFor polls the model until cond holds.
func (h *harness) waitFor(what string, cond func(*Model) bool) {
	h.t.Helper()
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		ok := false
		h.inspect(func(m *Model) { ok = cond(m) })
		if ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.screen())
}

// waitScreen waits until the screen shows want.
func (h *harness) waitScreen(want string) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%q on screen", want), func(m *Model) bool {
		return strings.Contains(normalize(m.View().Content), want)
	})
}

// screen is the current frame without colours, durations and times masked.
func (h *harness) screen() string {
	var s string
	h.inspect(func(m *Model) { s = m.View().Content })
	return normalize(s)
}

var (
	durations = regexp.MustCompile(`\d+(\.\d+)?(ms|s)\b`)
	clockTime = regexp.MustCompile(`\b\d\d:\d\d(:\d\d)?\b`)
	// The simulated mesh configures both clusters at once when it
	// connects them, as cilium-cli does: these two lines come in either order.
	connectBoth = regexp.MustCompile(`Configuring Cilium in cluster 'kind-(us|eu)' to connect to cluster 'kind-(eu|us)'`)
)

func normalize(s string) string {
	s = ansi.Strip(s)
	s = connectBoth.ReplaceAllString(s, "Configuring Cilium in cluster 'kind-..' to connect to cluster 'kind-..'")
	s = clockTime.ReplaceAllString(s, "hh:mm")
	return durations.ReplaceAllString(s, "#s")
}

func (h *harness) key(keys ...string) {
	for _, k := range keys {
		switch k {
		case "enter":
			h.tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "right":
			h.tm.Send(tea.KeyPressMsg{Code: tea.KeyRight})
		case "left":
			h.tm.Send(tea.KeyPressMsg{Code: tea.KeyLeft})
		case "tab":
			h.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
		case "home":
			h.tm.Send(tea.KeyPressMsg{Code: tea.KeyHome})
		case "ctrl+c":
			h.tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
		default:
			h.tm.Send(tea.KeyPressMsg{Code: rune(k[0]), Text: k})
		}
	}
}

// openLab leaves the welcome screen on the preselected simulated mesh.
func (h *harness) openLab() {
	h.t.Helper()
	h.waitFor("engine detection", func(m *Model) bool { return !m.welcome.detecting })
	h.key("enter")
	h.waitFor("the lab", func(m *Model) bool { return m.phase == phaseLab && m.panes.have })
}

// cursorID is the id of the step under the cursor, or the playground's.
func cursorID(m *Model) string {
	if pn := m.nav.current(); pn.kind == panelStep {
		return m.steps[pn.step].ID()
	}
	return steps.PlaygroundID
}

// runTo runs steps from the cursor until the given step id is done.
func (h *harness) runTo(id string) {
	h.t.Helper()
	for {
		var cur string
		var done bool
		h.inspect(func(m *Model) {
			cur = cursorID(m)
			done = m.nav.marks[m.nav.cursor] == markDone
		})
		if !done && cur != steps.PlaygroundID {
			h.key("enter")
			h.answerQuiz(cur)
			h.waitFor("step "+cur, func(m *Model) bool {
				mk := m.nav.marks[m.nav.cursor]
				return (mk == markDone || mk == markFailed) && !m.statusBusy && !m.checking
			})
			var failed string
			h.inspect(func(m *Model) {
				if r := m.panel.results[m.nav.current().step]; r.res.Err != nil {
					failed = r.res.Err.Error()
				}
			})
			if failed != "" {
				h.t.Fatalf("step %s failed: %s", cur, failed)
			}
		}
		if cur == id {
			return
		}
		var before int
		h.inspect(func(m *Model) { before = m.nav.cursor })
		h.key("right")
		h.waitFor("next panel", func(m *Model) bool { return m.nav.cursor == before+1 && !m.busy() })
	}
}

// answerQuiz answers the question the key just pressed may have put up,
// with the step's answer in h.answers (enter skips it).
func (h *harness) answerQuiz(id string) {
	h.t.Helper()
	asking := false
	h.waitFor("the question or the run", func(m *Model) bool {
		asking = m.quiz.asking
		return asking || m.busy() || m.nav.marks[m.nav.cursor] == markDone || m.nav.marks[m.nav.cursor] == markFailed
	})
	if !asking {
		return
	}
	a, ok := h.answers[id]
	if !ok {
		a = "enter"
	}
	h.key(a)
}

// toPlayground runs the story's steps and goes on to the playground.
func (h *harness) toPlayground() {
	h.t.Helper()
	h.runTo("scale-back")
	h.key("right")
	h.waitFor("playground", func(m *Model) bool { return m.nav.current().kind == panelPlayground })
}

// settle waits until nothing runs and two status reads have come in
// since, so the panes show the state after the last action.
func (h *harness) settle() {
	h.t.Helper()
	h.waitFor("the end of the action", func(m *Model) bool { return !m.busy() && !m.checking })
	n := h.statuses.Load()
	h.waitFor("fresh status", func(m *Model) bool { return h.statuses.Load() >= n+2 && !m.statusBusy })
}

// requireContains reports each wanted text missing from the screen.
func requireContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the screen misses %q:\n%s", want, out)
		}
	}
}

// requireFits checks that the frame fills the terminal exactly: h lines of
// at most w cells.
func requireFits(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Errorf("the frame has %d lines at %d x %d", len(lines), w, h)
	}
	for i, ln := range lines {
		if n := ansi.StringWidth(ln); n > w {
			t.Errorf("line %d is %d cells wide at %d columns: %q", i, n, w, ln)
		}
	}
}

// goldenSizes are the terminals the goldens are made at: a default
// terminal, two in between, and a large one.
var goldenSizes = []struct{ w, h int }{{80, 24}, {100, 34}, {120, 40}, {160, 48}}

// TestGolden walks the lab at each size and keeps the same moments: the
// welcome, a step before and after it runs, the panes after connect, the
// chart after the failover and the end of the lab with its history, and
// the quiz: its question before the failover, the answer beside what
// Cilium did after it, the score at the end. In
// the compact layout (below 120 x 40) the moments that are about the
// clusters or the probes are taken in their view (keys 2 and 3).
func TestGolden(t *testing.T) {
	for _, size := range goldenSizes {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			opts := testOptions(t)
			opts.NoQuiz = false
			h := startWith(t, size.w, size.h, opts)
			// Right, wrong, skipped, right (scale-down below), right.
			h.answers = map[string]string{"deploy": "1", "global": "2", "scale-back": "1"}
			compact := size.w < dashWidth || size.h < dashHeight
			shot := func(name string, view string, wants ...string) {
				t.Helper()
				if compact && view != "" {
					h.key(view)
				}
				out := h.screen()
				if compact && view != "" {
					h.key("1")
				}
				t.Run(name, func(t *testing.T) {
					requireFits(t, out, size.w, size.h)
					requireContains(t, out, wants...)
					golden.RequireEqual(t, out)
				})
			}
			h.waitFor("engine detection", func(m *Model) bool { return !m.welcome.detecting })
			shot("welcome", "", "Simulated mesh", "enter starts the lab")
			h.key("enter")
			h.waitFor("the lab", func(m *Model) bool { return m.phase == phaseLab && m.panes.have })
			shot("step-before", "", "Step 1 of 12", "Press enter to run this step", "Equivalent commands")
			h.runTo("preflight")
			h.settle()
			shot("step-after", "", "✓ Done", "this machine can run the lab")
			h.runTo("connect")
			h.settle()
			shot("panes-after-connect", "2", "peer link us→eu: up, synced", "peer link eu→us: up, synced", "agents 3/3 connected")
			h.runTo("hubble")
			h.settle()
			shot("panes-after-hubble", "2", "Hubble relay :31234 · ui :31235")
			h.runTo("global")
			h.settle()
			flows := func(name string, wants ...string) {
				t.Helper()
				if !compact {
					h.key("4") // the flows take the step panel's place
				}
				shot(name, "4", wants...)
				if !compact {
					h.key("1")
				}
			}
			flows("flows-after-global", "Flows · global · newest first", "cross-cluster ⇄", "FORWARDED")
			h.runTo("affinity-local")
			h.settle()
			h.key("right")
			h.waitFor("the scale-down", func(m *Model) bool { return cursorID(m) == "scale-down" })
			h.key("enter")
			h.waitFor("the question", func(m *Model) bool { return m.quiz.asking })
			shot("quiz-ask", "", "What do you expect?", "1 all from US", "6 errors", "enter skips")
			h.key("5")
			h.waitFor("the scale-down's end", func(m *Model) bool {
				return m.nav.marks[m.nav.cursor] == markDone && !m.statusBusy && !m.checking
			})
			h.settle()
			shot("quiz-result", "", "✓ Done", "You said all from EU · Cilium did all from EU", "Why: Affinity local, but no local backend")
			shot("chart-after-failover", "3", "Responses · failover")
			flows("flows-after-failover", "Flows · failover · newest first", "from US  0 local · 10 cross-cluster ⇄ · 0 dropped")
			h.toPlayground()
			h.key("right")
			h.runTo("teardown")
			h.settle()
			const score = "Predict, then observe: 3 of 4 predictions right."
			if compact {
				shot("end-of-lab", "3", "local only", "global", "affinity", "failover", "back home")
				shot("end-of-lab-step", "", "Tear down", score)
			} else {
				shot("end-of-lab", "3", "local only", "global", "affinity", "failover", "back home", score)
			}
		})
	}
}

// TestWholeLabThroughKeys drives every step with key presses, plays in the
// playground, tears down, and checks the history tells the story.
func TestWholeLabThroughKeys(t *testing.T) {
	h := start(t, 160, 48)
	h.openLab()
	h.toPlayground()
	h.key("tab", "+")
	h.waitFor("EU scaled to 2", func(m *Model) bool { return !m.busy() && m.panes.st[1].Demo.HelloWorld.Ready == 2 })
	h.key("p")
	h.waitFor("playground probe", func(m *Model) bool { return !m.busy() && len(m.probes.history) == 12 })
	h.key("right")
	h.runTo("teardown")
	h.settle()
	out := h.screen()
	requireContains(t, out, "local only", "global", "affinity", "failover", "back home", "playground", "kind clusters are deleted")
	var hist []steps.ProbeRecord
	h.inspect(func(m *Model) { hist = m.probes.history })
	phases := map[string]bool{}
	for _, p := range hist {
		phases[p.Phase] = true
		if p.Phase == steps.PhaseFailover && p.Result.From == "us" && p.Result.Answers.EU != p.Result.Requests {
			t.Errorf("failover probe from US: %+v, want all from EU", p.Result)
		}
		if p.Phase == steps.PhaseLocal && p.Result.From == "us" && p.Result.Answers.US != p.Result.Requests {
			t.Errorf("local probe from US: %+v, want all from US", p.Result)
		}
		if p.Phase == steps.PhasePlayground && !strings.Contains(p.Label, "EU global, 2 replicas") {
			t.Errorf("playground probe labelled %q, want EU's 2 replicas in it", p.Label)
		}
	}
	if len(phases) != 6 {
		t.Errorf("history has phases %v, want the five of the story and the playground", phases)
	}
}

// TestTooSmall: below 80 x 24 a message asks for more room, and it fits
// any size, down to 20 x 5 and smaller.
func TestTooSmall(t *testing.T) {
	for _, size := range []struct{ w, h int }{{79, 24}, {80, 23}, {40, 10}, {20, 5}, {12, 3}, {1, 1}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			st := newStyles()
			out := normalize(strings.Join(renderSmall(&st, size.w, size.h), "\n"))
			requireFits(t, out, size.w, size.h)
			if size.w >= 12 && !strings.Contains(strings.Join(strings.Fields(out), " "), "80") {
				t.Errorf("the message does not say what size is needed:\n%s", out)
			}
		})
	}
	h := start(t, 20, 5)
	h.waitFor("engine detection", func(m *Model) bool { return !m.welcome.detecting })
	out := h.screen()
	requireFits(t, out, 20, 5)
	golden.RequireEqual(t, out)
}

// TestResize checks that shrinking and growing the terminal re-lays out
// without losing state, in every mode.
func TestResize(t *testing.T) {
	h := start(t, 160, 48)
	h.openLab()
	h.runTo("preflight")
	for _, size := range []struct{ w, h int }{{60, 20}, {110, 36}, {80, 24}, {130, 45}, {200, 60}} {
		h.tm.Send(tea.WindowSizeMsg{Width: size.w, Height: size.h})
		h.waitFor("the new size", func(m *Model) bool { return m.lay.w == size.w && m.lay.h == size.h })
		requireFits(t, h.screen(), size.w, size.h)
	}
	h.inspect(func(m *Model) {
		if m.nav.marks[0] != markDone {
			t.Error("resizing lost the done step")
		}
	})
}

// gateClock holds every simulated delay until the test opens the gate, so
// a step is certainly running while the test presses keys.
type gateClock struct{ open chan struct{} }

func (g gateClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fakeNow is a clock the test moves by hand.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeNow) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// A spinner tick renders no piece again: it replaces one glyph in the
// lines that show the spinner, and the status refresh that brings nothing
// new renders nothing either.
func TestTicksRenderNothing(t *testing.T) {
	m := filledModel(t)
	m.Update(tea.KeyPressMsg{Code: 'p', Text: "p"})
	if !m.busy() {
		t.Fatal("p did not start a probe")
	}
	first := func(lines []string) *string { return &lines[0] }
	panes, probes, list := first(m.panes.out), first(m.probes.out.lines), first(m.list.out.lines)
	before := m.View().Content
	m.Update(spinTickMsg{tag: m.spin.tag})
	after := m.View().Content
	if first(m.panes.out) != panes || first(m.probes.out.lines) != probes || first(m.list.out.lines) != list {
		t.Error("a spinner tick rendered a piece again")
	}
	if before == after {
		t.Error("a spinner tick did not move the spinner")
	}
	if strings.Count(ansi.Strip(before), "\n") != strings.Count(ansi.Strip(after), "\n") {
		t.Error("a spinner tick changed the frame's shape")
	}
	m.Update(statusMsg{st: m.panes.st})
	if first(m.panes.out) != panes {
		t.Error("a status refresh with nothing new rendered the panes again")
	}
}
