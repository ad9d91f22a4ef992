package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Engine is the container engine the lab's kind nodes will run on. The kind
// library does not read KIND_EXPERIMENTAL_PROVIDER by itself (only the kind
// CLI does), so the backend should pass Name on explicitly
// (cluster.ProviderWithDocker or cluster.ProviderWithPodman).
type Engine struct {
	// Name is "docker" or "podman"; on error, the engine that was tried, if any.
	Name string `json:"name"`
	// Version is the engine's (server's) version, not the CLI's.
	Version string `json:"version,omitempty"`
	// MemTotal is, in bytes, the memory the engine's containers share: the VM's
	// under Docker Desktop or podman machine, not the host's; 0 when unknown.
	MemTotal int64 `json:"memTotal,omitempty"`
	// OperatingSystem is where the engine runs, e.g. "Docker Desktop" or "Ubuntu 24.04.1 LTS".
	OperatingSystem string `json:"operatingSystem,omitempty"`
	// CgroupVersion is "1" or "2" as the engine reports it (docker info's
	// Cgroup Version; podman's v1 or v2), "" when unknown. kind nodes run
	// on the engine's cgroups, and kubelet 1.35 refuses version 1.
	CgroupVersion string `json:"cgroupVersion,omitempty"`
	// KernelVersion is the kernel the engine's containers share: the VM's
	// under Docker Desktop or podman machine; "" when unknown.
	KernelVersion string `json:"kernelVersion,omitempty"`
}

// CgroupV1 reports an engine on cgroup v1 (or a hybrid hierarchy, which
// engines report as 1).
func (e Engine) CgroupV1() bool { return e.CgroupVersion == "1" }

// Errors DetectEngine wraps, so callers can tell why there is no engine;
// cluster.HintOf on the returned error gives the learner's fix.
var (
	// ErrNotInstalled means the engine's CLI is not on PATH.
	ErrNotInstalled = errors.New("container engine CLI not installed")
	// ErrNotRunning means the CLI is there but its engine does not answer.
	ErrNotRunning = errors.New("container engine not answering")
	// ErrUnsupported means the selected engine is one the lab does not drive (nerdctl, finch).
	ErrUnsupported = errors.New("container engine not supported")
)

// providerEnv is the variable with which the kind CLI lets users pick the engine.
const providerEnv = "KIND_EXPERIMENTAL_PROVIDER"

// simHint ends every "no engine" fix: the simulated mesh is always an option.
const simHint = "; or run the simulated mesh with --backend sim, which needs no engine"

// engineError keeps the learner-facing line as the message while still
// matching its sentinel (and the underlying cause) with errors.Is.
type engineError struct {
	kind   error
	detail string
	cause  error
}

func (e *engineError) Error() string { return e.detail }

