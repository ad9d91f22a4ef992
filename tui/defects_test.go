package tui

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Tests for the defects of issue 10, each driven through the program with
// keys, as a learner would.

// gatedLab opens a lab whose simulated delays wait for the gate, and
// returns the harness, the gate and the session.
func gatedLab(t *testing.T, w, h int) (*harness, gateClock, func() *steps.Session) {
	t.Helper()
	gate := gateClock{open: make(chan struct{})}
	opts := testOptionsIn(t, t.TempDir(), gate)
	var sess *steps.Session
	open := opts.Open
	opts.Open = func(ctx context.Context, backend string) (*steps.Session, error) {
		s, err := open(ctx, backend)
		sess = s
		return s, err
	}
	return startWith(t, w, h, opts), gate, func() *steps.Session { return sess }
}

// runGated runs preflight (no delay) and starts create-clusters, which
// then waits for the gate.
func runGated(h *harness) {
	h.t.Helper()
	h.openLab()
	h.runTo("preflight")
	h.key("right", "enter")
	h.waitFor("create running", func(m *Model) bool { return m.nav.running == m.nav.cursor })
}

// Quitting during an action asks first, then waits for the action to end,
// leaving its work complete and recorded.
func TestQuitWhileRunning(t *testing.T) {
	h, gate, sess := gatedLab(t, 160, 48)
	runGated(h)
	h.key("q")
	h.waitScreen("Quit when it finishes")
	h.key("y")
	h.waitScreen("Quitting when the current action ends")
	close(gate.open)
	fm := h.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model)
	if fm.nav.marks[1] != markDone {
		t.Errorf("create-clusters mark %v after quitting, want done", fm.nav.marks[1])
	}
	if r, ok := sess().Journal.Step("create-clusters"); !ok || r.Finished.IsZero() {
		t.Errorf("the journal does not record the finished step: %+v", r)
	}
}

// Issue 10, defect 1: q during an action, the action ends while the prompt
// is up, then y quits at once; nothing else can start meanwhile.
func TestQuitAfterTheActionEnded(t *testing.T) {
	h, gate, sess := gatedLab(t, 160, 48)
	runGated(h)
	h.key("q")
	h.waitScreen("Quit when it finishes")
	close(gate.open)
	h.waitFor("create done", func(m *Model) bool { return !m.busy() })
	h.waitScreen("Nothing runs now. Quit? [y/n]")
	h.key("y")
	fm := h.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model)
	if fm.quitAfter {
		t.Error("y with nothing running waited for an action to end")
	}
	if _, ok := sess().Journal.Step("install-cilium"); ok {
		t.Error("the next step ran after the learner chose to quit")
	}
}

// Issue 10, defect 1: a second ctrl+c while an action runs interrupts it
// (the README's promise) and the guide quits; the step is not recorded done.
func TestSecondCtrlCInterrupts(t *testing.T) {
	h, _, sess := gatedLab(t, 160, 48)
	runGated(h)
	h.key("ctrl+c")
	h.waitScreen("Quit when it finishes")
	h.key("ctrl+c")
	// The gate never opens: only the interruption ends the step.
	fm := h.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model)
	if !fm.interrupted || fm.nav.marks[1] == markDone {
		t.Errorf("after a second ctrl+c: interrupted %v, create-clusters mark %v", fm.interrupted, fm.nav.marks[1])
	}
	if r, _ := sess().Journal.Step("create-clusters"); !r.Finished.IsZero() {
		t.Error("the interrupted step is journaled as finished")
	}
}

// Issue 10, defect 2: p on a done step after the playground changed the
// clusters takes a new round, labelled with what the clusters were; the
// step's own round and summary stay, and the history keeps both.
func TestReprobeAfterThePlaygroundIsANewRound(t *testing.T) {
	h := start(t, 160, 48)
	h.openLab()
	h.toPlayground()
	h.key("-") // US from 1 replica to 0; US keeps affinity local
	h.waitFor("US scaled to 0", func(m *Model) bool { return !m.busy() && m.panes.st[0].Demo.HelloWorld.Desired == 0 })
	var before []steps.ProbeRecord
	h.inspect(func(m *Model) { before = m.sess.Journal.Probes() })
	for range 4 { // back to the global step
		h.key("left")
	}
	h.waitFor("the global step", func(m *Model) bool { return cursorID(m) == "global" })
	h.key("p")
	h.waitFor("the re-probe", func(m *Model) bool { return !m.busy() && len(m.probes.history) == len(before)+2 })
	h.settle()
	out := h.screen()
	requireContains(t, out,
		"Answers now come from both clusters", // the step's summary, as it was
		"↻ Re-probe at hh:mm · US global, affinity local, 0 replicas · EU global, 1 replica",
		"from US: US 0 · EU 10",
		"Responses · re-probe · 10 each", "History · 6 rounds", "re-probe")
	var after []steps.ProbeRecord
	h.inspect(func(m *Model) { after = m.sess.Journal.Probes() })
	for i := range before {
		if !reflect.DeepEqual(after[i], before[i]) {
			t.Errorf("round %d changed: %+v, was %+v", i, after[i], before[i])
		}
	}
	for _, r := range after[len(before):] {
		if r.Phase != steps.PhaseReprobe || r.Step != "global" {
			t.Errorf("re-probe recorded as %+v", r)
		}
	}
	// The story's global round is still in the strip.
	if !regexp.MustCompile(`global\s+affinity\s+failover\s+back home\s+re-probe`).MatchString(out) {
		t.Errorf("the history strip lost a round of the story:\n%s", out)
	}
}

