package tui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// quizRecords are the journal's probes that carry a question.
func (h *harness) quizRecords() []steps.ProbeRecord {
	var out []steps.ProbeRecord
	h.inspect(func(m *Model) {
		for _, p := range m.sess.Journal.Probes() {
			if p.Quiz != nil {
				out = append(out, p)
			}
		}
	})
	return out
}

// The question comes up before a probing step runs, waits for an answer
// (other keys leave it up and nothing runs), and the result shows what
// the learner said beside what Cilium did, with the reason; a re-probe
// asks again, and a skipped question is shown as such, not scored.
func TestQuizAskThenShowBoth(t *testing.T) {
	opts := testOptions(t)
	opts.NoQuiz = false
	h := startWith(t, 100, 34, opts)
	h.openLab()
	h.runTo("hubble")
	h.settle()
	// Steps that do not probe ran without a question.
	if recs := h.quizRecords(); len(recs) != 0 {
		t.Fatalf("questions before any probe: %+v", recs)
	}
	h.key("right")
	h.waitFor("the deploy step", func(m *Model) bool { return cursorID(m) == "deploy" && !m.busy() })
	h.key("2") // in the compact layout: the clusters' view
	h.waitFor("the clusters' view", func(m *Model) bool { return m.view == viewClusters })
	h.key("enter")
	h.waitFor("the question", func(m *Model) bool { return m.quiz.asking })
	out := h.screen()
	requireFits(t, out, 100, 34)
	requireContains(t, out, "What do you expect?", "US's busybox sends 10 requests", "1 all from US", "2 mostly US", "3 both", "4 mostly EU", "5 all from EU", "6 errors", "1-6 answer the quiz")
	h.inspect(func(m *Model) {
		if m.view != viewStep {
			t.Errorf("the question shows in view %d, want the step's", m.view)
		}
	})
	h.key("x", "right")
	h.waitScreen("press 1-6 for what you expect")
	h.inspect(func(m *Model) {
		if !m.quiz.asking || m.busy() || cursorID(m) != "deploy" {
			t.Errorf("a key that is no answer moved on: asking %v, busy %v, at %s", m.quiz.asking, m.busy(), cursorID(m))
		}
	})
	h.key("3")
	h.waitFor("the deploy step's end", func(m *Model) bool {
		return m.nav.marks[m.nav.cursor] == markDone && !m.busy() && !m.checking
	})
	h.waitScreen("Cilium did all from US")
	requireContains(t, h.screen(), "✗ You said both · Cilium did all from US", "Why: The Service is not global in US, so only local pods are used.")
	recs := h.quizRecords()
	if len(recs) != 1 || recs[0].Quiz.Said != steps.ChoiceBoth || recs[0].Step != "deploy" || recs[0].Did() != steps.ChoiceAllUS {
		t.Fatalf("the journal's questions: %+v", recs)
	}

	// p asks again; enter skips, and the re-probe still says what Cilium did.
	h.key("p")
	h.waitFor("the question again", func(m *Model) bool { return m.quiz.asking })
	h.key("enter")
	h.waitFor("the re-probe", func(m *Model) bool { return !m.busy() && len(m.panel.reprobes[m.nav.current().step]) == 1 })
	h.waitScreen("You skipped · Cilium did all from US")
	recs = h.quizRecords()
	if len(recs) != 2 || recs[1].Quiz.Said != "" || recs[1].Phase != steps.PhaseReprobe {
		t.Fatalf("the journal's questions after a skipped re-probe: %+v", recs)
	}
	var score string
	h.inspect(func(m *Model) { score = m.quiz.score })
	if score != "0 of 1 prediction right" {
		t.Errorf("score %q, want the skip not counted", score)
	}
	// esc skips too.
	h.key("p")
	h.waitFor("the question a third time", func(m *Model) bool { return m.quiz.asking })
	h.tm.Send(escKey())
	h.waitFor("the second re-probe", func(m *Model) bool { return !m.busy() && len(m.panel.reprobes[m.nav.current().step]) == 2 })
	if recs := h.quizRecords(); len(recs) != 3 || recs[2].Quiz.Said != "" {
		t.Errorf("esc did not skip: %+v", recs)
	}
}