func (e *engineError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// DetectEngine finds the container engine the way the kind CLI does:
// KIND_EXPERIMENTAL_PROVIDER when set, else docker when its engine answers,
// else podman. When neither answers it reports the first one installed, so
// the learner is told to start the engine they have. The error carries a
// fix (cluster.HintOf) and wraps ErrNotInstalled, ErrNotRunning or ErrUnsupported.
func DetectEngine(ctx context.Context, env Env) (Engine, error) {
	switch p := env.Getenv(providerEnv); p {
	case "docker", "podman":
		eng, err := probe(ctx, env, p, true)
		return eng, err
	case "nerdctl", "finch", "nerdctl.lima":
		return Engine{Name: p}, cluster.WithHint(&engineError{
			kind:   ErrUnsupported,
			detail: fmt.Sprintf("%s=%s selects %s, which this lab does not support", providerEnv, p, p),
		}, "unset "+providerEnv+" or set it to docker or podman")
	}
	// kind ignores any other value and detects as usual; so do we.

	var down Engine
	var downErr error
	for _, name := range []string{"docker", "podman"} {
		eng, err := probe(ctx, env, name, false)
		if err == nil {
			return eng, nil
		}
		if ctx.Err() != nil {
			return eng, fmt.Errorf("detecting the container engine: %w", ctx.Err())
		}
		if errors.Is(err, ErrNotInstalled) {
			continue
		}
		if downErr == nil {
			down, downErr = eng, err
		}
	}
	if downErr != nil {
		return down, downErr
	}
	if installed(ctx, env, "nerdctl") {
		return Engine{Name: "nerdctl"}, cluster.WithHint(&engineError{
			kind:   ErrUnsupported,
			detail: "only nerdctl is installed, which this lab does not support",
		}, notInstalledFix(env, "")+simHint)
	}
	return Engine{}, cluster.WithHint(&engineError{
		kind:   ErrNotInstalled,
		detail: "neither docker nor podman is installed",
		cause:  exec.ErrNotFound,
	}, notInstalledFix(env, "")+simHint)
}

// infoJSON decodes both `docker info` and `podman info` output (Go's JSON
// field matching ignores case, and the two share no top-level keys we read),
// which also covers podman's docker-compatible `docker` shim.
type infoJSON struct {
	// docker
	ServerVersion   string
	MemTotal        int64
	OperatingSystem string
	ServerErrors    []string
	CgroupVersion   string
	KernelVersion   string
	// podman
	Host *struct {
		MemTotal      int64  `json:"memTotal"`
		CgroupVersion string `json:"cgroupVersion"`
		Kernel        string `json:"kernel"`
		Distribution  struct {
			Distribution string `json:"distribution"`
			Version      string `json:"version"`
		} `json:"distribution"`
	} `json:"host"`
	Version *struct {
		Version string `json:"Version"`
	} `json:"version"`
}

// probe asks one engine for its info; explicit says the learner chose it
// through KIND_EXPERIMENTAL_PROVIDER, which changes the advice.
func probe(ctx context.Context, env Env, name string, explicit bool) (Engine, error) {
	eng := Engine{Name: name}
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	stdout, stderr, err := env.Run(cctx, name, "info", "--format", "{{json .}}")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		fix := notInstalledFix(env, name)
		if explicit {
			fix += " or unset " + providerEnv
		}
		return eng, cluster.WithHint(&engineError{
			kind:   ErrNotInstalled,
			detail: name + " is not installed (not found in PATH)",
			cause:  err,
		}, fix+simHint)
	case ctx.Err() != nil:
		return eng, fmt.Errorf("%s info: %w", name, ctx.Err())
	case cctx.Err() != nil:
		return eng, cluster.WithHint(&engineError{
			kind:   ErrNotRunning,
			detail: fmt.Sprintf("%s is installed but its engine did not answer within %s", name, commandTimeout),
			cause:  cctx.Err(),
		}, notRunningFix(env, name, "")+simHint)
	case err != nil:
		return eng, cluster.WithHint(&engineError{
			kind:   ErrNotRunning,
			detail: fmt.Sprintf("%s is installed but its engine does not answer: %s", name, reason(stderr, err)),
			cause:  err,
		}, notRunningFix(env, name, string(stderr))+simHint)
	}

	var info infoJSON
	if err := json.Unmarshal(bytes.TrimSpace(stdout), &info); err != nil {
		return eng, cluster.WithHint(&engineError{
			kind:   ErrNotRunning,
			detail: fmt.Sprintf("%s info printed something unexpected", name),
			cause:  fmt.Errorf("decoding %s info: %w", name, err),
		}, "run `"+name+" info` to see what is wrong"+simHint)
	}
	if info.Host != nil && info.Version != nil {
		// podman, possibly behind its docker shim: kind would detect podman too.
		eng.Name = "podman"
		eng.Version = info.Version.Version
		eng.MemTotal = info.Host.MemTotal
		eng.OperatingSystem = strings.TrimSpace(info.Host.Distribution.Distribution + " " + info.Host.Distribution.Version)
		eng.CgroupVersion = strings.TrimPrefix(info.Host.CgroupVersion, "v")
		eng.KernelVersion = info.Host.Kernel
		return eng, nil
	}
	if len(info.ServerErrors) > 0 || info.ServerVersion == "" {
		why := "no server version reported"
		if len(info.ServerErrors) > 0 {
			why = oneLine(info.ServerErrors[0])
		}
		return eng, cluster.WithHint(&engineError{
			kind:   ErrNotRunning,
			detail: fmt.Sprintf("%s is installed but its engine does not answer: %s", name, why),
		}, notRunningFix(env, name, why)+simHint)
	}
	eng.Version = info.ServerVersion
	eng.MemTotal = info.MemTotal
	eng.OperatingSystem = info.OperatingSystem
	eng.CgroupVersion = info.CgroupVersion
	eng.KernelVersion = info.KernelVersion
	return eng, nil
}

// installed tells whether a CLI runs at all, without needing its engine.
func installed(ctx context.Context, env Env, name string) bool {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	_, _, err := env.Run(cctx, name, "-v")
	return err == nil
}

// notInstalledFix points at the installer that suits the learner's OS; name
// "" means either engine will do.
func notInstalledFix(env Env, name string) string {
	const (
		desktop = "Docker Desktop (https://docs.docker.com/desktop/)"
		engine  = "Docker Engine (https://docs.docker.com/engine/install/)"
		podman  = "Podman (https://podman.io/docs/installation)"
	)
	docker := desktop
	if env.GOOS == "linux" {
		docker = engine + " or " + desktop
	}
	switch name {
	case "docker":
		return "install " + docker
	case "podman":
		return "install " + podman
	}
	return "install " + docker + ", or " + podman
}

// notRunningFix says how to start the engine; stderr lets it spot the common
// Linux case of a running daemon the user may not talk to.
func notRunningFix(env Env, name, stderr string) string {
	if name == "podman" {
		if env.GOOS == "linux" {
			return "run `podman info` to see why podman fails"
		}
		return "podman machine start (the first time: podman machine init --memory 8192)"
	}
	switch env.GOOS {
	case "linux":
		if strings.Contains(strings.ToLower(stderr), "permission denied") {
			return "sudo usermod -aG docker $USER, then log out and back in"
		}
		return "sudo systemctl start docker"
	case "darwin":
		return "start Docker Desktop (open -a Docker) and wait until it says it is running"
	}
	return "start Docker Desktop and wait until it says it is running"
}

// reason is the first line of what the CLI said, or the exit error when it said nothing.
func reason(stderr []byte, err error) string {
	if s := oneLine(string(stderr)); s != "" {
		return s
	}
	return err.Error()
}

// maxReason keeps a check's detail on one terminal line or so.
const maxReason = 160

// oneLine keeps the first non-empty line, short enough for a check's detail.
func oneLine(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if r := []rune(line); len(r) > maxReason {
			line = string(r[:maxReason-1]) + "…"
		}
		return line
	}
	return ""
}
