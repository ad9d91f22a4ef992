package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

const infoArgs = "info --format {{json .}}"

// Engine outputs as the real CLIs print them (trimmed to what matters).
const (
	dockerDesktopInfo = `{"ServerVersion":"27.3.1","MemTotal":8232873984,"OperatingSystem":"Docker Desktop","ServerErrors":null}`
	dockerLinuxInfo   = `{"ServerVersion":"28.2.2","MemTotal":25276502016,"OperatingSystem":"Ubuntu 24.04.1 LTS","CgroupVersion":"2","KernelVersion":"6.8.0-45-generic"}`
	dockerDownInfo    = `{"ID":"","ServerVersion":"","MemTotal":0,"ClientInfo":{"Version":"28.2.2"}}`
	dockerDownStderr  = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
	podmanInfo        = `{"host":{"arch":"amd64","memTotal":16647962624,"distribution":{"distribution":"fedora","version":"40"}},"store":{},"version":{"APIVersion":"5.2.0","Version":"5.2.0"}}`
	podmanDownStderr  = "Cannot connect to Podman. Please verify your connection to the Linux system using `podman system connection list`, or try `podman machine init` and `podman machine start` to manage a new Linux VM\nError: unable to connect to Podman socket\n"
	procMeminfo       = "MemTotal:       %d kB\nMemFree:         1000000 kB\n"
)

// result is one canned command outcome.
type result struct {
	stdout, stderr string
	err            error
}

var errExit = errors.New("exit status 1")

// fake is a machine described by tables; any command it was not told about
// behaves as a CLI that is not installed.
type fake struct {
	goos  string
	env   map[string]string
	cmds  map[string]result
	files map[string]string
	busy  map[int]bool
	run   func(ctx context.Context, name string, args ...string) ([]byte, []byte, error)
}

func (f fake) Env() Env {
	return Env{
		Run: func(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
			if f.run != nil {
				return f.run(ctx, name, args...)
			}
			r, ok := f.cmds[name+" "+strings.Join(args, " ")]
			if !ok {
				return nil, nil, &exec.Error{Name: name, Err: exec.ErrNotFound}
			}
			return []byte(r.stdout), []byte(r.stderr), r.err
		},
		ReadFile: func(name string) ([]byte, error) {
			s, ok := f.files[name]
			if !ok {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			return []byte(s), nil
		},
		Listen: func(network, address string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(address)
			var port int
			fmt.Sscan(p, &port)
			if f.busy[port] {
				return nil, fmt.Errorf("listen %s %s: bind: address already in use", network, address)
			}
			return fakeListener{}, nil
		},
		GOOS: f.goos,
		Getenv: func(key string) string {
			return f.env[key]
		},
	}
}

type fakeListener struct{ net.Listener }

func (fakeListener) Close() error { return nil }

func meminfo(gibs float64) string {
	return fmt.Sprintf(procMeminfo, int64(gibs*1024*1024))
}

// inotify gives /proc files with the given limits, plus 32 GiB of memory.
func inotify(watches, instances int) map[string]string {
	return map[string]string{
		"/proc/sys/fs/inotify/max_user_watches":   fmt.Sprintf("%d\n", watches),
		"/proc/sys/fs/inotify/max_user_instances": fmt.Sprintf("%d\n", instances),
		"/proc/meminfo": meminfo(32),
	}
}

func find(t *testing.T, checks []cluster.Check, name string) cluster.Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name || strings.HasPrefix(c.Name, name) {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, checks)
	return cluster.Check{}
}

