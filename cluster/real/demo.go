package real

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"

	"github.com/clustermesh-lab/clustermesh-lab/assets"
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// fieldManager owns the fields the lab applies, as kubectl's would.
const fieldManager = "clustermesh-lab"

// maxReplicas bounds Scale as the simulated mesh does: a demo on a laptop.
const maxReplicas = 50

// manifestObject is one document of the demo manifests, as JSON for a
// server-side apply, with what identifies it.
type manifestObject struct {
	Kind, Name, Namespace string
	JSON                  []byte
}

// demoObjects splits the embedded demo manifests of c into objects.
func demoObjects(c cluster.Name) ([]manifestObject, error) {
	raw, err := assets.DemoManifests(string(c))
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []manifestObject
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("demo manifests for %s: %w", c, err)
		}
		if len(obj) == 0 {
			continue
		}
		kind, _ := obj["kind"].(string)
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		ns, _ := meta["namespace"].(string)
		if ns == "" {
			ns = demoNamespace
		}
		js, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out = append(out, manifestObject{Kind: kind, Name: name, Namespace: ns, JSON: js})
	}
	return out, nil
}

// apply server-side applies one object; found says whether it existed,
// before and after are its resourceVersions around the apply.
func apply(ctx context.Context, kc kubernetes.Interface, o manifestObject) (found bool, before, after string, err error) {
	opts := metav1.PatchOptions{FieldManager: fieldManager, Force: ptr(true)}
	var get func() (metav1.Object, error)
	var patch func() (metav1.Object, error)
	switch o.Kind {
	case "ConfigMap":
		c := kc.CoreV1().ConfigMaps(o.Namespace)
		get = func() (metav1.Object, error) { return c.Get(ctx, o.Name, metav1.GetOptions{}) }
		patch = func() (metav1.Object, error) { return c.Patch(ctx, o.Name, types.ApplyPatchType, o.JSON, opts) }
	case "Service":
		c := kc.CoreV1().Services(o.Namespace)
		get = func() (metav1.Object, error) { return c.Get(ctx, o.Name, metav1.GetOptions{}) }
		patch = func() (metav1.Object, error) { return c.Patch(ctx, o.Name, types.ApplyPatchType, o.JSON, opts) }
	case "Deployment":
		c := kc.AppsV1().Deployments(o.Namespace)
		get = func() (metav1.Object, error) { return c.Get(ctx, o.Name, metav1.GetOptions{}) }
		patch = func() (metav1.Object, error) { return c.Patch(ctx, o.Name, types.ApplyPatchType, o.JSON, opts) }
	default:
		return false, "", "", fmt.Errorf("the demo manifests hold a %s, which the lab does not apply", o.Kind)
	}
	cur, err := get()
	switch {
	case err == nil:
		found, before = true, cur.GetResourceVersion()
	case !apierrors.IsNotFound(err):
		return false, "", "", err
	}
	res, err := patch()
	if err != nil {
		return found, before, "", err
	}
	return found, before, res.GetResourceVersion(), nil
}

func ptr[T any](v T) *T { return &v }

// DeployDemo server-side applies the demo manifests of c, as
// `kubectl apply --server-side -f deployment-<c>.yaml`, and waits for the
// rollouts. Applying again leaves the objects as they are, except fields
// the lab owns that someone changed (the replicas, after a scale).
func (b *Backend) DeployDemo(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	objs, err := demoObjects(c)
	if err != nil {
		return err
	}
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	log.Logf("Applying deployment-%s.yaml (server-side apply)", c)
	for _, o := range objs {
		found, before, after, err := apply(ctx, kc, o)
		if err != nil {
			return cluster.WithHint(fmt.Errorf("apply %s %s/%s in %s: %w", o.Kind, o.Namespace, o.Name, c, err), "retry: applying is idempotent")
		}
		verb := "configured"
		switch {
		case !found:
			verb = "created"
		case before != "" && before == after:
			verb = "unchanged"
		}
		log.Logf("%s/%s %s", kindResource(o.Kind), o.Name, verb)
	}
	for _, name := range []string{helloWorld, busybox} {
		if err := b.waitRollout(ctx, kc, c, name, log); err != nil {
			return err
		}
	}
	return nil
}

// kindResource names a kind as kubectl prints it: deployment.apps, service.
func kindResource(kind string) string {
	if kind == "Deployment" {
		return "deployment.apps"
	}
	return strings.ToLower(kind)
}

