package steps_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Classify reads a result the way the quiz's choices name it; for answers
// from both clusters the pods Cilium picked from decide between "both"
// and "mostly", so a lopsided draw of a fair pick is still "both".
func TestClassify(t *testing.T) {
	res := func(us, eu, errs int) cluster.ProbeResult {
		return cluster.ProbeResult{From: cluster.US, Requests: us + eu + errs, Answers: cluster.Answers{US: us, EU: eu}, Errors: errs}
	}
	for _, tc := range []struct {
		name string
		r    cluster.ProbeResult
		pods steps.Pods
		want steps.Choice
	}{
		{"local only", res(10, 0, 0), steps.Pods{US: 1}, steps.ChoiceAllUS},
		{"failover", res(0, 10, 0), steps.Pods{EU: 1}, steps.ChoiceAllEU},
		{"no backend", res(0, 0, 10), steps.Pods{}, steps.ChoiceErrors},
		{"most failed", res(2, 1, 4), steps.Pods{US: 1, EU: 1}, steps.ChoiceErrors},
		{"a few failed, the rest local", res(8, 0, 2), steps.Pods{US: 1}, steps.ChoiceAllUS},
		{"even pods, even answers", res(5, 5, 0), steps.Pods{US: 1, EU: 1}, steps.ChoiceBoth},
		{"even pods, a lopsided draw", res(8, 2, 0), steps.Pods{US: 1, EU: 1}, steps.ChoiceBoth},
		{"even pods, the other way", res(1, 9, 0), steps.Pods{US: 2, EU: 2}, steps.ChoiceBoth},
		{"two US pods to one", res(5, 5, 0), steps.Pods{US: 2, EU: 1}, steps.ChoiceMostlyUS},
		{"one US pod to four", res(3, 7, 0), steps.Pods{US: 1, EU: 4}, steps.ChoiceMostlyEU},
		{"one US pod to two", res(3, 7, 0), steps.Pods{US: 1, EU: 2}, steps.ChoiceMostlyEU},
		{"three to two", res(6, 4, 0), steps.Pods{US: 3, EU: 2}, steps.ChoiceBoth},
		{"settling, answers mostly US", res(9, 1, 0), steps.Pods{US: 1}, steps.ChoiceMostlyUS},
		{"settling, answers mostly EU", res(2, 8, 0), steps.Pods{EU: 1}, steps.ChoiceMostlyEU},
		{"settling, answers even", res(5, 5, 0), steps.Pods{}, steps.ChoiceBoth},
	} {
		if got := steps.Classify(tc.r, tc.pods); got != tc.want {
			t.Errorf("%s: Classify(%s, %+v) = %s, want %s", tc.name, tc.r, tc.pods, got, tc.want)
		}
	}
}

// ask runs step id under a prediction and returns the round's record of
// the probe from US.
func (l *lab) ask(t *testing.T, id string, said steps.Choice) steps.ProbeRecord {
	t.Helper()
	i := l.index(t, id)
	res := l.runner.RunStep(steps.WithPrediction(context.Background(), said), i)
	if res.Err != nil {
		t.Fatalf("step %s: %v", id, res.Err)
	}
	return usRecord(t, res.Probes)
}

func usRecord(t *testing.T, recs []steps.ProbeRecord) steps.ProbeRecord {
	t.Helper()
	if len(recs) != 2 {
		t.Fatalf("%d probes in the round, want 2", len(recs))
	}
	for _, r := range recs {
		if r.Result.From == cluster.EU && r.Quiz != nil {
			t.Fatalf("the probe from EU carries the question: %+v", r.Quiz)
		}
	}
	if recs[0].Result.From != cluster.US || recs[0].Quiz == nil {
		t.Fatalf("the probe from US carries no question: %+v", recs[0])
	}
	return recs[0]
}

