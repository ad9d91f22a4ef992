#!/bin/sh
# /install-plugin.sh of the e2e Cilium agent image (hack/e2e): the chart's
# install-cni-binaries init container. Copies cilium-cni into the node's CNI
# directory (mounted at /host/opt/cni/bin), and the loopback plugin only when
# the node has none. Each copy is written aside, then renamed into place.
set -e
dir=${CNI_DIR:-${HOST_PREFIX:-/host}/opt/cni}/bin
mkdir -p "$dir"
put() {
	cp "$1" "$dir/.$(basename "$1").new"
	mv "$dir/.$(basename "$1").new" "$dir/$(basename "$1")"
	echo "installed $dir/$(basename "$1")"
}
if [ "${OVERWRITE_LOOPBACK:-false}" = true ] || [ ! -f "$dir/loopback" ]; then
	put /cni/loopback || echo "loopback not installed (not needed by Cilium)"
fi
if [ "${OVERWRITE_CILIUM:-true}" = true ] || [ ! -f "$dir/cilium-cni" ]; then
	put /opt/cni/bin/cilium-cni
fi
