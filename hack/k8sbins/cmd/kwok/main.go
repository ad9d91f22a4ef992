// Command kwok is upstream sigs.k8s.io/kwok/cmd/kwok with kwokctl's "fast"
// stages built in, re-declared here so the integration suite runs it as a
// process of its own, like the other control-plane binaries, instead of
// inside the race-detecting test binary.
//
// Two changes to upstream's main, and why:
//   - The fast stages (nodes Ready with a heartbeat; pods Running and Ready
//     with an IP, Job pods completed, deleted pods gone) are loaded before any
//     --config, so the suite needs no stage files of its own.
//   - The stages are matched once, on this goroutine, before the controllers
//     start. kwok compiles each stage's CEL environment lazily, from several
//     workers at once, and github.com/wzshiming/easycel caches reflected types
//     in package-level maps written without a lock (types.go getTypeValue):
//     the race detector flags it, and two workers writing the map at once can
//     stop the process with "concurrent map writes". Once every type the
//     stages use is cached, the workers only read those maps.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/config"
	"sigs.k8s.io/kwok/pkg/kwok/cmd"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/lifecycle"
	"sigs.k8s.io/kwok/pkg/utils/signals"
)

// fastStages are kwokctl's default stages for a cluster of fake nodes.
var fastStages = []string{
	nodefast.DefaultNodeInit,
	nodeheartbeat.DefaultNodeHeartbeat,
	podfast.DefaultPodReady,
	podfast.DefaultPodComplete,
	podfast.DefaultPodDelete,
}

func main() {
	stagesFile, err := writeStages()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kwok:", err)
		os.Exit(1)
	}
	// Upstream's flags parse os.Args; the built-in stages come first, so a
	// --config on the command line adds to them.
	os.Args = append([]string{os.Args[0], "--config=" + stagesFile}, os.Args[1:]...)

	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsAllowlist.UnknownFlags = true
	flagset.Usage = func() {}

	ctx := signals.SetupSignalContext()
	ctx, logger := log.InitFlags(ctx, flagset)

	ctx, err = config.InitFlags(ctx, flagset)
	os.Remove(stagesFile)
	if err != nil {
		_, _ = os.Stderr.Write([]byte(flagset.FlagUsages()))
		logger.Error("Init config flags", "err", err)
		os.Exit(1)
	}
	if err := warmStages(ctx); err != nil {
		logger.Error("Compile the stages", "err", err)
		os.Exit(1)
	}

	command := cmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flagset)
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("Execute exit", "err", err)
		os.Exit(1)
	}
}

// writeStages writes the built-in stages to a temporary config file, the
// form upstream's config loader reads.
func writeStages() (string, error) {
	f, err := os.CreateTemp("", "kwok-stages-*.yaml")
	if err != nil {
		return "", fmt.Errorf("write the built-in stages: %w", err)
	}
	for _, s := range fastStages {
		if _, err := fmt.Fprintf(f, "---\n%s\n", s); err != nil {
			f.Close()
			os.Remove(f.Name())
			return "", fmt.Errorf("write the built-in stages: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write the built-in stages: %w", err)
	}
	return f.Name(), nil
}

// warmStages matches every loaded stage once against an empty object of
// the kind it is for (a Node or a Pod, as kwok's node and pod controllers
// hand them), so its CEL types are cached before any worker runs (see
// above). Whether an empty object matches does not matter.
func warmStages(ctx context.Context) error {
	stages := config.FilterWithTypeFromContext[*internalversion.Stage](ctx)
	if len(stages) == 0 {
		return fmt.Errorf("no stages loaded")
	}
	for _, st := range stages {
		var obj any
		switch st.Spec.ResourceRef.Kind {
		case "Node":
			obj = &corev1.Node{}
		case "Pod":
			obj = &corev1.Pod{}
		default:
			continue // other kinds go through kwok's generic stage controller
		}
		lc, err := lifecycle.NewLifecycle([]*internalversion.Stage{st})
		if err != nil {
			return fmt.Errorf("stage %s: %w", st.Name, err)
		}
		if _, err := lc.ListAllPossible(ctx, &lifecycle.Event{Data: obj}); err != nil {
			log.FromContext(ctx).Warn("Match an empty object", "stage", st.Name, "err", err)
		}
	}
	return nil
}
