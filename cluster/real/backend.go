// Package real is the lab's real backend: kind clusters created with kind's
// Go library, Cilium installed and configured through the Helm SDK, Cluster
// Mesh, the demo application and the probe driven through client-go. It
// implements cluster.Backend with the behaviour shared/CILIUM.md describes
// and the simulated mesh (cluster/sim) models.
//
// Constructing a Backend is cheap: no kube client, Helm configuration, kind
// provider or chart is built until an operation first needs it, so commands
// that never touch a cluster (version, steps) do not pay for them.
package real

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

// DefaultCiliumVersion is the Cilium chart the lab installs, pinned once
// for both backends in package cluster.
const DefaultCiliumVersion = cluster.DefaultCiliumVersion

// DefaultChartRepo is Cilium's Helm repository, from which cilium-cli's
// fallback also pulls the chart (shared/CILIUM.md, "Cilium chart").
const DefaultChartRepo = "https://helm.cilium.io"

// Kubeconfig points at a cluster the learner brings: a kubeconfig file and a
// context in it. Either may be empty: an empty Path means the usual loading
// rules ($KUBECONFIG, then ~/.kube/config), an empty Context its current one.
type Kubeconfig struct {
	Path    string
	Context string
}

// String describes where the cluster comes from, for log lines.
func (k Kubeconfig) String() string {
	path, ctx := k.Path, k.Context
	if path == "" {
		path = "the default kubeconfig"
	}
	if ctx == "" {
		ctx = "its current context"
	} else {
		ctx = "context " + ctx
	}
	return ctx + " of " + path
}

// Options configure the real backend. Only Dir is required; the seams at the
// end let tests replace kind, the kube API, Helm's cluster access and exec.
type Options struct {
	// Dir is the lab directory: kubeconfigs and the record of the clusters
	// this lab created are kept there.
	Dir string
	// CiliumVersion is the chart version to install; "" means
	// DefaultCiliumVersion, or whatever version ChartPath holds.
	CiliumVersion string
	// ChartPath is a local chart (.tgz or directory) to use instead of
	// pulling one, for offline workshops.
	ChartPath string
	// ChartCacheDir keeps pulled charts; "" means
	// os.UserCacheDir()/clustermesh-lab/charts.
	ChartCacheDir string
	// ChartRepo is the Helm repository to pull from; "" means DefaultChartRepo.
	ChartRepo string
	// NodeImage is the kind node image; "" means cluster.DefaultNodeImage.
	NodeImage string
	// Values are extra Helm values (the learner's --cilium-values file,
	// read with ReadValuesFile) laid over the lab's at every install and
	// upgrade; ValuesFile is that file's path, for messages.
	Values     map[string]any
	ValuesFile string
	// Preload loads every image the lab needs into the nodes once each
	// cluster is created (from the host's engine, where `images pull` put
	// them, or from Bundle), and installs the chart without digests.
	Preload bool
	// Bundle is an offline bundle (`bundle create`): verified first, then
	// its chart is used and its images preloaded. It implies Preload.
	Bundle string
	// RegistryMirror is a registry the nodes' containerd pulls docker.io
	// and quay.io images through; "" means the registries themselves.
	RegistryMirror string
	// ImageEngine is the host's engine for the image commands; nil means
	// the CLI of the engine doctor detects.
	ImageEngine ImageEngine

	// External holds the clusters the learner brings instead of kind ones.
	// The lab never creates or deletes those.
	External map[cluster.Name]Kubeconfig
	// DiagLog receives what Helm, client-go (klog) and kind say beyond the
	// progress lines, so that none of it reaches the terminal; nil drops it.
	DiagLog io.Writer

	// Clients builds the kube clients of a cluster; nil means from the lab's
	// (or the learner's) kubeconfig.
	Clients ClientFactory
	// Helm builds the Helm action configuration of a cluster; nil means one
	// that talks to the cluster and keeps releases in Secrets, as helm does.
	Helm HelmFactory
	// Kind builds a kind provider that logs to log; nil means kind's own,
	// on the engine doctor detects.
	Kind KindFactory
	// Exec runs commands in pods; nil means client-go remotecommand.
	Exec Executor
	// Relay reaches Hubble Relay's observer API, for a probe's flows; nil
	// forwards a port to the hubble-relay pod. FlowDelay is how long a
	// probe gives relay to gather its flows (default 2 s).
	Relay     RelayDialer
	FlowDelay time.Duration
	// Preflight checks the machine; nil means doctor.Run on this machine.
	Preflight func(ctx context.Context) []cluster.Check
	// Engine reports the container engine kind runs on (its name, cgroup
	// version); nil means doctor.DetectEngine on this machine.
	Engine func(ctx context.Context) (doctor.Engine, error)

	// Timeouts bound the waits; zero fields take the defaults.
	Timeouts Timeouts
	// Poll is the interval between readiness checks; 0 means 2 seconds.
	Poll time.Duration
	// StatusCacheTTL is how long mesh peers read by exec are reused; 0
	// means 5 seconds, negative disables the cache.
	StatusCacheTTL time.Duration
}

