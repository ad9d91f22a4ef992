#!/bin/sh
# /init-container.sh of the e2e Cilium agent image (hack/e2e): the chart's
# clean-cilium-state init container. It wipes the agent's state only when
# asked to through the chart's environment variables.
set -e
if [ "${CILIUM_BPF_STATE:-}" = true ] || [ "${CLEAN_CILIUM_BPF_STATE:-}" = true ]; then
	cilium-dbg post-uninstall-cleanup -f --bpf-state
fi
if [ "${CILIUM_ALL_STATE:-}" = true ] || [ "${CLEAN_CILIUM_STATE:-}" = true ]; then
	cilium-dbg post-uninstall-cleanup -f --all-state
fi
