package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runUntil starts clustermesh-lab (this test binary acting as it), sends
// sig as soon as trigger accepts a line of its output, and returns what it
// printed and how it ended.
func runUntil(t *testing.T, args []string, sig syscall.Signal, trigger func(line string) bool) (stdout, stderr string, err error) {
	t.Helper()
	// A safety net only: a run that never prints the trigger is a failure,
	// not something to wait for forever.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sent := false
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if !sent && trigger(line) {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatalf("signal: %v", err)
			}
			sent = true
		}
	}
	err = cmd.Wait()
	if !sent {
		t.Fatalf("the lab ended (%v) before the trigger line; output:\n%s\nstderr:\n%s", err, tail(out.String(), 30), errb.String())
	}
	return out.String(), errb.String(), err
}

// runUntilSignal is runUntil for a signal the lab handles: it returns the
// exit status the lab chose.
func runUntilSignal(t *testing.T, args []string, sig syscall.Signal, trigger func(line string) bool) (stdout, stderr string, code int) {
	t.Helper()
	stdout, stderr, err := runUntil(t, args, sig, trigger)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout, stderr, 0
	case errors.As(err, &ee) && ee.Exited():
		return stdout, stderr, ee.ExitCode()
	}
	t.Fatalf("the lab did not exit by itself after %v: %v", sig, err)
	return stdout, stderr, -1
}

// SIGINT and SIGTERM stop the headless lab cleanly: the running step is
// interrupted, the exit message says where the lab is and how far it got,
// the exit status is the shell's for the signal, and running again ends
// exactly where an uninterrupted run ends.
func TestSignalsStopTheLabCleanly(t *testing.T) {
	ref := filepath.Join(t.TempDir(), "lab")
	mustCLI(t, labArgs(ref, "instant", "--to", "scale-back")...)
	want := readEnd(t, ref)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			lab := filepath.Join(t.TempDir(), "lab")
			// Slower than the kill tests: the signal must land while the
			// step still runs, on a busy machine too.
			out, errs, code := runUntilSignal(t, labArgs(lab, "0.1", "--to", "scale-back"), tc.sig, after("", "[eu] Waiting for Cilium in eu: 0/3"))
			checkFailure(t, []string{tc.sig.String()}, code, "", errs, tc.code, "clustermesh-lab: interrupted", "run the same command again to resume")
			for _, want := range []string{"✗ Interrupted after", "The lab is not complete (2 of 12 steps done); it is kept in " + lab + ". Run clustermesh-lab again to resume at step 3 (install-cilium)."} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, tail(out, 10))
				}
			}
			if strings.Contains(out, "Step 4/12") {
				t.Errorf("the lab went on after %v:\n%s", tc.sig, tail(out, 20))
			}
			if r, ok := readJournal(t, lab).Step("install-cilium"); !ok || !r.Finished.IsZero() {
				t.Errorf("journal after %v: install-cilium %+v (recorded %t), want started and not finished", tc.sig, r, ok)
			}
			again := mustCLI(t, labArgs(lab, "instant", "--to", "scale-back")...)
			if !strings.Contains(again, "Resuming at step 3 (install-cilium)") {
				t.Errorf("rerun:\n%s", tail(again, 20))
			}
			compareEnds(t, "after the rerun", readEnd(t, lab), want)
		})
	}
}
