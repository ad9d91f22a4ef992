package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
)

// maxPlaygroundReplicas keeps a playful + key from flooding a laptop.
const maxPlaygroundReplicas = 5

// onPlaygroundKey handles the playground's own keys; ok is false for keys
// it leaves to the lab (navigation, probe, help).
func (m *Model) onPlaygroundKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.keys
	st := m.status[m.pgCluster.Index()]
	set := st.Demo.Service.Settings
	switch {
	case key.Matches(msg, k.Cluster):
		m.pgCluster = m.pgCluster.Peer()
		return nil, true
	case key.Matches(msg, k.Global):
		return m.annotate(cluster.ServiceChange{Global: cluster.Bool(!set.Global)}), true
	case key.Matches(msg, k.Shared):
		return m.annotate(cluster.ServiceChange{Shared: cluster.Bool(!set.Shared)}), true
	case key.Matches(msg, k.Affinity):
		return m.annotate(cluster.ServiceChange{Affinity: cluster.AffinityPtr(set.Affinity.Next())}), true
	case key.Matches(msg, k.More), key.Matches(msg, k.Fewer):
		n := st.Demo.HelloWorld.Desired + 1
		if key.Matches(msg, k.Fewer) {
			n -= 2
		}
		if n < 0 || n > maxPlaygroundReplicas {
			m.say("replicas stay within 0..%d here", maxPlaygroundReplicas)
			return nil, true
		}
		c := m.pgCluster
		return m.playgroundChange("scale", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.Scale(ctx, c, n, log)
		}), true
	}
	return nil, false
}

func (m *Model) annotate(change cluster.ServiceChange) tea.Cmd {
	if !m.status[m.pgCluster.Index()].Demo.Service.Exists {
		m.say("there is no hello-world Service in %s", m.pgCluster.Label())
		return nil
	}
	c := m.pgCluster
	return m.playgroundChange("annotate", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
		return b.ConfigureService(ctx, c, change, log)
	})
}

// renderPlayground shows both clusters' settings side by side, what
// Cilium's load balancer will do with them, and the equivalent commands.
func (m *Model) renderPlayground(w, h int) string {
	lines := []string{
		m.st.subtitle.Render("Playground") + "  " + m.st.title.Render("Ask the mesh your own what-if questions"),
		"",
	}
	lines = append(lines, headless.Wrap("Change hello-world in either cluster and probe again (p) to see the chart move. Changes apply at once, as kubectl annotate and kubectl scale would.", w)...)
	lines = append(lines, "")
	col := 26
	head := padRight("", 18)
	for _, c := range cluster.Names() {
		name := m.st.cluster(c).Bold(true).Render(c.Label())
		if c == m.pgCluster {
			name = m.st.keyHint.Render("▸ ") + name
		} else {
			name = "  " + name
		}
		head += padRight(name, col)
	}
	lines = append(lines, head)
	rows := []struct {
		label string
		value func(st cluster.Status) string
	}{
		{"global      g", func(st cluster.Status) string { return fmt.Sprint(st.Demo.Service.Global) }},
		{"shared      s", func(st cluster.Status) string { return fmt.Sprint(st.Demo.Service.Shared) }},
		{"affinity    a", func(st cluster.Status) string { return string(st.Demo.Service.Affinity) }},
		{"replicas  +/-", func(st cluster.Status) string {
			return fmt.Sprintf("%d (%d ready)", st.Demo.HelloWorld.Desired, st.Demo.HelloWorld.Ready)
		}},
	}
	for _, r := range rows {
		line := m.st.muted.Render(padRight(r.label, 18))
		for _, c := range cluster.Names() {
			line += padRight("  "+m.st.text.Render(r.value(m.status[c.Index()])), col)
		}
		lines = append(lines, line)
	}
	lines = append(lines, "", m.st.muted.Render("What Cilium's load balancer does now"))
	for _, from := range cluster.Names() {
		local, remote := m.status[from.Index()], m.status[from.Peer().Index()]
		why := cluster.Describe(from, cluster.SideOf(local), cluster.SideOf(remote), cluster.ConnectedOf(local))
		for i, ln := range headless.Wrap(why, w-10) {
			prefix := padRight("", 10)
			if i == 0 {
				prefix = padRight(m.st.cluster(from).Render("from "+from.Label()), 10)
			}
			lines = append(lines, prefix+ln)
		}
	}
	status := ""
	if m.action != "" {
		status = m.spinner.View() + m.st.running.Render(" "+m.action+"…")
	}
	lines = append(lines, "", status)
	rest := h - len(lines)
	if rest > 2 {
		m.logView.SetWidth(w)
		m.logView.SetHeight(rest)
		if !m.logScrolled {
			m.logView.GotoBottom()
		}
		lines = append(lines, m.logView.View())
	}
	return strings.Join(lines, "\n")
}

// playgroundCommands are the kubectl commands that set both clusters the
// way the playground shows them.
func (m *Model) playgroundCommands() []steps.Command {
	var out []steps.Command
	for _, c := range cluster.Names() {
		st := m.status[c.Index()]
		s := st.Demo.Service.Settings
		where := steps.TermUS
		if c == cluster.EU {
			where = steps.TermEU
		}
		out = append(out, steps.Command{Where: where, Lines: []string{
			fmt.Sprintf("kubectl annotate service hello-world --overwrite %s=%q %s=%q %s=%q",
				cluster.AnnotationGlobal, fmt.Sprint(s.Global), cluster.AnnotationShared, fmt.Sprint(s.Shared), cluster.AnnotationAffinity, string(s.Affinity)),
			fmt.Sprintf("kubectl scale deployment hello-world --replicas %d", st.Demo.HelloWorld.Desired),
		}})
	}
	return out
}
