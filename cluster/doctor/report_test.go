package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// maxSummary is what fits one line of a slide in a large font beside a glyph.
const maxSummary = 64

// machines are fake machines covering every check's outcomes: all good, a
// room's typical laptop (cgroup v1, low inotify, leftovers, busy port), no
// engine at all, an old kernel with little memory and a clashing network.
func machines() map[string]fake {
	good := map[string]result{
		"docker ps -a --filter label=io.x-k8s.kind.cluster --format {{.Names}}": {},
		"docker network ls -q":                                    {stdout: "b1\nk1\n"},
		"docker network inspect b1 k1":                            {stdout: `[` + bridgeNet + `,` + kindNet("172.18.0.0/16") + `]`},
		"docker inspect --type=image " + cluster.DefaultNodeImage: {stdout: "[{}]"},
	}
	typical := dockerWith(`{"ServerVersion":"20.10.24","MemTotal":6000000000,"CgroupVersion":"1","KernelVersion":"6.18.44-fc-v657"}`, map[string]result{
		"docker ps -a --filter label=io.x-k8s.kind.cluster --format {{.Names}}": {stdout: "us-control-plane\neu-control-plane\n"},
		"docker network ls -q":      {stdout: "b1\n"},
		"docker network inspect b1": {stdout: `[` + bridgeNet + `,` + otherNet("x", "172.18.0.0/16") + `,` + otherNet("y", "172.19.0.0/16") + `]`},
	})
	typical.files = inotify(8192, 128)
	typical.busy = map[int]bool{31234: true}
	old := dockerWith(`{"ServerVersion":"28.2.2","MemTotal":3000000000,"CgroupVersion":"2","KernelVersion":"4.19.0-1"}`, map[string]result{
		"docker ps -a --filter label=io.x-k8s.kind.cluster --format {{.Names}}": {stdout: "dev-control-plane\n"},
		"docker network ls -q":      {stdout: "k1\n"},
		"docker network inspect k1": {stdout: `[` + kindNet("10.1.0.0/16") + `]`},
	})
	return map[string]fake{
		"good":      dockerWith(dockerLinuxInfo, good),
		"typical":   typical,
		"no engine": {goos: "linux", files: inotify(1048576, 8192)},
		"old":       old,
		"mac down":  {goos: "darwin", cmds: map[string]result{"docker " + infoArgs: {stdout: dockerDownInfo, stderr: dockerDownStderr, err: errExit}}},
	}
}

// TestSummaries: every check of every machine has its ID, in IDs' order,
// and a summary of one short line that starts with the check's subject.
func TestSummaries(t *testing.T) {
	seen := map[string]map[cluster.CheckStatus]bool{}
	for name, m := range machines() {
		lab := Lab{}
		if name == "typical" {
			lab.NodeImage = "example.com/node:latest"
		}
		checks := run(context.Background(), m.Env(), lab, []int{32042, 31234, 31235})
		var ids []string
		for _, c := range checks {
			ids = append(ids, c.ID)
			if seen[c.ID] == nil {
				seen[c.ID] = map[cluster.CheckStatus]bool{}
			}
			seen[c.ID][c.Status] = true
			switch {
			case c.Summary == "":
				t.Errorf("%s: %s has no summary", name, c.ID)
			case strings.ContainsAny(c.Summary, "\n\r"):
				t.Errorf("%s: %s summary spans lines: %q", name, c.ID, c.Summary)
			case utf8.RuneCountInString(c.Summary) > maxSummary:
				t.Errorf("%s: %s summary is %d characters, want at most %d: %q", name, c.ID, utf8.RuneCountInString(c.Summary), maxSummary, c.Summary)
			}
			if subject, _, ok := strings.Cut(c.Summary, ": "); !ok || subject == "" {
				t.Errorf("%s: %s summary %q does not name its subject before a colon", name, c.ID, c.Summary)
			}
		}
		if !slices.Equal(ids, IDs()) {
			t.Errorf("%s: ids %q, want %q", name, ids, IDs())
		}
	}
	// The machines must reach the outcomes whose summaries matter most on a slide.
	for id, status := range map[string]cluster.CheckStatus{
		IDEngine: cluster.Fail, IDKernel: cluster.Fail, IDCgroups: cluster.Warn, IDMemory: cluster.Fail,
		IDInotify: cluster.Warn, IDNetwork: cluster.Fail, IDPorts: cluster.Fail, IDKindClusters: cluster.Warn,
		IDKubernetes: cluster.Warn, IDImages: cluster.Warn,
	} {
		if !seen[id][status] || !seen[id][cluster.Pass] {
			t.Errorf("the machines never make %s %v and ok: %v", id, status, seen[id])
		}
	}
}