// wantCheck asserts status and that detail and fix contain the given fragments.
func wantCheck(t *testing.T, c cluster.Check, status cluster.CheckStatus, detail, fix []string) {
	t.Helper()
	if c.Status != status {
		t.Errorf("%s: status %v, want %v (detail %q, fix %q)", c.Name, c.Status, status, c.Detail, c.Fix)
	}
	if strings.Contains(c.Detail, "\n") {
		t.Errorf("%s: detail spans lines: %q", c.Name, c.Detail)
	}
	for _, s := range detail {
		if !strings.Contains(c.Detail, s) {
			t.Errorf("%s: detail %q lacks %q", c.Name, c.Detail, s)
		}
	}
	for _, s := range fix {
		if !strings.Contains(c.Fix, s) {
			t.Errorf("%s: fix %q lacks %q", c.Name, c.Fix, s)
		}
	}
	if status == cluster.Pass && c.Fix != "" {
		t.Errorf("%s: passing check has a fix %q", c.Name, c.Fix)
	}
	if status != cluster.Pass && c.Fix == "" {
		t.Errorf("%s: %v check has no fix", c.Name, status)
	}
}

func TestDetectEngine(t *testing.T) {
	tests := []struct {
		name       string
		f          fake
		wantName   string
		wantVer    string
		wantMem    int64
		wantErr    error
		wantDetail []string
		wantFix    []string
	}{
		{
			name:     "docker desktop answers",
			f:        fake{goos: "darwin", cmds: map[string]result{"docker " + infoArgs: {stdout: dockerDesktopInfo}}},
			wantName: "docker", wantVer: "27.3.1", wantMem: 8232873984,
			wantDetail: []string{"docker 27.3.1 (Docker Desktop)"},
		},
		{
			name:       "no CLI at all on linux",
			f:          fake{goos: "linux"},
			wantName:   "",
			wantErr:    ErrNotInstalled,
			wantDetail: []string{"neither docker nor podman is installed"},
			wantFix:    []string{"https://docs.docker.com/engine/install/", "https://podman.io/docs/installation", "--backend sim"},
		},
		{
			name:     "no CLI at all on macOS",
			f:        fake{goos: "darwin"},
			wantErr:  ErrNotInstalled,
			wantFix:  []string{"Docker Desktop (https://docs.docker.com/desktop/)", "Podman"},
			wantName: "",
		},
		{
			name: "docker engine down on linux",
			f: fake{goos: "linux", cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerDownInfo, stderr: dockerDownStderr, err: errExit},
			}},
			wantName:   "docker",
			wantErr:    ErrNotRunning,
			wantDetail: []string{"docker is installed but its engine does not answer", "Cannot connect to the Docker daemon"},
			wantFix:    []string{"sudo systemctl start docker", "--backend sim"},
		},
		{
			name: "docker desktop not started on macOS",
			f: fake{goos: "darwin", cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerDownInfo, stderr: dockerDownStderr, err: errExit},
			}},
			wantName: "docker",
			wantErr:  ErrNotRunning,
			wantFix:  []string{"open -a Docker", "--backend sim"},
		},
		{
			name: "docker socket permission denied",
			f: fake{goos: "linux", cmds: map[string]result{
				"docker " + infoArgs: {stderr: "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock", err: errExit},
			}},
			wantName: "docker",
			wantErr:  ErrNotRunning,
			wantFix:  []string{"sudo usermod -aG docker $USER"},
		},
		{
			name: "docker reports server errors with exit 0",
			f: fake{goos: "linux", cmds: map[string]result{
				"docker " + infoArgs: {stdout: `{"ServerVersion":"","ServerErrors":["error during connect: context deadline exceeded"]}`},
			}},
			wantName:   "docker",
			wantErr:    ErrNotRunning,
			wantDetail: []string{"error during connect"},
		},
		{
			name: "docker prints garbage",
			f: fake{goos: "linux", cmds: map[string]result{
				"docker " + infoArgs: {stdout: "not json"},
			}},
			wantName: "docker",
			wantErr:  ErrNotRunning,
			wantFix:  []string{"docker info"},
		},
		{
			name:     "only podman, and it answers",
			f:        fake{goos: "linux", cmds: map[string]result{"podman " + infoArgs: {stdout: podmanInfo}}},
			wantName: "podman", wantVer: "5.2.0", wantMem: 16647962624,
			wantDetail: []string{"podman 5.2.0 (fedora 40)"},
		},
		{
			name: "docker down, podman answers",
			f: fake{goos: "linux", cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerDownInfo, stderr: dockerDownStderr, err: errExit},
				"podman " + infoArgs: {stdout: podmanInfo},
			}},
			wantName: "podman", wantVer: "5.2.0", wantMem: 16647962624,
		},
		{
			name: "docker and podman machine both down: blame docker",
			f: fake{goos: "darwin", cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerDownInfo, stderr: dockerDownStderr, err: errExit},
				"podman " + infoArgs: {stderr: podmanDownStderr, err: errExit},
			}},
			wantName: "docker",
			wantErr:  ErrNotRunning,
			wantFix:  []string{"open -a Docker"},
		},
		{
			name: "podman machine down on macOS",
			f: fake{goos: "darwin", cmds: map[string]result{
				"podman " + infoArgs: {stderr: podmanDownStderr, err: errExit},
			}},
			wantName:   "podman",
			wantErr:    ErrNotRunning,
			wantDetail: []string{"podman is installed but its engine does not answer: Cannot connect to Podman"},
			wantFix:    []string{"podman machine start"},
		},
		{
			name: "podman's docker shim counts as podman",
			f: fake{goos: "linux", cmds: map[string]result{
				"docker " + infoArgs: {stdout: podmanInfo},
			}},
			wantName: "podman", wantVer: "5.2.0",
		},
		{
			name: "KIND_EXPERIMENTAL_PROVIDER=podman wins over a working docker",
			f: fake{goos: "linux", env: map[string]string{"KIND_EXPERIMENTAL_PROVIDER": "podman"}, cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerLinuxInfo},
				"podman " + infoArgs: {stdout: podmanInfo},
			}},
			wantName: "podman", wantVer: "5.2.0",
		},
		{
			name: "KIND_EXPERIMENTAL_PROVIDER=podman without podman",
			f: fake{goos: "linux", env: map[string]string{"KIND_EXPERIMENTAL_PROVIDER": "podman"}, cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerLinuxInfo},
			}},
			wantName:   "podman",
			wantErr:    ErrNotInstalled,
			wantDetail: []string{"podman is not installed"},
			wantFix:    []string{"https://podman.io/docs/installation", "unset KIND_EXPERIMENTAL_PROVIDER"},
		},
		{
			name: "KIND_EXPERIMENTAL_PROVIDER=docker with docker down",
			f: fake{goos: "linux", env: map[string]string{"KIND_EXPERIMENTAL_PROVIDER": "docker"}, cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerDownInfo, stderr: dockerDownStderr, err: errExit},
				"podman " + infoArgs: {stdout: podmanInfo},
			}},
			wantName: "docker",
			wantErr:  ErrNotRunning,
		},
		{
			name:       "KIND_EXPERIMENTAL_PROVIDER=nerdctl is not supported",
			f:          fake{goos: "linux", env: map[string]string{"KIND_EXPERIMENTAL_PROVIDER": "nerdctl"}},
			wantName:   "nerdctl",
			wantErr:    ErrUnsupported,
			wantDetail: []string{"KIND_EXPERIMENTAL_PROVIDER=nerdctl"},
			wantFix:    []string{"docker or podman"},
		},
		{
			name: "unknown KIND_EXPERIMENTAL_PROVIDER is ignored, as kind does",
			f: fake{goos: "linux", env: map[string]string{"KIND_EXPERIMENTAL_PROVIDER": "lxc"}, cmds: map[string]result{
				"docker " + infoArgs: {stdout: dockerLinuxInfo},
			}},
			wantName: "docker", wantVer: "28.2.2",
		},
		{
			name: "only nerdctl installed",
			f: fake{goos: "linux", cmds: map[string]result{
				"nerdctl -v": {stdout: "nerdctl version 2.0.0\n"},
			}},
			wantName: "nerdctl",
			wantErr:  ErrUnsupported,
			wantFix:  []string{"install Docker Engine"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.f.Env()
			eng, err := DetectEngine(context.Background(), env)
			if eng.Name != tt.wantName || eng.Version != tt.wantVer {
				t.Errorf("engine %+v, want name %q version %q", eng, tt.wantName, tt.wantVer)
			}
			if tt.wantMem != 0 && eng.MemTotal != tt.wantMem {
				t.Errorf("MemTotal %d, want %d", eng.MemTotal, tt.wantMem)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			status := cluster.Pass
			if tt.wantErr != nil {
				status = cluster.Fail
			}
			checks := run(context.Background(), env, Lab{}, nil)
			wantCheck(t, find(t, checks, engineName), status, tt.wantDetail, tt.wantFix)
		})
	}
}

