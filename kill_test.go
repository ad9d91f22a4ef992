package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// The lab that the kill tests interrupt: seed 3, 1000 requests per probe,
// stopping before the teardown so that the end state has something in it.
const (
	killSeed     = "3"
	killRequests = "1000"
	// killSpeed paces the interrupted run: slow enough that a step is still
	// in flight well after the line that triggers the kill (the agents'
	// wait is 160 ms a node, a probe of 1000 requests about a second),
	// fast enough that the lab reaches the probes in about three seconds.
	killSpeed = "0.02"
)

func labArgs(dir, speed string, extra ...string) []string {
	return append([]string{"run", "--headless", "--backend", "sim", "--sim-speed", speed,
		"--seed", killSeed, "--requests", killRequests, "--lab-dir", dir}, extra...)
}

// labEnd is what must not depend on where the lab was interrupted.
type labEnd struct {
	state  string // sim-state.json, byte for byte
	probes []probeOutcome
}

type probeOutcome struct {
	Step, Phase string
	From        string
	Requests    int
	US, EU, Err int
}

func readEnd(t *testing.T, dir string) labEnd {
	t.Helper()
	state, err := os.ReadFile(filepath.Join(dir, simStateFile))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, steps.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	j, err := steps.NewJournal(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := labEnd{state: string(state)}
	for _, p := range j.Probes() {
		r := p.Result
		end.probes = append(end.probes, probeOutcome{p.Step, p.Phase, string(r.From), r.Requests, r.Answers.US, r.Answers.EU, r.Errors})
	}
	return end
}

func compareEnds(t *testing.T, what string, got, want labEnd) {
	t.Helper()
	if got.state != want.state {
		t.Errorf("%s: simulated state differs from the uninterrupted run's:\n%s\nwant\n%s", what, got.state, want.state)
	}
	if !reflect.DeepEqual(got.probes, want.probes) {
		t.Errorf("%s: probes differ from the uninterrupted run's:\n%v\nwant\n%v", what, got.probes, want.probes)
	}
}

// readJournal reads the lab's journal.
func readJournal(t *testing.T, dir string) *steps.Journal {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, steps.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	j, err := steps.NewJournal(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// runUntilKilled starts clustermesh-lab (this test binary acting as it) and
// SIGKILLs it as soon as trigger accepts a line of its output; it returns
// the output up to then.
func runUntilKilled(t *testing.T, args []string, trigger func(line string) bool) string {
	t.Helper()
	out, _, err := runUntil(t, args, syscall.SIGKILL, trigger)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("killed lab: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the lab was not killed by SIGKILL: %v", err)
	}
	return out
}

// after returns a trigger that fires on the first line containing want once
// a line containing first has been seen ("" for none).
func after(first, want string) func(string) bool {
	seen := first == ""
	return func(line string) bool {
		if !seen {
			seen = strings.Contains(line, first)
			return false
		}
		return strings.Contains(line, want)
	}
}

// TestKillAndResume kills the lab for real (SIGKILL, no chance to clean up)
// in the middle of steps and between them, reruns it, and checks that it
// ends exactly where an uninterrupted run of the same seed ends: the same
// simulated state byte for byte and the same probe counts.
func TestKillAndResume(t *testing.T) {
	ref := filepath.Join(t.TempDir(), "lab")
	mustCLI(t, labArgs(ref, "instant", "--to", "scale-back")...)
	wantMid := readEnd(t, ref)
	mustCLI(t, labArgs(ref, "instant")...)
	wantEnd := readEnd(t, ref)
	if len(wantMid.probes) != 10 || !strings.Contains(wantMid.state, `"hello-world"`) {
		t.Fatalf("reference run: %d probes, state %s", len(wantMid.probes), wantMid.state)
	}

	cases := []struct {
		name string
		// The kill comes on the first line holding killOn once a line
		// holding afterLine ("" for none) was seen.
		afterLine, killOn string
		// unfinished is the step the kill interrupts ("" when it lands
		// between steps).
		unfinished string
		// resumeAt is the step the rerun says it resumes at.
		resumeAt string
		// rerunSays is what the rerun must print about the leftovers.
		rerunSays string
	}{
		{"mid create-clusters (half-created clusters)", "", "[us]  • Starting control-plane",
			"create-clusters", "Resuming at step 2 (create-clusters)", `Found a half-created cluster "us" from an interrupted run`},
		{"mid install-cilium (EU's agents starting)", "", "[eu] Waiting for Cilium in eu: 0/3",
			"install-cilium", "Resuming at step 3 (install-cilium)", "is already installed in eu"},
		{"mid deploy (pods pending)", "", `[eu] Waiting for deployment "hello-world" rollout`,
			"deploy", "Resuming at step 7 (deploy)", "deployment.apps/hello-world unchanged"},
		{"mid probe of the global step", "Step 8/12", "[us] Probing",
			"global", "Resuming at step 8 (global)", `service.cilium.io/global="true"`},
		// The US probe has finished, the EU one not: the rerun's US probe
		// answers as the first did (the probe's identity names its
		// random stream, not a counter the first try advanced).
		{"between the US and EU probes of the global step", "Step 8/12", "[us] Probe from us",
			"global", "Resuming at step 8 (global)", ""},
		{"just after connect finished", "Step 5/12", "✓ Done",
			"", "Resuming at step 6 (hubble)", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var lab string
			// A kill lands a moment after its line: on a busy machine the
			// step may record its round, or finish, first (the EU probe
			// runs beside the US one, so "between them" is a window of
			// milliseconds; a recorded round with the Service global is a
			// done step to Resume). Such a try did not test the case: try
			// again on a fresh lab, a few times.
			for try := 1; ; try++ {
				lab = filepath.Join(t.TempDir(), "lab")
				runUntilKilled(t, labArgs(lab, killSpeed, "--to", "scale-back"), after(tc.afterLine, tc.killOn))
				if tc.unfinished == "" {
					break
				}
				j := readJournal(t, lab)
				r, ok := j.Step(tc.unfinished)
				if ok && r.Finished.IsZero() && !j.Probed(tc.unfinished) {
					break
				}
				if try == 5 {
					t.Fatalf("journal after the kill, %d tries: step %s %+v (recorded %t, probes recorded %t), want started, not finished, its round not recorded",
						try, tc.unfinished, r, ok, j.Probed(tc.unfinished))
				}
				t.Logf("try %d: the kill landed after step %s's round was recorded; trying again", try, tc.unfinished)
			}
			out := mustCLI(t, labArgs(lab, "instant", "--to", "scale-back")...)
			for _, want := range []string{tc.resumeAt, tc.rerunSays} {
				if !strings.Contains(out, want) {
					t.Errorf("rerun output lacks %q:\n%s", want, tail(out, 40))
				}
			}
			compareEnds(t, "after the rerun", readEnd(t, lab), wantMid)
			mustCLI(t, labArgs(lab, "instant")...)
			compareEnds(t, "after the teardown", readEnd(t, lab), wantEnd)
		})
	}
}

// TestStopBetweenSteps stops the lab cleanly after connect (--to), then
// resumes it to the end.
func TestStopBetweenSteps(t *testing.T) {
	ref := filepath.Join(t.TempDir(), "lab")
	mustCLI(t, labArgs(ref, "instant")...)
	want := readEnd(t, ref)

	lab := filepath.Join(t.TempDir(), "lab")
	mustCLI(t, labArgs(lab, "instant", "--to", "connect")...)
	if r, ok := readJournal(t, lab).Step("deploy"); ok {
		t.Fatalf("--to connect ran deploy: %+v", r)
	}
	out := mustCLI(t, labArgs(lab, "instant")...)
	if !strings.Contains(out, "Resuming at step 6 (hubble)") {
		t.Errorf("resume printed:\n%s", tail(out, 20))
	}
	if strings.Contains(out, "Creating cluster") || strings.Contains(out, "Installing Helm release cilium") || strings.Contains(out, "Upgrading Helm release cilium in us: clustermesh") {
		t.Error("the resumed lab redid work of steps that were done")
	}
	compareEnds(t, "resumed after connect", readEnd(t, lab), want)
}

// Parsing guard: the journal the kill tests read is the one steps writes.
func TestJournalFileShape(t *testing.T) {
	lab := newLab(t, "preflight")
	raw, err := os.ReadFile(filepath.Join(lab, steps.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Steps map[string]json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.Steps["preflight"] == nil {
		t.Fatalf("journal %s: %v", raw, err)
	}
}
