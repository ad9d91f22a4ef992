package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// PlaygroundID names the playground's probes in the journal.
const PlaygroundID = "playground"

// MaxPlaygroundReplicas keeps a playful + key from flooding a laptop.
const MaxPlaygroundReplicas = 5

// Configure changes the hello-world Service's Cilium annotations in cluster
// c, as `kubectl annotate --overwrite` would: the playground's g, s and a.
func Configure(ctx context.Context, env *Env, c cluster.Name, change cluster.ServiceChange) error {
	return env.Backend.ConfigureService(ctx, c, change, env.logger(c)) // its error names the cluster
}

// Scale sets hello-world's replicas in cluster c, as `kubectl scale` would,
// within 0..MaxPlaygroundReplicas.
func Scale(ctx context.Context, env *Env, c cluster.Name, replicas int) error {
	if replicas < 0 || replicas > MaxPlaygroundReplicas {
		return cluster.WithHint(fmt.Errorf("%d replicas: the playground keeps hello-world within 0..%d", replicas, MaxPlaygroundReplicas),
			"scale by hand with kubectl for more")
	}
	return env.Backend.Scale(ctx, c, replicas, env.logger(c)) // its error names the cluster
}

// Reprobe takes a new probe round on a step that is done (step is its id)
// or in the playground (PlaygroundID). It first lets the mesh settle on what
// Cilium's rules make of the clusters now (the playground may just have
// changed them), then records the round labelled with what the clusters
// are; the step's own rounds and summary stay as they were.
func Reprobe(ctx context.Context, env *Env, step string) ([]ProbeRecord, error) {
	st, err := env.statuses(ctx)
	if err != nil {
		return nil, err
	}
	expect := map[cluster.Name]expectation{cluster.US: predicted(st, cluster.US), cluster.EU: predicted(st, cluster.EU)}
	if err := settleBoth(ctx, env, step, expect); err != nil {
		return nil, Prerequisite(err)
	}
	phase := PhaseReprobe
	if step == PlaygroundID {
		phase = PhasePlayground
	}
	recs, err := probeRound(ctx, env, step, phase, DescribeClusters(st))
	return recs, Prerequisite(err)
}

// DescribeClusters says, for each cluster, what decides where its requests
// go: "US global, affinity local, 0 replicas · EU global, 1 replica".
func DescribeClusters(st [2]cluster.Status) string {
	parts := make([]string, 0, 2)
	for _, c := range cluster.Names() {
		parts = append(parts, c.Label()+" "+describeCluster(st[c.Index()]))
	}
	return strings.Join(parts, " · ")
}

func describeCluster(st cluster.Status) string {
	switch {
	case !st.Exists:
		return "not created"
	case !st.Demo.Service.Exists:
		return "without hello-world"
	}
	s := st.Demo.Service.Settings
	var words []string
	if !s.Global {
		words = append(words, "not global")
	} else {
		words = append(words, "global")
		if !s.Shared {
			words = append(words, "not shared")
		}
	}
	if s.Affinity != "" && s.Affinity != cluster.AffinityNone {
		words = append(words, "affinity "+string(s.Affinity))
	}
	hw := st.Demo.HelloWorld
	replicas := fmt.Sprintf("%d %s", hw.Desired, Plural(hw.Desired, "replica", "replicas"))
	if hw.Ready != hw.Desired {
		replicas += fmt.Sprintf(" (%d ready)", hw.Ready)
	}
	words = append(words, replicas)
	if p, ok := st.Mesh.Peer(st.Cluster.Peer()); !ok || !p.OK() {
		words = append(words, "not connected")
	}
	return strings.Join(words, ", ")
}

// PlaygroundCommands are the kubectl commands that set both clusters'
// hello-world as st shows them.
func PlaygroundCommands(st [2]cluster.Status) []Command {
	out := make([]Command, 0, 2)
	for _, c := range cluster.Names() {
		cs := st[c.Index()]
		s := cs.Demo.Service.Settings
		where := TermUS
		if c == cluster.EU {
			where = TermEU
		}
		out = append(out, Command{Where: where, Lines: []string{
			fmt.Sprintf("kubectl annotate service hello-world --overwrite %s=%q %s=%q %s=%q",
				cluster.AnnotationGlobal, fmt.Sprint(s.Global), cluster.AnnotationShared, fmt.Sprint(s.Shared), cluster.AnnotationAffinity, string(s.Affinity)),
			fmt.Sprintf("kubectl scale deployment hello-world --replicas %d", cs.Demo.HelloWorld.Desired),
		}})
	}
	return out
}

// Plural picks the singular for 1 and the plural otherwise: "1 probe", "2 probes".
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
