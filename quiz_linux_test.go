package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// The guide on a terminal asks before the first probe and the exit note
// gives the score; with --no-quiz the same run never asks and the note
// has no score.
func TestInteractiveQuiz(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		quiz  bool
	}{
		{"quiz", nil, true},
		{"no quiz", []string{"--no-quiz"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := filepath.Join(t.TempDir(), "lab")
			args := append([]string{"--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab}, tc.flags...)
			r := startOnPTY(t, nil, []string{"TERM=xterm-256color"}, args...)
			waitFor(t, "the welcome screen", func() bool { return strings.Contains(r.screen(), "What you will do") }, r)
			io.WriteString(r.master, "\r") // open the lab
			waitFor(t, "the lab", func() bool {
				return strings.Contains(r.screen(), "Check the machine") && fileExists(filepath.Join(lab, "lab.json"))
			}, r)
			const question = "What do you expect?"
			for i, id := range []string{"preflight", "create-clusters", "install-cilium", "enable-clustermesh", "connect", "deploy"} {
				time.Sleep(300 * time.Millisecond)
				keys := "l\r" // the next step, and run it
				if i == 0 {
					keys = "\r"
				}
				// The guide refuses both keys while it reads the live state
				// after the step before (a busy machine): press them again
				// when nothing came of them, as a learner would.
				started := func() bool {
					_, ok := journalStepQuiet(lab, id)
					return ok || id == "deploy" && tc.quiz && strings.Contains(r.screen(), question)
				}
				for try := 0; ; try++ {
					io.WriteString(r.master, keys)
					if waitQuiet(5*time.Second, started) {
						break
					}
					if try == 10 {
						t.Fatalf("%s never started:\n%s", id, tail(r.screen(), 30))
					}
				}
				if id == "deploy" && tc.quiz {
					io.WriteString(r.master, "1")
				}
				waitFor(t, id+" done", func() bool { rec, ok := journalStepQuiet(lab, id); return ok && !rec.Finished.IsZero() }, r)
			}
			time.Sleep(300 * time.Millisecond)
			// The step's end may not have reached the guide yet: it then
			// asks before quitting.
			const prompt = "Quit? [y/n]"
			io.WriteString(r.master, "q")
			waitFor(t, "the guide to quit or ask", func() bool {
				select {
				case <-r.done:
					return true
				default:
					return strings.Contains(r.screen(), prompt)
				}
			}, r)
			if strings.Contains(r.screen(), prompt) {
				io.WriteString(r.master, "y")
			}
			if code := r.wait(t); code != 0 {
				t.Fatalf("exit %d:\n%s", code, tail(r.screen(), 10))
			}
			out := strings.Join(strings.Fields(r.screen()), " ")
			const score = "Predict, then observe: 1 of 1 prediction right."
			if got := strings.Contains(out, score); got != tc.quiz {
				t.Errorf("exit note has the score: %t, want %t:\n%s", got, tc.quiz, tail(r.screen(), 10))
			}
			if got := strings.Contains(out, "What do you expect?"); got != tc.quiz {
				t.Errorf("the guide asked: %t, want %t", got, tc.quiz)
			}
			raw, err := os.ReadFile(filepath.Join(lab, steps.JournalFile))
			if err != nil {
				t.Fatal(err)
			}
			j, err := steps.NewJournal(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			if right, asked := steps.Score(j.Probes()); right != asked || asked != map[bool]int{true: 1}[tc.quiz] {
				t.Errorf("journal score %d/%d", right, asked)
			}
		})
	}
}

// waitQuiet polls cond for up to d and reports whether it came to hold.
func waitQuiet(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}