func TestDetectEngineTimeout(t *testing.T) {
	old := commandTimeout
	commandTimeout = 50 * time.Millisecond
	t.Cleanup(func() { commandTimeout = old })

	hang := fake{goos: "linux", run: func(ctx context.Context, name string, args ...string) ([]byte, []byte, error) {
		if name != "docker" {
			return nil, nil, &exec.Error{Name: name, Err: exec.ErrNotFound}
		}
		<-ctx.Done()
		return nil, nil, errors.New("signal: killed")
	}}
	eng, err := DetectEngine(context.Background(), hang.Env())
	if !errors.Is(err, ErrNotRunning) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want ErrNotRunning and DeadlineExceeded", err)
	}
	if eng.Name != "docker" || !strings.Contains(err.Error(), "did not answer within") {
		t.Errorf("engine %+v, error %q", eng, err)
	}

	// The caller giving up is not the engine's fault.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = DetectEngine(ctx, hang.Env())
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotRunning) {
		t.Errorf("canceled: error %v, want context.Canceled only", err)
	}
}

func TestMemory(t *testing.T) {
	desktop := func(bytes int64) map[string]result {
		return map[string]result{"docker " + infoArgs: {stdout: fmt.Sprintf(`{"ServerVersion":"27.3.1","MemTotal":%d,"OperatingSystem":"Docker Desktop"}`, bytes)}}
	}
	down := map[string]result{"docker " + infoArgs: {stdout: dockerDownInfo, stderr: dockerDownStderr, err: errExit}}
	tests := []struct {
		name   string
		f      fake
		status cluster.CheckStatus
		detail []string
		fix    []string
	}{
		{"docker desktop with 8 GB reports 7.7 GiB", fake{goos: "darwin", cmds: desktop(8232873984)},
			cluster.Pass, []string{"7.7 GiB in Docker Desktop's VM"}, nil},
		{"docker desktop with 6 GiB", fake{goos: "darwin", cmds: desktop(6 << 30)},
			cluster.Warn, []string{"6.0 GiB in Docker Desktop's VM", "about 8 GiB"}, []string{"Settings → Resources → Memory"}},
		{"docker desktop with 2 GiB", fake{goos: "windows", cmds: desktop(2 << 30)},
			cluster.Fail, []string{"2.0 GiB"}, []string{"Settings → Resources"}},
		{"engine's figure beats the host's", fake{goos: "linux", cmds: desktop(3 << 30), files: map[string]string{"/proc/meminfo": meminfo(64)}},
			cluster.Fail, []string{"3.0 GiB in Docker Desktop's VM"}, nil},
		{"podman machine with 6 GiB", fake{goos: "darwin", cmds: map[string]result{"podman " + infoArgs: {stdout: strings.Replace(podmanInfo, "16647962624", "6442450944", 1)}}},
			cluster.Warn, []string{"6.0 GiB in the podman VM"}, []string{"podman machine set --memory 8192"}},
		{"native docker on a 24 GiB linux box", fake{goos: "linux", cmds: map[string]result{"docker " + infoArgs: {stdout: dockerLinuxInfo}}},
			cluster.Pass, []string{"23.5 GiB for the docker engine"}, nil},
		{"engine down, linux host with 3 GiB", fake{goos: "linux", cmds: down, files: map[string]string{"/proc/meminfo": meminfo(3)}},
			cluster.Fail, []string{"3.0 GiB on this machine"}, []string{"8 GiB or more"}},
		{"engine down, linux host with 6 GiB", fake{goos: "linux", cmds: down, files: map[string]string{"/proc/meminfo": meminfo(6)}},
			cluster.Warn, []string{"6.0 GiB on this machine"}, []string{"--backend sim"}},
		{"no engine, linux host with 32 GiB", fake{goos: "linux", files: map[string]string{"/proc/meminfo": meminfo(32)}},
			cluster.Pass, []string{"32.0 GiB on this machine"}, nil},
		{"no /proc/meminfo", fake{goos: "linux", cmds: down},
			cluster.Warn, []string{"could not tell"}, nil},
		{"engine down on macOS: unknown", fake{goos: "darwin", cmds: down},
			cluster.Warn, []string{"unknown until the container engine answers"}, []string{"start the container engine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := run(context.Background(), tt.f.Env(), Lab{}, nil)
			wantCheck(t, find(t, checks, memoryName), tt.status, tt.detail, tt.fix)
		})
	}
}

