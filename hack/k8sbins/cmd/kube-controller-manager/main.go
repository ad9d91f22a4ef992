// Command kube-controller-manager is upstream k8s.io/kubernetes/cmd/kube-controller-manager, re-declared in this
// nested module because k8s.io/kubernetes cannot be "go install"ed (its go.mod
// uses replace directives). Built from the module proxy for envtest tests.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