// Issue 10, defect 4: a step's timer counts from the key press, not from
// the last time the clock was read.
func TestTimerCountsFromTheKeyPress(t *testing.T) {
	clock := &fakeNow{t: time.Date(2024, 5, 17, 10, 0, 0, 0, time.UTC)}
	gate := gateClock{open: make(chan struct{})}
	opts := testOptionsIn(t, t.TempDir(), gate)
	opts.Now = clock.now
	h := startWith(t, 160, 48, opts)
	h.openLab()
	h.runTo("preflight")
	clock.advance(42 * time.Second) // the learner reads the panel
	h.key("right", "enter")
	h.waitFor("create running", func(m *Model) bool { return m.nav.running == m.nav.cursor })
	var action string
	h.inspect(func(m *Model) { action = ansi.Strip(m.panel.action(&m.st)) })
	if !strings.Contains(action, "Running… 0.0s") {
		t.Errorf("right after enter the action line says %q, want Running… 0.0s", action)
	}
	clock.advance(1500 * time.Millisecond)
	h.waitFor("the timer to move", func(m *Model) bool { return strings.Contains(ansi.Strip(m.panel.action(&m.st)), "Running… 1.5s") })
	close(gate.open)
	h.waitFor("create done", func(m *Model) bool { return !m.busy() })
	h.inspect(func(m *Model) { action = ansi.Strip(m.panel.action(&m.st)) })
	if !strings.Contains(action, "Done in 1.5s") {
		t.Errorf("the done step says %q, want Done in 1.5s (from the key press)", action)
	}
}

// Issue 10, defect 5: footer messages go on the next key, or by themselves
// after a while, and are wrapped at words, never cut mid-word.
func TestFooterMessagesAreTransient(t *testing.T) {
	h := start(t, 80, 24)
	h.waitFor("engine detection", func(m *Model) bool { return !m.welcome.detecting })
	h.key("down") // the real lab, where no engine answers: a long hint
	msg := "the real lab needs Docker or Podman: no engine answers"
	h.waitScreen("the real lab needs Docker or Podman")
	var footer []string
	h.inspect(func(m *Model) { footer = m.footer.out })
	if got := strings.Join(strings.Fields(normalize(strings.Join(footer, " "))), " "); got != msg {
		t.Errorf("footer %q, want the whole message %q", footer, msg)
	}
	h.key("x") // any key
	h.waitFor("the message to go on a key", func(m *Model) bool { return m.footer.flash == "" })

	// A long message wraps at words over up to three lines.
	long := strings.Repeat("abcdefgh ", 40)
	h.inspect(func(m *Model) { m.say("%s", long) })
	h.inspect(func(m *Model) { m.refresh(); footer = m.footer.out })
	if len(footer) != maxFooterRows {
		t.Fatalf("a long message takes %d lines, want %d", len(footer), maxFooterRows)
	}
	for _, ln := range footer {
		for _, word := range strings.Fields(normalize(ln)) {
			if word != "abcdefgh" && word != "abcdefgh…" {
				t.Errorf("a word was cut: %q in %q", word, ln)
			}
		}
	}
	h.key("x")

	// Without a key, it goes after a while.
	h.inspect(func(m *Model) { m.flashFor = 50 * time.Millisecond })
	h.key("down")
	h.waitScreen("the real lab needs Docker or Podman")
	h.waitFor("the message to go by itself", func(m *Model) bool { return m.footer.flash == "" })
}