func TestParseMemTotal(t *testing.T) {
	if _, err := parseMemTotal([]byte("MemFree: 12 kB\n")); err == nil {
		t.Error("no MemTotal: want an error")
	}
	if _, err := parseMemTotal([]byte("MemTotal: lots kB\n")); err == nil {
		t.Error("bad MemTotal: want an error")
	}
	if got, err := parseMemTotal([]byte(meminfo(2))); err != nil || got != 2<<30 {
		t.Errorf("got %d, %v; want %d", got, err, 2<<30)
	}
}

func TestInotify(t *testing.T) {
	tests := []struct {
		name     string
		f        fake
		status   cluster.CheckStatus
		detail   []string
		fix      []string
		notInFix string
		exactFix string
	}{
		{"high enough", fake{goos: "linux", files: inotify(1048576, 8192)},
			cluster.Pass, []string{"max_user_watches 1048576", "max_user_instances 8192"}, nil, "", ""},
		{"exactly the minimum", fake{goos: "linux", files: inotify(524288, 512)},
			cluster.Pass, nil, nil, "", ""},
		{"both low", fake{goos: "linux", files: inotify(192536, 128)},
			cluster.Warn, []string{"max_user_watches 192536 < 524288", "max_user_instances 128 < 512"}, nil, "",
			`sudo sysctl -w fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512 && printf 'fs.inotify.max_user_watches=524288\nfs.inotify.max_user_instances=512\n' | sudo tee -a /etc/sysctl.d/99-clustermesh-lab.conf`},
		{"only instances low", fake{goos: "linux", files: inotify(1048576, 128)},
			cluster.Warn, []string{"max_user_instances 128 < 512"}, []string{"sudo sysctl -w fs.inotify.max_user_instances=512", "/etc/sysctl.d/"}, "max_user_watches", ""},
		{"unreadable", fake{goos: "linux", files: map[string]string{}},
			cluster.Warn, []string{"max_user_watches unreadable"}, []string{"sudo sysctl -w"}, "", ""},
		{"not linux", fake{goos: "darwin"},
			cluster.Pass, []string{"not applicable on darwin"}, nil, "", ""},
		{"windows", fake{goos: "windows"},
			cluster.Pass, []string{"not applicable on windows"}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := inotifyCheck(tt.f.Env())
			if c.Name != inotifyName {
				t.Errorf("name %q", c.Name)
			}
			wantCheck(t, c, tt.status, tt.detail, tt.fix)
			if tt.notInFix != "" && strings.Contains(c.Fix, tt.notInFix) {
				t.Errorf("fix %q mentions %q", c.Fix, tt.notInFix)
			}
			if tt.exactFix != "" && c.Fix != tt.exactFix {
				t.Errorf("fix\n %s\nwant\n %s", c.Fix, tt.exactFix)
			}
		})
	}
}

