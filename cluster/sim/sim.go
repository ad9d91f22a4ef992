// Package sim is the simulated mesh: two kind clusters with Cilium and
// Cluster Mesh, held in memory, that behave as shared/CILIUM.md describes.
// It lets the whole lab run without Docker, in tests and in recorded demos:
// randomness comes from a seed, so a run replays identically, and an
// optional latency model makes operations take the time the real ones do.
package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Store persists the simulated state between runs; the lab directory
// implements it with atomic writes.
type Store interface {
	// Load returns the saved state, or os.ErrNotExist when there is none.
	Load() ([]byte, error)
	// Save replaces the saved state.
	Save([]byte) error
}

// Clock lets the latency model wait; tests use a scaled or instant clock.
type Clock interface {
	Sleep(ctx context.Context, d time.Duration) error
}

// ScaledClock sleeps for the real duration times Factor; 0 never sleeps.
type ScaledClock struct{ Factor float64 }

// Sleep waits d*Factor or until ctx is done.
func (c ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return cluster.Sleep(ctx, c.Scale(d))
}

// Speeds are the named latency factors for --sim-speed.
var Speeds = map[string]float64{"instant": 0, "fast": 0.1, "real": 1}

// ParseSpeed reads a speed: instant, fast, real, or a factor such as 0.5.
func ParseSpeed(s string) (float64, error) {
	if f, ok := Speeds[strings.ToLower(s)]; ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || !(f >= 0 && f <= 10) { // also refuses NaN
		return 0, fmt.Errorf("unknown speed %q: want instant, fast, real or a factor between 0 and 10", s)
	}
	return f, nil
}

// Options configure a simulated mesh.
type Options struct {
	// Seed drives every random choice; the same seed replays the same lab.
	Seed uint64
	// Clock paces the latency model; nil means instant.
	Clock Clock
	// Store saves the state after every change; nil keeps it in memory.
	Store Store
	// CiliumVersion is the chart version the simulated install reports.
	CiliumVersion string
	// Dir is the lab directory, where the simulated mesh writes the files
	// the lab's commands name (WriteLabFiles, kubeconfigs); "" writes none.
	Dir string
	// CgroupV1 writes the kind configs with the kubelet's cgroup v1 patch,
	// as the real backend does on such a host; the simulated mesh never
	// looks at the machine, so it is off unless a caller sets it.
	CgroupV1 bool
	// Now stamps the flows of a probe (its first request); nil means the
	// wall clock. A fixed Now makes a probe's flows replay exactly.
	Now func() time.Time
}

// Backend is the simulated mesh. It implements cluster.Backend.
type Backend struct {
	opts  Options
	clock Clock

	mu   sync.Mutex
	st   *state
	prop propagation

	// filesMu serialises writes of the kubeconfigs, so the merged one
	// always holds every cluster's.
	filesMu sync.Mutex
}

var _ cluster.Backend = (*Backend)(nil)

// DefaultCiliumVersion is the Cilium chart the simulated install reports.
const DefaultCiliumVersion = cluster.DefaultCiliumVersion

// New opens the simulated mesh, resuming from the store's saved state when
// there is one; a state that cannot be read is an error, never discarded.
func New(opts Options) (*Backend, error) {
	b := &Backend{opts: opts, clock: opts.Clock}
	if b.clock == nil {
		b.clock = ScaledClock{}
	}
	if b.opts.CiliumVersion == "" {
		b.opts.CiliumVersion = DefaultCiliumVersion
	}
	b.st = newState(opts.Seed)
	if opts.Store == nil {
		return b, nil
	}
	data, err := opts.Store.Load()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return b, nil
		}
		return nil, err
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, &CorruptError{Err: err}
	}
	if err := st.validate(); err != nil {
		return nil, &CorruptError{Err: err}
	}
	if st.Seed != opts.Seed {
		return nil, &CorruptError{Err: fmt.Errorf("state of seed %d, lab of seed %d", st.Seed, opts.Seed)}
	}
	st.catchUp()
	b.st = &st
	return b, nil
}

// CorruptError reports a saved state that cannot be used.
type CorruptError struct{ Err error }

func (e *CorruptError) Error() string { return "simulated state is corrupt: " + e.Err.Error() }

// Unwrap returns the decoding error.
func (e *CorruptError) Unwrap() error { return e.Err }

// now is the time a probe starts, for its flows.
func (b *Backend) now() time.Time {
	if b.opts.Now != nil {
		return b.opts.Now()
	}
	return time.Now()
}

// Kind names the backend.
func (b *Backend) Kind() string { return "sim" }

// Close has nothing to release: every change is already saved.
func (b *Backend) Close() error { return nil }

// Status renders the simulated cluster.
func (b *Backend) Status(ctx context.Context, c cluster.Name) (cluster.Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arriveLocked()
	return b.st.status(c), nil
}

// update applies fn to the state under the lock and saves the result; when fn
// fails nothing is saved.
func (b *Backend) update(fn func(s *state) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arriveLocked()
	if err := fn(b.st); err != nil {
		return err
	}
	b.propagateLocked()
	return b.saveLocked()
}

func (b *Backend) saveLocked() error {
	if b.opts.Store == nil {
		return nil
	}
	data, err := json.Marshal(b.st)
	if err != nil {
		return fmt.Errorf("encode simulated state: %w", err)
	}
	if err := b.opts.Store.Save(data); err != nil {
		return fmt.Errorf("save simulated state: %w", err)
	}
	return nil
}

// read runs fn on the state under the lock, without saving.
func (b *Backend) read(fn func(s *state) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arriveLocked()
	return fn(b.st)
}

// step is one timed part of an operation: it logs what is happening, takes
// its time on the latency model's clock, then changes the state.
func (b *Backend) step(ctx context.Context, log cluster.Logger, d time.Duration, msg string, fn func(s *state) error) error {
	if msg != "" {
		log.Logf("%s", msg)
	}
	if err := b.clock.Sleep(ctx, d); err != nil {
		return err
	}
	if fn == nil {
		return nil
	}
	return b.update(fn)
}

// next returns a fresh serial number for generated names.
func (s *state) next() uint64 {
	s.Serial++
	return s.Serial
}

// kubernetesDetail names the Kubernetes version the simulated nodes
// stand for: the one the real lab's pinned node image runs.
func kubernetesDetail() string {
	v, _ := cluster.KubernetesVersion(cluster.DefaultNodeImage)
	return "simulated " + v + ", as the real lab's node image " + cluster.DefaultNodeImage + " runs"
}

// Preflight reports what the simulated mesh needs from the machine: nothing
// beyond this process, which it says instead of probing for Docker.
func (b *Backend) Preflight(ctx context.Context) []cluster.Check {
	return []cluster.Check{
		{Name: "Container engine", Status: cluster.Pass, Detail: "not needed: the simulated mesh runs inside this process"},
		{Name: "Host ports 32042, 31234, 31235", Status: cluster.Pass, Detail: "not needed: simulated clusters map no host ports"},
		{Name: "Cilium chart", Status: cluster.Pass, Detail: "simulated Cilium " + b.opts.CiliumVersion + " (behaviour modelled in process, no images pulled)"},
		{Name: "Kubernetes version", Status: cluster.Pass, Detail: kubernetesDetail()},
	}
}

// Sleep waits d on the simulated mesh's timeline: d scaled by its speed,
// nothing at instant speed. It makes the backend a cluster.Timeline.
func (b *Backend) Sleep(ctx context.Context, d time.Duration) error {
	return b.clock.Sleep(ctx, d)
}
