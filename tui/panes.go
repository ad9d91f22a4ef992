package tui

import (
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// panes show US and EU as `kubectl get nodes`, `cilium status` and `cilium
// clustermesh status` would: side by side on a wide screen, else one above
// the other.
type panes struct {
	w, h    int
	stacked bool
	sim     bool
	have    bool
	st      [2]cluster.Status
	err     error
	out     []string
}

func (p panes) render(st *styles) []string {
	if p.stacked {
		out := make([]string, 0, p.h)
		for _, c := range cluster.Names() {
			out = append(out, p.pane(st, c, p.w, paneRows+2)...)
		}
		return fitLines(out, p.w, p.h)
	}
	wUS := p.w / 2
	us, eu := p.pane(st, cluster.US, wUS, p.h), p.pane(st, cluster.EU, p.w-wUS, p.h)
	out := make([]string, p.h)
	for i := range out {
		out[i] = us[i] + eu[i]
	}
	return out
}

func (p panes) pane(st *styles, c cluster.Name, w, h int) []string {
	s := p.st[c.Index()]
	title := st.cluster(c).Bold(true).Render(c.Label()) + st.muted.Render(fmt.Sprintf(" · %s · cluster id %d", c.Context(), c.ID()))
	if p.sim {
		title += st.muted.Render(" · simulated")
	}
	rows := []string{title}
	row := func(label, value string) { rows = append(rows, st.muted.Render(fmt.Sprintf("%-12s", label))+value) }
	switch {
	case !p.have:
		row("", st.muted.Render("reading status…"))
	case p.err != nil && !s.Exists:
		for i, ln := range wrapMax(p.err.Error(), w-4-12, paneRows-1) {
			label := ""
			if i == 0 {
				label = "Status"
			}
			row(label, st.fail.Render(ln))
		}
	case !s.Exists:
		row("Cluster", st.muted.Render("not created"))
	default:
		st.clusterRows(s, row)
	}
	return st.box(rows, w, h, false)
}

// clusterRows fills the pane of an existing cluster.
func (st *styles) clusterRows(s cluster.Status, row func(label, value string)) {
	nodes := fmt.Sprintf("%d/%d Ready", s.Nodes.Ready, s.Nodes.Total)
	switch {
	case !s.Nodes.All():
		row("Nodes", st.warn.Render(nodes)+st.muted.Render("  (no CNI yet)"))
	case s.Cilium.Installed:
		// Hubble shares the nodes' row: the panes have no row to spare at
		// 80 x 24, and the nodes' needs only a few cells once they are Ready.
		row("Nodes", st.ok.Render(nodes)+st.muted.Render("  Hubble ")+st.hubbleWords(s.Hubble))
	default:
		row("Nodes", st.ok.Render(nodes))
	}
	ci := s.Cilium
	if !ci.Installed {
		row("Cilium", st.muted.Render("not installed"))
	} else {
		row("Cilium", st.okWord(ci.Ready())+st.muted.Render(fmt.Sprintf("  agents %d/%d · operator %d/%d · %s",
			ci.Agent.Ready, ci.Agent.Desired, ci.Operator.Ready, ci.Operator.Desired, ci.Version)))
	}
	ms := s.Mesh
	if !ms.Enabled {
		row("ClusterMesh", st.muted.Render("disabled"))
	} else {
		row("ClusterMesh", st.okWord(ms.Ready())+st.muted.Render(fmt.Sprintf("  apiserver %d/%d · %s %d",
			ms.APIServer.Ready, ms.APIServer.Desired, ms.ServiceType, ms.NodePort)))
	}
	// Two layers: the local kvstoremesh's link to the peer's apiserver,
	// and the agents, which read the peer from their local apiserver.
	peer, ok := ms.Peer(s.Cluster.Peer())
	link, linked := ms.Link(s.Cluster.Peer())
	label := "Mesh"
	switch {
	case !linked:
	case link.OK():
		row(label, st.ok.Render(link.String(s.Cluster)))
		label = ""
	default:
		row(label, st.fail.Render(link.String(s.Cluster)))
		label = ""
	}
	switch {
	case !ok:
		row(label, st.muted.Render("not connected"))
	case peer.OK():
		row(label, st.ok.Render(peer.AgentsLine()))
	case peer.Problem != "":
		row(label, st.fail.Render(peer.AgentsLine()+" · "+peer.Problem))
	default:
		row(label, st.warn.Render(peer.AgentsLine()))
	}
	d := s.Demo
	if !d.HelloWorld.Present {
		row("hello-world", st.muted.Render("not deployed"))
	} else {
		hw := fmt.Sprintf("%d/%d ready", d.HelloWorld.Ready, d.HelloWorld.Desired)
		style := st.ok
		if !d.HelloWorld.OK() || d.HelloWorld.Desired == 0 {
			style = st.warn
		}
		row("hello-world", style.Render(hw)+st.muted.Render(fmt.Sprintf("  · busybox %d/%d", d.Busybox.Ready, d.Busybox.Desired)))
	}
	if !d.Service.Exists {
		row("Service", st.muted.Render("—"))
	} else {
		row("Service", st.serviceWords(d.Service.Settings))
	}
}

// hubbleWords shows Hubble Relay and UI as short as the pane needs:
// "relay :31234 · ui :31235" when both serve, "off" before the step, and
// what each is doing otherwise.
func (st *styles) hubbleWords(h cluster.Hubble) string {
	if !h.Applied && !h.Relay.Present && !h.UI.Present {
		return st.muted.Render("off")
	}
	part := func(name string, wanted bool, w cluster.Workload, port int, ready bool) string {
		switch {
		case !wanted && !w.Present:
			return st.muted.Render(name + " off")
		case ready:
			return st.ok.Render(fmt.Sprintf("%s :%d", name, port))
		case !w.Present:
			return st.warn.Render(name + " starting")
		}
		return st.warn.Render(fmt.Sprintf("%s %d/%d", name, w.Ready, w.Desired))
	}
	return part("relay", h.RelayWanted, h.Relay, h.RelayNodePort, h.RelayReady()) + st.muted.Render(" · ") +
		part("ui", h.UIWanted, h.UI, h.UINodePort, h.UIReady())
}

// okWord is cilium status's OK, or the wait before it.
func (st *styles) okWord(ok bool) string {
	if ok {
		return st.ok.Render("OK")
	}
	return st.warn.Render("starting")
}

// serviceWords shows the Service's Cilium annotations.
func (st *styles) serviceWords(s cluster.Settings) string {
	if !s.Global {
		return st.muted.Render("local (not global)")
	}
	shared := st.ok.Render("shared")
	if !s.Shared {
		shared = st.warn.Render("not shared")
	}
	return st.accent.Render("global") + st.muted.Render(" · ") + shared + st.muted.Render(" · affinity ") + st.text.Render(string(s.Affinity))
}
