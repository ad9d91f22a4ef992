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
			for i, id := range []string{"preflight", "create-clusters", "install-cilium", "enable-clustermesh", "connect", "deploy"} {
				time.Sleep(300 * time.Millisecond)
				keys := "l\r" // the next step, and run it
				if i == 0 {
					keys = "\r"
				}
				io.WriteString(r.master, keys)
				if id == "deploy" && tc.quiz {
					waitFor(t, "the question", func() bool { return strings.Contains(r.screen(), "What do you expect?") }, r)
					io.WriteString(r.master, "1")
				}
				waitFor(t, id+" done", func() bool { rec, ok := journalStepQuiet(lab, id); return ok && !rec.Finished.IsZero() }, r)
			}
			time.Sleep(300 * time.Millisecond)
			io.WriteString(r.master, "q")
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
