package sim

import (
	"context"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// A change in one cluster reaches the other cluster's load balancer
// through a chain (shared/CILIUM.md, "Connect" 5): the EndpointSlice or the
// Service changes, the cluster's clustermesh-apiserver writes it to its
// etcd, the peer's kvstoremesh copies it into the peer's etcd, and the
// peer's agents pick it up from there. Each hop is a watch, so the whole
// takes a second or a few. The model holds every change back by a delay
// drawn from the seed, scaled like every other latency, and none at all
// on an instant clock, so instant runs keep their exact answers.
const (
	latPropagateMin    = 1 * time.Second
	latPropagateSpread = 3 * time.Second
)

// Scaler is a Clock whose durations are a fixed multiple of the real ones,
// which the propagation model needs to hold a change back while the lab
// goes on: a Clock that is not a Scaler propagates at once.
type Scaler interface {
	Scale(d time.Duration) time.Duration
}

// Scale returns d as this clock spends it.
func (c ScaledClock) Scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.Factor)
}

// inFlight is one change on its way to a cluster's cache of its peer.
type inFlight struct {
	due  time.Time
	side cluster.Side
}

// propagation holds the changes in flight, per receiving cluster. It lives
// in memory only: a lab resumed after its process died finds them all
// arrived (catchUp), as they would have in the time it was away.
type propagation struct {
	pending map[cluster.Name][]inFlight
	// sent numbers the changes sent to each cluster, for their delays.
	sent map[cluster.Name]uint64
}

// delay draws how long the next change towards cluster to takes.
func (b *Backend) delay(to cluster.Name) time.Duration {
	sc, ok := b.clock.(Scaler)
	if !ok {
		return 0
	}
	if b.prop.sent == nil {
		b.prop.sent = map[cluster.Name]uint64{}
	}
	b.prop.sent[to]++
	d := latPropagateMin + time.Duration(mix(b.opts.Seed^uint64(to.ID())<<40, b.prop.sent[to])%uint64(latPropagateSpread))
	return sc.Scale(d)
}

// propagateLocked sends each cluster's hello-world, where it changed, to
// the peer's cache; called under the lock after every change. A change
// leaves only over a working chain: while the link is down the peer's
// cache keeps what it had.
func (b *Backend) propagateLocked() {
	for _, to := range cluster.Names() {
		cfg := b.st.entry(to)
		if cfg == nil || cfg.Cache == nil {
			delete(b.prop.pending, to)
			continue
		}
		if b.st.linkProblem(to, *cfg) != "" {
			continue
		}
		target := b.st.Clusters[to.Peer()].side()
		last := *cfg.Cache
		if q := b.prop.pending[to]; len(q) > 0 {
			last = q[len(q)-1].side
		}
		if target == last {
			continue
		}
		d := b.delay(to)
		if d <= 0 {
			delete(b.prop.pending, to)
			*cfg.Cache = target
			continue
		}
		if b.prop.pending == nil {
			b.prop.pending = map[cluster.Name][]inFlight{}
		}
		b.prop.pending[to] = append(b.prop.pending[to], inFlight{due: time.Now().Add(d), side: target})
	}
}

// arriveLocked applies the changes whose time has come; changes caught in
// a link that went down meanwhile are lost, and the link's return sends
// the peer's state again.
func (b *Backend) arriveLocked() {
	now := time.Now()
	for to, q := range b.prop.pending {
		cfg := b.st.entry(to)
		if cfg == nil || cfg.Cache == nil || b.st.linkProblem(to, *cfg) != "" {
			delete(b.prop.pending, to)
			continue
		}
		n := 0
		for n < len(q) && !q[n].due.After(now) {
			*cfg.Cache = q[n].side
			n++
		}
		if n == len(q) {
			delete(b.prop.pending, to)
		} else {
			b.prop.pending[to] = q[n:]
		}
	}
}

// catchUp brings every working link's cache to the peer's state, as a lab
// resumed from its saved state finds it.
func (s *state) catchUp() {
	for _, to := range cluster.Names() {
		if cfg := s.entry(to); cfg != nil && cfg.Cache != nil && s.linkProblem(to, *cfg) == "" {
			*cfg.Cache = s.Clusters[to.Peer()].side()
		}
	}
}

// WaitSettled waits until no change is on its way between the clusters.
func (b *Backend) WaitSettled(ctx context.Context) error {
	for {
		b.mu.Lock()
		b.arriveLocked()
		var last time.Time
		for _, q := range b.prop.pending {
			if due := q[len(q)-1].due; due.After(last) {
				last = due
			}
		}
		b.mu.Unlock()
		if last.IsZero() {
			return nil
		}
		if err := cluster.Sleep(ctx, time.Until(last)); err != nil {
			return err
		}
	}
}

// Settled reports whether no change is on its way between the clusters:
// each cluster's load balancer sees the other as it is (or as it was when
// their link broke).
func (b *Backend) Settled() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arriveLocked()
	return len(b.prop.pending) == 0
}
