package doctor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Check names, as shown to the learner.
const (
	engineName   = "Container engine"
	memoryName   = "Memory"
	inotifyName  = "inotify limits"
	clustersName = "Existing kind clusters"
)

const gib = 1 << 30

// Memory thresholds. Six kind nodes with Cilium need about 8 GiB; an 8 GiB
// machine or VM reports a bit less as MemTotal (the kernel keeps some), so
// both thresholds leave half a GiB of slack to not warn on exactly-8 GiB setups.
const (
	memoryFailBelow = 4*gib - gib/2
	memoryWarnBelow = 8*gib - gib/2
)

// inotify minimums from kind's known issues page for running several clusters.
const (
	minWatches   = 524288
	minInstances = 512
)

func engineCheck(eng Engine, err error) cluster.Check {
	if err != nil {
		return cluster.Check{ID: IDEngine, Name: engineName, Status: cluster.Fail, Detail: err.Error(), Fix: cluster.HintOf(err),
			Summary: engineName + ": " + engineProblem(eng, err)}
	}
	detail := eng.Name + " " + eng.Version
	if eng.OperatingSystem != "" {
		detail += " (" + eng.OperatingSystem + ")"
	}
	return cluster.Check{ID: IDEngine, Name: engineName, Status: cluster.Pass, Detail: detail, Summary: engineName + ": " + eng.Name + " " + eng.Version}
}

// memoryCheck prefers the engine's figure because under Docker Desktop or
// podman machine the nodes only get the VM's memory, not the host's.
func memoryCheck(env Env, eng Engine, engErr error) cluster.Check {
	c := cluster.Check{ID: IDMemory, Name: memoryName, Summary: memoryName + ": unknown, 8 GiB needed"}
	var total int64
	var where string
	switch {
	case engErr == nil && eng.MemTotal > 0:
		total = eng.MemTotal
		where = "for the " + eng.Name + " engine"
		if eng.OperatingSystem == "Docker Desktop" {
			where = "in Docker Desktop's VM"
		} else if env.GOOS != "linux" {
			where = "in the " + eng.Name + " VM"
		}
	case env.GOOS == "linux":
		b, err := env.ReadFile("/proc/meminfo")
		if err == nil {
			total, err = parseMemTotal(b)
		}
		if err != nil {
			c.Status = cluster.Warn
			c.Detail = fmt.Sprintf("could not tell how much memory there is: %v", err)
			c.Fix = "make sure the machine has 8 GiB of memory or more"
			return c
		}
		where = "on this machine"
	default:
		c.Status = cluster.Warn
		c.Detail = "unknown until the container engine answers (the 6 kind nodes need about 8 GiB)"
		c.Fix = "start the container engine and run the checks again"
		return c
	}

	c.Detail = fmt.Sprintf("%s %s; the 6 kind nodes need about 8 GiB", formatGiB(total), where)
	c.Summary = fmt.Sprintf("%s: %s (8 GiB needed)", memoryName, formatGiB(total))
	switch {
	case total < memoryFailBelow:
		c.Status = cluster.Fail
	case total < memoryWarnBelow:
		c.Status = cluster.Warn
	default:
		return c
	}
	c.Fix = memoryFix(env, eng, engErr == nil)
	return c
}

// memoryFix names the knob of the learner's engine: the VM size where there is one.
func memoryFix(env Env, eng Engine, engineUp bool) string {
	switch {
	case engineUp && eng.OperatingSystem == "Docker Desktop":
		return "Docker Desktop → Settings → Resources → Memory: 8 GB or more, then Apply & restart"
	case engineUp && eng.Name == "podman" && env.GOOS != "linux":
		return "podman machine stop && podman machine set --memory 8192 && podman machine start"
	case engineUp && env.GOOS != "linux":
		return "give the Docker VM 8 GiB or more (Docker Desktop: Settings → Resources → Memory; Colima: colima start --memory 8)"
	}
	return "close memory-hungry programs or use a machine with 8 GiB or more; --backend sim needs far less"
}

// parseMemTotal reads MemTotal (in kB) from /proc/meminfo.
func parseMemTotal(meminfo []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "MemTotal:" {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing MemTotal in /proc/meminfo: %w", err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading /proc/meminfo: %w", err)
	}
	return 0, fmt.Errorf("no MemTotal in /proc/meminfo")
}

func formatGiB(b int64) string {
	return strconv.FormatFloat(float64(b)/gib, 'f', 1, 64) + " GiB"
}

// inotifyCheck guards against kind's known issue: with several clusters the
// nodes run out of inotify watches or instances and pods fail with "too many open files".
func inotifyCheck(env Env) cluster.Check {
	c := cluster.Check{ID: IDInotify, Name: inotifyName, Summary: inotifyName + ": enough for six nodes"}
	if env.GOOS != "linux" {
		c.Summary = inotifyName + ": set by the engine's VM"
		c.Detail = "not applicable on " + env.GOOS + " (the engine's VM sets its own)"
		return c
	}
	limits := []struct {
		key  string
		want int
	}{
		{"max_user_watches", minWatches},
		{"max_user_instances", minInstances},
	}
	var got, low []string
	var fixKeys []string
	for _, l := range limits {
		v, err := readInt(env, "/proc/sys/fs/inotify/"+l.key)
		switch {
		case err != nil:
			low = append(low, fmt.Sprintf("%s unreadable (%v)", l.key, err))
		case v < l.want:
			low = append(low, fmt.Sprintf("%s %d < %d", l.key, v, l.want))
		default:
			got = append(got, fmt.Sprintf("%s %d", l.key, v))
			continue
		}
		fixKeys = append(fixKeys, fmt.Sprintf("fs.inotify.%s=%d", l.key, l.want))
	}
	if len(low) == 0 {
		c.Detail = strings.Join(got, ", ")
		return c
	}
	c.Status = cluster.Warn
	c.Summary = inotifyName + ": too low for six nodes"
	c.Detail = strings.Join(low, ", ") + `; kind nodes may fail with "too many open files"`
	c.Fix = "sudo sysctl -w " + strings.Join(fixKeys, " ") +
		" && printf '" + strings.Join(fixKeys, `\n`) + `\n' | sudo tee -a /etc/sysctl.d/99-clustermesh-lab.conf`
	return c
}

