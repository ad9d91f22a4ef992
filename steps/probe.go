package steps

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Phases label the probes of the lab's story in the history strip.
const (
	PhaseLocal      = "local only"
	PhaseGlobal     = "global"
	PhaseAffinity   = "affinity local"
	PhaseFailover   = "failover"
	PhaseHome       = "back home"
	PhasePlayground = "playground"
	// PhaseReprobe is a round taken again on a step that is done: a new
	// round, labelled with what the clusters were, never the step's own.
	PhaseReprobe = "re-probe"
)

// Phases lists every phase a probe in the journal may carry; a journal
// naming another is corrupt.
var Phases = []string{PhaseLocal, PhaseGlobal, PhaseAffinity, PhaseFailover, PhaseHome, PhasePlayground, PhaseReprobe}

// expectation is what a probe from one cluster should show. The settle
// phase asks settled of its few requests until the change has reached the
// mesh; the judged probe then gets judge.
type expectation struct {
	// want says it in words: "all from EU".
	want string
	// settled tells, from the settle probes so far (all, and the last),
	// that the clusters answer as expected.
	settled func(all, last cluster.ProbeResult) bool
	// judge returns "" when the probe shows what the step teaches; fatal
	// tells a broken mesh from bad luck.
	judge func(r cluster.ProbeResult) (problem string, fatal bool)
}

// only expects every request to be answered by cluster c.
func only(c cluster.Name) expectation {
	return expectation{
		want:    "all from " + c.Label(),
		settled: func(_, last cluster.ProbeResult) bool { return last.Answers.Of(c) == last.Requests },
		judge: func(r cluster.ProbeResult) (string, bool) {
			if r.Answers.Of(c) == r.Requests {
				return "", false
			}
			return fmt.Sprintf("from %s: expected all %d answers from %s, got US %d, EU %d, errors %d",
				r.From, r.Requests, c.Label(), r.Answers.US, r.Answers.EU, r.Errors), true
		},
	}
}

// chanceFloor is how unlikely an outcome must be before it counts as a
// broken mesh rather than bad luck: 10 requests all answered by one of two
// equal sides (p = 0.002) is luck, 20 (p = 2e-6) is not.
const chanceFloor = 1e-4

// mixed expects answers from both clusters, in proportion to their ready
// hello-world pods, since Cilium picks uniformly among backend pods. It
// has settled once both clusters answered within the window and the last
// settle probe met no error (a backend that went away but is still known).
func mixed(st [2]cluster.Status) expectation {
	return expectation{
		want: "answers from both clusters",
		settled: func(all, last cluster.ProbeResult) bool {
			return all.Answers.US > 0 && all.Answers.EU > 0 && last.Errors == 0
		},
		judge: func(r cluster.ProbeResult) (string, bool) {
			if r.Errors > 0 {
				return fmt.Sprintf("from %s: %d of %d requests failed", r.From, r.Errors, r.Requests), true
			}
			local, remote := st[r.From.Index()].Demo.HelloWorld.Ready, st[r.From.Peer().Index()].Demo.HelloWorld.Ready
			if local+remote == 0 {
				return fmt.Sprintf("from %s: no ready hello-world pod anywhere", r.From), true
			}
			pLocal := float64(local) / float64(local+remote)
			for _, side := range []struct {
				c cluster.Name
				p float64
			}{{r.From, pLocal}, {r.From.Peer(), 1 - pLocal}} {
				if r.Answers.Of(side.c) > 0 {
					continue
				}
				// P(no answer from this side) under uniform choice among pods.
				chance := math.Pow(1-side.p, float64(r.Requests))
				msg := fmt.Sprintf("from %s: no answer from %s in %d requests (chance %.2g if the mesh works)", r.From, side.c.Label(), r.Requests, chance)
				return msg, chance < chanceFloor
			}
			return "", false
		},
	}
}

// failing expects every request to fail: no backend anywhere.
func failing() expectation {
	return expectation{
		want:    "every request to fail (no backend)",
		settled: func(_, last cluster.ProbeResult) bool { return last.Errors == last.Requests },
		judge: func(r cluster.ProbeResult) (string, bool) {
			if r.Errors == r.Requests {
				return "", false
			}
			return fmt.Sprintf("from %s: expected every request to fail, got US %d, EU %d", r.From, r.Answers.US, r.Answers.EU), true
		},
	}
}