// holdPort occupies a port the way a leftover kind node would: TCP on 0.0.0.0.
func holdPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on 0.0.0.0: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestPorts(t *testing.T) {
	held := holdPort(t)
	sys := SystemEnv()
	sys.GOOS = "linux"

	t.Run("real busy port fails", func(t *testing.T) {
		c := portsCheck(sys, []int{held}, nil)
		p := fmt.Sprint(held)
		wantCheck(t, c, cluster.Fail, []string{"already in use: " + p}, []string{"sudo ss -ltnp '( sport = :" + p + " )'"})
		if c.Name != "Host ports "+p {
			t.Errorf("name %q", c.Name)
		}
	})
	t.Run("real free port passes and is released", func(t *testing.T) {
		l, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			t.Skip(err)
		}
		free := l.Addr().(*net.TCPAddr).Port
		l.Close()
		wantCheck(t, portsCheck(sys, []int{free}, nil), cluster.Pass, []string{"free"}, nil)
		// The check must not keep the port it tried.
		wantCheck(t, portsCheck(sys, []int{free}, nil), cluster.Pass, []string{"free"}, nil)
	})

	tests := []struct {
		name     string
		f        fake
		clusters []string
		status   cluster.CheckStatus
		detail   []string
		fix      []string
	}{
		{"all free", fake{goos: "linux"}, nil, cluster.Pass, []string{"free"}, nil},
		{"two busy on linux", fake{goos: "linux", busy: map[int]bool{32042: true, 31235: true}}, nil,
			cluster.Fail, []string{"already in use: 32042, 31235"}, []string{"sudo ss -ltnp '( sport = :32042 or sport = :31235 )'"}},
		{"busy on macOS", fake{goos: "darwin", busy: map[int]bool{31234: true}}, nil,
			cluster.Fail, []string{"31234"}, []string{"lsof -nP -iTCP:31234 -sTCP:LISTEN"}},
		{"busy on windows", fake{goos: "windows", busy: map[int]bool{31234: true, 31235: true}}, nil,
			cluster.Fail, []string{"31234, 31235"}, []string{`netstat -ano | findstr ":31234 :31235"`}},
		{"held by a leftover us cluster", fake{goos: "linux", busy: map[int]bool{32042: true, 31234: true, 31235: true}}, []string{"eu", "us"},
			cluster.Fail, []string{"32042, 31234, 31235", `kind cluster "us"`}, []string{"kind delete cluster --name us"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := portsCheck(tt.f.Env(), hostPorts, tt.clusters)
			if c.Name != "Host ports 32042, 31234, 31235" {
				t.Errorf("name %q", c.Name)
			}
			wantCheck(t, c, tt.status, tt.detail, tt.fix)
		})
	}
}

