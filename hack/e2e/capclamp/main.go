// Command capclamp is an OCI runtime wrapper for engines whose own bounding
// capability set is smaller than the kernel's: it removes from a container's
// (or an exec'd process's) capability sets every capability this process
// cannot hold, then runs the real runc with the same arguments.
//
// Why: on the machines that run `make e2e`, the whole VM lacks
// CAP_SYS_RESOURCE in its bounding set. Docker 20.10 gives a --privileged
// container every capability the kernel knows, so runc fails with "unable
// to apply caps: operation not permitted" and no kind node can start. The
// same holds one level down for pods that ask for CAP_SYS_RESOURCE (the
// Cilium agent does). Dropping what cannot be had anyway changes nothing
// for a container that would have started; newer engines do the same
// (they grant privileged containers only the capabilities in their
// bounding set).
//
// Usage as a runtime: point Docker's runtimes (or containerd's BinaryName)
// at this binary. The real runc is $CAPCLAMP_RUNC, else the first of
// /usr/local/sbin/runc, /usr/sbin/runc, /usr/bin/runc, /sbin/runc that is
// not this binary.
//
//	capclamp docker-config FILE PATH  adds runtime "capclamp" (at PATH) to
//	                                  the dockerd config FILE and makes it
//	                                  the default runtime
//	capclamp caps                     prints this process's bounding set and
//	                                  the capabilities missing from it
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames are the kernel's capability numbers (linux/capability.h).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "docker-config" {
		if err := dockerConfig(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "capclamp:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 2 && os.Args[1] == "caps" {
		bnd := bounding()
		var missing []string
		for i, n := range capNames {
			if bnd&(1<<uint(i)) == 0 {
				missing = append(missing, n)
			}
		}
		fmt.Printf("CapBnd %016x, missing: %s\n", bnd, strings.Join(append(missing, "none")[:max(1, len(missing))], " "))
		return
	}
	real, err := realRunc()
	if err != nil {
		fmt.Fprintln(os.Stderr, "capclamp:", err)
		os.Exit(1)
	}
	args := os.Args[1:]
	if file := specFile(args); file != "" {
		if err := clampFile(file, bounding()); err != nil {
			fmt.Fprintln(os.Stderr, "capclamp:", err)
			os.Exit(1)
		}
	}
	err = syscall.Exec(real, append([]string{real}, args...), os.Environ())
	fmt.Fprintln(os.Stderr, "capclamp: exec", real+":", err)
	os.Exit(1)
}

func realRunc() (string, error) {
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	cands := []string{"/usr/local/sbin/runc", "/usr/sbin/runc", "/usr/bin/runc", "/sbin/runc"}
	if r := os.Getenv("CAPCLAMP_RUNC"); r != "" {
		cands = []string{r}
	}
	for _, c := range cands {
		p, err := filepath.EvalSymlinks(c)
		if err == nil && p != self {
			return c, nil
		}
	}
	return "", fmt.Errorf("no runc found among %s", strings.Join(cands, ", "))
}

// specFile returns the JSON file runc will read capabilities from: the
// bundle's config.json for create and run, the --process file for exec.
func specFile(args []string) string {
	cmd, i := "", 0
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			cmd = a
			break
		}
		// Global options that take a value as the next argument.
		switch a {
		case "--root", "--log", "--log-format", "--criu":
			i++
		}
	}
	rest := args[min(i+1, len(args)):]
	value := func(long, short string) string {
		for j, a := range rest {
			switch {
			case a == long || a == short:
				if j+1 < len(rest) {
					return rest[j+1]
				}
			case strings.HasPrefix(a, long+"="):
				return strings.TrimPrefix(a, long+"=")
			}
		}
		return ""
	}
	switch cmd {
	case "create", "run":
		b := value("--bundle", "-b")
		if b == "" {
			b = "."
		}
		return filepath.Join(b, "config.json")
	case "exec":
		return value("--process", "-p")
	}
	return ""
}

// bounding reads this process's bounding set.
func bounding() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ^uint64(0)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
				return n
			}
		}
	}
	return ^uint64(0)
}

func clampFile(file string, bnd uint64) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	out, changed, err := clamp(b, bnd)
	if err != nil || !changed {
		return err
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, st.Mode().Perm())
}

// clamp removes the capabilities outside bnd from the capability lists of
// an OCI config (process.capabilities) or process (capabilities) document.
func clamp(doc []byte, bnd uint64) ([]byte, bool, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, false, err
	}
	// A config.json nests the process; an exec process file is the process.
	proc, nested := m, false
	if raw, ok := m["process"]; ok {
		proc = nil
		if err := json.Unmarshal(raw, &proc); err != nil {
			return nil, false, err
		}
		nested = true
	}
	raw, ok := proc["capabilities"]
	if !ok || proc == nil {
		return doc, false, nil
	}
	var caps map[string][]string
	if err := json.Unmarshal(raw, &caps); err != nil {
		return nil, false, err
	}
	changed := false
	for set, list := range caps {
		kept := list[:0:0]
		for _, c := range list {
			if n := capNumber(c); n >= 0 && bnd&(1<<uint(n)) == 0 {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		caps[set] = kept
	}
	if !changed {
		return doc, false, nil
	}
	var err error
	if proc["capabilities"], err = json.Marshal(caps); err != nil {
		return nil, false, err
	}
	if nested {
		if m["process"], err = json.Marshal(proc); err != nil {
			return nil, false, err
		}
	}
	out, err := json.Marshal(m)
	return out, true, err
}

func capNumber(name string) int {
	for i, n := range capNames {
		if n == name {
			return i
		}
	}
	return -1
}

// dockerConfig adds the runtime to a dockerd config file, keeping every
// other setting, and makes it the default.
func dockerConfig(file, path string) error {
	m := map[string]any{}
	if b, err := os.ReadFile(file); err == nil && len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	} else if err != nil && !os.IsNotExist(err) {
		return err
	}
	rts, _ := m["runtimes"].(map[string]any)
	if rts == nil {
		rts = map[string]any{}
	}
	rts["capclamp"] = map[string]any{"path": path}
	m["runtimes"] = rts
	m["default-runtime"] = "capclamp"
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
