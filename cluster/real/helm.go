package real

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// lockHelm takes the lock of c's Helm release (Helm refuses a second
// operation on a release while one is pending), after any operation an
// interrupted caller left finishing in the background (see helmRun). The
// returned function releases it.
func (b *Backend) lockHelm(ctx context.Context, c cluster.Name) (unlock func(), err error) {
	mu := &b.helmMu[c.Index()]
	mu.Lock()
	b.mu.Lock()
	busy := b.helmBusy[c]
	b.mu.Unlock()
	if busy != nil {
		select {
		case <-busy:
		case <-ctx.Done():
			mu.Unlock()
			return nil, fmt.Errorf("wait for the Helm operation still applying in %s: %w", c, ctx.Err())
		}
	}
	return mu.Unlock, nil
}

// helmRun runs one Helm action on c's release; the caller holds lockHelm.
// Helm's RunWithContext watches the context from a goroutine of its own
// and, when it is cancelled, records the release as failed while the
// operation goes on writing the same release from another goroutine: a
// data race, and a release marked failed that then deploys
// (helm/helm#13637). So Helm gets a context that is never cancelled
// (its own Timeout still bounds it); when ctx is cancelled the caller
// returns at once and the operation finishes in the background, where the
// next lockHelm on c waits for it instead of finding the release pending.
func (b *Backend) helmRun(ctx context.Context, c cluster.Name, op func(ctx context.Context) error) error {
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- op(context.WithoutCancel(ctx))
		close(finished)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		b.mu.Lock()
		b.helmBusy[c] = finished
		b.mu.Unlock()
		return fmt.Errorf("%w (Helm finishes applying in %s in the background)", ctx.Err(), c)
	}
}

// HelmFactory builds the Helm action configuration for cluster c; debug
// receives Helm's own log lines. Tests return one with Helm's in-memory
// release storage and a fake kube client.
type HelmFactory func(c cluster.Name, debug func(format string, args ...any)) (*action.Configuration, error)

// helmConfig builds a fresh action configuration for one operation on c;
// Helm's debug lines go to the diagnostic log.
func (b *Backend) helmConfig(c cluster.Name) (*action.Configuration, error) {
	debug := func(format string, args ...any) { b.diag.Logf("[%s] helm: "+format, append([]any{c}, args...)...) }
	if b.opts.Helm != nil {
		return b.opts.Helm(c, debug)
	}
	g, err := b.getter(c)
	if err != nil {
		return nil, err
	}
	cfg := new(action.Configuration)
	// Releases live in Secrets of kube-system, as `helm install` and
	// cilium-cli keep them, so helm and cilium see what the lab installed.
	if err := cfg.Init(g, namespace, "secret", debug); err != nil {
		return nil, fmt.Errorf("set up Helm for %s: %w", c, err)
	}
	return cfg, nil
}

