// Package doctor checks, before the real lab starts, that this machine can
// run two 3-node kind clusters: a container engine that answers, enough
// memory, inotify limits that several clusters need, and free host ports.
// It is shared by `clustermesh-lab doctor` and the kind backend's preflight.
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

// commandTimeout bounds each engine command: an engine that does not answer
// within it is reported as not answering rather than hanging the lab. A
// variable so that tests need not wait that long.
var commandTimeout = 10 * time.Second

// Run checks the machine for the real (kind) lab; the checks come in a fixed
// order: container engine, memory, inotify limits, host ports, existing kind clusters.
func Run(ctx context.Context, env Env) []cluster.Check {
	return run(ctx, env, hostPorts)
}

// run takes the port list so that tests can use a port they hold themselves.
func run(ctx context.Context, env Env, ports []int) []cluster.Check {
	eng, engErr := DetectEngine(ctx, env)
	var clusters []string
	var listErr error
	if engErr == nil {
		clusters, listErr = kindClusters(ctx, env, eng)
	}
	return []cluster.Check{
		engineCheck(eng, engErr),
		memoryCheck(env, eng, engErr),
		inotifyCheck(env),
		portsCheck(env, ports, clusters),
		kindClustersCheck(eng, engErr, clusters, listErr),
	}
}