// Timeouts bound each kind of wait; each error on expiry says what is missing.
type Timeouts struct {
	Cilium    time.Duration // agents, operator and nodes after install
	Mesh      time.Duration // certificate Job and clustermesh-apiserver
	Connect   time.Duration // agents connected to the peer
	Rollout   time.Duration // demo Deployments
	Helm      time.Duration // one Helm install or upgrade
	APICall   time.Duration // one status read
	ProbeWget int           // seconds wget waits for one answer
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Cilium, 10*time.Minute)
	def(&t.Mesh, 5*time.Minute)
	def(&t.Connect, 5*time.Minute)
	def(&t.Rollout, 5*time.Minute)
	def(&t.Helm, 5*time.Minute)
	def(&t.APICall, 10*time.Second)
	if t.ProbeWget <= 0 {
		t.ProbeWget = 5
	}
	return t
}

// Clients are the API clients of one cluster.
type Clients struct {
	Kube kubernetes.Interface
	// REST is the configuration the clients were built from; nil for fakes.
	REST *rest.Config
}

// ClientFactory builds the clients of cluster c; it is called once per
// cluster and its result reused.
type ClientFactory func(ctx context.Context, c cluster.Name) (*Clients, error)

// Executor runs a command in a container and streams its standard output;
// the error says why it failed, with what the command wrote to stderr.
type Executor interface {
	Exec(ctx context.Context, c cluster.Name, namespace, pod, container string, cmd []string, stdout io.Writer) error
}

// Backend is the real backend. It implements cluster.Backend; its methods
// are safe to call concurrently, for US and EU at once.
type Backend struct {
	opts     Options
	timeouts Timeouts
	poll     time.Duration

	mu      sync.Mutex
	clients map[cluster.Name]*Clients
	getters map[cluster.Name]*restGetter
	exec    Executor
	diag    *diagWriter

	chartMu sync.Mutex
	chart   *loadedChart

	engineMu    sync.Mutex
	engineFound *doctor.Engine

	// preloadMu guards preloadPath, the archive of the images to preload,
	// made once for both clusters.
	preloadMu   sync.Mutex
	preloadPath string
	// nodeImageMu makes the two clusters load a bundle's images into the
	// engine once.
	nodeImageMu sync.Mutex

	// helmMu serialises Helm operations on one cluster: Helm refuses a
	// second operation on a release while one is pending.
	helmMu [2]sync.Mutex
	// helmBusy holds, per cluster, an operation an interrupted caller left
	// finishing (closed when it has); guarded by mu.
	helmBusy map[cluster.Name]chan struct{}
	// recordMu guards the record of created clusters and the kubeconfigs.
	recordMu sync.Mutex

	peers peerCache
}

var _ cluster.Backend = (*Backend)(nil)