func readInt(env Env, path string) (int, error) {
	b, err := env.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return v, nil
}

// portsCheck binds each port as the engine will (TCP on 0.0.0.0), since a
// busy port only shows when kind creates the US control plane, minutes in.
// clusters, when known, lets it blame a leftover lab cluster.
func portsCheck(env Env, ports []int, clusters []string) cluster.Check {
	c := cluster.Check{ID: IDPorts, Name: "Host ports " + joinPorts(ports, ", "), Summary: "Host ports " + joinPorts(ports, ", ") + ": free"}
	var busy []int
	for _, p := range ports {
		l, err := env.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", p))
		if err != nil {
			busy = append(busy, p)
			continue
		}
		_ = l.Close() // the check only needed the bind to succeed
	}
	if len(busy) == 0 {
		c.Detail = "free" + portsPurpose
		return c
	}
	c.Status = cluster.Fail
	c.Summary = "Host ports: " + joinPorts(busy, ", ") + " in use"
	c.Detail = "already in use: " + joinPorts(busy, ", ")
	if slices.Contains(clusters, string(cluster.US)) {
		c.Detail += `, probably by kind cluster "us" from an earlier run`
		c.Fix = "for a fresh lab: kind delete cluster --name us"
		return c
	}
	c.Fix = "stop what listens there; find it with " + portOwnerCommand(env.GOOS, busy)
	return c
}

// portsPurpose says why the lab needs the host ports: the seed's US kind
// config maps them, so kind cannot create US while anything holds one.
const portsPurpose = " (the seed's US kind config maps them to the host; 31234 and 31235 are the chart's Hubble Relay and Hubble UI NodePorts, reachable from the host once Hubble is turned on)"

// portOwnerCommand is the OS's way to see which process holds the ports.
func portOwnerCommand(goos string, ports []int) string {
	switch goos {
	case "linux":
		var conds []string
		for _, p := range ports {
			conds = append(conds, fmt.Sprintf("sport = :%d", p))
		}
		return "sudo ss -ltnp '( " + strings.Join(conds, " or ") + " )'"
	case "windows":
		var pats []string
		for _, p := range ports {
			pats = append(pats, fmt.Sprintf(":%d", p))
		}
		return `netstat -ano | findstr "` + strings.Join(pats, " ") + `"`
	}
	return "lsof -nP -iTCP:" + joinPorts(ports, ",") + " -sTCP:LISTEN"
}

func joinPorts(ports []int, sep string) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, sep)
}

// kindClusterLabel marks every kind node container with its cluster's name.
const kindClusterLabel = "io.x-k8s.kind.cluster"

// controlPlaneName matches kind's control-plane node containers; every
// cluster has one, and its prefix is the cluster's name.
var controlPlaneName = regexp.MustCompile(`^(.+)-control-plane\d*$`)

// kindClusters lists kind clusters by their nodes' container names rather
// than their labels, because podman changed how labels are templated
// (kind issue #4201) while {{.Names}} works on every engine version.
func kindClusters(ctx context.Context, env Env, eng Engine) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	stdout, stderr, err := env.Run(cctx, eng.Name, "ps", "-a", "--filter", "label="+kindClusterLabel, "--format", "{{.Names}}")
	if err != nil {
		return nil, fmt.Errorf("listing kind nodes with %s ps: %s", eng.Name, reason(stderr, err))
	}
	var names []string
	for line := range strings.Lines(string(stdout)) {
		if m := controlPlaneName.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// kindClustersCheck warns about lab clusters left from an earlier run: the
// lab can resume with them, but a fresh start needs them gone.
func kindClustersCheck(eng Engine, engErr error, clusters []string, listErr error) cluster.Check {
	c := cluster.Check{ID: IDKindClusters, Name: clustersName, Summary: "Leftover us/eu clusters: none"}
	switch {
	case engErr != nil:
		c.Summary = "Leftover us/eu clusters: not checked"
		c.Detail = "not checked: no container engine answers"
		return c
	case listErr != nil:
		c.Status = cluster.Warn
		c.Summary = "Leftover us/eu clusters: could not list"
		c.Detail = "could not list them: " + listErr.Error()
		c.Fix = "run `" + eng.Name + " ps -a --filter label=" + kindClusterLabel + "` to see why"
		return c
	}
	var ours, others []string
	for _, name := range clusters {
		if slices.Contains(cluster.Names(), cluster.Name(name)) {
			ours = append(ours, name)
		} else {
			others = append(others, name)
		}
	}
	if len(ours) == 0 {
		c.Detail = "none named us or eu"
		if len(others) > 0 {
			c.Detail += "; other kind clusters (they use memory too): " + strings.Join(others, ", ")
		}
		return c
	}
	c.Status = cluster.Warn
	c.Summary = "Leftover clusters: " + strings.Join(ours, ", ")
	c.Detail = "already there from an earlier run: " + strings.Join(ours, ", ")
	c.Fix = "keep them to resume the lab, or for a fresh one: kind delete clusters " + strings.Join(ours, " ")
	return c
}
