package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// FuzzParseScenario feeds --us/--eu any text: it never panics, every
// mistake is a usage error naming the flag, and what it accepts is in range
// and reads back the same once written out. Corpus:
// testdata/fuzz/FuzzParseScenario (the README's examples and findings).
func FuzzParseScenario(f *testing.F) {
	f.Add("global=true,affinity=local,replicas=0")
	f.Fuzz(func(t *testing.T, spec string) {
		sc, err := parseScenario("--us", spec)
		if err != nil {
			var ue usageError
			if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "--us: ") {
				t.Fatalf("parseScenario(%q) = %v, want a usage error about --us", spec, err)
			}
			return
		}
		if sc.Replicas < 0 || sc.Replicas > 50 {
			t.Fatalf("parseScenario(%q): %d replicas", spec, sc.Replicas)
		}
		if _, err := cluster.ParseAffinity(string(sc.Affinity)); err != nil || sc.Affinity == "" {
			t.Fatalf("parseScenario(%q): affinity %q", spec, sc.Affinity)
		}
		out := fmt.Sprintf("global=%t,shared=%t,affinity=%s,replicas=%d,connected=%t", sc.Global, sc.Shared, sc.Affinity, sc.Replicas, sc.Connected)
		back, err := parseScenario("--us", out)
		if err != nil || back != sc {
			t.Fatalf("parseScenario(%q) = %+v; written as %q it reads %+v, %v", spec, sc, out, back, err)
		}
	})
}

// simulate --flows: the JSON carries one flow a request, each naming
// source and destination cluster and pod and the verdict, agreeing with
// the answer counts; the same seed draws the same flows (their times are
// the clock's); the text lists them with the summary; without --flows
// the JSON is the one object of before, with no flows.
func TestSimulateFlows(t *testing.T) {
	args := []string{"simulate", "-o", "json", "--flows", "--us", "global=true", "--eu", "global=true,replicas=2", "--from", "eu", "--requests", "300", "--seed", "5"}
	decode := func(out string) cluster.ProbeResult {
		t.Helper()
		var res cluster.ProbeResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return res
	}
	res := decode(mustCLI(t, args...))
	if len(res.Flows) != 300 || res.Answers.US == 0 || res.Answers.EU == 0 {
		t.Fatalf("%d flows for %s", len(res.Flows), res)
	}
	var got cluster.Answers
	for i, f := range res.Flows {
		if f.Source.Cluster != cluster.EU || !strings.HasPrefix(f.Source.Pod, "busybox-deployment-") || f.Verdict != cluster.VerdictForwarded ||
			!strings.HasPrefix(f.Destination.Pod, "hello-world-") || f.CrossCluster != (f.Destination.Cluster == cluster.US) {
			t.Fatalf("flow %d: %+v", i, f)
		}
		got.Add(f.Destination.Cluster, 1)
	}
	if got != res.Answers {
		t.Errorf("flows per cluster %+v, answers %+v", got, res.Answers)
	}
	again := decode(mustCLI(t, args...))
	for i := range again.Flows {
		again.Flows[i].Time = res.Flows[i].Time
	}
	if !reflect.DeepEqual(again, res) {
		t.Error("the same seed drew other flows")
	}
	raw := mustCLI(t, "simulate", "-o", "json", "--seed", "5")
	if strings.Contains(raw, "flows") {
		t.Errorf("without --flows the JSON carries flows: %s", raw)
	}
	text := mustCLI(t, "simulate", "--flows", "--us", "global=true", "--eu", "global=true", "--requests", "20", "--seed", "5")
	if !strings.Contains(text, "Flows (Hubble): ") || strings.Count(text, " FORWARDED") != 20 || !strings.Contains(text, "⇄ default/busybox-deployment-") {
		t.Errorf("text:\n%s", text)
	}
	text = mustCLI(t, "simulate", "--flows", "--us", "replicas=0", "--requests", "3")
	if !strings.Contains(text, "Flows (Hubble): 0 local · 0 cross-cluster · 3 dropped") || strings.Count(text, "-> default/hello-world (us) DROPPED (SERVICE_BACKEND_NOT_FOUND)") != 3 {
		t.Errorf("text with no backend:\n%s", text)
	}
}
