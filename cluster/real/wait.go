package real

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// check reads the live state once: done when the wait is over, state
// describing what is there (and so what is still missing).
type check func(ctx context.Context) (done bool, state string, err error)

// waitFor polls fn until it is done, logging its state whenever it
// changes. On timeout the error says what was still missing; a transient
// API error is retried, a hard one returned.
func (b *Backend) waitFor(ctx context.Context, log cluster.Logger, what string, timeout time.Duration, hint string, fn check) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(b.poll)
	defer t.Stop()
	var last string
	var lastErr error
	for {
		done, state, err := fn(ctx)
		switch {
		case err == nil && done:
			return nil
		case err == nil:
			lastErr = nil
			if state != last {
				log.Logf("Waiting for %s: %s", what, state)
				last = state
			}
		case ctx.Err() == nil && !retryable(err):
			return err
		default:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				still := last
				if lastErr != nil {
					still = lastErr.Error()
				}
				return cluster.WithHint(fmt.Errorf("timed out after %s waiting for %s: %s", timeout, what, still), hint)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// retryable tells API errors worth waiting out (the server starting,
// throttling, a timeout) from those that will not go away.
func retryable(err error) bool {
	switch {
	case apierrors.IsNotFound(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err):
		return true
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err), apierrors.IsBadRequest(err), apierrors.IsInvalid(err):
		return false
	}
	for _, missing := range cluster.Prerequisites() {
		if errors.Is(err, missing) {
			return false
		}
	}
	var he *cluster.HintError
	// Errors the backend raises itself carry a hint and are final;
	// anything else (a refused connection while the API restarts) is not.
	return !errors.As(err, &he)
}

// deploymentWorkload summarises a Deployment as `cilium status` does.
func deploymentWorkload(d *appsv1.Deployment) cluster.Workload {
	desired := 1
	if d.Spec.Replicas != nil {
		desired = int(*d.Spec.Replicas)
	}
	return cluster.Workload{Present: true, Desired: desired, Ready: int(d.Status.ReadyReplicas), Available: int(d.Status.AvailableReplicas)}
}

// daemonSetWorkload summarises a DaemonSet as `cilium status` does.
func daemonSetWorkload(ds *appsv1.DaemonSet) cluster.Workload {
	return cluster.Workload{Present: true, Desired: int(ds.Status.DesiredNumberScheduled), Ready: int(ds.Status.NumberReady), Available: int(ds.Status.NumberAvailable)}
}

// rolledOut reports a Deployment whose latest spec is fully rolled out, as
// `kubectl rollout status` decides: the controller saw the spec, every
// replica is updated and available, and no old replica is left.
func rolledOut(d *appsv1.Deployment) (bool, string) {
	w := deploymentWorkload(d)
	if d.Generation > d.Status.ObservedGeneration {
		return false, "waiting for the controller to see the new spec"
	}
	switch {
	case int(d.Status.UpdatedReplicas) < w.Desired:
		return false, fmt.Sprintf("%d of %d updated replicas", d.Status.UpdatedReplicas, w.Desired)
	case int(d.Status.Replicas) > int(d.Status.UpdatedReplicas):
		return false, fmt.Sprintf("%d old replica(s) pending termination", d.Status.Replicas-d.Status.UpdatedReplicas)
	case w.Available < w.Desired || int(d.Status.AvailableReplicas) < int(d.Status.UpdatedReplicas):
		return false, fmt.Sprintf("%d of %d updated replicas available", w.Available, w.Desired)
	}
	return true, fmt.Sprintf("%d/%d ready", w.Ready, w.Desired)
}

// nodeCount counts Ready nodes.
func nodeCount(nodes []corev1.Node) cluster.Count {
	n := cluster.Count{Total: len(nodes)}
	for _, node := range nodes {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				n.Ready++
			}
		}
	}
	return n
}
