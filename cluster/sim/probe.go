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
	var client string
	var hubble bool
	var localPods, remotePods []string
	err := b.read(func(s *state) error {
		cs, err := needCluster(s, from)
		if err != nil {
			return err
		}
		d, ok := cs.Deployments[busyboxDeplo]
		if !ok || d.count(podRunning) == 0 {
			return fmt.Errorf("probe from %s: no running busybox pod: %w", from, cluster.ErrNoDemo)
		}
		client = d.running()[0]
		// Flows come from Hubble: none where its relay is not on.
		hubble = cs.Cilium != nil && cs.Cilium.Hubble != nil && cs.Cilium.Hubble.RelayReady
		localPods = cs.Deployments[helloWorld].running()
		if peer := s.Clusters[from.Peer()]; peer.exists() {
			remotePods = peer.Deployments[helloWorld].running()
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
	fl := flows{keep: hubble && !p.NoFlows, from: n - cluster.MaxProbeFlows, start: b.now(), src: cluster.Endpoint{Cluster: from, Namespace: demoNamespace, Pod: client, Identity: identity(from, "busybox")}}
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
			fl.add(&res, i, cluster.Endpoint{Cluster: from, Namespace: demoNamespace}, cluster.DropNoBackend)
		} else {
			switch k := rng.IntN(total); {
			case k < nLocal:
				res.Answers.Add(from, 1)
				fl.add(&res, i, backend(from, localPods, k), "")
			case k < nLocal+alive:
				res.Answers.Add(from.Peer(), 1)
				fl.add(&res, i, backend(from.Peer(), remotePods, k-nLocal), "")
			default:
				res.Errors++
				fl.add(&res, i, cluster.Endpoint{Cluster: from.Peer(), Namespace: demoNamespace}, cluster.DropStaleBackend)
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

// demoNamespace is where the demo runs (assets/demo-*.yaml).
const demoNamespace = "default"

// flows builds a probe's flows as Hubble would record them, from the load
// balancer's decisions: one per request, at the model's request times.
type flows struct {
	keep bool
	// from is the last request whose flow is left out: only the newest
	// MaxProbeFlows are kept.
	from  int
	start time.Time
	src   cluster.Endpoint
}

// add appends request i's flow to res (dst with no pod and a reason: a
// drop), keeping the newest MaxProbeFlows.
func (f flows) add(res *cluster.ProbeResult, i int, dst cluster.Endpoint, drop string) {
	if !f.keep {
		return
	}
	if i <= f.from {
		res.FlowsOmitted++
		return
	}
	fl := cluster.Flow{
		Time:         f.start.Add(time.Duration(i) * latRequest),
		Source:       f.src,
		Destination:  dst,
		Service:      demoNamespace + "/" + helloWorld,
		Verdict:      cluster.VerdictForwarded,
		CrossCluster: dst.Cluster != f.src.Cluster,
	}
	if drop != "" {
		fl.Verdict, fl.DropReason = cluster.VerdictDropped, drop
		fl.CrossCluster = false
	}
	res.Flows = append(res.Flows, fl)
}

// backend is the hello-world pod the load balancer picked: the k-th of
// the cluster's running pods.
func backend(c cluster.Name, pods []string, k int) cluster.Endpoint {
	e := cluster.Endpoint{Cluster: c, Namespace: demoNamespace, Identity: identity(c, "hello-world")}
	if k < len(pods) {
		e.Pod = pods[k]
	}
	return e
}

// identity is the security identity Cilium would allocate to the app's
// pods in cluster c: the cluster id in the upper bits, as in a mesh, and
// a number of the app below (identities from 256 on are the allocated ones).
func identity(c cluster.Name, app string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(app))
	return uint32(c.ID())<<16 | (256 + h.Sum32()%0xfe00)
}
