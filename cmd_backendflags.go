package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// backendFlags are the lab's flags that mean something on one backend
// only. Given with the other backend they would be silently ignored, so
// they are refused there (a usage error); under --backend auto they choose
// their backend. A new backend-only flag is one line here.
var backendFlags = []struct{ name, backend string }{
	{"cilium-version", backendKind},
	{"cilium-chart", backendKind},
	{"cilium-values", backendKind},
	{"node-image", backendKind},
	{"us-kubeconfig", backendKind},
	{"us-context", backendKind},
	{"eu-kubeconfig", backendKind},
	{"eu-context", backendKind},
	{"preload", backendKind},
	{"bundle", backendKind},
	{"registry-mirror", backendKind},
	{"sim-speed", backendSim},
	{"seed", backendSim},
}

// backendNames say what each backend is, in messages about its flags.
var backendNames = map[string]string{
	backendKind: "real clusters (--backend kind)",
	backendSim:  "the simulated mesh (--backend sim)",
}

// checkBackendFlags refuses flags that cannot mean anything with the
// chosen backend and, under auto, lets them choose it: impliedBy then names
// the flag that did.
func (o *labOptions) checkBackendFlags(f *pflag.FlagSet) error {
	given := map[string][]string{}
	for _, bf := range backendFlags {
		if f.Changed(bf.name) {
			given[bf.backend] = append(given[bf.backend], "--"+bf.name)
		}
	}
	for _, b := range []string{backendKind, backendSim} {
		other := backendKind
		if b == backendKind {
			other = backendSim
		}
		if o.backend == other && len(given[b]) > 0 {
			names := strings.Join(given[b], ", ")
			return usageError{cluster.WithHint(fmt.Errorf("%s %s to %s, not to %s", names, verb(given[b]), backendNames[b], backendNames[other]),
				fmt.Sprintf("drop %s, or use --backend %s", names, b))}
		}
	}
	if o.backend != backendAuto {
		return nil
	}
	switch k, s := given[backendKind], given[backendSim]; {
	case len(k) > 0 && len(s) > 0:
		return usageError{cluster.WithHint(fmt.Errorf("%s %s to %s and %s %s to %s: they cannot go together", strings.Join(k, ", "), verb(k), backendNames[backendKind], strings.Join(s, ", "), verb(s), backendNames[backendSim]),
			"choose one backend: drop the other's flags, or say which with --backend")}
	case len(k) > 0:
		o.backend, o.impliedBy = backendKind, k[0]
	case len(s) > 0:
		o.backend, o.impliedBy = backendSim, s[0]
	}
	return nil
}

func verb(flags []string) string {
	if len(flags) == 1 {
		return "applies"
	}
	return "apply"
}
