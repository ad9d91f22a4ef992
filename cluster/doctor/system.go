package doctor

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Check names of the kernel and cgroup checks.
const (
	kernelName = "Kernel"
	cgroupName = "cgroups"
)

// minKernel is the oldest Linux Cilium runs on (shared/CILIUM.md, "Versions").
var minKernel = [2]int{5, 10}

// kernelCheck prefers the engine's kernel, which is what kind nodes share
// (Docker Desktop's or podman machine's VM), to this machine's.
func kernelCheck(env Env, eng Engine, engErr error) cluster.Check {
	c := cluster.Check{ID: IDKernel, Name: kernelName, Summary: kernelName + ": unknown, 5.10+ needed"}
	release, where := "", ""
	switch {
	case engErr == nil && eng.KernelVersion != "":
		release, where = eng.KernelVersion, "the "+eng.Name+" engine's"
	case env.GOOS == "linux":
		b, err := env.ReadFile("/proc/sys/kernel/osrelease")
		if err != nil {
			c.Status = cluster.Warn
			c.Detail = fmt.Sprintf("could not tell which Linux the nodes will share: %v", err)
			c.Fix = "check with `uname -r` that it is 5.10 or newer, which Cilium needs"
			return c
		}
		release, where = strings.TrimSpace(string(b)), "this machine's"
	default:
		c.Status = cluster.Warn
		c.Detail = "unknown until the container engine answers (Cilium needs Linux 5.10 or newer)"
		c.Fix = "start the container engine and run the checks again"
		return c
	}
	major, minor, err := kernelMinor(release)
	if err != nil {
		c.Status = cluster.Warn
		c.Detail = fmt.Sprintf("%s kernel %q is not a version the lab can read (Cilium needs 5.10 or newer)", where, release)
		c.Fix = "check with `uname -r` inside a container that it is 5.10 or newer"
		return c
	}
	c.Detail = fmt.Sprintf("Linux %s (%s, which the kind nodes share); Cilium needs 5.10 or newer", release, where)
	c.Summary = fmt.Sprintf("%s: Linux %d.%d (5.10+ needed)", kernelName, major, minor)
	if major < minKernel[0] || (major == minKernel[0] && minor < minKernel[1]) {
		c.Status = cluster.Fail
		c.Detail = fmt.Sprintf("Linux %s (%s, which the kind nodes share) is older than 5.10: Cilium's agents will not start", release, where)
		c.Fix = "use a machine or VM with Linux 5.10 or newer (Docker Desktop: update it; Ubuntu 22.04 and Debian 12 ship newer kernels)"
	}
	return c
}

// kernelMinor reads "6.18.44-fc-v657" as 6, 18.
func kernelMinor(release string) (major, minor int, err error) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("no MAJOR.MINOR in %q", release)
	}
	if major, err = strconv.Atoi(parts[0]); err != nil {
		return 0, 0, err
	}
	digits := strings.IndexFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	if digits == 0 {
		return 0, 0, fmt.Errorf("no minor number in %q", release)
	}
	if digits > 0 {
		parts[1] = parts[1][:digits]
	}
	minor, err = strconv.Atoi(parts[1])
	return major, minor, err
}

// cgroupCheck tells the learner about a cgroup v1 host, where kubelet 1.35
// refuses to start unless the kind configuration says failCgroupV1: false,
// which the lab then adds (shared/CILIUM.md, "Versions").
func cgroupCheck(eng Engine, engErr error) cluster.Check {
	c := cluster.Check{ID: IDCgroups, Name: cgroupName}
	switch {
	case engErr != nil:
		c.Summary = cgroupName + ": not checked"
		c.Detail = "not checked: no container engine answers"
	case eng.CgroupVersion == "":
		c.Summary = cgroupName + ": version not reported"
		c.Detail = "the " + eng.Name + " engine does not say which cgroup version it runs"
	case eng.CgroupV1():
		c.Status = cluster.Warn
		c.Summary = cgroupName + ": v1, patched by the lab"
		c.Detail = "the " + eng.Name + " engine runs on cgroup v1, which kubelet 1.35 refuses by default; " +
			"the lab adds failCgroupV1: false for the kubelet to its kind configs (kind-us-cluster.yaml, kind-eu-cluster.yaml)"
		c.Fix = "nothing is needed for the lab; a host on cgroup v2 (current Docker Desktop, Ubuntu 21.10+, Debian 11+) needs no patch"
	default:
		c.Summary = cgroupName + ": v" + eng.CgroupVersion
		c.Detail = "cgroup v" + eng.CgroupVersion + ": kubelet 1.35 runs as it is"
	}
	return c
}