// Each phase of the simulated lab classifies as the step teaches, with the
// reason from cluster's explain rules; a right and a wrong answer score.
func TestQuizThroughTheLab(t *testing.T) {
	type ask struct {
		said steps.Choice
		want steps.Choice
		why  string
	}
	plan := map[string]ask{
		"deploy":         {steps.ChoiceAllUS, steps.ChoiceAllUS, "The Service is not global in US, so only local pods are used."},
		"global":         {steps.ChoiceMostlyUS, steps.ChoiceBoth, "Affinity none spreads requests uniformly over every ready pod of both clusters."},
		"affinity-local": {steps.ChoiceBoth, steps.ChoiceAllUS, "Affinity local keeps requests home while a local backend is active."},
		"scale-down":     {steps.ChoiceAllEU, steps.ChoiceAllEU, "Affinity local, but no local backend is active: failover to EU."},
		"scale-back":     {"", steps.ChoiceAllUS, "Affinity local keeps requests home while a local backend is active."},
	}
	for _, seed := range []uint64{1, 7} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			l := newLab(t, seed, 10)
			rightWant, askedWant := 0, 0
			for i, s := range l.runner.Steps {
				a, ok := plan[s.ID()]
				if !ok || s.ID() == "teardown" {
					if s.ID() != "teardown" {
						l.run(t, i)
					}
					continue
				}
				rec := l.ask(t, s.ID(), a.said)
				if got := rec.Did(); got != a.want {
					t.Errorf("%s: Cilium did %s (%s, pods %+v), want %s", s.ID(), got, rec.Result, rec.Quiz.Pods, a.want)
				}
				if rec.Quiz.Why != a.why {
					t.Errorf("%s: why %q, want %q", s.ID(), rec.Quiz.Why, a.why)
				}
				if rec.Quiz.Said != a.said {
					t.Errorf("%s: recorded %q, said %q", s.ID(), rec.Quiz.Said, a.said)
				}
				if a.said != "" {
					askedWant++
					if a.said == a.want {
						rightWant++
					}
				}
			}
			// The playground: no backend anywhere, then four US pods to one
			// in EU, then one to four, with affinity none in US.
			ctx := context.Background()
			playground := func(said steps.Choice) steps.ProbeRecord {
				recs, err := steps.Reprobe(steps.WithPrediction(ctx, said), l.env, steps.PlaygroundID)
				if err != nil {
					t.Fatal(err)
				}
				return usRecord(t, recs)
			}
			for _, c := range cluster.Names() {
				if err := steps.Scale(ctx, l.env, c, 0); err != nil {
					t.Fatal(err)
				}
			}
			if rec := playground(steps.ChoiceErrors); rec.Did() != steps.ChoiceErrors || !strings.Contains(rec.Quiz.Why, "every request fails") {
				t.Errorf("no backend anywhere: did %s, why %q", rec.Did(), rec.Quiz.Why)
			}
			none := cluster.AffinityNone
			if err := steps.Configure(ctx, l.env, cluster.US, cluster.ServiceChange{Affinity: &none}); err != nil {
				t.Fatal(err)
			}
			for _, sc := range []struct {
				us, eu int
				want   steps.Choice
			}{{4, 1, steps.ChoiceMostlyUS}, {1, 4, steps.ChoiceMostlyEU}} {
				for _, c := range cluster.Names() {
					n := sc.us
					if c == cluster.EU {
						n = sc.eu
					}
					if err := steps.Scale(ctx, l.env, c, n); err != nil {
						t.Fatal(err)
					}
				}
				rec := playground(sc.want)
				if rec.Did() != sc.want || rec.Quiz.Pods != (steps.Pods{US: sc.us, EU: sc.eu}) {
					t.Errorf("US %d pods, EU %d: did %s with pods %+v (%s), want %s", sc.us, sc.eu, rec.Did(), rec.Quiz.Pods, rec.Result, sc.want)
				}
			}
			rightWant, askedWant = rightWant+3, askedWant+3
			right, asked := steps.Score(l.env.Journal.Probes())
			if right != rightWant || asked != askedWant {
				t.Errorf("score %d/%d, want %d/%d", right, asked, rightWant, askedWant)
			}
			if got, want := steps.ScoreText(l.env.Journal.Probes()), fmt.Sprintf("%d of %d predictions right", rightWant, askedWant); got != want {
				t.Errorf("ScoreText = %q, want %q", got, want)
			}
		})
	}
}