func TestKindClusters(t *testing.T) {
	const psArgs = "ps -a --filter label=io.x-k8s.kind.cluster --format {{.Names}}"
	up := func(ps result) map[string]result {
		return map[string]result{"docker " + infoArgs: {stdout: dockerLinuxInfo}, "docker " + psArgs: ps}
	}
	tests := []struct {
		name   string
		f      fake
		status cluster.CheckStatus
		detail []string
		fix    []string
	}{
		{"none", fake{goos: "linux", cmds: up(result{})}, cluster.Pass, []string{"none named us or eu"}, nil},
		{"someone else's cluster", fake{goos: "linux", cmds: up(result{stdout: "kind-control-plane\n"})},
			cluster.Pass, []string{"other kind clusters (they use memory too): kind"}, nil},
		{"lab clusters left over", fake{goos: "linux", cmds: up(result{stdout: "us-worker2\nus-worker\nus-control-plane\neu-control-plane\neu-worker\neu-worker2\nus-external-load-balancer\n"})},
			cluster.Warn, []string{"already there from an earlier run: eu, us"}, []string{"kind delete clusters eu us"}},
		{"ps fails", fake{goos: "linux", cmds: up(result{stderr: "Error response from daemon: something", err: errExit})},
			cluster.Warn, []string{"could not list them", "something"}, []string{"docker ps -a --filter label=io.x-k8s.kind.cluster"}},
		{"no engine", fake{goos: "linux"}, cluster.Pass, []string{"not checked"}, nil},
		{"podman", fake{goos: "linux", cmds: map[string]result{"podman " + infoArgs: {stdout: podmanInfo}, "podman " + psArgs: {stdout: "eu-control-plane\n"}}},
			cluster.Warn, []string{": eu"}, []string{"kind delete clusters eu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := run(context.Background(), tt.f.Env(), Lab{}, nil)
			wantCheck(t, find(t, checks, clustersName), tt.status, tt.detail, tt.fix)
		})
	}
}