// New returns a backend for the lab directory in opts. It only checks the
// options: clients, the chart and kind are set up on first use.
func New(opts Options) (*Backend, error) {
	if opts.Dir == "" {
		return nil, errors.New("real backend: no lab directory")
	}
	for n := range opts.External {
		if _, err := cluster.ParseName(string(n)); err != nil {
			return nil, fmt.Errorf("real backend: %w", err)
		}
	}
	if opts.CiliumVersion != "" {
		if _, _, err := cluster.ParseMinor(opts.CiliumVersion); err != nil {
			return nil, cluster.WithHint(fmt.Errorf("invalid Cilium version %q: %w", opts.CiliumVersion, err), "give a chart version such as "+DefaultCiliumVersion)
		}
	}
	if opts.ChartRepo == "" {
		opts.ChartRepo = DefaultChartRepo
	}
	b := &Backend{
		opts:     opts,
		timeouts: opts.Timeouts.withDefaults(),
		poll:     opts.Poll,
		clients:  map[cluster.Name]*Clients{},
		getters:  map[cluster.Name]*restGetter{},
		helmBusy: map[cluster.Name]chan struct{}{},
		diag:     &diagWriter{w: opts.DiagLog},
	}
	if b.poll <= 0 {
		b.poll = 2 * time.Second
	}
	b.peers.ttl = opts.StatusCacheTTL
	if b.peers.ttl == 0 {
		b.peers.ttl = 5 * time.Second
	}
	return b, nil
}

// Kind names the backend, as --backend does.
func (b *Backend) Kind() string { return "kind" }

// Close releases nothing the process would not: clients hold no resources
// beyond idle connections.
func (b *Backend) Close() error { return nil }

// external returns the learner's kubeconfig for c, if c is brought by them.
func (b *Backend) external(c cluster.Name) (Kubeconfig, bool) {
	k, ok := b.opts.External[c]
	return k, ok
}

// clientsFor returns c's clients, building them on first use.
func (b *Backend) clientsFor(ctx context.Context, c cluster.Name) (*Clients, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cl, ok := b.clients[c]; ok {
		return cl, nil
	}
	routeLibraryLogs(b.diag)
	factory := b.opts.Clients
	if factory == nil {
		factory = b.kubeconfigClients
	}
	cl, err := factory(ctx, c)
	if err != nil {
		return nil, err
	}
	b.clients[c] = cl
	return cl, nil
}

// kube is the typed client of c.
func (b *Backend) kube(ctx context.Context, c cluster.Name) (kubernetes.Interface, error) {
	cl, err := b.clientsFor(ctx, c)
	if err != nil {
		return nil, err
	}
	return cl.Kube, nil
}

// forget drops c's clients, after the cluster was deleted or recreated.
func (b *Backend) forget(c cluster.Name) {
	b.mu.Lock()
	delete(b.clients, c)
	delete(b.getters, c)
	b.mu.Unlock()
	b.peers.drop(c)
}

// executor returns the Executor, the production one built on first use.
func (b *Backend) executor() Executor {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.exec == nil {
		if b.opts.Exec != nil {
			b.exec = b.opts.Exec
		} else {
			b.exec = &remoteExecutor{b: b}
		}
	}
	return b.exec
}

// chartCacheDir is where pulled charts are kept.
func (b *Backend) chartCacheDir() (string, error) {
	if b.opts.ChartCacheDir != "" {
		return b.opts.ChartCacheDir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", cluster.WithHint(fmt.Errorf("find a cache directory for the Cilium chart: %w (%w)", err, ErrChartUnavailable),
			"set XDG_CACHE_HOME, or give the lab a Cilium chart you downloaded")
	}
	return filepath.Join(base, "clustermesh-lab", "charts"), nil
}

// What the learner can fix with the lab's own options; the command line
// names its flags for them, which a backend does not.
var (
	// ErrChartUnavailable: no Cilium chart could be loaded or pulled
	// (Options.ChartPath, Options.CiliumVersion).
	ErrChartUnavailable = errors.New("no usable Cilium chart")
	// ErrForeignCluster: a kind cluster of the lab's name exists that this
	// lab did not create (Options.External uses it as it is).
	ErrForeignCluster = errors.New("a cluster of that name belongs to someone else")
	// ErrExternalCluster: a cluster the learner brings cannot be loaded
	// (Options.External).
	ErrExternalCluster = errors.New("the cluster you brought cannot be used")
	// ErrCorruptRecord: the lab directory's record of its clusters cannot
	// be read; a new lab directory starts over.
	ErrCorruptRecord = errors.New("the lab directory's record of its clusters is corrupt")
)
