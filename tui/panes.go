package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// renderPanes draws US and EU side by side, as `kubectl get nodes`,
// `cilium status` and `cilium clustermesh status` would show them.
func (m *Model) renderPanes(l layout) string {
	wUS := l.w / 2
	return lipgloss.JoinHorizontal(lipgloss.Top,
		m.renderPane(cluster.US, wUS, l.panesH),
		m.renderPane(cluster.EU, l.w-wUS, l.panesH))
}

func (m *Model) renderPane(c cluster.Name, w, h int) string {
	st := m.status[c.Index()]
	cs := m.st.cluster(c)
	title := cs.Bold(true).Render(c.Label()) + m.st.muted.Render(fmt.Sprintf(" · %s · cluster id %d", c.Context(), c.ID()))
	if m.sess.Backend.Kind() == backendSim {
		title += m.st.muted.Render(" · simulated")
	}
	rows := []string{title}
	row := func(label, value string) { rows = append(rows, m.st.muted.Render(fmt.Sprintf("%-12s", label))+value) }
	switch {
	case !m.haveStatus:
		row("", m.st.muted.Render("reading status…"))
	case m.statusErr != nil && !st.Exists:
		row("Status", m.st.fail.Render(m.statusErr.Error()))
	case !st.Exists:
		row("Cluster", m.st.muted.Render("not created"))
	default:
		m.clusterRows(st, row)
	}
	return m.box(strings.Join(rows, "\n"), w, h, false)
}

// clusterRows fills the pane of an existing cluster.
func (m *Model) clusterRows(st cluster.Status, row func(label, value string)) {
	nodes := fmt.Sprintf("%d/%d Ready", st.Nodes.Ready, st.Nodes.Total)
	if st.Nodes.All() {
		row("Nodes", m.st.ok.Render(nodes))
	} else {
		row("Nodes", m.st.warn.Render(nodes)+m.st.muted.Render("  (no CNI yet)"))
	}
	ci := st.Cilium
	if !ci.Installed {
		row("Cilium", m.st.muted.Render("not installed"))
	} else {
		row("Cilium", m.okWord(ci.Ready())+m.st.muted.Render(fmt.Sprintf("  agents %d/%d · operator %d/%d · %s",
			ci.Agent.Ready, ci.Agent.Desired, ci.Operator.Ready, ci.Operator.Desired, ci.Version)))
	}
	ms := st.Mesh
	switch {
	case !ms.Enabled:
		row("ClusterMesh", m.st.muted.Render("disabled"))
	default:
		row("ClusterMesh", m.okWord(ms.Ready())+m.st.muted.Render(fmt.Sprintf("  apiserver %d/%d · %s %d",
			ms.APIServer.Ready, ms.APIServer.Desired, ms.ServiceType, ms.NodePort)))
	}
	// Two layers: the local kvstoremesh's link to the peer's apiserver,
	// and the agents, which read the peer from their local apiserver.
	peer, ok := ms.Peer(st.Cluster.Peer())
	link, linked := ms.Link(st.Cluster.Peer())
	label := "Mesh"
	switch {
	case !linked:
	case link.OK():
		row(label, m.st.ok.Render(link.String(st.Cluster)))
		label = ""
	default:
		row(label, m.st.fail.Render(link.String(st.Cluster)))
		label = ""
	}
	switch {
	case !ok:
		row(label, m.st.muted.Render("not connected"))
	case peer.OK():
		row(label, m.st.ok.Render(peer.AgentsLine()))
	case peer.Problem != "":
		row(label, m.st.fail.Render(peer.AgentsLine()+" · "+peer.Problem))
	default:
		row(label, m.st.warn.Render(peer.AgentsLine()))
	}
	d := st.Demo
	if !d.HelloWorld.Present {
		row("hello-world", m.st.muted.Render("not deployed"))
	} else {
		hw := fmt.Sprintf("%d/%d ready", d.HelloWorld.Ready, d.HelloWorld.Desired)
		style := m.st.ok
		if !d.HelloWorld.OK() || d.HelloWorld.Desired == 0 {
			style = m.st.warn
		}
		row("hello-world", style.Render(hw)+m.st.muted.Render(fmt.Sprintf("  · busybox %d/%d", d.Busybox.Ready, d.Busybox.Desired)))
	}
	if !d.Service.Exists {
		row("Service", m.st.muted.Render("—"))
	} else {
		row("Service", m.serviceWords(d.Service.Settings))
	}
}

// okWord is cilium status's OK, or the wait before it.
func (m *Model) okWord(ok bool) string {
	if ok {
		return m.st.ok.Render("OK")
	}
	return m.st.warn.Render("starting")
}

// serviceWords shows the Service's Cilium annotations.
func (m *Model) serviceWords(s cluster.Settings) string {
	if !s.Global {
		return m.st.muted.Render("local (not global)")
	}
	shared := m.st.ok.Render("shared")
	if !s.Shared {
		shared = m.st.warn.Render("not shared")
	}
	return m.st.accent.Render("global") + m.st.muted.Render(" · ") + shared + m.st.muted.Render(" · affinity ") + m.st.text.Render(string(s.Affinity))
}
