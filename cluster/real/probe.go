package real

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// probeFailed is what the probe loop prints for a request that got no
// answer, so that every request prints exactly one line.
const probeFailed = "clustermesh-lab: no answer"

// ProbeScript is the seed's loop (shared/CILIUM.md, "The demo
// application"), made robust: each request prints one line, the answer or
// a marker when wget fails or times out, so the counts add up to n.
func ProbeScript(n, timeoutSeconds int) string {
	return fmt.Sprintf(`for i in $(seq 1 %d); do out=$(wget -qO- -T %d hello-world:80 2>/dev/null) || out=""; echo "${out:-%s}"; done`, n, timeoutSeconds, probeFailed)
}

// probeCounter turns the loop's output into running counts, line by line
// as the exec streams it.
type probeCounter struct {
	mu       sync.Mutex
	res      cluster.ProbeResult
	partial  []byte
	progress cluster.ProbeProgress
}

// Write counts every complete line of p.
func (p *probeCounter) Write(data []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, data...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		line := string(p.partial[:i])
		p.partial = p.partial[i+1:]
		p.count(line)
	}
	return len(data), nil
}

// count classifies one line; lines beyond the requests sent (none, with
// the loop above) are ignored rather than overcounted.
func (p *probeCounter) count(line string) {
	from, ok, skip := cluster.ClassifyAnswer(line)
	if skip || p.res.Done() >= p.res.Requests {
		return
	}
	if ok {
		p.res.Answers.Add(from, 1)
	} else {
		p.res.Errors++
	}
	if p.progress != nil {
		p.progress(p.res)
	}
}

// result flushes a last unterminated line and returns the counts.
func (p *probeCounter) result() cluster.ProbeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.partial) > 0 {
		line := string(p.partial)
		p.partial = nil
		p.count(line)
	}
	return p.res
}

// Probe runs the seed's wget loop for n requests in the busybox pod of
// cluster from, in one exec, and counts which cluster answered each; the
// counts reach progress as the lines arrive.
// Answers are what the mesh gives: p.ID names nothing here.
func (b *Backend) Probe(ctx context.Context, p cluster.ProbeSpec, progress cluster.ProbeProgress) (cluster.ProbeResult, error) {
	from, n := p.From, p.Requests
	res := cluster.ProbeResult{From: from, Requests: n}
	if n < 1 || n > cluster.MaxProbeRequests {
		return res, fmt.Errorf("probe from %s: %d requests is outside 1..%d", from, n, cluster.MaxProbeRequests)
	}
	kc, err := b.kube(ctx, from)
	if err != nil {
		return res, err
	}
	pods, err := kc.CoreV1().Pods(demoNamespace).List(ctx, metav1.ListOptions{LabelSelector: busyboxLabel})
	if err != nil {
		return res, fmt.Errorf("probe from %s: list the busybox pods: %w", from, err)
	}
	pod := runningPod(pods.Items)
	if pod == "" {
		return res, fmt.Errorf("probe from %s: no running busybox pod: %w", from, cluster.ErrNoDemo)
	}
	counter := &probeCounter{res: res, progress: progress}
	start := time.Now()
	cmd := []string{"/bin/sh", "-c", ProbeScript(n, b.timeouts.ProbeWget)}
	err = b.executor().Exec(ctx, from, demoNamespace, pod, "busybox", cmd, counter)
	res = counter.result()
	if err != nil {
		return res, cluster.WithHint(fmt.Errorf("probe from %s: exec in pod %s: %w", from, pod, err), "retry")
	}
	if res.Done() < n {
		return res, cluster.WithHint(fmt.Errorf("probe from %s: the loop ended after %d of %d requests", from, res.Done(), n), "retry")
	}
	if !p.NoFlows {
		res.Flows = b.probeFlowsOf(ctx, from, pod, start, time.Now())
		if k := len(res.Flows) - cluster.MaxProbeFlows; k > 0 {
			res.Flows, res.FlowsOmitted = res.Flows[k:], k
		}
	}
	return res, nil
}

// runningPod picks a Running, ready pod that is not being deleted.
func runningPod(pods []corev1.Pod) string {
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return p.Name
			}
		}
	}
	return ""
}