// Issue 10, defect 6: the probe command is shown whole, with the request
// count in use, wrapped with a continuation mark and never cut, at every
// size.
func TestProbeCommandShownWhole(t *testing.T) {
	probe := `kubectl exec -it deploy/busybox-deployment -- /bin/sh -c 'for i in $(seq 1 25); do wget -qO- hello-world:80; echo ""; done'`
	for _, w := range []int{80, 160} {
		opts := testOptions(t)
		open := opts.Open
		opts.Open = func(ctx context.Context, backend string) (*steps.Session, error) {
			s, err := open(ctx, backend)
			if s != nil {
				s.Env.Requests = 25 // --requests 25
			}
			return s, err
		}
		h := startWith(t, w, 48, opts)
		h.openLab()
		h.runTo("hubble")
		h.key("right")
		h.waitFor("the deploy step", func(m *Model) bool { return cursorID(m) == "deploy" })
		var lines []string
		h.inspect(func(m *Model) { lines = append(lines, m.panel.cmds...) })
		var text []string
		for _, ln := range lines {
			ln = strings.TrimSpace(ansi.Strip(ln))
			if width(ln) > w-4 {
				t.Errorf("at %d columns a command line is %d cells", w, width(ln))
			}
			if strings.Contains(ln, "…") {
				t.Errorf("a command is cut at %d columns: %q", w, ln)
			}
			text = append(text, strings.TrimPrefix(strings.TrimPrefix(ln, "$ "), "↪ "))
		}
		if joined := strings.Join(text, " "); !strings.Contains(joined, probe) {
			t.Errorf("at %d columns the probe command is not whole:\n%s", w, strings.Join(text, "\n"))
		}
	}
}

// Issue 10, defect 10: after the teardown, the steps whose clusters are
// gone are not marked done, in the session and when the lab is opened again.
func TestTornDownLab(t *testing.T) {
	dir := t.TempDir()
	h := startWith(t, 160, 48, testOptionsIn(t, dir, nil))
	h.openLab()
	h.runTo("scale-back")
	h.key("right", "right")
	h.runTo("teardown")
	h.settle()
	out := h.screen()
	requireContains(t, out, "○  7 Deploy & probe", "○  6 Hubble", "✓  1 Check the machine", "Lab complete", "not created")
	if strings.Contains(out, "✓  7 Deploy & probe") {
		t.Errorf("step 7 is marked done while the panes say not created:\n%s", out)
	}
	h.key("left", "left", "left", "left", "left", "left")
	h.waitScreen("Step 7 of 12")
	requireContains(t, h.screen(), "Ran before the teardown: its clusters are gone")
	h.key("enter")
	h.waitScreen("start a new lab (--fresh) to run it again")
	h.key("q")
	h.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model).sess.Close() // let go of the lab directory

	// Opened again: the same marks, from the live state and the journal.
	h2 := startWith(t, 160, 48, testOptionsIn(t, dir, nil))
	h2.openLab()
	out = h2.screen()
	requireContains(t, out, "○  7 Deploy & probe", "▸ ✓ 12 Tear down", "Lab complete")
}

// Issue 10, defect 11: one probe round is "1 round"; the playground is not
// marked done before the learner went there; a step shows one duration.
func TestWording(t *testing.T) {
	h := start(t, 160, 48)
	h.openLab()
	h.runTo("deploy")
	h.settle()
	out := h.screen()
	requireContains(t, out, "History · 1 round")
	if strings.Contains(out, "1 rounds") || strings.Contains(out, "1 probes") {
		t.Errorf("plural after one round:\n%s", out)
	}
	for range 5 {
		h.key("left")
	}
	h.waitScreen("Step 2 of 12")
	if text := panelText(h); strings.Contains(text, "Took") || len(durations.FindAllString(text, -1)) != 1 {
		t.Errorf("the create step shows more than one duration:\n%s", text)
	}
	for range 5 {
		h.key("right")
	}
	h.runTo("scale-back")
	h.settle()
	requireContains(t, h.screen(), "· ★  Playground")
	h.key("right")
	h.waitScreen("✓ ★  Playground")
}

// panelText is the step panel's action line and outcome, colours off.
func panelText(h *harness) string {
	var s string
	h.inspect(func(m *Model) { s = m.panel.action(&m.st) + "\n" + strings.Join(m.panel.outcomeLines(&m.st), "\n") })
	return ansi.Strip(s)
}

// A signal to the process while an action runs interrupts it and the guide
// quits when it has returned, the step not recorded done; with nothing
// running it quits at once.
func TestSignalInterrupts(t *testing.T) {
	h, _, sess := gatedLab(t, 160, 48)
	runGated(h)
	h.tm.Send(signalMsg{})
	fm := h.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model)
	if !fm.interrupted || fm.nav.marks[1] == markDone {
		t.Errorf("after a signal: interrupted %v, create-clusters mark %v", fm.interrupted, fm.nav.marks[1])
	}
	if r, _ := sess().Journal.Step("create-clusters"); !r.Finished.IsZero() {
		t.Error("the interrupted step is journaled as finished")
	}
	idle := start(t, 80, 24)
	idle.waitFor("engine detection", func(m *Model) bool { return !m.welcome.detecting })
	idle.tm.Send(signalMsg{})
	idle.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard))
}
