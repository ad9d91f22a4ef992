package cluster

import "errors"

// HintError carries what the learner should do about an error, next to it.
type HintError struct {
	Err  error
	Hint string
}

// Error returns the wrapped error's message; the hint is shown separately.
func (e *HintError) Error() string { return e.Err.Error() }

// Unwrap gives errors.Is and errors.As the wrapped error.
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches what to do next to err; nil stays nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// HintOf returns the outermost hint attached to err, or "".
func HintOf(err error) string {
	var h *HintError
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}

// What an operation may find missing. Backends wrap these (with %w) in
// their own words, and say nothing of the steps or flags that would supply
// them: the steps know which of them provides what, and turn the sentinel
// into "run step N first".
var (
	// ErrNoCluster: the cluster does not exist (yet, or any more).
	ErrNoCluster = errors.New("the cluster does not exist")
	// ErrNoCilium: the cluster exists but Cilium is not installed in it.
	ErrNoCilium = errors.New("cilium is not installed")
	// ErrMeshNotEnabled: Cilium runs but Cluster Mesh (the
	// clustermesh-apiserver and its certificates) is not enabled.
	ErrMeshNotEnabled = errors.New("cluster mesh is not enabled")
	// ErrNotConnected: the cluster is not configured to connect to its peer.
	ErrNotConnected = errors.New("the clusters are not connected")
	// ErrNoHubble: Hubble Relay is not enabled (or the learner's values
	// keep it off), so there is nothing to read flows from.
	ErrNoHubble = errors.New("hubble relay is not enabled")
	// ErrNoDemo: the demo application (hello-world, busybox, the Service)
	// is not deployed.
	ErrNoDemo = errors.New("the demo application is not deployed")
)

// Prerequisites lists the sentinels in the order the lab supplies them.
func Prerequisites() []error {
	return []error{ErrNoCluster, ErrNoCilium, ErrMeshNotEnabled, ErrNotConnected, ErrNoHubble, ErrNoDemo}
}
