package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/real"
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
	return nil
}

// setup is what the lab runs with on the real backend, for the shown commands.
func (o kindOptions) setup() steps.Setup {
	version := o.ciliumVersion
	if version == "" {
		version = o.chartVersion
	}
	return steps.Setup{NodeImage: o.nodeImage, CiliumVersion: version, ValuesFile: o.ciliumValues}
}

// newKindBackend builds the real backend for an open lab directory. It is
// cheap: clients, the chart and kind are set up when a step needs them.
func newKindBackend(ctx context.Context, dir *labdir.Dir, o *labOptions) (cluster.Backend, error) {
	logFile := &lazyFile{path: dir.File(backendLog)}
	b, err := real.New(real.Options{
		Dir:           dir.Path(),
		CiliumVersion: o.kind.ciliumVersion,
		ChartPath:     o.kind.ciliumChart,
		NodeImage:     o.kind.nodeImage,
		Values:        o.kind.values,
		ValuesFile:    o.kind.ciliumValues,
		External:      o.kind.external(),
		DiagLog:       logFile,
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
