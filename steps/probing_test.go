package steps_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// scaleRecorder records the Scale calls that reach the backend.
type scaleRecorder struct {
	cluster.Backend
	mu    sync.Mutex
	calls []string
}

func (r *scaleRecorder) Scale(ctx context.Context, c cluster.Name, n int, log cluster.Logger) error {
	r.mu.Lock()
	r.calls = append(r.calls, fmt.Sprintf("%s %d", c, n))
	r.mu.Unlock()
	return r.Backend.Scale(ctx, c, n, log)
}

func (r *scaleRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// A step whose own change is a scale scales again when run again, though
// the replicas already match, so the rerun waits for that rollout (and,
// scaling down, for the pods to go) before it probes; a step that only
// converges leaves matching replicas alone.
func TestARerunWaitsForTheStepsOwnScale(t *testing.T) {
	l := newLab(t, 1, 20)
	ctx := context.Background()
	if err := l.runner.RunRange(ctx, 0, l.index(t, "scale-down"), false); err != nil {
		t.Fatal(err)
	}
	rec := &scaleRecorder{Backend: l.backend}
	l.env.Backend = rec
	for _, tc := range []struct {
		step string
		want []string
	}{
		{"scale-down", []string{"us 0"}},
		{"scale-back", []string{"us 1"}},
		{"scale-back", []string{"us 1"}},
		{"affinity-local", nil},
	} {
		l.run(t, l.index(t, tc.step))
		if got := rec.take(); !slices.Equal(got, tc.want) {
			t.Errorf("%s run again: Scale calls %v, want %v", tc.step, got, tc.want)
		}
	}
}
