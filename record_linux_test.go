package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/vt"
	"golang.org/x/sys/unix"

	"github.com/clustermesh-lab/clustermesh-lab/tui/cast"
)

// leaveAltScreen is how the guide leaves its screen when it quits.
const leaveAltScreen = "\x1b[?1049l"

// replayGuide plays a recording into a terminal emulator, as asciinema's
// player would, and returns the guide's last screen: the one shown just
// before it left the alternate screen.
func replayGuide(t *testing.T, h cast.Header, events []cast.Event) string {
	t.Helper()
	term := vt.NewEmulator(h.Width, h.Height)
	// The emulator answers the guide's queries on its input, and its
	// writes wait for a reader: drain it. The reader stays blocked when the
	// replay ends, and the emulator is not closed: vt's Close races with a
	// blocked Read (its closed flag has no lock).
	go io.Copy(io.Discard, term)
	for _, ev := range events {
		switch ev.Kind {
		case cast.Resize:
			var w, hh int
			if _, err := fmt.Sscanf(ev.Data, "%dx%d", &w, &hh); err != nil {
				t.Fatalf("resize event %q: %v", ev.Data, err)
			}
			term.Resize(w, hh)
		case cast.Output:
			data, left := ev.Data, false
			if i := strings.Index(ev.Data, leaveAltScreen); i >= 0 {
				data, left = ev.Data[:i], true
			}
			if _, err := term.WriteString(data); err != nil {
				t.Fatal(err)
			}
			if left {
				return term.String()
			}
		}
	}
	t.Fatal("the recording never leaves the guide's screen")
	return ""
}

var (
	replayDurations = regexp.MustCompile(`\d+(\.\d+)?(ms|s)\b`)
	trailingSpace   = regexp.MustCompile(`(?m)[ \t]+$`)
)

// comparable masks durations, as the goldens do, and trailing blanks,
// which a terminal's screen does not keep.
func comparable(s string) string {
	s = replayDurations.ReplaceAllString(s, "#s")
	return strings.TrimRight(trailingSpace.ReplaceAllString(s, ""), "\n")
}

// TestRecordAutopilot records an autopilot walk of the simulated lab
// through the real command line on a terminal, replays the file in a
// terminal emulator, and finds on its last screen what the guide showed
// at that moment: the golden of the autopilot's end at the same size.
func TestRecordAutopilot(t *testing.T) {
	dir := t.TempDir()
	lab, file := filepath.Join(dir, "lab"), filepath.Join(dir, "demo.cast")
	r := startOnPTY(t, nil, []string{"TERM=xterm-256color"}, "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab,
		"--autopilot", "--pace", "1us", "--record", file)
	code := r.wait(t)
	out := r.screen()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, tail(out, 20))
	}
	for _, want := range []string{"Recorded the guide to " + file, "The lab is complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, tail(out, 10))
		}
	}
	h, events := readCast(t, file)
	for _, ev := range events {
		if ev.Kind == cast.Resize {
			t.Errorf("a resize event in a recording made at a fixed size: %q", ev.Data)
		}
	}
	if h.Width != 120 || h.Height != 40 || h.Title == "" || h.Timestamp == 0 || h.IdleTimeLimit <= 0 {
		t.Errorf("header %+v: want the terminal's 120x40, a title, a timestamp and an idle limit", h)
	}
	got := comparable(replayGuide(t, h, events))
	want, err := os.ReadFile(filepath.Join("tui", "testdata", "TestAutopilotGolden", "120x40.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got != comparable(string(want)) {
		t.Errorf("the recording ends on another screen than the guide's golden.\nreplayed:\n%s\ngolden:\n%s", got, want)
	}
}

// A --record path that cannot be written fails before the lab opens:
// no lab directory, no file, and whatever the destination held is kept.
func TestRecordUnwritable(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	ro, isDir := filepath.Join(dir, "read-only"), filepath.Join(dir, "a-directory")
	for _, d := range []string{ro, isDir} {
		if err := os.Mkdir(d, 0o500); err != nil {
			t.Fatal(err)
		}
	}
	paths := []string{filepath.Join(dir, "missing", "demo.cast"), isDir}
	if f, err := os.CreateTemp(ro, "probe"); err == nil {
		f.Close() // root writes anywhere: a read-only directory is no test
	} else {
		paths = append(paths, filepath.Join(ro, "demo.cast"))
	}
	for _, path := range paths {
		r := startOnPTY(t, nil, []string{"TERM=xterm-256color"}, "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab,
			"--autopilot", "--record", path)
		code := r.wait(t)
		out := r.screen()
		if code != 1 || !strings.Contains(out, "--record "+path) || !strings.Contains(out, "What to do: choose a --record path") {
			t.Errorf("--record %s: exit %d, want 1 with the path and what to do:\n%s", path, code, tail(out, 10))
		}
		if _, err := os.Stat(lab); !os.IsNotExist(err) {
			t.Errorf("--record %s: the lab directory was made before the recording failed", path)
		}
	}
}

