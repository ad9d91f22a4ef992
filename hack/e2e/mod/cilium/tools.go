//go:build tools

// Package cilium only pins, for `go mod tidy`, what hack/e2e/build-bins.sh
// builds straight from github.com/cilium/cilium/...
package cilium

import (
	_ "github.com/cilium/cilium/cilium-dbg/cmd"
	_ "github.com/cilium/cilium/clustermesh-apiserver/cmd"
	_ "github.com/cilium/cilium/daemon/cmd"
	_ "github.com/cilium/cilium/operator/cmd"
)
