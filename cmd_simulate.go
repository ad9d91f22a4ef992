package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/sim"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
)

// maxSimulateRequests bounds a what-if probe: the simulated probe's own bound.
const maxSimulateRequests = sim.MaxRequests

type simulateOptions struct {
	us, eu   string
	from     string
	requests int
	seed     uint64
	output   string
	flows    bool
}

func newSimulateCmd(stdout io.Writer) *cobra.Command {
	o := &simulateOptions{}
	cmd := &cobra.Command{
		Use:   "simulate --us KEY=VAL,... --eu KEY=VAL,... --from us|eu",
		Short: "Answer a what-if question on the simulated mesh",
		Long: `Set up the simulated mesh (both clusters installed, connected, demo deployed),
apply the given settings to each cluster's hello-world, and probe from one
cluster. Keys, for --us and --eu:

  global=true|false           service.cilium.io/global (default false)
  shared=true|false           service.cilium.io/shared (default true)
  affinity=local|remote|none  service.cilium.io/affinity (default none)
  replicas=N                  hello-world replicas, 0..50 (default 1)
  connected=true|false        this cluster's agents connected to the other (default true)

With --output json it prints exactly one object:
  {"from":"us","requests":1000,"answers":{"us":N,"eu":M},"errors":K}

With --flows, the probe's flows as Hubble would record them (both clusters
run Hubble Relay): one a request, oldest first, with source and destination
pod and cluster, identities and verdict (FORWARDED, or DROPPED with Hubble's
reason); JSON carries them as "flows": [...] (at most the newest 10000).`,
		Example: `  clustermesh-lab simulate --us global=true,affinity=local,replicas=0 --eu global=true --from us --requests 1000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSimulate(cmd, o, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.us, "us", "", "settings of the US cluster, KEY=VAL,...")
	f.StringVar(&o.eu, "eu", "", "settings of the EU cluster, KEY=VAL,...")
	f.StringVar(&o.from, "from", "us", "cluster whose busybox sends the requests: us or eu")
	f.IntVar(&o.requests, "requests", 1000, fmt.Sprintf("requests to send (1..%d)", maxSimulateRequests))
	f.Uint64Var(&o.seed, "seed", 1, "seed for the load balancer's random choices")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.BoolVar(&o.flows, "flows", false, "also print the probe's flows as Hubble would record them")
	return cmd
}

func runSimulate(cmd *cobra.Command, o *simulateOptions, stdout io.Writer) error {
	us, err := parseScenario("--us", o.us)
	if err != nil {
		return err
	}
	eu, err := parseScenario("--eu", o.eu)
	if err != nil {
		return err
	}
	from, err := cluster.ParseName(o.from)
	if err != nil {
		return usagef("--from: %v", err)
	}
	if o.requests < 1 || o.requests > maxSimulateRequests {
		return usagef("invalid --requests %d: want 1..%d", o.requests, maxSimulateRequests)
	}
	if o.output != "text" && o.output != "json" {
		return usagef("invalid --output %q: want text or json", o.output)
	}
	b, err := sim.New(sim.Options{Seed: o.seed})
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if err := b.Bring(ctx, us, eu); err != nil {
		return err
	}
	res, err := b.Probe(ctx, cluster.ProbeSpec{From: from, Requests: o.requests, NoFlows: !o.flows}, nil)
	if err != nil {
		return err
	}
	if o.output == "json" {
		out, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", out)
		return nil
	}
	fmt.Fprintf(stdout, "What if: %d requests from %s's busybox (seed %d)\n", o.requests, from.Label(), o.seed)
	for _, c := range cluster.Names() {
		sc := us
		if c == cluster.EU {
			sc = eu
		}
		fmt.Fprintf(stdout, "  %s  global=%t shared=%t affinity=%s replicas=%d connected=%t\n",
			c.Label(), sc.Global, sc.Shared, sc.Affinity, sc.Replicas, sc.Connected)
	}
	fmt.Fprintf(stdout, "\n%s\n\n", b.Explain(from))
	for _, row := range headless.Bars(res, 40) {
		fmt.Fprintf(stdout, "  %s\n", row)
	}
	if o.flows {
		fmt.Fprintf(stdout, "\n  %s\n", headless.FlowLine(res))
		for _, row := range headless.FlowRows(res.Flows) {
			fmt.Fprintf(stdout, "  %s\n", row)
		}
	}
	return nil
}

// parseScenario reads KEY=VAL,... for one cluster; every mistake is named.
func parseScenario(flag, spec string) (sim.Scenario, error) {
	sc := sim.DefaultScenario()
	if strings.TrimSpace(spec) == "" {
		return sc, nil
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return sc, usagef("%s: %q is not KEY=VAL (keys: global, shared, affinity, replicas, connected)", flag, kv)
		}
		if seen[k] {
			return sc, usagef("%s: %s is given twice", flag, k)
		}
		seen[k] = true
		var err error
		switch k {
		case "global":
			sc.Global, err = parseBool(v)
		case "shared":
			sc.Shared, err = parseBool(v)
		case "connected":
			sc.Connected, err = parseBool(v)
		case "affinity":
			sc.Affinity, err = cluster.ParseAffinity(v)
		case "replicas":
			sc.Replicas, err = strconv.Atoi(v)
			if err == nil && (sc.Replicas < 0 || sc.Replicas > 50) {
				err = fmt.Errorf("%d is outside 0..50", sc.Replicas)
			}
		default:
			return sc, usagef("%s: unknown key %q (keys: global, shared, affinity, replicas, connected)", flag, k)
		}
		if err != nil {
			return sc, usagef("%s: %s=%s: %v", flag, k, v, err)
		}
	}
	return sc, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}
