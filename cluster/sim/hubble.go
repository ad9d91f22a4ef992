package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Latencies of Hubble's deployments on a laptop: relay waits for the
// agents' peer service, the UI pulls two images.
const (
	latRelay = 6 * time.Second
	latUI    = 5 * time.Second
)

// hubbleState is Hubble Relay and UI as the hubble step leaves them: the
// simulation has no values file, so both are always enabled.
type hubbleState struct {
	RelayReady bool `json:"relayReady"`
	UIReady    bool `json:"uiReady"`
}

// status renders the simulated Hubble as the backend's status.
func (h *hubbleState) status() cluster.Hubble {
	if h == nil {
		return cluster.Hubble{}
	}
	return cluster.Hubble{
		Applied: true, RelayWanted: true, UIWanted: true,
		Relay:         cluster.Workload{Present: true, Desired: 1, Ready: b2i(h.RelayReady), Available: b2i(h.RelayReady)},
		UI:            cluster.Workload{Present: true, Desired: 1, Ready: b2i(h.UIReady), Available: b2i(h.UIReady)},
		RelayNodePort: cluster.HubbleRelayNodePort,
		UINodePort:    cluster.HubbleUINodePort,
	}
}

// EnableHubble simulates `cilium hubble enable --ui` with the Services of
// type NodePort on the seed's ports: a Helm upgrade, then the relay and
// UI Deployments rolling out.
func (b *Backend) EnableHubble(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	var h *hubbleState
	err := b.read(func(s *state) error {
		cs, err := needCilium(s, c)
		if err == nil && cs.Cilium.Hubble != nil {
			cp := *cs.Cilium.Hubble
			h = &cp
		}
		return err
	})
	if err != nil {
		return err
	}
	if h == nil {
		err := b.step(ctx, log, latHelm, fmt.Sprintf("Upgrading Helm release cilium in %s: hubble.relay.enabled=true, hubble.ui.enabled=true, Services of type NodePort (%d, %d)", c, cluster.HubbleRelayNodePort, cluster.HubbleUINodePort), func(s *state) error {
			s.Clusters[c].Cilium.Hubble = &hubbleState{}
			return nil
		})
		if err != nil {
			return err
		}
	} else {
		log.Logf("Hubble Relay and UI are already enabled in %s", c)
	}
	if h == nil || !h.RelayReady {
		err := b.step(ctx, log, latRelay, "Waiting for deployment hubble-relay: 0/1 ready", func(s *state) error {
			s.Clusters[c].Cilium.Hubble.RelayReady = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	if h == nil || !h.UIReady {
		err := b.step(ctx, log, latUI, "Waiting for deployment hubble-ui: 0/1 ready", func(s *state) error {
			s.Clusters[c].Cilium.Hubble.UIReady = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	log.Logf("✅ Hubble is ready in %s: hubble-relay on NodePort %d, hubble-ui on NodePort %d", c, cluster.HubbleRelayNodePort, cluster.HubbleUINodePort)
	return nil
}
