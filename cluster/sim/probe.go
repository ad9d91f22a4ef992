package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// latRequest is one wget round trip from busybox, as the seed's loop makes them.
const latRequest = 40 * time.Millisecond

// MaxRequests bounds one simulated probe (`simulate --requests`): ten
// million takes about a second at instant speed; more is a typo.
const MaxRequests = 10_000_000

// Probe simulates the seed's loop in the busybox pod of cluster from:
// `for i in $(seq 1 n); do wget -qO- hello-world:80; echo ""; done`.
// Each request goes to one active backend pod chosen uniformly among the
// candidates Cilium's load balancer would use; with none, it fails.
func (b *Backend) Probe(ctx context.Context, from cluster.Name, n int, progress cluster.ProbeProgress) (cluster.ProbeResult, error) {
	res := cluster.ProbeResult{From: from, Requests: n}
	if n < 1 || n > MaxRequests {
		return res, fmt.Errorf("probe from %s: %d requests is outside 1..%d", from, n, MaxRequests)
	}
	var nLocal, nRemote int
	var index uint64
	err := b.read(func(s *state) error {
		cs, err := needCluster(s, from)
		if err != nil {
			return err
		}
		if d, ok := cs.Deployments[busyboxDeplo]; !ok || d.count(podRunning) == 0 {
			return cluster.WithHint(fmt.Errorf("probe from %s: no running busybox pod", from), "run the \"deploy\" step first")
		}
		nLocal, nRemote = Candidates(cs.side(), s.Clusters[from.Peer()].side(), s.connectedTo(from))
		index = s.Probes[from]
		return nil
	})
	if err != nil {
		return res, err
	}
	rng := rand.New(rand.NewPCG(b.opts.Seed, mix(uint64(from.Index()), index)))
	total := nLocal + nRemote
	// Report often enough for a smooth chart, rarely enough to stay cheap.
	every := 1
	if c, ok := b.clock.(ScaledClock); ok && c.Factor == 0 {
		every = max(1, n/50)
	}
	for i := 1; i <= n; i++ {
		if err := b.clock.Sleep(ctx, latRequest); err != nil {
			return res, err
		}
		switch {
		case total == 0:
			res.Errors++
		case rng.IntN(total) < nLocal:
			res.Answers.Add(from, 1)
		default:
			res.Answers.Add(from.Peer(), 1)
		}
		if progress != nil && (i%every == 0 || i == n) {
			progress(res)
		}
	}
	err = b.update(func(s *state) error {
		if s.Probes == nil {
			s.Probes = map[cluster.Name]uint64{}
		}
		s.Probes[from]++
		return nil
	})
	return res, err
}
