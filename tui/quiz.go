package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// quiz is predict, then observe: before a probing step runs, or a done one
// is probed again (p), the step panel asks what the learner expects of the
// probe from US; the answer (or the skip) goes with the run
// (steps.WithPrediction), and the outcome shows it beside what Cilium did
// and why. Options.NoQuiz turns it off; a run without the question records
// no quiz.
type quiz struct {
	off bool
	// asking is set while the question is up on panel (a nav index), for
	// the step's run or for a re-probe.
	asking  bool
	panel   int
	reprobe bool
	// score is steps.ScoreText of the journal, "" before any prediction.
	score string
}

// quizPrompt is the question, as the panel's action line asks it.
const quizPrompt = "What do you expect?"

// askFirst puts the question up instead of starting a run of the step
// under the cursor, when the quiz is on and the step probes: the answer
// starts it. It reports whether it asked.
func (m *Model) askFirst(reprobe bool) bool {
	cur := m.nav.current()
	if m.quiz.off || cur.kind != panelStep || m.steps[cur.step].Phase() == "" {
		return false
	}
	m.quiz.asking, m.quiz.panel, m.quiz.reprobe = true, m.nav.cursor, reprobe
	if m.lay.mode == modeCompact && m.view != viewStep {
		m.setView(viewStep)
	}
	m.panel.sc.follow = true // the question is at the end of the document
	m.syncLab()
	return true
}

// onQuizKey takes the answer: 1-6 choose, enter or esc skip; the run then
// starts with it. Other keys leave the question up (q and ? work as ever).
func (m *Model) onQuizKey(msg tea.KeyPressMsg) tea.Cmd {
	var said steps.Choice
	switch {
	case keyIs(msg, m.keys.Answer):
		said = steps.Choices[msg.String()[0]-'1']
	case keyIs(msg, m.keys.Skip):
	default:
		return m.say("press 1-%d for what you expect, or enter to skip the question", len(steps.Choices))
	}
	m.quiz.asking = false
	m.syncLab()
	if why := m.cannotStart(); why != "" {
		return m.say("%s", why)
	}
	if m.quiz.reprobe {
		return m.startReprobe(&said)
	}
	return m.startStep(&said)
}

// setScore reads the score from the journal's probes.
func (q *quiz) setScore(recs []steps.ProbeRecord) { q.score = steps.ScoreText(recs) }

// quizChoices are the six answers on one line of at most w cells, else on
// two: "1 all from US  2 mostly US  3 both  …".
func (st *styles) quizChoices(w int) []string {
	parts := make([]string, len(steps.Choices))
	for i, c := range steps.Choices {
		parts[i] = st.keyHint.Render(fmt.Sprint(i+1)) + " " + st.text.Render(c.Label())
	}
	if line := "  " + strings.Join(parts, "  "); width(line) <= w {
		return []string{line}
	}
	half := (len(parts) + 1) / 2
	return []string{"  " + strings.Join(parts[:half], "  "), "  " + strings.Join(parts[half:], "  ")}
}

// questionLines end the document while the question is up.
func (p stepPanel) questionLines(st *styles) []string {
	w := p.innerW()
	out := []string{""}
	for _, ln := range wrap(fmt.Sprintf("%s's busybox sends %s to hello-world. Where do the answers come from?", steps.QuizFrom.Label(), p.requestsText()), w) {
		out = append(out, st.accent.Render(ln))
	}
	return append(out, st.quizChoices(w)...)
}

// requestsText is "10 requests", from the step's shown probe command.
func (p stepPanel) requestsText() string {
	if p.requests > 0 {
		return fmt.Sprintf("%d %s", p.requests, steps.Plural(p.requests, "request", "requests"))
	}
	return "its requests"
}

// quizLines say, under a round's result, what the learner said and what
// Cilium did, and why; nothing for a round not asked about.
func (p stepPanel) quizLines(st *styles, recs []steps.ProbeRecord) []string {
	if p.quizOff {
		return nil
	}
	for _, rec := range recs {
		if rec.Quiz == nil {
			continue
		}
		did := "Cilium did " + rec.Did().Label()
		var head string
		switch {
		case rec.Quiz.Said == "":
			head = st.muted.Render("You skipped · ") + st.text.Render(did)
		case rec.Right():
			head = st.ok.Render("✓ You said "+rec.Quiz.Said.Label()+" · ") + st.text.Render(did)
		default:
			head = st.warn.Render("✗ You said "+rec.Quiz.Said.Label()+" · ") + st.text.Render(did)
		}
		out := []string{fit(head+st.muted.Render(" (from "+rec.Result.From.Label()+")"), p.innerW())}
		for _, ln := range wrap("Why: "+rec.Quiz.Why, p.innerW()) {
			out = append(out, st.text.Render(ln))
		}
		return out
	}
	return nil
}

// scoreLines close the last step's panel with the score.
func (p stepPanel) scoreLines(st *styles) []string {
	if p.quizOff || p.score == "" || p.idx != p.total-1 {
		return nil
	}
	return []string{"", st.accent.Render(fit("Predict, then observe: "+p.score+".", p.innerW()))}
}

// quizAction is the action line while the question is up.
func (p stepPanel) quizAction(st *styles) string {
	return fit(st.keyHint.Render("▶ "+quizPrompt)+st.muted.Render(fmt.Sprintf("  1-%d answer · enter skips", len(steps.Choices))), p.innerW())
}

// ownRound is the last round a step's own run recorded in history (not a
// re-probe): its probes from US and EU, recorded one after the other; nil
// when it has none.
func ownRound(history []steps.ProbeRecord, id string) []steps.ProbeRecord {
	for i := len(history) - 1; i >= 0; i-- {
		if p := history[i]; p.Step == id && p.Phase != steps.PhaseReprobe {
			if i > 0 && history[i-1].Step == id && history[i-1].Phase == p.Phase {
				return history[i-1 : i+1]
			}
			return history[i : i+1]
		}
	}
	return nil
}
