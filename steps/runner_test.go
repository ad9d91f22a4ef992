package steps

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
)

// countingBackend counts the status reads that reach the backend.
type countingBackend struct {
	cluster.Backend
	reads atomic.Int64
}

func (b *countingBackend) Status(ctx context.Context, c cluster.Name) (cluster.Status, error) {
	b.reads.Add(1)
	return b.Backend.Status(ctx, c)
}

// heldStep is a step whose Check reads the statuses, says so on entered
// and waits for release (when set).
type heldStep struct {
	info
	entered chan<- struct{}
	release <-chan struct{}
}

func (heldStep) Run(context.Context, *Env) (Outcome, error) { return Outcome{}, nil }

func (s heldStep) Check(ctx context.Context, env *Env) (bool, error) {
	_, err := env.statuses(ctx)
	if s.entered != nil {
		s.entered <- struct{}{}
		<-s.release
	}
	return false, err
}

func testEnv(t *testing.T) (*Env, *countingBackend) {
	t.Helper()
	sb, err := sim.New(sim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJournal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &countingBackend{Backend: sb}
	return &Env{Backend: b, Journal: j, Reporter: Tee()}, b
}

// Resume checks every step against statuses it read once; the Env others
// hold (the guide's re-probes and status reads run beside a Resume) must
// keep reading the clusters. Under -race the loop below also races the
// two goroutines' use of the Env.
func TestResumeLeavesTheSharedEnvAlone(t *testing.T) {
	ctx := context.Background()
	t.Run("a reader during the checks reads the clusters", func(t *testing.T) {
		env, b := testEnv(t)
		entered, release := make(chan struct{}), make(chan struct{})
		r := &Runner{Steps: []Step{heldStep{info: info{id: "held"}, entered: entered, release: release}}, Env: env}
		done := make(chan error)
		go func() {
			_, _, err := r.Resume(ctx)
			done <- err
		}()
		<-entered
		before := b.reads.Load()
		if _, err := env.statuses(ctx); err != nil {
			t.Fatal(err)
		}
		if b.reads.Load() == before {
			t.Error("a reader of the shared Env got the statuses Resume froze for its checks, not the clusters'")
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("concurrent resumes and readers", func(t *testing.T) {
		env, _ := testEnv(t)
		r := &Runner{Steps: []Step{heldStep{info: info{id: "a"}}, heldStep{info: info{id: "b"}}}, Env: env}
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 50 {
				if _, _, err := r.Resume(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			for range 50 {
				if _, err := env.statuses(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Wait()
	})
}
