package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/real"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// backendLog is the file in the lab directory that receives what Helm,
// client-go and kind say beyond the steps' progress lines.
const backendLog = "backend.log"

// kindOptions are the flags of the real (kind) backend.
type kindOptions struct {
	ciliumVersion string
	ciliumChart   string
	ciliumValues  string
	nodeImage     string
	usKubeconfig  string
	usContext     string
	euKubeconfig  string
	euContext     string
	preload       bool
	bundle        string
	mirror        string

	// Read from the flags by validate: the values file's content and the
	// local chart's version.
	values       map[string]any
	chartVersion string
}

// addKindFlags registers the real backend's flags.
func addKindFlags(f *pflag.FlagSet, o *kindOptions) {
	f.StringVar(&o.ciliumVersion, "cilium-version", "", "real clusters only: Cilium chart version to install (default "+real.DefaultCiliumVersion+"; with --cilium-chart, the chart's own)")
	f.StringVar(&o.ciliumChart, "cilium-chart", "", "real clusters only: local Cilium chart (.tgz or directory) to install instead of pulling it, for offline workshops (a .tgz of a version the lab knows must be the published package)")
	f.StringVar(&o.ciliumValues, "cilium-values", "", "real clusters only: extra Helm values (YAML file) laid over the lab's at every Cilium install and upgrade, e.g. image mirrors for a workshop")
	f.StringVar(&o.nodeImage, "node-image", "", "real clusters only: kind node image for both clusters (default "+cluster.DefaultNodeImage+")")
	f.StringVar(&o.usKubeconfig, "us-kubeconfig", "", "real clusters only: use your own cluster as US, its kubeconfig file (the lab never deletes it)")
	f.StringVar(&o.usContext, "us-context", "", "real clusters only: use your own cluster as US, its context (in --us-kubeconfig, else the default kubeconfig)")
	f.StringVar(&o.euKubeconfig, "eu-kubeconfig", "", "real clusters only: use your own cluster as EU, its kubeconfig file (the lab never deletes it)")
	f.StringVar(&o.euContext, "eu-context", "", "real clusters only: use your own cluster as EU, its context (in --eu-kubeconfig, else the default kubeconfig)")
	f.BoolVar(&o.preload, "preload", false, "real clusters only: load every image into the nodes from this machine's engine (fill it once with `clustermesh-lab images pull`) instead of each node pulling from registries; installs Cilium with useDigest=false")
	f.StringVar(&o.bundle, "bundle", "", "real clusters only: run with no network from an offline bundle (`clustermesh-lab bundle create`): verified first, then its chart and images are used")
	f.StringVar(&o.mirror, "registry-mirror", "", "real clusters only: a registry mirror URL (http:// or https://) the nodes' containerd pulls docker.io and quay.io images through")
}

// external lists the clusters the learner brings.
func (o kindOptions) external() map[cluster.Name]real.Kubeconfig {
	out := map[cluster.Name]real.Kubeconfig{}
	if o.usKubeconfig != "" || o.usContext != "" {
		out[cluster.US] = real.Kubeconfig{Path: o.usKubeconfig, Context: o.usContext}
	}
	if o.euKubeconfig != "" || o.euContext != "" {
		out[cluster.EU] = real.Kubeconfig{Path: o.euKubeconfig, Context: o.euContext}
	}
	return out
}

// validate reads the files the flags name before anything touches the
// machine, so that a values file that is not YAML or a chart that is not
// the published one is a usage error at once, not a failed step later.
func (o *kindOptions) validate() error {
	if o.ciliumValues != "" {
		abs, err := filepath.Abs(o.ciliumValues)
		if err != nil {
			return usageError{fmt.Errorf("--cilium-values: %w", err)}
		}
		vals, err := real.ReadValuesFile(abs)
		if err != nil {
			return usageError{cluster.WithHint(fmt.Errorf("--cilium-values: %w", err), "give a readable YAML file of Helm values, as for helm install -f")}
		}
		o.ciliumValues, o.values = abs, vals
	}
	if o.ciliumChart != "" {
		info, err := real.CheckChart(o.ciliumChart, o.ciliumVersion)
		if err != nil {
			return usageError{cluster.WithHint(fmt.Errorf("--cilium-chart: %w", err),
				"give the published chart package (helm pull cilium/cilium --version "+real.DefaultCiliumVersion+") or a chart directory")}
		}
		o.chartVersion = info.Version
	}
	if o.nodeImage != "" && strings.TrimSpace(o.nodeImage) != o.nodeImage {
		return usagef("invalid --node-image %q: an image reference has no spaces", o.nodeImage)
	}
	if o.mirror != "" {
		if err := checkMirror(o.mirror); err != nil {
			return err
		}
	}
	if o.bundle != "" {
		return o.openBundle()
	}
	return nil
}

// checkMirror accepts a registry URL containerd can use as a host.
func checkMirror(mirror string) error {
	u, err := url.Parse(mirror)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(mirror, "\"\n ") {
		return usageError{cluster.WithHint(fmt.Errorf("invalid --registry-mirror %q: want an http:// or https:// URL", mirror),
			"give the mirror's address as the nodes reach it, e.g. --registry-mirror http://192.168.1.10:5000")}
	}
	return nil
}

