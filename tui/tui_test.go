package tui

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Golden files are made at this size with colours off; regenerate them
// with `go test ./tui -update` (make golden).
const goldenW, goldenH = 160, 48

// testOptions open a fresh simulated lab in a temporary directory, with
// the clusters driven one after the other so the logs keep one order.
func testOptions(t testing.TB) Options { return testOptionsWith(t, nil) }

// testOptionsWith is testOptions with the simulated mesh's clock.
func testOptionsWith(t testing.TB, clock sim.Clock) Options {
	t.Helper()
	dir := t.TempDir()
	return Options{
		Requests: 10,
		Seed:     1,
		Detect:   func(context.Context) (string, error) { return "", errors.New("no engine answers") },
		Open: func(ctx context.Context, backend string) (*steps.Session, error) {
			d, err := labdir.Open(dir, backend, 1)
			if err != nil {
				return nil, err
			}
			b, err := sim.New(sim.Options{Seed: 1, Clock: clock, Store: d.Store("sim-state.json")})
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
}

func start(t *testing.T, w, h int) *harness { return startWith(t, w, h, testOptions(t)) }

func startWith(t *testing.T, w, h int, opts Options) *harness {
	t.Helper()
	m := New(context.Background(), opts)
	filter := func(model tea.Model, msg tea.Msg) tea.Msg {
		if p, ok := msg.(peek); ok {
			p.fn(model.(*Model))
			close(p.done)
			return nil
		}
		return msg
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithFilter(filter), NoColor()))
	t.Cleanup(func() { tm.Quit() })
	return &harness{t: t, tm: tm}
}

// inspect runs fn on the live model and waits for it.
func (h *harness) inspect(fn func(*Model)) {
	h.t.Helper()
	p := peek{fn: fn, done: make(chan struct{})}
	h.tm.Send(p)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		h.t.Fatal("the program did not answer")
	}
}

// waitFor polls the model until cond holds.
func (h *harness) waitFor(what string, cond func(*Model) bool) {
	h.t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // a hang guard: -race on a busy machine is slow
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

// screen is the current frame without colours, durations masked.
func (h *harness) screen() string {
	var s string
	h.inspect(func(m *Model) { s = m.View().Content })
	return normalize(s)
}

var durations = regexp.MustCompile(`\d+(\.\d+)?(ms|s)\b`)

func normalize(s string) string {
	s = ansi.Strip(s)
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
		default:
			h.tm.Send(tea.KeyPressMsg{Code: rune(k[0]), Text: k})
		}
	}
}

// openLab leaves the welcome screen on the preselected simulated mesh.
func (h *harness) openLab() {
	h.t.Helper()
	h.waitFor("engine detection", func(m *Model) bool { return !m.detecting })
	h.key("enter")
	h.waitFor("the lab", func(m *Model) bool { return m.phase == phaseLab && m.haveStatus })
}

// runTo runs steps from the cursor until the given step id is done.
func (h *harness) runTo(id string) {
	h.t.Helper()
	for {
		var cur string
		var done bool
		h.inspect(func(m *Model) {
			pn := m.nav.current()
			if pn.kind == panelStep {
				cur = m.sess.Runner.Steps[pn.step].ID()
			} else {
				cur = playgroundID
			}
			done = m.nav.marks[m.nav.cursor] == markDone
		})
		if !done && cur != playgroundID {
			h.key("enter")
			h.waitFor("step "+cur, func(m *Model) bool {
				mk := m.nav.marks[m.nav.cursor]
				return (mk == markDone || mk == markFailed) && !m.statusBusy
			})
			var failed string
			h.inspect(func(m *Model) {
				if r := m.results[m.nav.current().step]; r.Err != nil {
					failed = r.Err.Error()
				}
			})
			if failed != "" {
				h.t.Fatalf("step %s failed: %s", cur, failed)
			}
		}
		if cur == id {
			return
		}
		h.key("right")
		h.waitFor("next panel", func(m *Model) bool { return m.nav.cursor > 0 && !m.busy() })
	}
}

// settle waits for a fresh status after the last action.
func (h *harness) settle() {
	h.t.Helper()
	h.waitFor("status", func(m *Model) bool { return !m.busy() && !m.statusBusy })
}

func TestGoldenWelcome(t *testing.T) {
	h := start(t, goldenW, goldenH)
	h.waitFor("engine detection", func(m *Model) bool { return !m.detecting })
	out := h.screen()
	if !strings.Contains(out, "▸ ● Simulated mesh") {
		t.Errorf("the simulated mesh is not preselected without an engine:\n%s", out)
	}
	golden.RequireEqual(t, out)
}

func TestGoldenStepBeforeAndAfter(t *testing.T) {
	h := start(t, goldenW, goldenH)
	h.openLab()
	t.Run("before", func(t *testing.T) {
		out := h.screen()
		requireContains(t, out, "Step 1 of 11", "Press enter to run this step", "Equivalent commands", "SIMULATED MESH")
		golden.RequireEqual(t, out)
	})
	t.Run("after", func(t *testing.T) {
		h.runTo("preflight")
		h.settle()
		out := h.screen()
		requireContains(t, out, "✓ Done", "this machine can run the lab", "✓  1 Check the machine")
		golden.RequireEqual(t, out)
	})
}

func TestGoldenPanesAfterConnect(t *testing.T) {
	h := start(t, goldenW, goldenH)
	h.openLab()
	h.runTo("connect")
	h.settle()
	out := h.screen()
	requireContains(t, out, "eu: 3/3 configured, 3/3 connected", "us: 3/3 configured, 3/3 connected", "NodePort 32379")
	golden.RequireEqual(t, out)
}

