package doctor

import (
	"context"
	"fmt"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Networks as `docker network inspect` and `podman network inspect` print them.
const bridgeNet = `{"Name":"bridge","Id":"b1","IPAM":{"Driver":"default","Config":[{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1"}]}}`

func kindNet(subnet string) string {
	return fmt.Sprintf(`{"Name":"kind","Id":"k1","IPAM":{"Driver":"default","Config":[{"Subnet":"fc00:f853:ccd:e793::/64"},{"Subnet":%q,"Gateway":"172.18.0.1"}]}}`, subnet)
}

func otherNet(name, subnet string) string {
	return fmt.Sprintf(`{"Name":%q,"IPAM":{"Config":[{"Subnet":%q}]}}`, name, subnet)
}

// dockerWith is a docker engine on linux with the given info JSON and extra
// commands; network listing and image inspection fail unless given.
func dockerWith(info string, extra map[string]result) fake {
	cmds := map[string]result{"docker " + infoArgs: {stdout: info}}
	for k, v := range extra {
		cmds[k] = v
	}
	return fake{goos: "linux", cmds: cmds, files: inotify(1048576, 8192)}
}

func TestEngineReportsCgroupsAndKernel(t *testing.T) {
	eng, err := DetectEngine(context.Background(), dockerWith(`{"ServerVersion":"20.10.24","CgroupVersion":"1","KernelVersion":"6.18.44-fc-v657"}`, nil).Env())
	if err != nil || !eng.CgroupV1() || eng.KernelVersion != "6.18.44-fc-v657" {
		t.Errorf("docker: %+v %v", eng, err)
	}
	pod := `{"host":{"memTotal":1,"cgroupVersion":"v2","kernel":"6.9.7-200.fc40.x86_64","distribution":{"distribution":"fedora","version":"40"}},"version":{"Version":"5.2.0"}}`
	eng, err = DetectEngine(context.Background(), fake{goos: "linux", cmds: map[string]result{"podman " + infoArgs: {stdout: pod}}}.Env())
	if err != nil || eng.CgroupVersion != "2" || eng.CgroupV1() || eng.KernelVersion != "6.9.7-200.fc40.x86_64" {
		t.Errorf("podman: %+v %v", eng, err)
	}
}

func TestKernel(t *testing.T) {
	tests := []struct {
		name   string
		f      fake
		status cluster.CheckStatus
		detail []string
		fix    []string
	}{
		{"engine's kernel", dockerWith(`{"ServerVersion":"27.3.1","KernelVersion":"6.10.14-linuxkit","OperatingSystem":"Docker Desktop"}`, nil),
			cluster.Pass, []string{"Linux 6.10.14-linuxkit (the docker engine's", "5.10 or newer"}, nil},
		{"exactly 5.10", dockerWith(`{"ServerVersion":"27.3.1","KernelVersion":"5.10.0-32-amd64"}`, nil),
			cluster.Pass, []string{"5.10.0-32-amd64"}, nil},
		{"too old on the engine", dockerWith(`{"ServerVersion":"20.10.7","KernelVersion":"5.4.0-150-generic"}`, nil),
			cluster.Fail, []string{"5.4.0-150-generic", "older than 5.10", "will not start"}, []string{"5.10 or newer"}},
		{"ancient", dockerWith(`{"ServerVersion":"19.03","KernelVersion":"4.19.0"}`, nil),
			cluster.Fail, []string{"4.19.0"}, nil},
		{"no engine: this machine's", fake{goos: "linux", files: map[string]string{"/proc/sys/kernel/osrelease": "6.1.0-18-amd64\n"}},
			cluster.Pass, []string{"Linux 6.1.0-18-amd64 (this machine's"}, nil},
		{"no engine, old machine", fake{goos: "linux", files: map[string]string{"/proc/sys/kernel/osrelease": "3.10.0-1160.el7.x86_64\n"}},
			cluster.Fail, []string{"3.10.0-1160.el7.x86_64"}, nil},
		{"unreadable", fake{goos: "linux"}, cluster.Warn, []string{"could not tell"}, []string{"uname -r"}},
		{"garbage", dockerWith(`{"ServerVersion":"27.3.1","KernelVersion":"unknown"}`, nil),
			cluster.Warn, []string{`"unknown"`}, []string{"uname -r"}},
		{"macOS without an engine", fake{goos: "darwin"}, cluster.Warn, []string{"unknown until the container engine answers"}, []string{"start the container engine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCheck(t, find(t, run(context.Background(), tt.f.Env(), Lab{}, nil), kernelName), tt.status, tt.detail, tt.fix)
		})
	}
}

func TestCgroups(t *testing.T) {
	tests := []struct {
		name   string
		f      fake
		status cluster.CheckStatus
		detail []string
		fix    []string
	}{
		{"cgroup v1: warn and say what the lab does", dockerWith(`{"ServerVersion":"20.10.24","CgroupVersion":"1"}`, nil),
			cluster.Warn, []string{"cgroup v1", "kubelet 1.35 refuses", "failCgroupV1: false", "kind-us-cluster.yaml"}, []string{"nothing is needed for the lab"}},
		{"cgroup v2", dockerWith(dockerLinuxInfo, nil), cluster.Pass, []string{"cgroup v2"}, nil},
		{"engine does not say", dockerWith(dockerDesktopInfo, nil), cluster.Pass, []string{"does not say"}, nil},
		{"no engine", fake{goos: "linux"}, cluster.Pass, []string{"not checked"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCheck(t, find(t, run(context.Background(), tt.f.Env(), Lab{}, nil), cgroupName), tt.status, tt.detail, tt.fix)
		})
	}
}

func TestKindNetwork(t *testing.T) {
	nets := func(ids string, list ...string) map[string]result {
		out := "["
		for i, n := range list {
			if i > 0 {
				out += ","
			}
			out += n
		}
		return map[string]result{
			"docker network ls -q":                       {stdout: ids},
			"docker network inspect " + ids[:len(ids)-1]: {stdout: out + "]"},
		}
	}
	tests := []struct {
		name   string
		f      fake
		status cluster.CheckStatus
		detail []string
		fix    []string
	}{
		{"clear", dockerWith(dockerLinuxInfo, nets("b1 k1\n", bridgeNet, kindNet("172.18.0.0/16"))),
			cluster.Pass, []string{"172.18.0.0/16", "clear of the lab's pod and service subnets (10.1.0.0/16, 172.20.1.0/24, 10.2.0.0/16, 172.20.2.0/24)"}, nil},
		{"kind on 172.20.0.0/16 collides with the service subnets", dockerWith(dockerLinuxInfo, nets("b1 k1 x\n", bridgeNet, kindNet("172.20.0.0/16"), otherNet("x", "172.21.0.0/16"))),
			cluster.Fail, []string{"172.20.0.0/16 overlaps the lab's 172.20.1.0/24, 172.20.2.0/24"},
			[]string{"docker network rm kind", "--subnet 172.18.0.0/16 kind", "enable_ip_masquerade=true"}},
		{"kind on 10.0.0.0/8 collides with the pod subnets", dockerWith(dockerLinuxInfo, nets("k1\n", kindNet("10.0.0.0/8"))),
			cluster.Fail, []string{"10.1.0.0/16, 10.2.0.0/16"}, []string{"--subnet 172.17.0.0/16"}},
		{"not created, 172.17-19 taken: docker would pick 172.20", dockerWith(dockerLinuxInfo, nets("b1 a b\n", bridgeNet, otherNet("a", "172.18.0.0/16"), otherNet("b", "172.19.0.0/16"))),
			cluster.Warn, []string{"not created yet", "would likely give it 172.20.0.0/16", "172.20.1.0/24"}, []string{"create it yourself", "--subnet 172.21.0.0/16 kind"}},
		{"not created, docker would pick 172.18", dockerWith(dockerLinuxInfo, nets("b1\n", bridgeNet)),
			cluster.Pass, []string{"not created yet", "172.18.0.0/16, clear"}, nil},
		{"listing fails", dockerWith(dockerLinuxInfo, map[string]result{"docker network ls -q": {stderr: "permission denied", err: errExit}}),
			cluster.Warn, []string{"could not list", "permission denied"}, []string{"docker network inspect kind"}},
		{"no engine", fake{goos: "linux"}, cluster.Pass, []string{"not checked"}, nil},
		{"podman's format", fake{goos: "linux", cmds: map[string]result{
			"podman " + infoArgs:                 {stdout: podmanInfo},
			"podman network ls -q":               {stdout: "podman\nkind\n"},
			"podman network inspect podman kind": {stdout: `[{"name":"podman","subnets":[{"subnet":"10.88.0.0/16"}]},{"name":"kind","subnets":[{"subnet":"10.89.0.0/24"}]}]`},
		}}, cluster.Pass, []string{"10.89.0.0/24, clear"}, nil},
		{"podman overlap", fake{goos: "linux", cmds: map[string]result{
			"podman " + infoArgs:          {stdout: podmanInfo},
			"podman network ls -q":        {stdout: "kind\n"},
			"podman network inspect kind": {stdout: `[{"name":"kind","subnets":[{"subnet":"10.2.0.0/24"}]}]`},
		}}, cluster.Fail, []string{"10.2.0.0/24 overlaps the lab's 10.2.0.0/16"}, []string{"podman network rm kind", "podman network create --subnet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCheck(t, find(t, run(context.Background(), tt.f.Env(), Lab{}, nil), networkName), tt.status, tt.detail, tt.fix)
		})
	}
}

func TestKubernetesVersionCheck(t *testing.T) {
	tests := []struct {
		name   string
		lab    Lab
		status cluster.CheckStatus
		detail []string
		fix    []string
	}{
		{"the lab's pin", Lab{}, cluster.Pass, []string{"v1.35.8", cluster.DefaultNodeImage, "Cilium 1.19.5 is tested with (1.32-1.35)"}, nil},
		{"kind's own default is too new", Lab{NodeImage: "kindest/node:v1.37.0"}, cluster.Warn,
			[]string{"v1.37.0", "outside the range Cilium 1.19.5 is tested with (1.32-1.35)"}, []string{"--node-image", cluster.DefaultNodeImage}},
		{"1.20 takes 1.36", Lab{NodeImage: "kindest/node:v1.36.1", CiliumVersion: "1.20.0"}, cluster.Pass, []string{"v1.36.1", "(1.33-1.36)"}, nil},
		{"untagged override", Lab{NodeImage: "localhost:5000/node@sha256:0123"}, cluster.Warn,
			[]string{"unknown", "no vX.Y.Z tag", "1.32-1.35"}, []string{"drop --node-image"}},
		{"a Cilium the lab has no range for", Lab{CiliumVersion: "1.18.11"}, cluster.Pass, []string{"v1.35.8", "no tested range for Cilium 1.18.11"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCheck(t, find(t, run(context.Background(), fake{goos: "linux"}.Env(), tt.lab, nil), kubernetesName), tt.status, tt.detail, tt.fix)
		})
	}
}

func TestImagePulls(t *testing.T) {
	const img = "kindest/node:v1.35.8"
	present := dockerWith(dockerLinuxInfo, map[string]result{"docker inspect --type=image " + img: {stdout: "[{}]"}})
	wantCheck(t, find(t, run(context.Background(), present.Env(), Lab{NodeImage: img}, nil), imagesName),
		cluster.Pass, []string{"already in the docker engine", "nginx and busybox from Docker Hub"}, nil)
	missing := dockerWith(dockerLinuxInfo, nil)
	wantCheck(t, find(t, run(context.Background(), missing.Env(), Lab{NodeImage: img}, nil), imagesName),
		cluster.Warn, []string{"kind will pull the node image " + img + " from Docker Hub", "rate-limits anonymous pulls per IP address"},
		[]string{"docker login", "docker pull " + img, "registry mirror"})
	wantCheck(t, find(t, run(context.Background(), fake{goos: "linux"}.Env(), Lab{}, nil), imagesName), cluster.Pass, []string{"not checked"}, nil)
}
