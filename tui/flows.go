package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// renderFlows is the flows view: the current (or last) probe round's flows
// as Hubble saw them, newest first, one a line, the ones that crossed the
// mesh marked ⇄, under a summary per client cluster. Rounds read back
// from the journal have none: flows are kept in memory only.
func (p probes) renderFlows(st *styles, w, h int) []string {
	inner := w - 4
	title := st.subtitle.Render("Flows")
	if p.phase != "" {
		title += st.muted.Render(" · " + p.phase + " · newest first")
	}
	if p.inFlight[0] || p.inFlight[1] {
		title = fit(title, inner-2) + " " + spinMark
	}
	lines := []string{title}
	var all []cluster.Flow
	probed := false
	for _, c := range cluster.Names() {
		res := p.live[c.Index()]
		if res.Requests == 0 {
			continue
		}
		probed = true
		all = append(all, res.Flows...)
		s := cluster.SummarizeFlows(res.Flows)
		row := padRight("from "+c.Label(), 9)
		if len(res.Flows) == 0 {
			lines = append(lines, row+st.muted.Render("no flows"))
			continue
		}
		dropped := st.muted.Render(fmt.Sprintf("%d dropped", s.Dropped))
		if s.Dropped > 0 {
			dropped = st.errs.Render(fmt.Sprintf("%d dropped", s.Dropped))
		}
		lines = append(lines, row+st.cluster(c).Render(fmt.Sprintf("%d local", s.Local))+st.muted.Render(" · ")+
			st.cluster(c.Peer()).Render(fmt.Sprintf("%d cross-cluster ⇄", s.Cross))+st.muted.Render(" · ")+dropped)
	}
	switch {
	case !probed:
		lines = append(lines, "")
		for _, ln := range wrapMax(fmt.Sprintf("No probe yet. Once Hubble is on (step %d) every probe's requests show here as Hubble records them: "+
			"source and destination pod and cluster, verdict.", p.hubbleStep), inner, h-4) {
			lines = append(lines, st.muted.Render(ln))
		}
		return st.box(lines, w, h, false)
	case len(all) == 0:
		lines = append(lines, "")
		for _, ln := range wrapMax("This round has no flows: it was probed before Hubble was on, or read back from the journal, which keeps counts only. Press p to probe again.", inner, h-5) {
			lines = append(lines, st.muted.Render(ln))
		}
		return st.box(lines, w, h, false)
	}
	lines = append(lines, "")
	// Newest first; the two clients' flows interleave by time.
	slices.SortStableFunc(all, func(a, b cluster.Flow) int { return b.Time.Compare(a.Time) })
	room := h - 2 - len(lines)
	full := flowLineWidth(all) <= inner
	for i, f := range all {
		if i == room-1 && len(all) > room {
			lines = append(lines, st.muted.Render(fmt.Sprintf("▼ %d older flows", len(all)-i)))
			break
		}
		lines = append(lines, st.flowLine(f, full))
	}
	return st.box(lines, w, h, false)
}

// flowLine is one flow: time, ⇄ when it crossed the mesh, source and
// destination (cluster, pod), verdict. full keeps the pods' whole names.
func (st *styles) flowLine(f cluster.Flow, full bool) string {
	mark := "  "
	if f.CrossCluster {
		mark = st.accent.Render("⇄ ")
	}
	dst := podName(f.To(), full)
	verdict := st.ok.Render("FORWARDED")
	if !f.Forwarded() {
		verdict = st.errs.Render("DROPPED " + dropWords(f.DropReason))
	}
	return st.muted.Render(f.Time.Format("15:04:05.000")+" ") + mark +
		st.cluster(f.Source.Cluster).Render(f.Source.Cluster.Label()) + " " + podName(f.Source.String(), full) +
		st.muted.Render(" → ") + st.cluster(f.Destination.Cluster).Render(f.Destination.Cluster.Label()) + " " + dst + " " + verdict
}

// flowLineWidth is the widest flow line with the pods' whole names, to
// choose whole or short names.
func flowLineWidth(flows []cluster.Flow) int {
	w := 0
	for _, f := range flows {
		n := 12 + 1 + 2 + 3 + len(f.Source.String()) + 3 + 3 + len(f.To()) + 1 + len("DROPPED ") + len(dropWords(f.DropReason))
		w = max(w, n)
	}
	return w
}

// podName shortens "default/busybox-deployment-572baaf1-7385b" to
// "busybox-7385b" (the app and the pod's own suffix) unless full; a
// Service or a name without a ReplicaSet hash stays as it is.
func podName(ref string, full bool) string {
	if full {
		return ref
	}
	_, name, ok := strings.Cut(ref, "/")
	if !ok {
		name = ref
	}
	parts := strings.Split(name, "-")
	if len(parts) < 3 {
		return name
	}
	app := strings.TrimSuffix(strings.Join(parts[:len(parts)-2], "-"), "-deployment")
	return app + "-" + parts[len(parts)-1]
}

// dropWords says a Hubble drop reason in the learner's words.
func dropWords(reason string) string {
	switch reason {
	case cluster.DropNoBackend:
		return "no backend"
	case cluster.DropStaleBackend:
		return "stale backend"
	case "":
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(reason, "_", " "))
}
