#!/usr/bin/env bash
# build-bins.sh: every Go binary of the e2e images, from the module proxy,
# into $E2E_CACHE/bin (static unless said otherwise). A binary is rebuilt
# only when its inputs (versions, wrapper module, this script) changed.
#
#   hack/e2e/build-bins.sh [k8s|etcd|node-tools|coredns|cilium|certgen|all]...
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_HERE/versions.sh"

bin=$E2E_CACHE/bin
mkdir -p "$bin"
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
# The checksum database does not know Cilium's gobgp fork (mod/cilium/go.sum has it).
export GONOSUMDB=github.com/cilium/gobgp
self=$E2E_HERE/build-bins.sh

# step NAME HASH-INPUTS... -- WORDS...: run the build function build_NAME
# unless stamp bins-NAME matches; time it.
step() {
	local name=$1 h
	shift
	h=$(e2e_hash "$self" "$E2E_HERE/versions.sh" "$@")
	if e2e_fresh "bins-$name" "$h"; then
		e2e_log "$name: up to date"
		return
	fi
	local start
	start=$(date +%s)
	e2e_log "$name: building"
	"build_$name"
	e2e_stamp "bins-$name" "$h"
	e2e_log "$name: built in $(e2e_elapsed "$start")s"
}

goinstall() { # goinstall LDFLAGS PKG@VERSION... into $bin
	local ldflags=$1
	shift
	GOBIN=$bin nice -n 10 go install -trimpath -ldflags "$ldflags" "$@"
}

build_k8s() {
	local minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	local v="" n
	for n in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		v+=" -X $n.gitVersion=$K8S_VERSION -X $n.gitMajor=1 -X $n.gitMinor=$minor -X $n.gitTreeState=clean -X $n.buildDate=1970-01-01T00:00:00Z"
	done
	(
		cd "$E2E_HERE/mod/k8s"
		for c in kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
			local s
			s=$(date +%s)
			nice -n 10 go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "-s -w$v" -o "$bin/$c" "k8s.io/kubernetes/cmd/$c"
			e2e_log "  $c: $(e2e_elapsed "$s")s, $(du -h "$bin/$c" | cut -f1)"
		done
	)
}

# etcd's go.mod has relative replaces, so `go install` refuses it: a wrapper
# module is generated in the cache for each version.
etcd_build() { # etcd_build VERSION OUT
	local d=$E2E_CACHE/mod-etcd-$1
	rm -rf "$d" && mkdir -p "$d"
	(
		cd "$d"
		go mod init e2e/etcd >/dev/null 2>&1
		go get "go.etcd.io/etcd/server/v3@v$1" >/dev/null 2>&1
		nice -n 10 go build -trimpath -ldflags "-s -w" -o "$2" go.etcd.io/etcd/server/v3
	)
}
build_etcd() {
	etcd_build "$ETCD_K8S_VERSION" "$bin/etcd-$ETCD_K8S_VERSION"
	etcd_build "$ETCD_CILIUM_VERSION" "$bin/etcd-$ETCD_CILIUM_VERSION"
}

build_node_tools() {
	local cd=github.com/containerd/containerd/v2
	goinstall "-s -w -X $cd/version.Version=$CONTAINERD_VERSION -X $cd/version.Revision=e2e" \
		"$cd/cmd/containerd@$CONTAINERD_VERSION" "$cd/cmd/ctr@$CONTAINERD_VERSION" "$cd/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
	goinstall "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
	local p=github.com/containernetworking/plugins/plugins
	goinstall "-s -w" "$p/main/loopback@$CNI_PLUGINS_VERSION" "$p/main/ptp@$CNI_PLUGINS_VERSION" \
		"$p/ipam/host-local@$CNI_PLUGINS_VERSION" "$p/meta/portmap@$CNI_PLUGINS_VERSION"
	# runc needs cgo (nsenter) and libseccomp: linked against the host's
	# Debian, the same release as the node image's (bookworm).
	dpkg -s libseccomp-dev >/dev/null 2>&1 || apt-get install -y -qq libseccomp-dev >/dev/null
	CGO_ENABLED=1 GOBIN=$bin nice -n 10 go install -trimpath -tags "seccomp urfave_cli_no_docs" \
		-ldflags "-s -w -X main.version=${RUNC_VERSION#v}" "github.com/opencontainers/runc@$RUNC_VERSION"
	(cd "$E2E_ROOT" && go build -trimpath -ldflags "-s -w" -o "$bin/capclamp" ./hack/e2e/capclamp)
}

build_coredns() {
	goinstall "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}

build_cilium() {
	local ld="-s -w -X 'github.com/cilium/cilium/pkg/version.ciliumVersion=$CILIUM_VERSION e2e'"
	(
		cd "$E2E_HERE/mod/cilium"
		local c s
		for c in daemon:cilium-agent cilium-dbg:cilium-dbg cilium-health:cilium-health \
			cilium-health/responder:cilium-health-responder plugins/cilium-cni:cilium-cni \
			tools/mount:cilium-mount tools/sysctlfix:cilium-sysctlfix \
			clustermesh-apiserver:clustermesh-apiserver; do
			s=$(date +%s)
			nice -n 10 go build -trimpath -tags osusergo -ldflags "$ld" -o "$bin/${c#*:}" "github.com/cilium/cilium/${c%%:*}"
			e2e_log "  ${c#*:}: $(e2e_elapsed "$s")s, $(du -h "$bin/${c#*:}" | cut -f1)"
		done
		s=$(date +%s)
		nice -n 10 go build -trimpath -tags osusergo,ipam_provider_operator -ldflags "$ld" -o "$bin/cilium-operator-generic" github.com/cilium/cilium/operator
		e2e_log "  cilium-operator-generic: $(e2e_elapsed "$s")s, $(du -h "$bin/cilium-operator-generic" | cut -f1)"
	)
}

build_certgen() {
	(cd "$E2E_ROOT" && go build -trimpath -ldflags "-s -w" -o "$bin/cilium-certgen" ./hack/e2e/certgen)
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] || [ "${targets[0]}" = all ] && targets=(k8s etcd node-tools coredns cilium certgen)
for t in "${targets[@]}"; do
	case $t in
	k8s) step k8s "$E2E_HERE/mod/k8s/go.mod" "$E2E_HERE/mod/k8s/go.sum" ;;
	etcd) step etcd ;;
	node-tools) step node_tools "$E2E_HERE/capclamp/main.go" ;;
	coredns) step coredns ;;
	cilium) step cilium "$E2E_HERE/mod/cilium/go.mod" "$E2E_HERE/mod/cilium/go.sum" ;;
	certgen) step certgen "$E2E_HERE/certgen" ;;
	*) e2e_die "unknown target $t" ;;
	esac
done
