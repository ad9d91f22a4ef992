#!/bin/sh
# /cni-uninstall.sh of the e2e Cilium agent image (hack/e2e): the agent's
# preStop hook. When the agent config asks for it (cni-uninstall: true), it
# removes Cilium's CNI configuration from the node so that no pod is
# scheduled onto a node whose agent is gone.
set -e
conf=${CNI_CONF_DIR:-${HOST_PREFIX:-/host}/etc/cni/net.d}
if [ "$(cat /tmp/cilium/config-map/cni-uninstall 2>/dev/null || true)" != true ]; then
	echo "cni-uninstall is off: CNI configuration kept"
	exit 0
fi
if [ "${CILIUM_CUSTOM_CNI_CONF:-false}" != true ]; then
	echo "removing Cilium's CNI configuration from $conf"
	find "$conf" -maxdepth 1 -type f -name '*cilium*' \( -name '*.conf' -o -name '*.conflist' \) -delete
fi
