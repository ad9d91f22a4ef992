package real

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// TestInterruptedHelmUpgrade interrupts an upgrade while Helm applies it
// (as a second ctrl+c does): the caller returns at once, Helm finishes the
// upgrade instead of recording it failed while it goes on (helm/helm#13637),
// and the next operation on the release waits for it rather than starting
// a second upgrade beside it.
func TestInterruptedHelmUpgrade(t *testing.T) {
	ctx := context.Background()
	tb := newTestBackend(t, chartPath(t, chartVersions[0]), newFakeCluster(), newFakeCluster())
	log := &lines{}
	lc, err := tb.loadChart(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	vals := InstallValues(cluster.US)
	for k, v := range EnableValues() {
		vals[k] = v
	}
	if err := tb.install(ctx, cluster.US, lc, vals, log); err != nil {
		t.Fatal(err)
	}

	entered, release2 := make(chan struct{}), make(chan struct{})
	var once sync.Once
	tb.helm.onDeploy = func(c cluster.Name, rel *release.Release) error {
		if rel.Version == 2 {
			once.Do(func() { close(entered) })
			<-release2 // Helm is applying revision 2
		}
		return nil
	}
	interrupted, cancel := context.WithCancel(ctx)
	first := make(chan error, 1)
	go func() {
		first <- tb.configurePeer(interrupted, cluster.US, PeerEntry{Name: "eu", IPs: []string{"172.18.0.5"}, Port: 32379}, lc, log)
	}()
	<-entered
	cancel()
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release2) }) }
	t.Cleanup(unblock)
	select {
	case err := <-first:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted upgrade returned %v, want context.Canceled while Helm still applies", err)
		}
	case <-time.After(time.Minute): // a failure's bound, not a timing the test measures
		t.Fatal("the interrupted upgrade did not return while Helm was still applying")
	}

	second := make(chan error, 1)
	go func() {
		second <- tb.configurePeer(ctx, cluster.US, PeerEntry{Name: "eu", IPs: []string{"172.18.0.6"}, Port: 32379}, lc, log)
	}()
	select {
	case err := <-second:
		t.Fatalf("a second upgrade ran while the first was still applying (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	unblock()
	if err := <-second; err != nil {
		t.Fatalf("second upgrade: %v", err)
	}

	cfg, _ := tb.helm.factory(cluster.US, func(string, ...any) {})
	history, err := cfg.Releases.History(releaseName)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 {
		t.Fatalf("%d revisions, want 3 (install, the interrupted upgrade, the second)", len(history))
	}
	for _, r := range history {
		want := release.StatusSuperseded
		if r.Version == 3 {
			want = release.StatusDeployed
		}
		if r.Info.Status != want {
			t.Errorf("revision %d is %s, want %s", r.Version, r.Info.Status, want)
		}
	}
}
