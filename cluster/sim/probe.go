package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// latRequest is one wget round trip from busybox, as the seed's loop makes them.
const latRequest = 40 * time.Millisecond

// MaxRequests bounds one simulated probe (`simulate --requests`): ten
// million takes about a second at instant speed; more is a typo.
const MaxRequests = 10_000_000

// Probe simulates the seed's loop in the busybox pod of cluster p.From:
// `for i in $(seq 1 n); do wget -qO- hello-world:80; echo ""; done`.
// Each request goes to one backend pod chosen uniformly among the
// candidates Cilium's load balancer would use, from what the cluster's
// agents know; with none it fails, and so does one sent to a remote pod
// the agents still know of but that is gone.
func (b *Backend) Probe(ctx context.Context, p cluster.ProbeSpec, progress cluster.ProbeProgress) (cluster.ProbeResult, error) {
	from, n := p.From, p.Requests
	res := cluster.ProbeResult{From: from, Requests: n}
	if n < 1 || n > MaxRequests {
		return res, fmt.Errorf("probe from %s: %d requests is outside 1..%d", from, n, MaxRequests)
	}
	var nLocal, nRemote, alive int
	var stream uint64
	err := b.read(func(s *state) error {
		cs, err := needCluster(s, from)
		if err != nil {
			return err
		}
		if d, ok := cs.Deployments[busyboxDeplo]; !ok || d.count(podRunning) == 0 {
			return fmt.Errorf("probe from %s: no running busybox pod: %w", from, cluster.ErrNoDemo)
		}
		local, remote, connected := s.lbView(from)
		nLocal, nRemote = cluster.Candidates(local, remote, connected)
		alive = min(nRemote, s.Clusters[from.Peer()].running())
		stream = s.Probes[from]
		if p.ID != "" {
			h := fnv.New64a()
			h.Write([]byte(p.ID))
			stream = h.Sum64()
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	rng := rand.New(rand.NewPCG(b.opts.Seed, mix(uint64(from.Index()), stream)))
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
		if total == 0 {
			res.Errors++
		} else {
			switch k := rng.IntN(total); {
			case k < nLocal:
				res.Answers.Add(from, 1)
			case k < nLocal+alive:
				res.Answers.Add(from.Peer(), 1)
			default:
				res.Errors++
			}
		}
		if progress != nil && (i%every == 0 || i == n) {
			progress(res)
		}
	}
	if p.ID != "" {
		return res, nil
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