// A resize reaches the recording as an "r" event before the output drawn
// at the new size; the size it started at is in the header, not an event.
func TestRecordResize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.cast")
	var term strings.Builder
	rec, err := startRecording(path, &term, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec.filter(nil, tea.WindowSizeMsg{Width: 80, Height: 24}) // the size it started at
	io.WriteString(rec.out, "at 80x24")
	rec.filter(nil, tea.WindowSizeMsg{Width: 100, Height: 30})
	io.WriteString(rec.out, "at 100x30")
	if err := rec.finish(); err != nil {
		t.Fatal(err)
	}
	if term.String() != "at 80x24at 100x30" {
		t.Errorf("the terminal got %q", term.String())
	}
	h, events := readCast(t, path)
	var got []string
	for _, ev := range events {
		got = append(got, ev.Kind+" "+ev.Data)
	}
	want := []string{"o at 80x24", "r 100x30", "o at 100x30"}
	if h.Width != 80 || h.Height != 24 || h.IdleTimeLimit != idleLimit.Seconds() || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("header %+v, events %q; want 80x24, idle limit %v, events %q", h, got, idleLimit, want)
	}
}

// --loop walks a fresh lab after the teardown: the finished one is set
// aside as --fresh does, and the new one starts on the same seed.
func TestAutopilotLoopThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	r := startOnPTY(t, nil, []string{"TERM=xterm-256color"}, "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab, "--seed", "7",
		"--autopilot", "--pace", "1us", "--no-typing", "--loop")
	waitFor(t, "a finished lab set aside and the next one started", func() bool {
		backups, _ := filepath.Glob(lab + ".bak-*")
		_, started := journalStepQuiet(lab, "preflight")
		return len(backups) == 1 && started
	}, r)
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != 130 {
		t.Errorf("exit %d after SIGINT, want 130:\n%s", code, tail(r.screen(), 10))
	}
	backups, _ := filepath.Glob(lab + ".bak-*")
	if len(backups) != 1 {
		t.Fatalf("backups %q, want one", backups)
	}
	if rec, ok := journalStepQuiet(backups[0], "teardown"); !ok || rec.Finished.IsZero() {
		t.Errorf("the lab set aside is not torn down: %+v", rec)
	}
	for _, d := range []string{lab, backups[0]} {
		raw, err := os.ReadFile(filepath.Join(d, "lab.json"))
		if err != nil || !strings.Contains(string(raw), `"seed": 7`) {
			t.Errorf("%s/lab.json: %s %v, want seed 7", d, raw, err)
		}
	}
}

// --record without the autopilot records a learner's own session: here
// the welcome screen, left with q.
func TestRecordByHand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.cast")
	r := startOnPTY(t, nil, []string{"TERM=xterm-256color"}, "--lab-dir", filepath.Join(dir, "lab"), "--record", file)
	waitFor(t, "the welcome screen", func() bool { return strings.Contains(r.screen(), "What you will do") }, r)
	io.WriteString(r.master, "q")
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tail(r.screen(), 10))
	}
	h, events := readCast(t, file)
	if h.IdleTimeLimit != idleLimit.Seconds() {
		t.Errorf("idle limit %v, want %v for a recording made by hand", h.IdleTimeLimit, idleLimit.Seconds())
	}
	screen := replayGuide(t, h, events)
	for _, want := range []string{"What you will do", "Where the clusters run", "enter starts the lab"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the replayed screen lacks %q:\n%s", want, screen)
		}
	}
}

// The terminal resized while the guide records: the file has an "r" event
// with the new size, and the replay ends on the welcome screen laid out
// at that size.
func TestRecordTerminalResize(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "resized.cast")
	r := startOnPTY(t, nil, []string{"TERM=xterm-256color"}, "--lab-dir", filepath.Join(dir, "lab"), "--record", file)
	waitFor(t, "the welcome screen", func() bool { return strings.Contains(r.screen(), "What you will do") }, r)
	// The kernel sends SIGWINCH to the guide, as a terminal window would.
	if err := unix.IoctlSetWinsize(int(r.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: 90, Row: 30}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the welcome laid out again", func() bool { return fileHas(dir, `"r", "90x30"`) || strings.Count(r.screen(), "What you will do") > 1 }, r)
	io.WriteString(r.master, "q")
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, tail(r.screen(), 10))
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h, events, err := cast.Read(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	resizes := 0
	for _, ev := range events {
		if ev.Kind == cast.Resize {
			resizes++
			if ev.Data != "90x30" {
				t.Errorf("resize event %q, want 90x30", ev.Data)
			}
		}
	}
	if h.Width != 120 || h.Height != 40 || resizes != 1 {
		t.Fatalf("header %dx%d and %d resize events, want 120x40 and one", h.Width, h.Height, resizes)
	}
	screen := replayGuide(t, h, events)
	lines := strings.Split(screen, "\n")
	if len(lines) != 30 || !strings.Contains(screen, "What you will do") {
		t.Errorf("the replay ends on %d lines, want the welcome on 30:\n%s", len(lines), screen)
	}
}

// fileHas reports whether a file of dir (a recording being written) holds s.
func fileHas(dir, s string) bool {
	matches, _ := filepath.Glob(filepath.Join(dir, ".*"))
	for _, m := range matches {
		if b, err := os.ReadFile(m); err == nil && strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// readCast reads a recording the test made, or fails the test.
func readCast(t *testing.T, path string) (cast.Header, []cast.Event) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, events, err := cast.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return h, events
}
