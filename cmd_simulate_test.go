package main

import (
	"errors"
	"fmt"
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