// Without a prediction in the context (headless, the autopilot) nothing is
// asked and nothing recorded: no quiz, no score.
func TestNoPredictionNoQuiz(t *testing.T) {
	l := newLab(t, 1, 10)
	if err := l.runner.RunRange(context.Background(), 0, len(l.runner.Steps)-1, true); err != nil {
		t.Fatal(err)
	}
	probes := l.env.Journal.Probes()
	for _, p := range probes {
		if p.Quiz != nil {
			t.Errorf("%s: a quiz nobody asked: %+v", p.Title(), p.Quiz)
		}
	}
	if right, asked := steps.Score(probes); right != 0 || asked != 0 || steps.ScoreText(probes) != "" {
		t.Errorf("score %d/%d without a question", right, asked)
	}
}

// A journal with predictions saves and loads back the same, score and all.
func TestJournalKeepsPredictions(t *testing.T) {
	var saved []byte
	j, err := steps.NewJournal(nil, func(b []byte) error { saved = b; return nil })
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, 3, 10)
	l.env.Journal = j
	for i, s := range l.runner.Steps {
		if s.ID() == "affinity-local" {
			break
		}
		ctx := context.Background()
		if s.Phase() != "" {
			ctx = steps.WithPrediction(ctx, steps.ChoiceAllUS)
		}
		if res := l.runner.RunStep(ctx, i); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if !strings.Contains(string(saved), `"quiz"`) {
		t.Fatalf("the saved journal has no quiz:\n%s", saved)
	}
	back, err := steps.NewJournal(saved, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := steps.ScoreText(back.Probes()), steps.ScoreText(j.Probes()); got != want || want != "1 of 2 predictions right" {
		t.Errorf("score after loading %q, before %q, want 1 of 2", got, want)
	}
	if again := encode(t, back); string(again) != string(saved) {
		t.Errorf("the journal changed on a round trip:\n%s\nthen\n%s", saved, again)
	}
}

// A journal written before the quiz loads; a damaged question does not.
func TestJournalValidatesPredictions(t *testing.T) {
	const quiz = `,"quiz":{"said":"all-us","pods":{"us":1,"eu":0},"why":"The Service is not global in US, so only local pods are used."}`
	good := strings.Replace(goodJournal, `"time":"2026-01-02T03:04:06Z"}`, `"time":"2026-01-02T03:04:06Z"`+quiz+`}`, 1)
	if good == goodJournal {
		t.Fatal("the quiz was not added")
	}
	j, err := steps.NewJournal([]byte(good), nil)
	if err != nil {
		t.Fatalf("a journal with a prediction: %v", err)
	}
	if got := steps.ScoreText(j.Probes()); got != "1 of 1 prediction right" {
		t.Errorf("score %q", got)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown choice", `"said":"all-us"`, `"said":"all-mars"`, `probe 1 (deploy): unknown prediction "all-mars"`},
		{"a label for a choice", `"said":"all-us"`, `"said":"all from US"`, `unknown prediction "all from US"`},
		{"negative pods", `"pods":{"us":1,"eu":0}`, `"pods":{"us":-1,"eu":0}`, "negative pods (US -1, EU 0)"},
		{"pods beyond any lab", `"pods":{"us":1,"eu":0}`, `"pods":{"us":1,"eu":10001}`, "beyond 10000"},
		{"no reason", `"why":"The Service is not global in US, so only local pods are used."`, `"why":""`, "a prediction without the reason"},
		{"asked of the probe from EU", `"from":"us"`, `"from":"eu"`, "a prediction for the probe from eu"},
	} {
		raw := strings.Replace(good, tc.old, tc.new, 1)
		if raw == good {
			t.Fatalf("%s: the case changes nothing", tc.name)
		}
		if _, err := steps.NewJournal([]byte(raw), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	skipped := strings.Replace(good, `"said":"all-us",`, ``, 1)
	j, err = steps.NewJournal([]byte(skipped), nil)
	if err != nil {
		t.Fatalf("a skipped question: %v", err)
	}
	if right, asked := steps.Score(j.Probes()); right != 0 || asked != 0 {
		t.Errorf("a skipped question scores %d/%d", right, asked)
	}
}
