#!/usr/bin/env bash
# engine.sh: make this machine's Docker engine start --privileged containers
# (kind's nodes), or say why it cannot.
#
#   hack/e2e/engine.sh           check; install the capclamp runtime if needed
#   hack/e2e/engine.sh restore   put dockerd's config back as it was
#
# On the project's machines the whole VM lacks CAP_SYS_RESOURCE in its
# bounding set, and Docker 20.10 grants a privileged container every
# capability the kernel knows: runc then fails with "unable to apply caps:
# operation not permitted". The remedy is a runtime wrapper, capclamp
# (hack/e2e/capclamp), registered in /etc/docker/daemon.json as the default
# runtime and loaded with SIGHUP (runtimes and default-runtime are
# reloadable: no restart, running containers are not touched). It only drops
# capabilities the engine could not grant anyway. Where privileged
# containers already work, this script changes nothing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

conf=/etc/docker/daemon.json
backup=$conf.before-clustermesh-lab-e2e
installed=/usr/local/libexec/clustermesh-lab-e2e/capclamp
probe=clustermesh-lab-e2e/capclamp:latest

reload() {
	local pid
	pid=$(pgrep -xo dockerd) || e2e_die "no dockerd process to reload"
	kill -HUP "$pid"
	sleep 2
}

if [ "${1:-}" = restore ]; then
	[ -f "$backup" ] || { e2e_log "nothing to restore ($backup missing)"; exit 0; }
	mv -f "$backup" "$conf"
	reload
	e2e_log "restored $conf and reloaded dockerd"
	exit 0
fi

docker info >/dev/null 2>&1 || e2e_die "no Docker engine answers (docker info failed)"

bin=$E2E_CACHE/bin/capclamp
h=$(e2e_hash "$E2E_HERE/capclamp/main.go")
if ! e2e_fresh capclamp "$h" || [ ! -x "$bin" ]; then
	mkdir -p "$E2E_CACHE/bin" "$E2E_CACHE/capclamp-image"
	(cd "$E2E_ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" ./hack/e2e/capclamp)
	cp "$bin" "$E2E_CACHE/capclamp-image/capclamp"
	e2e_import "$E2E_CACHE/capclamp-image" "$probe" 'ENTRYPOINT ["/capclamp"]'
	e2e_stamp capclamp "$h"
fi
docker image inspect "$probe" >/dev/null 2>&1 || { e2e_stamp capclamp none; exec "$0" "$@"; }

if out=$(docker run --rm --privileged "$probe" caps 2>&1); then
	e2e_log "privileged containers start: $out (default runtime $(docker info -f '{{.DefaultRuntime}}'))"
	if [ -x "$installed" ] && ! cmp -s "$bin" "$installed"; then
		install -m 0755 "$bin" "$installed" # keep the installed wrapper current
	fi
	exit 0
fi
e2e_log "a privileged container does not start: ${out//$'\n'/ }"
case $out in
*"unable to apply caps"*) ;;
*) e2e_die "not the capability problem capclamp solves; kind nodes cannot run here" ;;
esac
pid=$(pgrep -xo dockerd) || e2e_die "dockerd is not a local process: cannot install a runtime for it"
e2e_log "dockerd's bounding set: $(awk '/CapBnd/ {print $2}' /proc/"$pid"/status); this shell's: $("$bin" caps)"
[ -w "$(dirname "$conf")" ] || e2e_die "cannot write $conf (run as root)"
install -D -m 0755 "$bin" "$installed"
[ -f "$backup" ] || cp -p "$conf" "$backup" 2>/dev/null || echo '{}' > "$backup"
"$bin" docker-config "$conf" "$installed"
reload
e2e_log "installed runtime capclamp ($installed) as dockerd's default runtime in $conf (backup: $backup; undo: $0 restore)"
out=$(docker run --rm --privileged "$probe" caps 2>&1) || e2e_die "still no privileged container: $out"
e2e_log "privileged containers start now: $out (default runtime $(docker info -f '{{.DefaultRuntime}}'))"
