package main

import (
	"context"
	"io"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// runTUI runs the lab on a terminal; until the interactive guide lands it
// prints the plain-text lab.
func runTUI(ctx context.Context, sess *steps.Session, o *labOptions, stdin io.Reader, stdout io.Writer) error {
	return runHeadless(ctx, sess, false, 0, len(sess.Runner.Steps)-1, stdout)
}
