package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/sys/unix"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// openPTY opens a pseudo-terminal of the given size: the test holds the
// master, the child gets the slave as its terminal.
func openPTY(t *testing.T, cols, rows uint16) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// ptyRun is clustermesh-lab (this test binary) with stdout and stderr on a
// terminal, and stdin on the terminal or elsewhere.
type ptyRun struct {
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
}

func startOnPTY(t *testing.T, stdin *os.File, env []string, args ...string) *ptyRun {
	t.Helper()
	master, slave := openPTY(t, 120, 40)
	if stdin == nil {
		stdin = slave
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	r := &ptyRun{master: master, done: make(chan struct{})}
	r.cmd = exec.CommandContext(ctx, os.Args[0], args...)
	r.cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = stdin, slave, slave
	// The terminal on stdout becomes the child's controlling terminal,
	// as in a shell.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	go func() {
		defer close(r.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return r
}

// screen is everything the child wrote, escape sequences removed.
func (r *ptyRun) screen() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return ansi.Strip(r.out.String())
}

// wait waits for the child to exit and returns its exit status.
func (r *ptyRun) wait(t *testing.T) int {
	t.Helper()
	err := r.cmd.Wait()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	t.Fatalf("clustermesh-lab on a terminal: %v\n%s", err, r.screen())
	return -1
}

// waitFor polls until cond holds, for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool, r *ptyRun) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waiting for %s; the screen:\n%s", what, tail(r.screen(), 30))
}

// Standard input that is not a terminal, or a terminal that cannot draw
// (TERM=dumb), runs the lab as plain text and says why, instead of failing
// in Bubble Tea.
func TestNoInteractiveTerminal(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, tc := range []struct {
		name  string
		stdin *os.File
		term  string
		note  string
	}{
		{"stdin is /dev/null", devnull, "xterm-256color", "Standard input is not a terminal, so the interactive guide could not read your keys, so the lab runs as plain text"},
		{"TERM=dumb", nil, "dumb", "This terminal (TERM=dumb) cannot draw the interactive guide, so the lab runs as plain text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := filepath.Join(t.TempDir(), "lab")
			r := startOnPTY(t, tc.stdin, []string{"TERM=" + tc.term}, "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab)
			code := r.wait(t)
			out := r.screen()
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, tail(out, 20))
			}
			for _, want := range []string{tc.note, "Step 12/12", "The lab is complete: its clusters were torn down in the last step; the journal keeps every probe. It is kept in " + lab} {
				if !strings.Contains(strings.ReplaceAll(out, "\r\n", "\n"), want) {
					t.Errorf("output lacks %q:\n%s", want, tail(out, 20))
				}
			}
			if strings.Contains(out, "epoll") || strings.Contains(out, "bubbletea") {
				t.Errorf("Bubble Tea's error reached the learner:\n%s", out)
			}
		})
	}
}

// The interactive guide on a terminal: SIGINT while a step runs interrupts
// it, the guide leaves the screen, prints where the lab is and how far it
// got, and exits 130; the interrupted step is not marked done.
func TestInteractiveSignal(t *testing.T) {
	lab := filepath.Join(t.TempDir(), "lab")
	r := startOnPTY(t, nil, []string{"TERM=xterm-256color"}, "--backend", "sim", "--sim-speed", "0.2", "--lab-dir", lab)
	waitFor(t, "the welcome screen", func() bool { return strings.Contains(r.screen(), "What you will do") }, r)
	io.WriteString(r.master, "\r") // open the lab
	waitFor(t, "the lab", func() bool {
		return strings.Contains(r.screen(), "Check the machine") && fileExists(filepath.Join(lab, "lab.json"))
	}, r)
	time.Sleep(300 * time.Millisecond)
	io.WriteString(r.master, "\r") // run preflight
	waitFor(t, "preflight done", func() bool { rec, ok := journalStepQuiet(lab, "preflight"); return ok && !rec.Finished.IsZero() }, r)
	time.Sleep(300 * time.Millisecond)
	io.WriteString(r.master, "l\r") // next step, run create-clusters: about nine seconds at this speed
	waitFor(t, "create-clusters started", func() bool { _, ok := journalStepQuiet(lab, "create-clusters"); return ok }, r)
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := r.wait(t)
	out := r.screen()
	if code != 130 {
		t.Errorf("exit %d after SIGINT, want 130:\n%s", code, tail(out, 10))
	}
	if want := "The lab is not complete (1 of 12 steps done); it is kept in " + lab + ". Run clustermesh-lab again to resume at step 2 (create-clusters)."; !strings.Contains(out, want) {
		t.Errorf("exit message lacks %q:\n%s", want, tail(out, 10))
	}
	if rec, ok := journalStepQuiet(lab, "create-clusters"); !ok || !rec.Finished.IsZero() {
		t.Errorf("create-clusters after SIGINT: %+v (recorded %t), want started and not finished", rec, ok)
	}
}

// journalStepQuiet reads a step's record from a lab's journal, if any yet.
func journalStepQuiet(dir, id string) (steps.StepRecord, bool) {
	raw, err := os.ReadFile(filepath.Join(dir, steps.JournalFile))
	if err != nil {
		return steps.StepRecord{}, false
	}
	j, err := steps.NewJournal(raw, nil)
	if err != nil {
		return steps.StepRecord{}, false
	}
	return j.Step(id)
}
