package real

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// chartName is the chart's name in Cilium's repository and in Chart.yaml.
const chartName = "cilium"

// loadedChart is the Cilium chart and where it came from.
type loadedChart struct {
	chart  *chart.Chart
	source string
}

// fresh returns a copy of the chart for one Helm operation: an upgrade
// with reuse-values assigns the old release's values to the chart it is
// given (helm.sh/helm/v3 pkg/action/upgrade.go, reuseValues), which must
// neither leak into the other cluster's operation nor race with it.
func (l *loadedChart) fresh() *chart.Chart {
	cp := *l.chart
	return &cp
}

// Version is the loaded chart's version.
func (l *loadedChart) Version() string { return l.chart.Metadata.Version }

// wantVersion is the chart version the lab asks for; "" with a local chart
// means whatever version it holds.
func (b *Backend) wantVersion() string {
	if b.opts.CiliumVersion == "" && b.opts.ChartPath == "" {
		return DefaultCiliumVersion
	}
	return b.opts.CiliumVersion
}

// loadChart returns the Cilium chart: the local one given in the options,
// else the cached download, else a fresh pull from Cilium's repository
// (shared/CILIUM.md, "Cilium chart"). A failed load is not remembered, so
// a retry after the network comes back works.
func (b *Backend) loadChart(ctx context.Context, log cluster.Logger) (*loadedChart, error) {
	b.chartMu.Lock()
	defer b.chartMu.Unlock()
	if b.chart != nil {
		return b.chart, nil
	}
	routeLibraryLogs(b.diag)
	var lc *loadedChart
	var err error
	if b.opts.ChartPath != "" {
		lc, err = loadVerified(b.opts.ChartPath, b.wantVersion())
		if err != nil {
			return nil, cluster.WithHint(fmt.Errorf("load the Cilium chart: %w (%w)", err, ErrChartUnavailable),
				"give the lab a cilium chart (.tgz or directory), e.g. one from `helm pull cilium/cilium --version "+DefaultCiliumVersion+"`")
		}
		log.Logf("Using the Cilium chart %s from %s", lc.Version(), b.opts.ChartPath)
	} else {
		lc, err = b.cachedChart(ctx, log)
		if err != nil {
			return nil, err
		}
	}
	b.chart = lc
	return lc, nil
}

// cachedChart loads cilium-<version>.tgz from the cache directory, pulling
// it there first when it is missing.
func (b *Backend) cachedChart(ctx context.Context, log cluster.Logger) (*loadedChart, error) {
	version := b.wantVersion()
	dir, err := b.chartCacheDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.tgz", chartName, version))
	if _, err := os.Stat(path); err == nil {
		lc, err := loadVerified(path, version)
		if err == nil {
			log.Logf("Using the cached Cilium chart %s (%s)", version, path)
			return lc, nil
		}
		// A damaged cache entry is replaced by a fresh download.
		log.Logf("The cached chart %s cannot be used (%v): pulling it again", path, err)
	}
	log.Logf("Pulling the Cilium chart %s from %s ...", version, b.opts.ChartRepo)
	if err := b.pull(ctx, dir, version); err != nil {
		return nil, cluster.WithHint(fmt.Errorf("pull the Cilium chart %s from %s: %w (%w)", version, b.opts.ChartRepo, err, ErrChartUnavailable),
			"check the network and the chart version, or download the chart elsewhere (`helm pull cilium/cilium --version "+version+"`) and give the lab that file")
	}
	lc, err := loadVerified(path, version)
	if err != nil {
		return nil, fmt.Errorf("load the pulled Cilium chart: %w", err)
	}
	log.Logf("Cached the Cilium chart in %s: later runs need no download", path)
	return lc, nil
}

// pull downloads the chart into a private temporary directory beside the
// cache and renames it into place, so an interrupted download never leaves
// a partial file where the cache is read.
func (b *Backend) pull(ctx context.Context, dir, version string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, ".pull-*")
	if err != nil {
		return err
	}
	p := action.NewPullWithOpts(action.WithConfig(&action.Configuration{}))
	p.Settings = cli.New()
	p.RepoURL = b.opts.ChartRepo
	p.Version = version
	p.DestDir = tmp
	// Pull has no context; run it aside so that cancelling the step is not
	// held up by a slow download. An abandoned download cleans up after
	// itself when it ends.
	done := make(chan error, 1)
	go func() {
		_, err := p.Run(chartName)
		done <- err
	}()
	select {
	case <-ctx.Done():
		go func() {
			<-done
			os.RemoveAll(tmp)
		}()
		return ctx.Err()
	case err := <-done:
		defer os.RemoveAll(tmp)
		if err != nil {
			return err
		}
	}
	name := fmt.Sprintf("%s-%s.tgz", chartName, version)
	if _, err := os.Stat(filepath.Join(tmp, name)); err != nil {
		return fmt.Errorf("the repository did not deliver %s: %w", name, err)
	}
	return os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name))
}

// loadVerified loads a chart and checks it is Cilium's, at the wanted
// version when one is asked for.
func loadVerified(path, version string) (*loadedChart, error) {
	ch, err := loader.Load(path)
	if err != nil {
		return nil, err
	}
	if ch.Metadata == nil {
		return nil, errors.New(path + " has no Chart.yaml")
	}
	if ch.Metadata.Name != chartName {
		return nil, fmt.Errorf("%s holds chart %q, not %q", path, ch.Metadata.Name, chartName)
	}
	if version != "" && ch.Metadata.Version != version {
		return nil, fmt.Errorf("%s holds cilium %s, not %s", path, ch.Metadata.Version, version)
	}
	if _, _, err := parseMinor(ch.Metadata.Version); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &loadedChart{chart: ch, source: path}, nil
}