func TestGoldenChartAfterFailover(t *testing.T) {
	h := start(t, goldenW, goldenH)
	h.openLab()
	h.runTo("scale-down")
	h.settle()
	out := h.screen()
	if !strings.Contains(out, "Responses · failover") {
		t.Errorf("chart does not show the failover probe:\n%s", out)
	}
	h.inspect(func(m *Model) {
		if us := m.live[0]; us.Answers.US != 0 || us.Answers.EU != us.Requests {
			t.Errorf("from US after scale-down: %+v, want every answer from EU", us)
		}
	})
	golden.RequireEqual(t, out)
}

// TestWholeLabThroughKeys drives every step with key presses, plays in the
// playground, tears down, and checks the final screen tells the failover
// story in the history strip.
func TestWholeLabThroughKeys(t *testing.T) {
	h := start(t, goldenW, goldenH)
	h.openLab()
	h.runTo("scale-back")
	h.key("right")
	h.waitFor("playground", func(m *Model) bool { return m.nav.current().kind == panelPlayground })
	h.key("tab", "+")
	h.waitFor("EU scaled to 2", func(m *Model) bool { return !m.busy() && m.status[1].Demo.HelloWorld.Ready == 2 })
	h.key("p")
	h.waitFor("playground probe", func(m *Model) bool { return !m.busy() && len(m.history) == 12 })
	h.key("right")
	h.runTo("teardown")
	h.settle()
	out := h.screen()
	requireContains(t, out, "local only", "global", "affinity", "failover", "back home", "playground", "kind clusters are deleted")
	var hist []steps.ProbeRecord
	h.inspect(func(m *Model) { hist = m.history })
	phases := map[string][2]int{} // phase -> EU answers from US, from EU
	for _, p := range hist {
		v := phases[p.Phase]
		v[p.Result.From.Index()] = p.Result.Answers.EU
		phases[p.Phase] = v
		if p.Phase == steps.PhaseFailover && p.Result.From == "us" && p.Result.Answers.EU != p.Result.Requests {
			t.Errorf("failover probe from US: %+v, want all from EU", p.Result)
		}
		if p.Phase == steps.PhaseLocal && p.Result.From == "us" && p.Result.Answers.US != p.Result.Requests {
			t.Errorf("local probe from US: %+v, want all from US", p.Result)
		}
	}
	if len(phases) != 6 {
		t.Errorf("history has phases %v, want the five of the story and the playground", phases)
	}
	golden.RequireEqual(t, out)
}

func TestGoldenTooSmall(t *testing.T) {
	h := start(t, 80, 24)
	h.waitFor("engine detection", func(m *Model) bool { return !m.detecting })
	out := h.screen()
	if !strings.Contains(out, "Enlarge the terminal to at least 100 x 34") {
		t.Errorf("no too-small message:\n%s", out)
	}
	golden.RequireEqual(t, out)
}

// TestResize checks that shrinking and growing the terminal re-lays out
// without losing state.
func TestResize(t *testing.T) {
	h := start(t, goldenW, goldenH)
	h.openLab()
	h.runTo("preflight")
	h.tm.Send(tea.WindowSizeMsg{Width: 90, Height: 30})
	h.waitFor("too small", func(m *Model) bool { return strings.Contains(m.View().Content, "Enlarge") })
	h.tm.Send(tea.WindowSizeMsg{Width: 110, Height: 36})
	h.waitFor("narrow layout", func(m *Model) bool { return m.cache.layout.narrow && !m.cache.layout.small })
	out := h.screen()
	for i, line := range strings.Split(out, "\n") {
		if w := ansi.StringWidth(line); w > 110 {
			t.Errorf("line %d is %d cells wide at 110 columns: %q", i, w, line)
		}
	}
	if strings.Count(out, "\n")+1 > 36 {
		t.Errorf("frame is taller than the terminal")
	}
	h.inspect(func(m *Model) {
		if m.nav.marks[0] != markDone {
			t.Error("resizing lost the done step")
		}
	})
}

// requireContains reports each wanted text missing from the screen.
func requireContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the screen misses %q", want)
		}
	}
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

// TestQuitWhileRunning checks that quitting during an action asks first,
// then waits for the action to end, leaving its work complete and recorded.
func TestQuitWhileRunning(t *testing.T) {
	gate := gateClock{open: make(chan struct{})}
	opts := testOptionsWith(t, gate)
	var sess *steps.Session
	open := opts.Open
	opts.Open = func(ctx context.Context, backend string) (*steps.Session, error) {
		s, err := open(ctx, backend)
		sess = s
		return s, err
	}
	h := startWith(t, goldenW, goldenH, opts)
	h.openLab()
	h.runTo("preflight")
	h.key("right", "enter")
	h.waitFor("create running", func(m *Model) bool { return m.nav.running == m.nav.cursor })
	h.key("q")
	h.waitFor("the confirmation", func(m *Model) bool { return m.confirmQuit })
	requireContains(t, h.screen(), "Quit when it finishes")
	h.key("y")
	h.waitFor("quit pending", func(m *Model) bool { return m.quitAfter && !m.confirmQuit })
	close(gate.open)
	fm := h.tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Minute)).(*Model)
	if fm.nav.marks[1] != markDone {
		t.Errorf("create-clusters mark %v after quitting, want done", fm.nav.marks[1])
	}
	if r, ok := sess.Journal.Step("create-clusters"); !ok || r.Finished.IsZero() {
		t.Errorf("the journal does not record the finished step: %+v", r)
	}
}
