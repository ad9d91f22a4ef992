package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// buildVersion is the release version, else the module version Go recorded,
// else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of clustermesh-lab and of what it installs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(stdout, "clustermesh-lab %s (%s, %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(stdout, "cilium chart %s (default)\n", cluster.DefaultCiliumVersion)
			k8s, _ := cluster.KubernetesVersion(cluster.DefaultNodeImage)
			fmt.Fprintf(stdout, "kind node image %s (Kubernetes %s, default)\n", cluster.DefaultNodeImage, k8s)
			return nil
		},
	}
}
