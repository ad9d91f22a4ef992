#!/usr/bin/env bash
# Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
# from Go modules (no Docker, no downloads besides the Go module proxy) for
# envtest and the integration suite.
#
#   hack/k8sbins/build.sh [CACHE_DIR]    # default: <repo>/.cache/k8sbins/v1.37.2
#
# A binary is rebuilt only when missing or older than go.mod, go.sum, its
# main.go or this script. Then: export KUBEBUILDER_ASSETS=CACHE_DIR
set -euo pipefail

K8S_VERSION=v1.37.2 # must match k8s.io/kubernetes in go.mod
ETCD_VERSION=v3.7.0 # must match go.etcd.io/etcd/server/v3 in go.mod
KWOK_VERSION=v0.8.0 # must match sigs.k8s.io/kwok in go.mod
BINARIES="etcd kube-apiserver kube-controller-manager kube-scheduler kwok"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
out=${1:-$root/.cache/k8sbins/$K8S_VERSION}
mkdir -p "$out"
out=$(cd "$out" && pwd -P) # absolute, so a relative $1 means relative to the caller's cwd
cd "$here"

grep -q "k8s.io/kubernetes $K8S_VERSION\$" go.mod || { echo "build.sh: go.mod does not pin k8s.io/kubernetes $K8S_VERSION" >&2; exit 1; }
grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION\$" go.mod || { echo "build.sh: go.mod does not pin go.etcd.io/etcd/server/v3 $ETCD_VERSION" >&2; exit 1; }
grep -q "sigs.k8s.io/kwok $KWOK_VERSION\$" go.mod || { echo "build.sh: go.mod does not pin sigs.k8s.io/kwok $KWOK_VERSION" >&2; exit 1; }

minor=${K8S_VERSION#v1.}
minor=${minor%%.*}
k8s_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
etcd_ldflags="-s -w" # etcd's and kwok's versions are constants of their modules

# Static binaries like upstream's; ignore any go.work and the repo's VCS state.
export CGO_ENABLED=0 GOWORK=off

for bin in $BINARIES; do
	dst=$out/$bin
	fresh=1
	for dep in go.mod go.sum "cmd/$bin/main.go" build.sh; do
		[ -e "$dst" ] && [ "$dst" -nt "$dep" ] || fresh=0
	done
	if [ "$fresh" = 1 ]; then
		echo "$bin: up to date ($dst)"
		continue
	fi
	case $bin in
	etcd | kwok) ldflags=$etcd_ldflags ;; # their versions are constants of their modules
	*) ldflags=$k8s_ldflags ;;
	esac
	start=$(date +%s)
	tmp=$dst.tmp.$$
	trap 'rm -f "$tmp"' EXIT
	go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$tmp" "./cmd/$bin"
	mv -f "$tmp" "$dst" # atomic: an interrupted build never leaves a "fresh" partial binary
	trap - EXIT
	echo "$bin: built in $(($(date +%s) - start))s, $(du -h "$dst" | cut -f1) ($dst)"
done
