package main

import (
	"context"
	"fmt"
	"io"

	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/tui"
)

// runTUI runs the interactive guide. Its welcome screen chooses the backend
// (preselected by --backend, else by whether an engine answers) and then
// opens the lab, so nothing is opened before the learner decides.
func runTUI(ctx context.Context, o *labOptions, stdin io.Reader, stdout io.Writer) error {
	opts := tui.Options{
		Detect: func(ctx context.Context) (string, error) {
			eng, err := doctor.DetectEngine(ctx, doctor.SystemEnv())
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s %s", eng.Name, eng.Version), nil
		},
		Open: func(ctx context.Context, backend string) (*steps.Session, error) {
			return openSession(ctx, o, backend, io.Discard)
		},
	}
	opts.NoQuiz = o.noQuiz
	if o.backend != backendAuto {
		opts.Backend, opts.BackendFixed = o.backend, true
	}
	sess, err := tui.Run(ctx, opts, stdin, stdout)
	if sess != nil {
		defer sess.Close()
		fmt.Fprintln(stdout, exitNote(sess))
	}
	return err
}
