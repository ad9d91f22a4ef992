// Command kube-scheduler is upstream k8s.io/kubernetes/cmd/kube-scheduler, re-declared in this
// nested module because k8s.io/kubernetes cannot be "go install"ed (its go.mod
// uses replace directives). Built from the module proxy for envtest tests.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	os.Exit(cli.Run(app.NewSchedulerCommand()))
}
