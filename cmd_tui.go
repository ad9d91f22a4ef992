package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/tui"
	"github.com/clustermesh-lab/clustermesh-lab/tui/cast"
)

// demoOptions are the interactive guide's flags for demos: the autopilot
// and the recording.
type demoOptions struct {
	autopilot bool
	pace      time.Duration
	noTyping  bool
	loop      bool
	record    string
}

func (d *demoOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&d.autopilot, "autopilot", false, "interactive guide only: walk the whole lab unattended (space pauses and resumes, any other key takes over)")
	f.DurationVar(&d.pace, "pace", tui.DefaultPace, "with --autopilot: reading time per word of a step's explanation; every pause and the typing scale with it")
	f.BoolVar(&d.noTyping, "no-typing", false, "with --autopilot: show the commands at once instead of typing them out")
	f.BoolVar(&d.loop, "loop", false, "with --autopilot: start over on a fresh lab after the teardown (a booth demo; each finished lab is set aside as with --fresh)")
	f.StringVar(&d.record, "record", "", "interactive guide only: record what the terminal shows to `FILE.cast` (asciicast v2, asciinema's format)")
}

// validate refuses the flags that cannot go together, before anything
// touches the machine.
func (d *demoOptions) validate(cmd *cobra.Command, headless bool) error {
	f := cmd.Flags()
	for _, name := range []string{"pace", "no-typing", "loop"} {
		if f.Changed(name) && !d.autopilot {
			return usagef("--%s applies to --autopilot, which is not given", name)
		}
	}
	if d.pace <= 0 {
		return usagef("invalid --pace %s: want a positive duration, such as 250ms a word", d.pace)
	}
	if headless {
		for _, name := range []string{"autopilot", "record"} {
			if f.Changed(name) {
				return usageError{cluster.WithHint(fmt.Errorf("--%s works in the interactive guide only, not with --headless", name),
					fmt.Sprintf("drop --headless (the guide needs a terminal), or drop --%s", name))}
			}
		}
	}
	return nil
}

// needsTUI names the flag that needs the interactive guide, "" for none.
func (d *demoOptions) needsTUI() string {
	switch {
	case d.autopilot:
		return "--autopilot"
	case d.record != "":
		return "--record"
	}
	return ""
}

