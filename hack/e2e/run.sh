#!/usr/bin/env bash
# run.sh: the whole lab, headless, on real kind clusters made from the e2e
# images: preflight to scale-back, the mesh status of both clusters, then
# the teardown (resumed from the lab's own state). Every line is prefixed
# with the time since the start; the lab prints each step's duration and
# probe results itself. Whatever happens, the clusters go away at the end.
#
#   hack/e2e/run.sh          (after build-bins.sh and build-images.sh)
#
# E2E_LAB_SRC=DIR builds the lab from another source tree (default: this
# repository), E2E_CILIUM_CHART=FILE names the chart (default: the shared
# published chart of the pinned version).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_HERE/versions.sh"

lab=$E2E_CACHE/clustermesh-lab
labdir=$E2E_CACHE/lab
chart=${E2E_CILIUM_CHART:-$E2E_ROOT/../shared/charts/cilium-$CILIUM_VERSION.tgz}
values=$E2E_HERE/cilium-values.yaml
t0=$(date +%s)

stamp() { # prefix each line with [mm:ss] since the start
	while IFS= read -r line; do
		local s=$(($(date +%s) - t0))
		printf '[%02d:%02d] %s\n' $((s / 60)) $((s % 60)) "$line"
	done
}

kind_nodes() { docker ps -aq --filter label=io.x-k8s.kind.cluster="$1"; }
cleanup() {
	local c left
	for c in us eu; do
		left=$(kind_nodes "$c")
		if [ -n "$left" ]; then
			echo "cleanup: removing what is left of kind cluster $c"
			docker rm -f -v $left >/dev/null || true
		fi
	done
}

[ -f "$chart" ] || e2e_die "no Cilium chart at $chart (set E2E_CILIUM_CHART)"
docker image inspect "$NODE_IMAGE" >/dev/null 2>&1 || e2e_die "no node image $NODE_IMAGE: run hack/e2e/build-images.sh"
for c in us eu; do
	[ -z "$(kind_nodes "$c")" ] || e2e_die "a kind cluster named $c already exists on this engine (another lab?): delete it first (kind delete cluster --name $c)"
done

(cd "${E2E_LAB_SRC:-$E2E_ROOT}" && go build -o "$lab" .)
flags=(--backend kind --lab-dir "$labdir" --cilium-chart "$chart" --node-image "$NODE_IMAGE" --cilium-values "$values")
for f in --node-image --cilium-values; do
	"$lab" run --help 2>&1 | grep -q -- "$f" ||
		e2e_die "the lab has no $f flag yet (issue 8): the e2e run needs it to use the images built here"
done

# kind's known issue with several clusters: raise inotify limits as the
# lab's preflight asks a learner to.
[ "$(sysctl -n fs.inotify.max_user_watches)" -ge 524288 ] || sysctl -qw fs.inotify.max_user_watches=524288
[ "$(sysctl -n fs.inotify.max_user_instances)" -ge 512 ] || sysctl -qw fs.inotify.max_user_instances=512

trap cleanup EXIT
rm -rf "$labdir"
echo "== the lab, preflight to scale-back: $lab run --headless ${flags[*]} --to scale-back" | stamp
rc=0
"$lab" run --headless "${flags[@]}" --to scale-back 2>&1 | stamp || rc=$?

echo "== mesh status of both clusters" | stamp
for c in us eu; do
	{
		echo "-- $c: cilium-dbg status (an agent)"
		docker exec "$c-control-plane" kubectl -n kube-system exec ds/cilium -c cilium-agent -- cilium-dbg status 2>&1 |
			grep -E '^(KVStore|Kubernetes|Cilium|ClusterMesh|IPAM|Routing|Controller|Proxy|Cluster health|Encryption)|^ +[a-z]+: ' || true
		echo "-- $c: kvstoremesh-dbg status (clustermesh-apiserver)"
		docker exec "$c-control-plane" kubectl -n kube-system exec deploy/clustermesh-apiserver -c kvstoremesh -- \
			clustermesh-apiserver kvstoremesh-dbg status 2>&1 || true
	} | stamp
done
[ "$rc" = 0 ] || { echo "e2e: the lab failed (exit $rc); backend log: $labdir/backend.log" | stamp; exit "$rc"; }

echo "== teardown (the lab resumes at its last step)" | stamp
"$lab" run --headless "${flags[@]}" 2>&1 | stamp
for c in us eu; do [ -z "$(kind_nodes "$c")" ] || e2e_die "cluster $c still has nodes after the teardown"; done
echo "== e2e passed in $(e2e_elapsed "$t0")s" | stamp
