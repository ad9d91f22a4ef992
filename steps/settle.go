package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// A change in one cluster reaches the other's agents through a chain
// (EndpointSlice, clustermesh-apiserver, the peer's kvstoremesh, its
// agents): seconds, not zero. Before a step judges its probe it therefore
// re-probes with a few requests until the clusters answer as the step
// expects, or the window runs out; only then comes the judged probe, the
// one the journal records.
const (
	// DefaultSettleWindow bounds the settle phase of one step.
	DefaultSettleWindow = 30 * time.Second
	// DefaultSettlePoll is the pause between two settle probes.
	DefaultSettlePoll = time.Second
	// DefaultSettleRequests is the size of one settle probe.
	DefaultSettleRequests = 4
	// DefaultSettleConfirm is how many settle requests in a row must agree
	// with the expectation: a state still on its way may give the expected
	// answers by chance (half of them, with one pod on each side), and 16
	// in a row by chance is 1 in 65536.
	DefaultSettleConfirm = 16
)

// Settle configures the settle phase; zero fields take the defaults.
type Settle struct {
	Window   time.Duration
	Poll     time.Duration
	Requests int
	Confirm  int
}

func (s Settle) withDefaults() Settle {
	if s.Window <= 0 {
		s.Window = DefaultSettleWindow
	}
	if s.Poll <= 0 {
		s.Poll = DefaultSettlePoll
	}
	if s.Requests <= 0 {
		s.Requests = DefaultSettleRequests
	}
	if s.Confirm <= 0 {
		s.Confirm = DefaultSettleConfirm
	}
	return s
}

// sleep waits d on the backend's timeline (cluster.Timeline), else on the
// wall clock.
func (e *Env) sleep(ctx context.Context, d time.Duration) error {
	if tl, ok := e.Backend.(cluster.Timeline); ok {
		return tl.Sleep(ctx, d)
	}
	return cluster.Sleep(ctx, d)
}

// settleBoth runs the settle phase from both clusters at once.
func settleBoth(ctx context.Context, env *Env, step string, expect map[cluster.Name]expectation) error {
	round := len(env.Journal.Probes())
	return env.both(ctx, func(ctx context.Context, c cluster.Name) error {
		return settle(ctx, env, step, round, c, expect[c])
	})
}

// settle re-probes from cluster c with a few requests until exp has held
// over cfg.Confirm requests in a row: once a probe agrees, the rest are
// asked for at once, without a pause. Its probes are logged, never
// journaled; the window is measured on the wall clock and, for a backend
// with its own timeline, as the pauses it took, whichever is longer.
func settle(ctx context.Context, env *Env, step string, round int, c cluster.Name, exp expectation) error {
	cfg := env.Settle.withDefaults()
	log := env.logger(c)
	start := time.Now()
	var waited time.Duration
	var all cluster.ProbeResult
	streak, n := 0, cfg.Requests
	for attempt := 1; ; attempt++ {
		spec := cluster.ProbeSpec{From: c, Requests: n, ID: fmt.Sprintf("settle/%s/%d/%d", step, round, attempt), NoFlows: true}
		last, err := env.Backend.Probe(ctx, spec, nil)
		if err != nil {
			return err
		}
		all.From, all.Requests, all.Errors = c, all.Requests+last.Requests, all.Errors+last.Errors
		all.Answers.US += last.Answers.US
		all.Answers.EU += last.Answers.EU
		elapsed := max(time.Since(start), waited)
		if exp.settled(all, last) {
			if streak += last.Requests; streak >= cfg.Confirm {
				if waited > 0 {
					log.Logf("The mesh has propagated the change (%s): %s answers as expected", seconds(elapsed), c.Label())
				}
				return nil
			}
			n = cfg.Confirm - streak
			continue
		}
		if elapsed >= cfg.Window {
			return cluster.WithHint(fmt.Errorf("from %s the mesh did not settle within %s: the last %d requests got %s, want %s",
				c.Label(), seconds(cfg.Window), last.Requests, DescribeProbe(last), exp.want),
				"look at the status panes (is the peer link up, are all agents connected?) or run `cilium clustermesh status` in both clusters; then retry the step")
		}
		log.Logf("Waiting for the mesh to propagate (%s): %d requests got %s, want %s", seconds(elapsed), last.Requests, DescribeProbe(last), exp.want)
		if err := env.sleep(ctx, cfg.Poll); err != nil {
			return err
		}
		waited += cfg.Poll
		streak, n = 0, cfg.Requests
	}
}

// seconds renders a duration as the learner reads it: "3 s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
}