// With the quiz off (--no-quiz; an autopilot's Options) nothing ever asks:
// the steps and re-probes run on the key, the journal holds no question,
// and the screen has no quiz line.
func TestNoQuizNeverAsks(t *testing.T) {
	h := start(t, 120, 40) // testOptions turn the quiz off
	h.openLab()
	h.runTo("global")
	h.key("p")
	h.waitFor("the re-probe", func(m *Model) bool { return !m.busy() && len(m.panel.reprobes[m.nav.current().step]) == 1 })
	h.runTo("scale-back")
	h.settle()
	h.inspect(func(m *Model) {
		if m.quiz.asking || m.quiz.score != "" {
			t.Errorf("the quiz is off, yet asking %v, score %q", m.quiz.asking, m.quiz.score)
		}
	})
	if recs := h.quizRecords(); len(recs) != 0 {
		t.Errorf("questions recorded with the quiz off: %+v", recs)
	}
	out := h.screen()
	for _, no := range []string{"What do you expect", "You said", "You skipped", "Cilium did", "predictions right"} {
		if strings.Contains(out, no) {
			t.Errorf("the screen shows %q with the quiz off:\n%s", no, out)
		}
	}
}

func escKey() tea.KeyPressMsg { return tea.KeyPressMsg{Code: tea.KeyEscape} }

// A lab opened again shows each done step's answer from the journal, and
// the score on the last step.
func TestQuizAfterResume(t *testing.T) {
	dir := t.TempDir()
	opts := testOptionsIn(t, dir, nil)
	h := startWith(t, 160, 48, opts)
	h.answers = map[string]string{"deploy": "1", "global": "5"}
	h.openLab()
	h.runTo("global")
	h.settle()
	h.key("q")
	h.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model).sess.Close() // let go of the lab directory

	h2 := startWith(t, 160, 48, testOptionsIn(t, dir, nil))
	h2.openLab()
	h2.waitScreen("Step 9 of 12")
	h2.key("left")
	h2.waitScreen("Step 8 of 12")
	requireContains(t, h2.screen(), "When it ran", "✗ You said all from EU · Cilium did both", "Why: Affinity none spreads requests")
	h2.key("left")
	h2.waitScreen("Step 7 of 12")
	requireContains(t, h2.screen(), "✓ You said all from US · Cilium did all from US")
	var score string
	h2.inspect(func(m *Model) { score = m.quiz.score })
	if score != "1 of 2 predictions right" {
		t.Errorf("score after resume %q", score)
	}
}

// TestQuizOnAFailedStep: a step whose probe was judged wrong still shows
// what the learner said beside what Cilium did, under the error.
func TestQuizOnAFailedStep(t *testing.T) {
	st := newStyles()
	rec := steps.ProbeRecord{Step: "global", Phase: steps.PhaseGlobal,
		Result: cluster.ProbeResult{From: cluster.US, Requests: 10, Answers: cluster.Answers{US: 10}},
		Quiz:   &steps.Quiz{Said: steps.ChoiceBoth, Pods: steps.Pods{US: 1, EU: 1}, Why: "Affinity none spreads requests uniformly over every ready pod of both clusters."}}
	p := stepPanel{w: 80, results: map[int]outcome{3: {res: steps.Result{
		Outcome: steps.Outcome{Probes: []steps.ProbeRecord{rec}},
		Err:     errors.New("the mesh did not behave as Cilium documents: from US only US answered"),
	}}}, idx: 3}
	out := ansi.Strip(strings.Join(p.outcomeLines(&st), "\n"))
	requireContains(t, out, "the mesh did not behave", "You said both · Cilium did all from US", "Why: Affinity none spreads")
	p.quizOff = true
	if out := ansi.Strip(strings.Join(p.outcomeLines(&st), "\n")); strings.Contains(out, "You said") {
		t.Errorf("with the quiz off:\n%s", out)
	}
}
