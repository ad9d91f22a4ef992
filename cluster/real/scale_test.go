package real

import (
	"context"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// signalLog is a Logger that hands each line to a channel as well.
type signalLog struct {
	lines
	mu   sync.Mutex
	seen chan string
}

func (s *signalLog) Logf(format string, args ...any) {
	s.lines.Logf(format, args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.seen <- format:
	default:
	}
}

// Scaling hello-world to 0 returns only once its pods are gone, Terminating
// ones included: `replicas: 0` and a rolled-out Deployment are not enough,
// since a pod still shutting down may still be a backend in the mesh.
func TestScaleDownWaitsForThePodsToGo(t *testing.T) {
	ctx := context.Background()
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: helloWorld, Namespace: demoNamespace, Generation: 1},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr(int32(1))},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}}
	now := metav1.Now()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hello-world-5d8f-abcde", Namespace: demoNamespace, Labels: map[string]string{"app": helloWorld},
		DeletionTimestamp: &now, Finalizers: []string{"test/holds-the-pod"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	fc := newFakeCluster(dep, pod)
	fc.runController(t)
	tb := newTestBackend(t, "", fc, nil)
	log := &signalLog{seen: make(chan string, 64)}
	done := make(chan error, 1)
	go func() { done <- tb.Scale(ctx, cluster.US, 0, log) }()
	// The Deployment reports 0 replicas at once; Scale must still wait for
	// the Terminating pod.
	for waiting := false; !waiting; {
		select {
		case <-log.seen:
			waiting = log.has("Waiting for the hello-world pods in us to go: 1 pod(s) left (1 terminating), want 0")
		case err := <-done:
			t.Fatalf("Scale returned (%v) while a hello-world pod was still terminating:\n%s", err, log.String())
		}
	}
	if err := fc.kc.CoreV1().Pods(demoNamespace).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
}
