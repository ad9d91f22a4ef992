package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Headless runs never ask: the journal of a whole lab holds no question
// and the output no score; --no-quiz is accepted there, and changes nothing.
func TestHeadlessNeverAsks(t *testing.T) {
	for _, flags := range [][]string{nil, {"--no-quiz"}} {
		lab := filepath.Join(t.TempDir(), "lab")
		out := mustCLI(t, append([]string{"run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab}, flags...)...)
		if strings.Contains(out, "What do you expect") || strings.Contains(out, "predictions") {
			t.Errorf("headless %v asked or scored:\n%s", flags, tail(out, 10))
		}
		raw, err := os.ReadFile(filepath.Join(lab, steps.JournalFile))
		if err != nil {
			t.Fatal(err)
		}
		j, err := steps.NewJournal(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		probes := j.Probes()
		if len(probes) != 10 {
			t.Fatalf("headless %v: %d probes, want 10", flags, len(probes))
		}
		for _, p := range probes {
			if p.Quiz != nil {
				t.Errorf("headless %v: a question on %s: %+v", flags, p.Title(), p.Quiz)
			}
		}
	}
}
