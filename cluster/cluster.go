// Package cluster defines what the lab asks of its two Kubernetes clusters,
// US and EU: the Backend interface that the simulated mesh and the real
// kind + Helm + client-go backend both implement, and the values they exchange.
package cluster

import (
	"context"
	"fmt"
	"time"
)

// DefaultCiliumVersion is the Cilium chart the lab installs, pinned here
// once for both backends and for the commands shown to the learner.
const DefaultCiliumVersion = "1.19.5"

// Name identifies one of the lab's two clusters; it is also the Cilium cluster.name.
type Name string

// The lab's two clusters, named as in the seed.
const (
	US Name = "us"
	EU Name = "eu"
)

// Names lists the lab's clusters in display order: US on the left, EU on the right.
func Names() []Name { return []Name{US, EU} }

// ParseName accepts "us" or "eu" (any case).
func ParseName(s string) (Name, error) {
	switch s {
	case "us", "US", "Us":
		return US, nil
	case "eu", "EU", "Eu":
		return EU, nil
	}
	return "", fmt.Errorf("unknown cluster %q: want us or eu", s)
}

// Peer is the other cluster of the pair.
func (n Name) Peer() Name {
	if n == US {
		return EU
	}
	return US
}

// Index is 0 for US and 1 for EU, for arrays indexed by cluster.
func (n Name) Index() int {
	if n == EU {
		return 1
	}
	return 0
}

// ID is the Cilium cluster.id the seed gives the cluster.
func (n Name) ID() int { return n.Index() + 1 }

// Label is the name shown to the learner.
func (n Name) Label() string {
	if n == EU {
		return "EU"
	}
	return "US"
}

// Context is the kubeconfig context kind writes for the cluster, as in the seed.
func (n Name) Context() string { return "kind-" + string(n) }

// Logger receives human-readable progress lines from a backend operation.
type Logger interface {
	Logf(format string, args ...any)
}

// LoggerFunc adapts a function to Logger.
type LoggerFunc func(line string)

// Logf formats the line and passes it on.
func (f LoggerFunc) Logf(format string, args ...any) { f(fmt.Sprintf(format, args...)) }

// Discard is a Logger that drops every line.
var Discard Logger = LoggerFunc(func(string) {})

// ProbeProgress receives running counts while a probe is in flight.
type ProbeProgress func(ProbeResult)

// Backend is everything the lab's steps ask of the clusters. Every method is
// safe to call again after a failure or a crash: it converges on the state it
// describes instead of failing because part of it is already there.
type Backend interface {
	// Kind names the backend: "sim" or "kind".
	Kind() string
	// Preflight checks what the backend needs from this machine.
	Preflight(ctx context.Context) []Check
	// WriteLabFiles writes into the lab directory the files the lab's
	// commands name (the seed's kind configs and demo manifests, under the
	// seed's names), as this backend gives them to kind and kubectl, so
	// the commands work as shown there.
	WriteLabFiles(ctx context.Context) error
	// CreateCluster creates the cluster from the seed's kind configuration, or
	// reuses it when the lab already created it.
	CreateCluster(ctx context.Context, c Name, log Logger) error
	// DeleteCluster deletes the cluster; deleting a missing cluster succeeds.
	DeleteCluster(ctx context.Context, c Name, log Logger) error
	// ShareCA copies the cilium-ca Secret from one cluster to the other, so
	// that both Cilium installations trust one CA; call it before installing
	// Cilium in the destination.
	ShareCA(ctx context.Context, from, to Name, log Logger) error
	// InstallCilium installs the Cilium chart with the lab's values (as
	// `cilium install --set cluster.name=.. --set cluster.id=..`) without
	// waiting for the pods.
	InstallCilium(ctx context.Context, c Name, log Logger) error
	// WaitCilium waits until the agents run on every node, the operator is
	// available and the nodes are Ready.
	WaitCilium(ctx context.Context, c Name, log Logger) error
	// EnableClusterMesh deploys the clustermesh-apiserver behind a NodePort
	// (as `cilium clustermesh enable --service-type NodePort`) and waits for
	// its certificates and its Deployment.
	EnableClusterMesh(ctx context.Context, c Name, log Logger) error
	// Connect configures each cluster to connect to the other (as
	// `cilium clustermesh connect`), validating both sides first.
	Connect(ctx context.Context, a, b Name, log Logger) error
	// WaitConnected waits until every agent of c is connected to the peer.
	WaitConnected(ctx context.Context, c Name, log Logger) error
	// EnableHubble turns on Hubble Relay and Hubble UI (as `cilium hubble
	// enable --ui`), their Services of type NodePort on HubbleRelayNodePort
	// and HubbleUINodePort, and waits for what the release's values enable.
	EnableHubble(ctx context.Context, c Name, log Logger) error
	// DeployDemo applies the hello-world and busybox manifests and waits for
	// the rollouts.
	DeployDemo(ctx context.Context, c Name, log Logger) error
	// ConfigureService sets the hello-world Service's Cilium annotations.
	ConfigureService(ctx context.Context, c Name, change ServiceChange, log Logger) error
	// Scale sets the hello-world replicas and waits for the rollout.
	Scale(ctx context.Context, c Name, replicas int, log Logger) error
	// Probe sends p.Requests requests to hello-world:80 from the busybox
	// pod of cluster p.From and counts which cluster answered.
	Probe(ctx context.Context, p ProbeSpec, progress ProbeProgress) (ProbeResult, error)
	// Status reads the cluster's state for the status panes and the steps' checks.
	Status(ctx context.Context, c Name) (Status, error)
	// Close releases the backend's resources.
	Close() error
}

// Timeline is implemented by a backend whose time is not the wall clock's:
// the simulated mesh runs it scaled by its speed, and not at all at
// instant speed. The steps wait on it between settle probes, so that a
// settle window means the same on every backend.
type Timeline interface {
	// Sleep waits d on the backend's timeline, or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

// Sleep waits d, or until ctx is done; zero or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
