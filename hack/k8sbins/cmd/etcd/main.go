// Command etcd is the upstream etcd server (go.etcd.io/etcd/server/v3, the
// version Kubernetes pins), wrapped here so it can be built from the module
// proxy for envtest (KUBEBUILDER_ASSETS) on machines without internet or Docker.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	// envtest passes etcd's full command line; hand it over unchanged.
	etcdmain.Main(os.Args)
}