// waitRollout waits as `kubectl rollout status deployment/<name>` does.
func (b *Backend) waitRollout(ctx context.Context, kc kubernetes.Interface, c cluster.Name, name string, log cluster.Logger) error {
	var state string
	hint := fmt.Sprintf("look at the pods: kubectl --kubeconfig %s get pods -o wide; pods stay Pending while no node is Ready", b.kubeconfigHintPath(c))
	err := b.waitFor(ctx, log, fmt.Sprintf("deployment %q rollout in %s", name, c), b.timeouts.Rollout, hint,
		func(ctx context.Context) (bool, string, error) {
			d, err := kc.AppsV1().Deployments(demoNamespace).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, "", fmt.Errorf("deployment %s not found in %s: %w", name, c, cluster.ErrNoDemo)
			}
			if err != nil {
				return false, "", err
			}
			var ok bool
			ok, state = rolledOut(d)
			return ok, state, nil
		})
	if err != nil {
		return err
	}
	log.Logf("deployment %q successfully rolled out in %s (%s)", name, c, state)
	return nil
}

// ConfigureService sets the hello-world Service's Cilium annotations with a
// merge patch, as `kubectl annotate --overwrite` does; a nil value removes
// the annotation.
func (b *Backend) ConfigureService(ctx context.Context, c cluster.Name, change cluster.ServiceChange, log cluster.Logger) error {
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	ann := map[string]any{}
	for k, v := range change.Annotations() {
		if v == nil {
			ann[k] = nil
		} else {
			ann[k] = *v
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
	if err != nil {
		return err
	}
	log.Logf("Annotating service/hello-world in %s: %s", c, change)
	_, err = kc.CoreV1().Services(demoNamespace).Patch(ctx, helloWorld, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("annotate service hello-world in %s: service not found: %w", c, cluster.ErrNoDemo)
	}
	if err != nil {
		return fmt.Errorf("annotate service hello-world in %s: %w", c, err)
	}
	return nil
}

// Scale sets hello-world's replicas through the scale subresource, as
// `kubectl scale deployment hello-world --replicas n`, and waits for the
// rollout.
func (b *Backend) Scale(ctx context.Context, c cluster.Name, replicas int, log cluster.Logger) error {
	if replicas < 0 || replicas > maxReplicas {
		return fmt.Errorf("scale hello-world in %s: %d replicas is outside 0..%d", c, replicas, maxReplicas)
	}
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	deps := kc.AppsV1().Deployments(demoNamespace)
	sc, err := deps.GetScale(ctx, helloWorld, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("scale hello-world in %s: deployment not found: %w", c, cluster.ErrNoDemo)
	}
	if err != nil {
		return fmt.Errorf("scale hello-world in %s: %w", c, err)
	}
	if int(sc.Spec.Replicas) == replicas {
		log.Logf("Deployment hello-world in %s already has %d replica(s)", c, replicas)
	} else {
		log.Logf("Scaling deployment hello-world in %s to %d replica(s)", c, replicas)
		_, err = deps.UpdateScale(ctx, helloWorld, &autoscalingv1.Scale{
			ObjectMeta: metav1.ObjectMeta{Name: helloWorld, Namespace: demoNamespace, ResourceVersion: sc.ResourceVersion},
			Spec:       autoscalingv1.ScaleSpec{Replicas: int32(replicas)},
		}, metav1.UpdateOptions{FieldManager: fieldManager})
		if err != nil {
			return cluster.WithHint(fmt.Errorf("scale hello-world in %s: %w", c, err), "retry")
		}
	}
	if err := b.waitRollout(ctx, kc, c, helloWorld, log); err != nil {
		return err
	}
	return b.waitPodsGone(ctx, kc, c, replicas, log)
}

// helloWorldLabel selects the demo's hello-world pods.
const helloWorldLabel = "app=hello-world"

// waitPodsGone waits until at most replicas hello-world pods are left,
// Terminating ones included. A Deployment scaled down counts its replicas
// gone while their pods still shut down, and a pod that is still there may
// still be a backend somewhere in the mesh; only once it is gone has the
// change begun to travel.
func (b *Backend) waitPodsGone(ctx context.Context, kc kubernetes.Interface, c cluster.Name, replicas int, log cluster.Logger) error {
	hint := fmt.Sprintf("look at the pods: kubectl --kubeconfig %s get pods -l %s; a pod stuck Terminating holds the scale-down", b.kubeconfigHintPath(c), helloWorldLabel)
	return b.waitFor(ctx, log, fmt.Sprintf("the hello-world pods in %s to go", c), b.timeouts.Rollout, hint,
		func(ctx context.Context) (bool, string, error) {
			pods, err := kc.CoreV1().Pods(demoNamespace).List(ctx, metav1.ListOptions{LabelSelector: helloWorldLabel})
			if err != nil {
				return false, "", err
			}
			terminating := 0
			for _, p := range pods.Items {
				if p.DeletionTimestamp != nil {
					terminating++
				}
			}
			n := len(pods.Items)
			return n <= replicas, fmt.Sprintf("%d pod(s) left (%d terminating), want %d", n, terminating, replicas), nil
		})
}