// currentRelease returns the last revision of the cilium release in c, or
// nil when there is none.
func currentRelease(cfg *action.Configuration) (*release.Release, error) {
	h := action.NewHistory(cfg)
	h.Max = 1
	rels, err := h.Run(releaseName)
	if errors.Is(err, driver.ErrReleaseNotFound) || (err == nil && len(rels) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	last := rels[0]
	for _, r := range rels[1:] {
		if r.Version > last.Version {
			last = r
		}
	}
	return last, nil
}

// pendingHint tells the learner how to unblock a release stuck in a
// pending state by an interrupted install or upgrade.
func (b *Backend) pendingHint(c cluster.Name, rel *release.Release) error {
	return cluster.WithHint(fmt.Errorf("the Helm release cilium in %s is %s: an earlier install or upgrade was interrupted", c, rel.Info.Status),
		fmt.Sprintf("roll it back with `helm --kubeconfig %s -n %s rollback %s` (or uninstall it if it never installed), then retry",
			b.kubeconfigHintPath(c), namespace, releaseName))
}

// install installs the release with vals, or upgrades it to vals when a
// failed install left a release behind (as `helm upgrade --install`).
func (b *Backend) install(ctx context.Context, c cluster.Name, lc *loadedChart, vals map[string]any, log cluster.Logger) error {
	cfg, err := b.helmConfig(c)
	if err != nil {
		return err
	}
	rel, err := currentRelease(cfg)
	if err != nil {
		return fmt.Errorf("read the Helm release cilium in %s: %w", c, err)
	}
	if rel != nil {
		if rel.Info.Status.IsPending() {
			return b.pendingHint(c, rel)
		}
		log.Logf("Upgrading the Helm release cilium in %s (revision %d is %s) with the install values", c, rel.Version, rel.Info.Status)
		return b.upgradeWith(ctx, cfg, c, lc, vals, false)
	}
	log.Logf("Installing Helm release cilium (chart %s) in namespace %s", lc.Version(), namespace)
	in := action.NewInstall(cfg)
	in.ReleaseName = releaseName
	in.Namespace = namespace
	in.Timeout = b.timeouts.Helm
	if err := b.helmRun(ctx, c, func(ctx context.Context) error {
		_, err := in.RunWithContext(ctx, lc.fresh(), vals)
		return err
	}); err != nil {
		return cluster.WithHint(fmt.Errorf("helm install cilium in %s: %w", c, err), helmFailHint(err))
	}
	return nil
}

// upgrade applies vals on top of the release's values, as
// `helm upgrade --reuse-values` and cilium-cli's enable and connect do.
func (b *Backend) upgrade(ctx context.Context, c cluster.Name, lc *loadedChart, vals map[string]any) error {
	cfg, err := b.helmConfig(c)
	if err != nil {
		return err
	}
	rel, err := currentRelease(cfg)
	if err != nil {
		return fmt.Errorf("read the Helm release cilium in %s: %w", c, err)
	}
	if rel == nil {
		return fmt.Errorf("%w in %s (no Helm release cilium)", cluster.ErrNoCilium, c)
	}
	if rel.Info.Status.IsPending() {
		return b.pendingHint(c, rel)
	}
	return b.upgradeWith(ctx, cfg, c, lc, vals, true)
}

func (b *Backend) upgradeWith(ctx context.Context, cfg *action.Configuration, c cluster.Name, lc *loadedChart, vals map[string]any, reuse bool) error {
	up := action.NewUpgrade(cfg)
	up.Namespace = namespace
	up.ReuseValues = reuse
	up.Timeout = b.timeouts.Helm
	if err := b.helmRun(ctx, c, func(ctx context.Context) error {
		_, err := up.RunWithContext(ctx, releaseName, lc.fresh(), vals)
		return err
	}); err != nil {
		return cluster.WithHint(fmt.Errorf("helm upgrade cilium in %s: %w", c, err), helmFailHint(err))
	}
	return nil
}

// releaseValues returns the values the learner (here: the lab) gave the
// release, as `helm get values cilium`; nil when it is not installed.
func (b *Backend) releaseValues(c cluster.Name) (map[string]any, *release.Release, error) {
	cfg, err := b.helmConfig(c)
	if err != nil {
		return nil, nil, err
	}
	rel, err := currentRelease(cfg)
	if err != nil || rel == nil {
		return nil, nil, err
	}
	if rel.Config == nil {
		return map[string]any{}, rel, nil
	}
	return rel.Config, rel, nil
}

// helmFailHint picks what to tell the learner about a failed install or
// upgrade from the error Helm gave.
func helmFailHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid ownership metadata"), strings.Contains(msg, "exists and cannot be imported"):
		return "an object of the chart exists without Helm's ownership labels; delete it (or the cluster) and retry"
	case strings.Contains(msg, "kubeVersion"):
		return "the cluster's Kubernetes is too old for this Cilium chart; use a newer node image or another Cilium version"
	case strings.Contains(msg, "another operation"):
		return "wait for the other Helm operation to finish, then retry"
	}
	return "look at the error above, then retry; the cluster is unchanged where Helm failed before applying"
}
