package real

import (
	"context"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// BenchmarkProbeCounter measures counting a probe of MaxProbeRequests
// answers streamed in 4 KiB pieces, with a progress callback per line.
func BenchmarkProbeCounter(b *testing.B) {
	line := `{"message": "Hello world from Europe!"}` + "\n"
	out := []byte(strings.Repeat(line, cluster.MaxProbeRequests))
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		pc := &probeCounter{res: cluster.ProbeResult{Requests: cluster.MaxProbeRequests}, progress: func(cluster.ProbeResult) {}}
		for p := out; len(p) > 0; {
			n := min(4096, len(p))
			pc.Write(p[:n])
			p = p[n:]
		}
		if r := pc.result(); r.Answers.EU != cluster.MaxProbeRequests {
			b.Fatalf("%+v", r)
		}
	}
}

// BenchmarkStatus measures one status read of a meshed cluster as the
// panes poll it, with the agents' reading cached (the common tick).
func BenchmarkStatus(b *testing.B) {
	ca := newTestCA(b, "Cilium CA")
	tb := newTestBackend(b, "", meshCluster(b, cluster.US, 1, ca), nil)
	tb.markCreated(b, cluster.US)
	ctx := context.Background()
	if _, err := tb.Status(ctx, cluster.US); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := tb.Status(ctx, cluster.US); err != nil {
			b.Fatal(err)
		}
	}
}
