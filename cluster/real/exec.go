package real

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// remoteExecutor runs commands in pods as `kubectl exec` does: over
// WebSockets, falling back to SPDY where the API server or a proxy
// between does not upgrade to them.
type remoteExecutor struct{ b *Backend }

// maxStderr bounds what a failed command's stderr adds to its error.
const maxStderr = 2048

// Exec runs cmd in the container and streams its stdout to stdout.
func (e *remoteExecutor) Exec(ctx context.Context, c cluster.Name, ns, pod, container string, cmd []string, stdout io.Writer) error {
	cl, err := e.b.clientsFor(ctx, c)
	if err != nil {
		return err
	}
	if cl.REST == nil {
		return errors.New("exec needs a REST configuration: the cluster's clients were built without one")
	}
	req := cl.Kube.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   cmd,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(cl.REST, "GET", req.URL().String())
	if err != nil {
		return fmt.Errorf("exec in %s/%s: %w", ns, pod, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(cl.REST, "POST", req.URL())
	if err != nil {
		return fmt.Errorf("exec in %s/%s: %w", ns, pod, err)
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return fmt.Errorf("exec in %s/%s: %w", ns, pod, err)
	}
	var stderr bytes.Buffer
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: &limited{w: &stderr, n: maxStderr}})
	if err != nil {
		err = withoutCommand(err)
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

// limited keeps the first n bytes written and drops the rest.
type limited struct {
	w io.Writer
	n int
}

// Write keeps what fits and reports everything written.
func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// execQuery matches the query of an exec request's URL, which the API
// server quotes in its errors ("error sending request: Post
// \"https://<node>:10250/exec/...?command=...\": dial tcp ...") and
// which holds the whole command: for the probe, a script that buries the
// reason the exec failed.
var execQuery = regexp.MustCompile(`(/exec/[^\s"?]*)\?[^\s"]*`)

// withoutCommand drops the command from the exec URLs quoted in err's
// message; errors.Is and errors.As still see the original error.
func withoutCommand(err error) error {
	msg := err.Error()
	short := execQuery.ReplaceAllString(msg, "$1")
	if short == msg {
		return err
	}
	return &execError{msg: short, err: err}
}

// execError is an exec failure with a shorter message than its cause's.
type execError struct {
	msg string
	err error
}

// Error returns the shortened message.
func (e *execError) Error() string { return e.msg }

// Unwrap returns the original error.
func (e *execError) Unwrap() error { return e.err }