// openBundle verifies the bundle and takes the chart and node image from
// it; a bundle that is damaged or was changed is refused here, before the
// lab starts.
func (o *kindOptions) openBundle() error {
	for _, conflict := range []struct{ name, val string }{{"--cilium-chart", o.ciliumChart}, {"--node-image", o.nodeImage}} {
		if conflict.val != "" {
			return usagef("--bundle and %s cannot go together: the bundle carries its own", conflict.name)
		}
	}
	abs, err := filepath.Abs(o.bundle)
	if err != nil {
		return usageError{fmt.Errorf("--bundle: %w", err)}
	}
	dir, err := bundleDir(abs)
	if err != nil {
		return err
	}
	m, chartPath, err := real.OpenBundle(abs, dir)
	if err != nil {
		return fmt.Errorf("--bundle: %w", err)
	}
	if o.ciliumVersion != "" && o.ciliumVersion != m.CiliumVersion {
		return usagef("--cilium-version %s, but the bundle %s carries Cilium %s", o.ciliumVersion, o.bundle, m.CiliumVersion)
	}
	o.bundle, o.ciliumChart, o.chartVersion, o.nodeImage, o.preload = abs, chartPath, m.CiliumVersion, m.NodeImage, true
	return nil
}

// bundleDir is where a bundle is unpacked: the user's cache, one directory
// per bundle path, so that a run leaves one copy behind, not one per run.
func bundleDir(bundle string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", cluster.WithHint(fmt.Errorf("find a cache directory to unpack the bundle in: %w", err), "set XDG_CACHE_HOME")
	}
	sum := sha256.Sum256([]byte(bundle))
	return filepath.Join(base, "clustermesh-lab", "bundles", hex.EncodeToString(sum[:8])), nil
}

// setup is what the lab runs with on the real backend, for the shown commands.
func (o kindOptions) setup() steps.Setup {
	version := o.ciliumVersion
	if version == "" {
		version = o.chartVersion
	}
	return steps.Setup{NodeImage: o.nodeImage, CiliumVersion: version, ValuesFile: o.ciliumValues, Preload: o.preload}
}

// newKindBackend builds the real backend for an open lab directory. It is
// cheap: clients, the chart and kind are set up when a step needs them.
func newKindBackend(ctx context.Context, dir *labdir.Dir, o *labOptions) (cluster.Backend, error) {
	logFile := &lazyFile{path: dir.File(backendLog)}
	b, err := real.New(real.Options{
		Dir:            dir.Path(),
		CiliumVersion:  o.kind.ciliumVersion,
		ChartPath:      o.kind.ciliumChart,
		NodeImage:      o.kind.nodeImage,
		Values:         o.kind.values,
		ValuesFile:     o.kind.ciliumValues,
		External:       o.kind.external(),
		Preload:        o.kind.preload,
		Bundle:         o.kind.bundle,
		RegistryMirror: o.kind.mirror,
		DiagLog:        logFile,
	})
	if err != nil {
		return nil, usageError{err}
	}
	return closing{Backend: b, file: logFile}, nil
}

// closing closes the diagnostic log with the backend.
type closing struct {
	*real.Backend
	file *lazyFile
}

// Close closes the backend, then its log.
func (c closing) Close() error {
	return errors.Join(c.Backend.Close(), c.file.Close())
}

// lazyFile opens its file for appending on the first write, so a run that
// never reaches a cluster leaves no empty log behind.
type lazyFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	err  error
}

// Write appends p to the file; a file that cannot be opened drops writes,
// since diagnostics must never stop the lab.
func (l *lazyFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil && l.err == nil {
		l.f, l.err = os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	}
	if l.f == nil {
		return len(p), nil
	}
	return l.f.Write(p)
}

// Close closes the file if it was opened.
func (l *lazyFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f, l.err = nil, os.ErrClosed
	return err
}

// flagHints are the real backend's errors that a flag fixes: the backend
// says what to do in its own terms, the command line adds its flag.
var flagHints = []struct {
	err  error
	hint string
}{
	{real.ErrChartUnavailable, "give a downloaded chart with --cilium-chart FILE, or another version with --cilium-version"},
	{real.ErrForeignCluster, "to use that cluster as it is, run with --us-kubeconfig/--us-context or --eu-kubeconfig/--eu-context"},
	{real.ErrExternalCluster, "check --us-kubeconfig/--us-context or --eu-kubeconfig/--eu-context"},
	{real.ErrCorruptRecord, "run again with --fresh to start a new lab"},
}

// withFlagHint adds the flag that fixes err to its hint, when one does.
func withFlagHint(err error) error {
	for _, f := range flagHints {
		if !errors.Is(err, f.err) {
			continue
		}
		hint := f.hint
		if h := cluster.HintOf(err); h != "" {
			hint = h + "; " + hint
		}
		return cluster.WithHint(err, hint)
	}
	return err
}
