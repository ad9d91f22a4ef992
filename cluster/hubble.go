package cluster

import "fmt"

// The NodePorts of Hubble Relay and Hubble UI: the chart's
// (hubble.relay.service.nodePort, hubble.ui.service.nodePort), which the
// seed's US kind config maps to the host, so that `hubble observe --server
// localhost:31234` and a browser on localhost:31235 reach them.
const (
	HubbleRelayNodePort = 31234
	HubbleUINodePort    = 31235
)

// Hubble is the state of Hubble Relay and Hubble UI in one cluster, as
// `cilium status` shows them, with what the release's values ask for: the
// learner's --cilium-values may keep either off, and the lab then says so
// instead of waiting for it.
type Hubble struct {
	// Applied is set once the lab's Hubble values are in the release
	// (the hubble step ran), whatever they turned on.
	Applied bool `json:"applied,omitempty"`
	// RelayWanted and UIWanted: the release's values enable them.
	RelayWanted bool     `json:"relayWanted,omitempty"`
	UIWanted    bool     `json:"uiWanted,omitempty"`
	Relay       Workload `json:"relay"`
	UI          Workload `json:"ui"`
	// RelayNodePort and UINodePort are the Services' NodePorts, 0 while
	// a Service is absent or not of type NodePort.
	RelayNodePort int `json:"relayNodePort,omitempty"`
	UINodePort    int `json:"uiNodePort,omitempty"`
}

// RelayReady reports a running relay behind its NodePort.
func (h Hubble) RelayReady() bool {
	return h.Relay.OK() && h.Relay.Desired > 0 && h.RelayNodePort == HubbleRelayNodePort
}

// UIReady reports a running UI behind its NodePort.
func (h Hubble) UIReady() bool {
	return h.UI.OK() && h.UI.Desired > 0 && h.UINodePort == HubbleUINodePort
}

// Ready reports the lab's values applied and every component they enable
// up; a component the learner's values keep off is not waited for.
func (h Hubble) Ready() bool {
	return h.Applied && (!h.RelayWanted || h.RelayReady()) && (!h.UIWanted || h.UIReady())
}

// Line summarises Hubble for the status panes:
// "hubble relay ready :31234 · ui ready :31235".
func (h Hubble) Line() string {
	if !h.Applied && !h.Relay.Present && !h.UI.Present {
		return "hubble relay and ui off"
	}
	part := func(name string, wanted bool, w Workload, port int, ready bool) string {
		switch {
		case !wanted && !w.Present:
			return name + " off"
		case ready:
			return fmt.Sprintf("%s ready :%d", name, port)
		case !w.Present:
			return name + " not deployed yet"
		}
		return fmt.Sprintf("%s %d/%d ready", name, w.Ready, w.Desired)
	}
	return "hubble " + part("relay", h.RelayWanted, h.Relay, h.RelayNodePort, h.RelayReady()) +
		" · " + part("ui", h.UIWanted, h.UI, h.UINodePort, h.UIReady())
}
