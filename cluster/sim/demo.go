package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/clustermesh-lab/clustermesh-lab/assets"
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

const (
	latApply     = 1 * time.Second
	latPodStart  = 6 * time.Second
	latPodScale  = 3 * time.Second
	latPodStop   = 1 * time.Second
	latAnnotate  = 300 * time.Millisecond
	maxSimScale  = 50
	helloWorld   = "hello-world"
	busyboxDeplo = "busybox-deployment"
)

// manifest is the part of the demo manifests the simulation uses.
type manifest struct {
	deployments map[string]int // name -> replicas
	// order is the deployments' names in the manifests' order: the log
	// follows it, as kubectl's does, and a replay logs the same lines.
	order    []string
	services []string
	message  string // the JSON body hello-world answers with
}

var returnBody = regexp.MustCompile(`return 200 '([^']*)'`)

// loadManifest reads the embedded demo manifests of cluster c, so the
// simulation serves exactly what the real cluster would.
func loadManifest(c cluster.Name) (manifest, error) {
	raw, err := assets.DemoManifests(string(c))
	if err != nil {
		return manifest{}, err
	}
	m := manifest{deployments: map[string]int{}}
	for _, doc := range strings.Split(string(raw), "\n---") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Replicas *int `json:"replicas"`
			} `json:"spec"`
			Data map[string]string `json:"data"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return manifest{}, fmt.Errorf("demo manifests for %s: %w", c, err)
		}
		switch obj.Kind {
		case "Deployment":
			r := 1
			if obj.Spec.Replicas != nil {
				r = *obj.Spec.Replicas
			}
			m.deployments[obj.Metadata.Name] = r
			m.order = append(m.order, obj.Metadata.Name)
		case "Service":
			m.services = append(m.services, obj.Metadata.Name)
		case "ConfigMap":
			if sub := returnBody.FindStringSubmatch(obj.Data["nginx.conf"]); sub != nil {
				var body struct{ Message string }
				if err := json.Unmarshal([]byte(sub[1]), &body); err != nil {
					return manifest{}, fmt.Errorf("demo manifests for %s: hello-world body: %w", c, err)
				}
				m.message = body.Message
			}
		}
	}
	if _, ok := m.deployments[helloWorld]; !ok || m.message == "" {
		return manifest{}, fmt.Errorf("demo manifests for %s: no hello-world deployment or body", c)
	}
	return m, nil
}

// DeployDemo simulates a server-side apply of deployment-<c>.yaml and waits
// for the rollouts. Re-applying resets the replicas to the manifest's (the
// applier owns that field) and keeps annotations set by other managers.
func (b *Backend) DeployDemo(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	m, err := loadManifest(c)
	if err != nil {
		return err
	}
	err = b.step(ctx, log, latApply, fmt.Sprintf("Applying deployment-%s.yaml (server-side apply)", c), func(s *state) error {
		cs, err := needCluster(s, c)
		if err != nil {
			return err
		}
		if cs.readyNodes() == 0 {
			return fmt.Errorf("deploy the demo in %s: pods would stay Pending: no node is Ready (%w)", c, cluster.ErrNoCilium)
		}
		if cs.Deployments == nil {
			cs.Deployments = map[string]*deployment{}
		}
		if cs.Services == nil {
			cs.Services = map[string]*service{}
		}
		for _, name := range m.order {
			replicas := m.deployments[name]
			d := cs.Deployments[name]
			verb := "configured"
			if d == nil {
				d = &deployment{}
				cs.Deployments[name] = d
				verb = "created"
			} else if d.Replicas == replicas {
				verb = "unchanged"
			}
			d.Replicas = replicas
			if name == helloWorld {
				d.Message = m.message
			}
			s.reconcile(c, name)
			log.Logf("deployment.apps/%s %s", name, verb)
		}
		for _, name := range m.services {
			verb := "unchanged"
			if _, ok := cs.Services[name]; !ok {
				cs.Services[name] = &service{}
				verb = "created"
			}
			log.Logf("service/%s %s", name, verb)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range []string{helloWorld, busyboxDeplo} {
		if err := b.rollout(ctx, c, name, latPodStart, log); err != nil {
			return err
		}
	}
	return nil
}

// reconcile makes the deployment's pods match its replicas the way a
// ReplicaSet does: new pods start Pending, surplus pods start terminating.
func (s *state) reconcile(c cluster.Name, name string) {
	cs := s.Clusters[c]
	d := cs.Deployments[name]
	live := 0
	for i := range d.Pods {
		if d.Pods[i].Phase == podTerminating {
			continue
		}
		live++
		if live > d.Replicas {
			d.Pods[i].Phase = podTerminating
		}
	}
	workers := []string{}
	for _, n := range cs.Nodes {
		if n.Role == "worker" {
			workers = append(workers, n.Name)
		}
	}
	// Pods are numbered per deployment, so their names and nodes do not
	// depend on the order in which concurrent operations ran.
	h := fnv.New64a()
	h.Write([]byte(string(c) + "/" + name))
	for ; live < d.Replicas; live++ {
		d.Created++
		id := mix(s.Seed^h.Sum64(), d.Created)
		d.Pods = append(d.Pods, pod{
			Name:  fmt.Sprintf("%s-%08x-%05x", name, uint32(mix(s.Seed, uint64(len(name)))), id&0xfffff),
			Node:  workers[int(id%uint64(len(workers)))],
			Phase: podPending,
		})
	}
}

// rollout waits until the deployment's pods match its replicas: pending pods
// start, terminating ones go away.
func (b *Backend) rollout(ctx context.Context, c cluster.Name, name string, start time.Duration, log cluster.Logger) error {
	for {
		var pending, terminating int
		var w cluster.Workload
		err := b.read(func(s *state) error {
			cs, err := needCluster(s, c)
			if err != nil {
				return err
			}
			d, ok := cs.Deployments[name]
			if !ok {
				return fmt.Errorf("deployment %s not found in %s: %w", name, c, cluster.ErrNoDemo)
			}
			pending, terminating, w = d.count(podPending), d.count(podTerminating), d.workload()
			return nil
		})
		if err != nil {
			return err
		}
		if pending == 0 && terminating == 0 {
			log.Logf("deployment %q successfully rolled out in %s (%d/%d ready)", name, c, w.Ready, w.Desired)
			return nil
		}
		d, from, to, what := start, podPending, podRunning, "to start"
		if terminating > 0 {
			d, from, to, what = latPodStop, podTerminating, "", "to terminate"
		}
		msg := fmt.Sprintf("Waiting for deployment %q rollout in %s: %d/%d ready, %d pod(s) %s", name, c, w.Ready, w.Desired, pending+terminating, what)
		err = b.step(ctx, log, d, msg, func(s *state) error {
			dep := s.Clusters[c].Deployments[name]
			if dep == nil {
				return fmt.Errorf("deployment %s was deleted from %s", name, c)
			}
			pods := dep.Pods[:0]
			for _, p := range dep.Pods {
				if p.Phase == from {
					if to == "" {
						continue
					}
					p.Phase = to
				}
				pods = append(pods, p)
			}
			dep.Pods = pods
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// ConfigureService simulates `kubectl annotate service hello-world ...`.
func (b *Backend) ConfigureService(ctx context.Context, c cluster.Name, change cluster.ServiceChange, log cluster.Logger) error {
	return b.step(ctx, log, latAnnotate, fmt.Sprintf("Annotating service/hello-world in %s: %s", c, change), func(s *state) error {
		cs, err := needCluster(s, c)
		if err != nil {
			return err
		}
		svc, ok := cs.Services[helloWorld]
		if !ok {
			return fmt.Errorf("annotate service hello-world in %s: service not found: %w", c, cluster.ErrNoDemo)
		}
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		for k, v := range change.Annotations() {
			if v == nil {
				delete(svc.Annotations, k)
			} else {
				svc.Annotations[k] = *v
			}
		}
		return nil
	})
}

// Scale simulates `kubectl scale deployment hello-world --replicas n` and
// waits for the rollout.
func (b *Backend) Scale(ctx context.Context, c cluster.Name, replicas int, log cluster.Logger) error {
	if replicas < 0 || replicas > maxSimScale {
		return fmt.Errorf("scale hello-world in %s: %d replicas is outside 0..%d", c, replicas, maxSimScale)
	}
	err := b.step(ctx, log, 0, fmt.Sprintf("Scaling deployment hello-world in %s to %d replica(s)", c, replicas), func(s *state) error {
		cs, err := needCluster(s, c)
		if err != nil {
			return err
		}
		d, ok := cs.Deployments[helloWorld]
		if !ok {
			return fmt.Errorf("scale hello-world in %s: deployment not found: %w", c, cluster.ErrNoDemo)
		}
		d.Replicas = replicas
		s.reconcile(c, helloWorld)
		return nil
	})
	if err != nil {
		return err
	}
	return b.rollout(ctx, c, helloWorld, latPodScale, log)
}