// predicted is what Cilium's load balancer rules (cluster.Candidates) make
// of the two clusters as their status shows them, for a probe that has no
// lesson of its own to teach (a re-probe, the playground).
func predicted(st [2]cluster.Status, from cluster.Name) expectation {
	local, remote := st[from.Index()], st[from.Peer().Index()]
	nl, nr := cluster.Candidates(cluster.SideOf(local), cluster.SideOf(remote), cluster.ConnectedOf(local))
	switch {
	case nl > 0 && nr > 0:
		return mixed(st)
	case nl > 0:
		return only(from)
	case nr > 0:
		return only(from.Peer())
	}
	return failing()
}

// probeID names a judged probe for the backend: its step and the round it
// records (the journal's length before it), the same when the probe is
// retried after an interruption, new for every later round.
func probeID(step string, round int) string { return fmt.Sprintf("%s/%d", step, round) }

// ProbeBoth probes from US and EU at once with env.Requests requests each,
// streaming progress to the reporter, and records both probes (US first)
// as one round of the journal.
func ProbeBoth(ctx context.Context, env *Env, step, phase string) ([]ProbeRecord, error) {
	return probeRound(ctx, env, step, phase, "")
}

// probeRound is ProbeBoth with a label on the round.
func probeRound(ctx context.Context, env *Env, step, phase, label string) ([]ProbeRecord, error) {
	recs := make([]ProbeRecord, 2)
	id := probeID(step, len(env.Journal.Probes()))
	// A round asked about keeps what the load balancer had to pick from
	// as the probe starts, for the quiz's answer and its reason.
	var quiz *Quiz
	if said, asked := predictionOf(ctx); asked {
		st, err := env.statuses(ctx)
		if err != nil {
			return nil, err
		}
		quiz = quizOf(said, st, QuizFrom)
	}
	err := env.both(ctx, func(ctx context.Context, c cluster.Name) error {
		env.logger(c).Logf("Probing: kubectl exec deploy/busybox-deployment -- wget -qO- hello-world:80 (%d times)", env.Requests)
		res, err := env.Backend.Probe(ctx, cluster.ProbeSpec{From: c, Requests: env.Requests, ID: id}, func(p cluster.ProbeResult) {
			env.Reporter.ProbeProgress(ProbeUpdate{Step: step, Phase: phase, Label: label, Result: p})
		})
		if err != nil {
			return err // the backend's error already names the cluster
		}
		recs[c.Index()] = ProbeRecord{Step: step, Phase: phase, Label: label, Result: res, Time: env.now()}
		if c == QuizFrom {
			recs[c.Index()].Quiz = quiz
		}
		env.Reporter.ProbeProgress(ProbeUpdate{Step: step, Phase: phase, Label: label, Result: res, Final: true})
		env.logger(c).Logf("Probe %s", res)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if err := env.Journal.AddProbe(rec); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// probeAndJudge lets the mesh settle, then runs ProbeBoth and judges each
// probe; a fatal mismatch fails the step, a likely-by-chance one becomes
// a warning.
func probeAndJudge(ctx context.Context, env *Env, step, phase string, expect map[cluster.Name]expectation) (Outcome, error) {
	if err := settleBoth(ctx, env, step, expect); err != nil {
		return Outcome{}, err
	}
	recs, err := ProbeBoth(ctx, env, step, phase)
	out := Outcome{Probes: recs}
	if err != nil {
		return out, err
	}
	var fatal []string
	for _, rec := range recs {
		problem, isFatal := expect[rec.Result.From].judge(rec.Result)
		switch {
		case problem == "":
		case isFatal:
			fatal = append(fatal, problem)
		default:
			out.Warnings = append(out.Warnings, problem+"; re-probe to see it even out")
		}
	}
	if len(fatal) > 0 {
		return out, cluster.WithHint(fmt.Errorf("the mesh did not behave as Cilium documents: %s", strings.Join(fatal, "; ")),
			"look at the US | EU status (peer link up? all agents connected?), then retry the step")
	}
	return out, nil
}

// DescribeProbe renders a probe as "US 10 · EU 0" for summaries.
func DescribeProbe(r cluster.ProbeResult) string {
	s := fmt.Sprintf("US %d · EU %d", r.Answers.US, r.Answers.EU)
	if r.Errors > 0 {
		s += fmt.Sprintf(" · errors %d", r.Errors)
	}
	return s
}

// probeSummary renders both probes: "from US: US 10 · EU 0; from EU: US 0 · EU 10".
func probeSummary(recs []ProbeRecord) string {
	parts := make([]string, 0, len(recs))
	for _, r := range recs {
		parts = append(parts, fmt.Sprintf("from %s: %s", r.Result.From.Label(), DescribeProbe(r.Result)))
	}
	return strings.Join(parts, "; ")
}