func TestRunOrderAndLeftoverLab(t *testing.T) {
	f := fake{
		goos: "linux",
		cmds: map[string]result{
			"docker " + infoArgs: {stdout: dockerLinuxInfo},
			"docker ps -a --filter label=io.x-k8s.kind.cluster --format {{.Names}}": {stdout: "us-control-plane\nus-worker\n"},
		},
		files: inotify(1048576, 8192),
		busy:  map[int]bool{32042: true},
	}
	checks := Run(context.Background(), f.Env(), Lab{})
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	want := []string{engineName, kernelName, cgroupName, memoryName, inotifyName, networkName, "Host ports 32042, 31234, 31235", clustersName, kubernetesName, imagesName}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Fatalf("checks %q, want %q", names, want)
	}
	wantCheck(t, checks[0], cluster.Pass, []string{"docker 28.2.2 (Ubuntu 24.04.1 LTS)"}, nil)
	wantCheck(t, checks[6], cluster.Fail, []string{"32042", `kind cluster "us"`}, nil)
	wantCheck(t, checks[7], cluster.Warn, []string{"us"}, nil)
	if !cluster.Failed(checks) {
		t.Error("a busy port must fail the preflight")
	}
}

func TestRunAllGood(t *testing.T) {
	f := fake{
		goos: "linux",
		cmds: map[string]result{
			"docker " + infoArgs: {stdout: dockerLinuxInfo},
			"docker ps -a --filter label=io.x-k8s.kind.cluster --format {{.Names}}": {},
			"docker network ls -q":                                    {stdout: "b1\nk1\n"},
			"docker network inspect b1 k1":                            {stdout: `[` + bridgeNet + `,` + kindNet("172.18.0.0/16") + `]`},
			"docker inspect --type=image " + cluster.DefaultNodeImage: {stdout: "[{}]"},
		},
		files: inotify(1048576, 8192),
	}
	for _, c := range Run(context.Background(), f.Env(), Lab{}) {
		wantCheck(t, c, cluster.Pass, nil, nil)
	}
}

// TestSystemEnvDoesNotNeedDocker runs the real machine's checks: whatever the
// engine's state, every check must come back, in order, with one-line details.
func TestSystemEnvDoesNotNeedDocker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	checks := run(ctx, SystemEnv(), Lab{}, nil)
	if len(checks) != 10 {
		t.Fatalf("%d checks, want 10", len(checks))
	}
	for _, c := range checks {
		if c.Detail == "" || strings.Contains(c.Detail, "\n") || strings.Contains(c.Fix, "\n") {
			t.Errorf("check %+v: want a one-line detail and fix", c)
		}
	}
}
