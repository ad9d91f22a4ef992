package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/teatest/v2"
)

// The flows view: `v` cycles the four views at 80 x 24 and the Flows tab
// gets a dot when a probe's flows arrive elsewhere; on one screen 4 (or
// v) puts the flows in the step panel's place and 1 (or v) gives it back;
// a lab opened again has rounds read back from the journal, without flows,
// and the view says so instead of showing an empty list; probing again
// brings them.
func TestFlowsView(t *testing.T) {
	dir := t.TempDir()
	opts := testOptionsIn(t, dir, nil)
	opts.NoQuiz = true
	h := startWith(t, 80, 24, opts)
	h.openLab()
	h.runTo("global")
	h.settle()
	requireContains(t, h.screen(), "4 Flows●")
	for _, want := range []string{"[2 Clusters]", "[3 Probes]", "[4 Flows]", "[1 Step]"} {
		h.key("v")
		h.waitScreen(want)
	}
	h.key("4")
	h.waitScreen("Flows · global · newest first")
	out := h.screen()
	requireFits(t, out, 80, 24)
	requireContains(t, out, "from US  ", "from EU  ", "⇄ US busybox-", "→ EU hello-world-", "FORWARDED", "older flows")
	if strings.Contains(out, "4 Flows●") {
		t.Errorf("the dot stays on the tab shown:\n%s", out)
	}
	h.key("q")
	h.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model).sess.Close() // let go of the lab directory

	opts = testOptionsIn(t, dir, nil)
	opts.NoQuiz = true
	h2 := startWith(t, 160, 48, opts)
	h2.openLab()
	h2.key("4")
	h2.waitScreen("Flows · global")
	requireContains(t, h2.screen(), "from US  no flows", "read back from the journal, which keeps counts only", "to probe again")
	h2.key("left") // to the global step, which probes again with p
	h2.waitScreen("Step 8 of 12")
	h2.key("p")
	h2.waitScreen("Flows · re-probe · newest first")
	h2.settle()
	requireContains(t, h2.screen(), "default/busybox-deployment-", "LAB STEPS")
	h2.key("1")
	h2.waitScreen("Step 8 of 12  Make hello-world a global service")
	h2.key("q")
	h2.tm.FinalModel(t, teatest.WithFinalTimeout(hangGuard)).(*Model).sess.Close()
}
