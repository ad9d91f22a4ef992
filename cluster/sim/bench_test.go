package sim_test

import (
	"context"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// BenchmarkProbe100k sends 100,000 simulated requests per op through the
// full load balancer (global service, 1 and 3 pods, instant clock) and
// reports the request rate; the goal is over a million per second.
func BenchmarkProbe100k(b *testing.B) {
	const n = 100_000
	be := bring(b, 1, scenario(global), scenario(global, replicas(3)))
	ctx := context.Background()
	for b.Loop() {
		res, err := be.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: n}, nil)
		if err != nil || res.Done() != n {
			b.Fatalf("probe: %v, %v", res, err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkBring sets up the simulated mesh as `simulate` does.
func BenchmarkBring(b *testing.B) {
	for b.Loop() {
		bring(b, 1, scenario(global), scenario(global))
	}
}