// runTUI runs the interactive guide. Its welcome screen chooses the backend
// (preselected by --backend, else by whether an engine answers) and then
// opens the lab, so nothing is opened before the learner decides.
func runTUI(ctx context.Context, o *labOptions, stdin io.Reader, stdout io.Writer) error {
	// The loop's fresh labs keep the first lab's seed, so each run is the
	// same.
	var mu sync.Mutex
	seed := o.seed
	opts := tui.Options{
		Detect: func(ctx context.Context) (string, error) {
			eng, err := doctor.DetectEngine(ctx, doctor.SystemEnv())
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s %s", eng.Name, eng.Version), nil
		},
		Open: func(ctx context.Context, backend string) (*steps.Session, error) {
			sess, err := openSession(ctx, o, backend, io.Discard)
			if err == nil {
				mu.Lock()
				seed = sess.Dir.Meta().Seed
				mu.Unlock()
			}
			return sess, err
		},
	}
	opts.NoQuiz = o.noQuiz
	if o.backend != backendAuto {
		opts.Backend, opts.BackendFixed = o.backend, true
	}
	if d := o.demo; d.autopilot {
		opts.Autopilot = &tui.Autopilot{Pace: d.pace, NoTyping: d.noTyping, Loop: d.loop}
		opts.Reopen = func(ctx context.Context, backend string) (*steps.Session, error) {
			fresh := *o
			mu.Lock()
			fresh.fresh, fresh.seed = true, seed
			mu.Unlock()
			return openSession(ctx, &fresh, backend, io.Discard)
		}
	}
	out := stdout
	var rec *recording
	if o.demo.record != "" {
		var err error
		if rec, err = startRecording(o.demo.record, stdout, opts.Autopilot); err != nil {
			return err
		}
		out, opts.Filter = rec.out, rec.filter
	}
	sess, err := tui.Run(ctx, opts, stdin, out)
	if rec != nil {
		if rerr := rec.finish(); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if sess != nil {
		defer sess.Close()
		if rec != nil && err == nil {
			fmt.Fprintf(stdout, "Recorded the guide to %s (asciicast v2: asciinema play %s).\n", rec.path, rec.path)
		}
		fmt.Fprintln(stdout, exitNote(sess))
	}
	return err
}

// recording tees the guide's output into an asciicast file. It writes to
// a temporary file beside the destination, renamed over it at the end:
// a recording that fails keeps whatever file was there.
type recording struct {
	path string
	tmp  *os.File
	rec  *cast.Recorder
	out  io.Writer
	w, h int
}

// idleLimit caps the pauses of a recording made by hand on replay (the
// learner reading or away); an autopilot's pauses are the demo's rhythm,
// so its cap is above its longest.
const idleLimit = 3 * time.Second

// startRecording creates the recording before the lab opens: a path that
// cannot be written fails here, before anything else happens.
func startRecording(path string, stdout io.Writer, ap *tui.Autopilot) (*recording, error) {
	hint := "choose a --record path in a directory you can write to"
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, cluster.WithHint(fmt.Errorf("--record %s: a directory, not a file", path), hint)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, cluster.WithHint(fmt.Errorf("--record %s: %w", path, err), hint)
	}
	w, h := 80, 24
	if f, ok := stdout.(*os.File); ok {
		if cw, ch, err := term.GetSize(int(f.Fd())); err == nil && cw > 0 && ch > 0 {
			w, h = cw, ch
		}
	}
	limit := idleLimit
	if ap != nil {
		limit = max(limit, tui.LongestPause(*ap)+time.Second)
	}
	hdr := cast.Header{Width: w, Height: h, Title: "clustermesh-lab", IdleTimeLimit: limit.Seconds()}
	rec, err := cast.New(tmp, hdr, nil)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, cluster.WithHint(fmt.Errorf("--record %s: %w", path, err), hint)
	}
	r := &recording{path: path, tmp: tmp, rec: rec, w: w, h: h}
	r.out = teeWriter{w: stdout, rec: rec}
	if f, ok := stdout.(*os.File); ok {
		// Bubble Tea needs the terminal's file to size it and to set it up.
		r.out = teeFile{File: f, rec: rec}
	}
	return r, nil
}

// filter records a resize before the frame drawn at the new size.
func (r *recording) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	if ws, ok := msg.(tea.WindowSizeMsg); ok && (ws.Width != r.w || ws.Height != r.h) {
		r.w, r.h = ws.Width, ws.Height
		r.rec.Resize(ws.Width, ws.Height)
	}
	return msg
}

// finish completes the file and puts it in place.
func (r *recording) finish() error {
	// A recording is made to be published: readable as any new file.
	err := errors.Join(r.rec.Close(), r.tmp.Chmod(0o644), r.tmp.Close())
	if err == nil {
		err = os.Rename(r.tmp.Name(), r.path)
	}
	if err != nil {
		os.Remove(r.tmp.Name())
		return cluster.WithHint(fmt.Errorf("--record %s: %w", r.path, err), "check the disk has room and record again")
	}
	return nil
}

// teeWriter writes to the terminal, and records what the terminal took.
type teeWriter struct {
	w   io.Writer
	rec *cast.Recorder
}

func (t teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.rec.Write(p[:n])
	return n, err
}

// teeFile is teeWriter on the terminal's file, which Bubble Tea sizes and
// sets up through its descriptor.
type teeFile struct {
	*os.File
	rec *cast.Recorder
}

func (t teeFile) Write(p []byte) (int, error) {
	n, err := t.File.Write(p)
	t.rec.Write(p[:n])
	return n, err
}

// WriteString keeps strings on the recorded path: *os.File's own would
// write past the recorder.
func (t teeFile) WriteString(s string) (int, error) { return t.Write([]byte(s)) }
