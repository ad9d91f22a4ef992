// Package doctor checks, before the real lab starts, that this machine can
// run two 3-node kind clusters with Cilium: a container engine that answers,
// a kernel and cgroups Cilium and kubelet accept, enough memory, inotify
// limits that several clusters need, a kind network clear of the lab's
// subnets, free host ports, and a node image whose Kubernetes the Cilium
// release is tested with. It is shared by `clustermesh-lab doctor` and the
// kind backend's preflight.
package doctor

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Env is everything the checks ask of the machine, so tests can replace the
// machine with fakes; SystemEnv returns the real one.
type Env struct {
	// Run runs a command to completion (or until ctx ends) and returns what it wrote.
	Run func(ctx context.Context, name string, args ...string) (stdout, stderr []byte, err error)
	// ReadFile reads a whole file, as os.ReadFile does.
	ReadFile func(name string) ([]byte, error)
	// Listen opens a listener, as net.Listen does; the port check closes it at once.
	Listen func(network, address string) (net.Listener, error)
	// GOOS is the operating system, as runtime.GOOS, deciding which checks and fixes apply.
	GOOS string
	// Getenv reads an environment variable, as os.Getenv does.
	Getenv func(key string) string
}

// SystemEnv is the Env of the machine this process runs on.
func SystemEnv() Env {
	return Env{
		Run:      runCommand,
		ReadFile: os.ReadFile,
		Listen:   net.Listen,
		GOOS:     runtime.GOOS,
		Getenv:   os.Getenv,
	}
}

// runCommand captures both streams so that no child output reaches the
// learner's terminal, which the TUI owns.
func runCommand(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// A CLI that leaves a helper holding its pipes must not keep us past ctx.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

// hostPorts are the host ports the US control plane maps (assets/kind-us.yaml).
var hostPorts = []int{32042, 31234, 31235}

// Lab is what the lab will run, for the checks that depend on it rather
// than on the machine.
type Lab struct {
	// NodeImage is the kind node image; "" means cluster.DefaultNodeImage.
	NodeImage string
	// CiliumVersion is the Cilium release; "" means cluster.DefaultCiliumVersion.
	CiliumVersion string
}

func (l Lab) withDefaults() Lab {
	if l.NodeImage == "" {
		l.NodeImage = cluster.DefaultNodeImage
	}
	if l.CiliumVersion == "" {
		l.CiliumVersion = cluster.DefaultCiliumVersion
	}
	return l
}

// commandTimeout bounds each engine command: an engine that does not answer
// within it is reported as not answering rather than hanging the lab. A
// variable so that tests need not wait that long.
var commandTimeout = 10 * time.Second

// Run checks the machine for the real (kind) lab; the checks come in a fixed
// order: container engine, kernel, cgroups, memory, inotify limits, the kind
// network, host ports, existing kind clusters, the Kubernetes version the
// node image runs, and where the images come from.
func Run(ctx context.Context, env Env, lab Lab) []cluster.Check {
	return run(ctx, env, lab, hostPorts)
}

// run takes the port list so that tests can use a port they hold themselves.
func run(ctx context.Context, env Env, lab Lab, ports []int) []cluster.Check {
	lab = lab.withDefaults()
	eng, engErr := DetectEngine(ctx, env)
	var clusters []string
	var listErr error
	var nets []network
	var netErr error
	if engErr == nil {
		clusters, listErr = kindClusters(ctx, env, eng)
		nets, netErr = networks(ctx, env, eng)
	}
	return []cluster.Check{
		engineCheck(eng, engErr),
		kernelCheck(env, eng, engErr),
		cgroupCheck(eng, engErr),
		memoryCheck(env, eng, engErr),
		inotifyCheck(env),
		kindNetworkCheck(eng, engErr, nets, netErr),
		portsCheck(env, ports, clusters),
		kindClustersCheck(eng, engErr, clusters, listErr),
		kubernetesCheck(lab),
		imagesCheck(ctx, env, eng, engErr, lab),
	}
}
