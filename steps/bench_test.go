package steps_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// maxConcurrentRatio is issue 2's bound: with equal latency per cluster, the
// create + install + enable + connect phases take at most 0.55x the
// one-after-the-other time.
const maxConcurrentRatio = 0.55

// setupPhases runs create-clusters..connect on a fresh simulated mesh with
// the latency model paced by clock, both clusters at once or one after the
// other, and returns the time it took on the clock's time line.
func setupPhases(tb testing.TB, ctx context.Context, clock sim.Clock, sequential bool) time.Duration {
	tb.Helper()
	b, err := sim.New(sim.Options{Seed: 1, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	j, err := steps.NewJournal(nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	env := &steps.Env{Backend: b, Reporter: &recorder{}, Journal: j, Requests: 10, Sequential: sequential}
	r := steps.NewRunner(env)
	from, err := steps.Index(r.Steps, "create-clusters")
	if err != nil {
		tb.Fatal(err)
	}
	to, err := steps.Index(r.Steps, "connect")
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	for i := from; i <= to; i++ {
		if res := r.RunStep(ctx, i); res.Err != nil {
			tb.Fatal(res.Err)
		}
	}
	return time.Since(start)
}

// TestConcurrentSetupRatio proves the bound deterministically: inside a
// synctest bubble time is virtual and advances only when every goroutine
// is blocked, so ScaledClock{Factor: 1} takes exactly the modelled
// latencies (minutes of them) in an instant of real time, and the measured
// durations are the critical paths of the two schedules.
func TestConcurrentSetupRatio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := sim.ScaledClock{Factor: 1}
		seq := setupPhases(t, t.Context(), clock, true)
		con := setupPhases(t, t.Context(), clock, false)
		ratio := float64(con) / float64(seq)
		t.Logf("virtual time: concurrent %s, sequential %s, ratio %.3f", con, seq, ratio)
		if seq < time.Minute || con <= 0 {
			t.Fatalf("implausible virtual durations: concurrent %s, sequential %s", con, seq)
		}
		if ratio > maxConcurrentRatio {
			t.Errorf("concurrent/sequential = %.3f (%s / %s), want at most %.2f", ratio, con, seq, maxConcurrentRatio)
		}
	})
}

// BenchmarkConcurrentSetupRatio measures the same ratio on the real clock
// with the latency model scaled down 500 times (the setup phases take
// 0.2 s one after the other). Overheads that do not scale make it
// approximate; TestConcurrentSetupRatio is the exact figure.
func BenchmarkConcurrentSetupRatio(b *testing.B) {
	clock := sim.ScaledClock{Factor: 0.002}
	var con, seq time.Duration
	for b.Loop() {
		seq += setupPhases(b, context.Background(), clock, true)
		con += setupPhases(b, context.Background(), clock, false)
	}
	b.ReportMetric(float64(con)/float64(seq), "concurrent/sequential")
	b.ReportMetric(float64(con.Milliseconds())/float64(b.N), "concurrent-ms/op")
	b.ReportMetric(float64(seq.Milliseconds())/float64(b.N), "sequential-ms/op")
}

// BenchmarkLab runs the whole lab in memory at instant speed with the
// seed's ten requests per probe.
func BenchmarkLab(b *testing.B) {
	for b.Loop() {
		l := newLab(b, 1, 10)
		if err := l.runner.RunRange(context.Background(), 0, len(l.runner.Steps)-1, true); err != nil {
			b.Fatal(err)
		}
	}
}
