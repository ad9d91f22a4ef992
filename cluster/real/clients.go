package real

import (
	"context"
	"fmt"
	"os"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// userAgent identifies the lab in API server audit logs.
const userAgent = "clustermesh-lab"

// clientConfig is how c is reached: the lab's kubeconfig of a kind cluster,
// or the learner's for a cluster they bring. The file is read once and
// never written back: the client is built without a ConfigAccess, so even
// a refreshed auth-provider token is not persisted into the learner's file.
func (b *Backend) clientConfig(c cluster.Name) (clientcmd.ClientConfig, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: b.kubeconfigPath(c)}
	context := c.Context()
	if k, ok := b.external(c); ok {
		rules = clientcmd.NewDefaultClientConfigLoadingRules()
		// Migration rules would move an old ~/.kube/.kubeconfig into place:
		// the lab never modifies the learner's kubeconfig files.
		rules.MigrationRules = nil
		if k.Path != "" {
			rules.ExplicitPath = k.Path
			rules.Precedence = nil
			if err := regularFile(k.Path); err != nil {
				return nil, b.noKubeconfig(c, err)
			}
		}
		context = k.Context
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, b.noKubeconfig(c, err)
	}
	if context == "" {
		context = raw.CurrentContext
	}
	kctx, ok := raw.Contexts[context]
	if !ok {
		return nil, b.noKubeconfig(c, fmt.Errorf("context %q not found", context))
	}
	if err := contextFiles(raw, kctx); err != nil {
		return nil, b.noKubeconfig(c, err)
	}
	return clientcmd.NewNonInteractiveClientConfig(*raw, context, &clientcmd.ConfigOverrides{}, nil), nil
}

// maxCredentialFile bounds a file a kubeconfig names: certificates, keys
// and tokens are a few KiB.
const maxCredentialFile = 1 << 20

// regularFile refuses what reading would hang on or fill memory with: a
// device such as /dev/zero, a FIFO, a directory, a huge file.
func regularFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	case fi.Size() > maxCredentialFile:
		return fmt.Errorf("%s is %d bytes: too big for a kubeconfig or a credential", path, fi.Size())
	}
	return nil
}

// contextFiles checks the files the context's cluster and user name, which
// the client reads (and the lab inlines into its own kubeconfig).
func contextFiles(raw *clientcmdapi.Config, kctx *clientcmdapi.Context) error {
	var files []string
	if cl, ok := raw.Clusters[kctx.Cluster]; ok {
		files = append(files, cl.CertificateAuthority)
	}
	if u, ok := raw.AuthInfos[kctx.AuthInfo]; ok {
		files = append(files, u.ClientCertificate, u.ClientKey, u.TokenFile)
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		if err := regularFile(f); err != nil {
			return fmt.Errorf("a file the kubeconfig names: %w", err)
		}
	}
	return nil
}

func (b *Backend) noKubeconfig(c cluster.Name, err error) error {
	if k, ok := b.external(c); ok {
		return cluster.WithHint(fmt.Errorf("load the kubeconfig of %s (%s): %w (%w)", c, k, err, ErrExternalCluster),
			fmt.Sprintf("check the kubeconfig file and context given for %s", c))
	}
	return fmt.Errorf("load the kubeconfig of %s from %s: %w (%w)", c, b.kubeconfigPath(c), err, cluster.ErrNoCluster)
}

// restConfig builds the REST configuration of c, with the lab's user agent
// and API warnings sent to the diagnostic log instead of stderr.
func (b *Backend) restConfig(c cluster.Name) (*rest.Config, clientcmd.ClientConfig, error) {
	cc, err := b.clientConfig(c)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, nil, b.noKubeconfig(c, err)
	}
	cfg.UserAgent = userAgent
	cfg.WarningHandler = warningsTo{b.diag, c}
	// Status polls both clusters every two seconds with a dozen reads:
	// client-go's default 5 QPS would throttle the panes.
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, cc, nil
}

// kubeconfigClients is the production ClientFactory.
func (b *Backend) kubeconfigClients(ctx context.Context, c cluster.Name) (*Clients, error) {
	cfg, _, err := b.restConfig(c)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("build the API client of %s: %w", c, err)
	}
	return &Clients{Kube: kc, REST: cfg}, nil
}

// warningsTo logs API server warnings (deprecations) to the diagnostic log.
type warningsTo struct {
	diag *diagWriter
	c    cluster.Name
}

// HandleWarningHeader logs a deprecation or other API warning.
func (w warningsTo) HandleWarningHeader(code int, agent, text string) {
	if code == 299 && text != "" {
		w.diag.Logf("[%s] API warning: %s", w.c, text)
	}
}

// restGetter gives Helm a cluster's clients; discovery is cached in memory
// only, since helm's default disk cache would write under ~/.kube.
type restGetter struct {
	cfg *rest.Config
	cc  clientcmd.ClientConfig

	once   sync.Once
	disc   discovery.CachedDiscoveryInterface
	mapper meta.RESTMapper
	err    error
}

// ToRESTConfig returns a copy of the cluster's REST configuration.
func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) init() {
	g.once.Do(func() {
		dc, err := discovery.NewDiscoveryClientForConfig(rest.CopyConfig(g.cfg))
		if err != nil {
			g.err = err
			return
		}
		g.disc = memory.NewMemCacheClient(dc)
		g.mapper = restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(g.disc), g.disc, nil)
	})
}

// ToDiscoveryClient returns the memory-cached discovery client.
func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	g.init()
	return g.disc, g.err
}

// ToRESTMapper returns a mapper backed by the cached discovery.
func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	g.init()
	return g.mapper, g.err
}

// ToRawKubeConfigLoader returns the kubeconfig the clients came from.
func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig { return g.cc }

// getter returns c's restGetter, built on first use and kept, so that Helm
// discovers the API once per cluster and process.
func (b *Backend) getter(c cluster.Name) (*restGetter, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if g, ok := b.getters[c]; ok {
		return g, nil
	}
	routeLibraryLogs(b.diag)
	cfg, cc, err := b.restConfig(c)
	if err != nil {
		return nil, err
	}
	g := &restGetter{cfg: cfg, cc: cc}
	b.getters[c] = g
	return g, nil
}
