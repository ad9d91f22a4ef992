package real

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

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

// publishedCharts are the SHA256 sums of the cilium chart packages Cilium
// publishes at helm.cilium.io for the versions the lab knows (the sums of
// shared/charts/SHA256SUMS). A package of one of these versions is used
// only when it is that package, byte for byte.
var publishedCharts = map[string]string{
	"1.18.11": "85ea267d7fb4a7f95fe0775ebad3919658905fb78627541a55e96478c33a8473",
	"1.19.5":  "56b60445a2c650b387ce2edb13cfd8d83219a9da693b0523915dba8be451a29e",
	"1.20.0":  "c5f013912360d1a334f44ef25f36da59ba3414cdb48f466ee12d0c4fdff27883",
}

// ErrChartMismatch marks a chart package whose SHA256 is not the published
// package's for the version it claims.
var ErrChartMismatch = errors.New("chart package does not match the published one")

// ChartInfo is what checking a chart found.
type ChartInfo struct {
	// Version is the chart's version (Chart.yaml).
	Version string
	// Verified is set when the package is the published one (SHA256).
	Verified bool
	// Note says how the chart was checked, for the log.
	Note string
}

// CheckChart loads a local chart (.tgz or directory) and checks it: a
// cilium chart, at version when one is given, and, for a package of a
// version the lab knows, the published package (SHA256). A directory
// cannot be hashed and is reported unverified. It is cheap enough to run
// when the command line is read.
func CheckChart(path, version string) (ChartInfo, error) {
	_, info, err := loadChecked(path, version)
	return info, err
}

// loadChecked is CheckChart, also returning the loaded chart.
func loadChecked(path, version string) (*loadedChart, ChartInfo, error) {
	var info ChartInfo
	fi, err := os.Stat(path)
	if err != nil {
		return nil, info, err
	}
	var ch *chart.Chart
	sum := ""
	if fi.IsDir() {
		ch, err = loader.LoadDir(path)
	} else {
		var data []byte
		if data, err = os.ReadFile(path); err != nil {
			return nil, info, err
		}
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
		ch, err = loader.LoadArchive(bytes.NewReader(data))
	}
	if err != nil {
		return nil, info, fmt.Errorf("load %s: %w", path, err)
	}
	if ch.Metadata == nil {
		return nil, info, errors.New(path + " has no Chart.yaml")
	}
	if ch.Metadata.Name != chartName {
		return nil, info, fmt.Errorf("%s holds chart %q, not %q", path, ch.Metadata.Name, chartName)
	}
	info.Version = ch.Metadata.Version
	if version != "" && info.Version != version {
		return nil, info, fmt.Errorf("%s holds cilium %s, not %s", path, info.Version, version)
	}
	if _, _, err := cluster.ParseMinor(info.Version); err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	want, known := publishedCharts[info.Version]
	switch {
	case fi.IsDir():
		info.Note = "unverified: a chart directory cannot be hashed (the lab verifies packaged .tgz charts against the published ones)"
	case !known:
		info.Note = fmt.Sprintf("unverified: the lab knows no published SHA256 for cilium %s (it knows %s)", info.Version, knownChartVersions())
	case sum != want:
		return nil, info, fmt.Errorf("%w: %s claims to be cilium %s but its SHA256 is %s, not the published package's %s", ErrChartMismatch, path, info.Version, sum, want)
	default:
		info.Verified = true
		info.Note = "verified: its SHA256 is the published cilium-" + info.Version + ".tgz's"
	}
	return &loadedChart{chart: ch, source: path}, info, nil
}

// knownChartVersions lists the versions publishedCharts holds, sorted.
func knownChartVersions() string {
	vs := slices.Sorted(maps.Keys(publishedCharts))
	return strings.Join(vs, ", ")
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
		var info ChartInfo
		lc, info, err = loadChecked(b.opts.ChartPath, b.wantVersion())
		if errors.Is(err, ErrChartMismatch) {
			return nil, cluster.WithHint(fmt.Errorf("refusing the Cilium chart: %w (%w)", err, ErrChartUnavailable),
				"download the chart again (`helm pull cilium/cilium --version "+info.Version+"`) and check its SHA256, or let the lab pull and verify it")
		}
		if err != nil {
			return nil, cluster.WithHint(fmt.Errorf("load the Cilium chart: %w (%w)", err, ErrChartUnavailable),
				"give the lab a cilium chart (.tgz or directory), e.g. one from `helm pull cilium/cilium --version "+DefaultCiliumVersion+"`")
		}
		log.Logf("Using the Cilium chart %s from %s (%s)", lc.Version(), b.opts.ChartPath, info.Note)
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
// it there first when it is missing. A cached file that is not the
// published package is not trusted: it is removed and pulled again.
func (b *Backend) cachedChart(ctx context.Context, log cluster.Logger) (*loadedChart, error) {
	version := b.wantVersion()
	dir, err := b.chartCacheDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.tgz", chartName, version))
	if _, err := os.Stat(path); err == nil {
		lc, info, err := loadChecked(path, version)
		if err == nil {
			log.Logf("Using the cached Cilium chart %s (%s; %s)", version, path, info.Note)
			return lc, nil
		}
		// A damaged or altered cache entry is replaced by a fresh download.
		log.Logf("Not trusting the cached chart %s (%v): pulling it again", path, err)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove the cached chart %s: %w", path, err)
		}
	}
	log.Logf("Pulling the Cilium chart %s from %s ...", version, b.opts.ChartRepo)
	lc, info, err := b.pull(ctx, dir, version)
	if errors.Is(err, ErrChartMismatch) {
		return nil, cluster.WithHint(fmt.Errorf("refusing the Cilium chart pulled from %s: %w (%w)", b.opts.ChartRepo, err, ErrChartUnavailable),
			"something between you and the repository served another package: check the network (a proxy?), or download the chart elsewhere (`helm pull cilium/cilium --version "+version+"`), check its SHA256 and give the lab that file")
	}
	if err != nil {
		return nil, cluster.WithHint(fmt.Errorf("pull the Cilium chart %s from %s: %w (%w)", version, b.opts.ChartRepo, err, ErrChartUnavailable),
			"check the network and the chart version, or download the chart elsewhere (`helm pull cilium/cilium --version "+version+"`) and give the lab that file")
	}
	log.Logf("Cached the Cilium chart in %s (%s): later runs need no download", path, info.Note)
	return lc, nil
}

// pull downloads the chart into a private temporary directory beside the
// cache, checks it, and only then renames it into place, so neither an
// interrupted download nor a package that is not the published one is
// ever where the cache is read.
func (b *Backend) pull(ctx context.Context, dir, version string) (*loadedChart, ChartInfo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, ChartInfo{}, err
	}
	tmp, err := os.MkdirTemp(dir, ".pull-*")
	if err != nil {
		return nil, ChartInfo{}, err
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
		return nil, ChartInfo{}, ctx.Err()
	case err := <-done:
		defer os.RemoveAll(tmp)
		if err != nil {
			return nil, ChartInfo{}, err
		}
	}
	name := fmt.Sprintf("%s-%s.tgz", chartName, version)
	if _, err := os.Stat(filepath.Join(tmp, name)); err != nil {
		return nil, ChartInfo{}, fmt.Errorf("the repository did not deliver %s: %w", name, err)
	}
	lc, info, err := loadChecked(filepath.Join(tmp, name), version)
	if err != nil {
		return nil, info, err
	}
	final := filepath.Join(dir, name)
	if err := os.Rename(filepath.Join(tmp, name), final); err != nil {
		return nil, info, err
	}
	lc.source = final
	return lc, info, nil
}