// TestSummaryWords pins what a few summaries say: the facts an instructor
// reads off the slide.
func TestSummaryWords(t *testing.T) {
	m := machines()
	byID := func(f fake) map[string]cluster.Check {
		out := map[string]cluster.Check{}
		for _, c := range run(context.Background(), f.Env(), Lab{}, []int{32042, 31234, 31235}) {
			out[c.ID] = c
		}
		return out
	}
	typical, old, none := byID(m["typical"]), byID(m["old"]), byID(m["no engine"])
	for _, tc := range []struct {
		c    cluster.Check
		want string
	}{
		{byID(m["good"])[IDEngine], "Container engine: docker 28.2.2"},
		{none[IDEngine], "Container engine: docker or podman not installed"},
		{typical[IDMemory], "Memory: 5.6 GiB (8 GiB needed)"},
		{typical[IDPorts], "Host ports: 31234 in use"},
		{typical[IDKindClusters], "Leftover clusters: eu, us"},
		{typical[IDCgroups], "cgroups: v1, patched by the lab"},
		{old[IDKernel], "Kernel: Linux 4.19 (5.10+ needed)"},
		{old[IDNetwork], "Network kind: overlaps the lab's 10.1.0.0/16"},
		{old[IDKubernetes], "Kubernetes version: v1.35.8 for Cilium 1.19.5"},
	} {
		if tc.c.Summary != tc.want {
			t.Errorf("%s: summary %q, want %q", tc.c.ID, tc.c.Summary, tc.want)
		}
	}
}

// TestReportJSON decodes the report as a script would, into plain maps:
// the documented keys and nothing else, hints only where a check did not
// pass, counts that add up and ready false on a failure.
func TestReportJSON(t *testing.T) {
	for name, m := range machines() {
		checks := run(context.Background(), m.Env(), Lab{}, []int{32042, 31234, 31235})
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(NewReport(checks)); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if keys := sortedKeys(doc); !slices.Equal(keys, []string{"checks", "counts", "ready", "version"}) {
			t.Errorf("%s: top-level keys %q", name, keys)
		}
		if doc["version"] != float64(ReportVersion) {
			t.Errorf("%s: version %v", name, doc["version"])
		}
		if doc["ready"] != !cluster.Failed(checks) {
			t.Errorf("%s: ready %v with failed=%v", name, doc["ready"], cluster.Failed(checks))
		}
		counts := doc["counts"].(map[string]any)
		list := doc["checks"].([]any)
		total := 0
		for _, k := range []string{"ok", "warn", "fail"} {
			total += int(counts[k].(float64))
		}
		if total != len(list) || len(list) != len(IDs()) {
			t.Errorf("%s: counts %v for %d checks", name, counts, len(list))
		}
		tally := map[string]float64{}
		for i, raw := range list {
			c := raw.(map[string]any)
			keys := sortedKeys(c)
			wantKeys := []string{"detail", "id", "name", "status", "summary"}
			if c["status"] != "ok" && checks[i].Fix != "" {
				wantKeys = []string{"detail", "hint", "id", "name", "status", "summary"}
			}
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("%s: check %v has keys %q, want %q", name, c["id"], keys, wantKeys)
			}
			if c["id"] != IDs()[i] || c["summary"] != checks[i].Summary || c["detail"] != checks[i].Detail {
				t.Errorf("%s: check %d is %v, want %s with the check's summary and detail", name, i, c, IDs()[i])
			}
			tally[c["status"].(string)]++
		}
		for k, v := range tally {
			if counts[k] != v {
				t.Errorf("%s: counts[%s] = %v, the checks say %v", name, k, counts[k], v)
			}
		}
	}
}

// TestReportFillsForeignChecks: a check added by a caller (the real
// backend's "Cluster us (yours)") gets an ID and a summary made from its name.
func TestReportFillsForeignChecks(t *testing.T) {
	r := NewReport([]cluster.Check{{Name: "Cluster us (yours)", Status: cluster.Warn, Detail: "d", Fix: "f"}})
	c := r.Checks[0]
	if c.ID != "cluster-us-yours" || c.Summary != "Cluster us (yours): warn" || c.Hint != "f" || !r.Ready || r.Counts.Warn != 1 {
		t.Errorf("report %+v", r)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
