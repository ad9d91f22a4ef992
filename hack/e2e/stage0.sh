#!/usr/bin/env bash
# stage0.sh: what this machine's Docker engine allows, for kind nodes.
#
# Checks, each printed PASS or FAIL with its evidence:
#   1. docker info: storage driver, cgroup driver and version, security
#      options, runtimes, kernel;
#   2. a privileged container from a `docker import`ed debootstrap rootfs,
#      started with kind's node flags, runs systemd as PID 1 to
#      "Reached target Multi-User System";
#   3. containerd + runc inside it (Debian's packages here; the node image
#      builds its own) start a nested container from an imported image;
#   4. bpffs mounts in it and a BPF program loads and pins;
#   5. a vxlan link is created in it;
#   6. a second such container on a user-defined Docker network is reached,
#      directly and through a vxlan tunnel between the two.
# Everything it starts is removed at the end; the images stay as cache.
# Needs root (debootstrap). Exit status 0 only if every check passed.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=$E2E_CACHE/stage0
img=clustermesh-lab-e2e/stage0-node:latest
bbimg=clustermesh-lab-e2e/stage0-busybox:latest
net=clustermesh-lab-e2e-stage0
c1=clustermesh-lab-e2e-stage0-a
c2=clustermesh-lab-e2e-stage0-b
fails=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; fails=$((fails + 1)); }

cleanup() {
	docker rm -f -v "$c1" "$c2" >/dev/null 2>&1 || true
	docker network rm "$net" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

echo "== 1. docker info"
docker info --format 'server {{.ServerVersion}}; storage driver {{.Driver}}; cgroup driver {{.CgroupDriver}}; cgroup version {{.CgroupVersion}}; security options {{json .SecurityOptions}}; default runtime {{.DefaultRuntime}}; kernel {{.KernelVersion}}; os {{.OperatingSystem}}; cpus {{.NCPU}}; memory {{.MemTotal}}'
docker info --format 'runtimes {{range $k, $v := .Runtimes}}{{$k}} {{end}}'
echo "docker root: $(df -T "$(docker info --format '{{.DockerRootDir}}')" | awk 'NR==2 {print $2}')"
echo "host iptables: $(iptables --version 2>/dev/null || echo none); legacy rules $(iptables-legacy-save 2>/dev/null | grep -c '^-' || true), nft rules $(iptables-nft-save 2>/dev/null | grep -c '^-' || true)"
if [ -r /proc/config.gz ]; then
	for opt in MODULES BPF_SYSCALL BPF_JIT VXLAN GENEVE VETH NF_TABLES IP_NF_IPTABLES CGROUP_BPF; do
		printf 'CONFIG_%s=%s ' "$opt" "$(zcat /proc/config.gz | awk -F= -v k="CONFIG_$opt" '$1 == k {print $2}' | grep . || echo n)"
	done
	echo
fi

echo "== 1b. --privileged containers (kind starts every node so)"
"$E2E_HERE/engine.sh" && pass "privileged containers start (see above for the remedy, if one was needed)" || fail "privileged containers"

echo "== 2. systemd as PID 1 in a privileged container from a debootstrap rootfs"
start=$(date +%s)
h=$(e2e_hash "${BASH_SOURCE[0]}" "$E2E_HERE/lib.sh")
if ! e2e_image_fresh "$img" "$h"; then
	e2e_log "debootstrap $E2E_SUITE from $E2E_MIRROR (minbase + systemd, containerd, runc, iproute2, ping)"
	e2e_debootstrap "$dir/rootfs" systemd,systemd-sysv,dbus,iproute2,iputils-ping,containerd,runc,kmod,procps
	# What kind's base image also does: no getty or udev in a container.
	rm -f "$dir"/rootfs/etc/systemd/system/getty.target.wants/* \
		"$dir"/rootfs/lib/systemd/system/sockets.target.wants/*udev* \
		"$dir"/rootfs/lib/systemd/system/sysinit.target.wants/systemd-udev*
	e2e_import "$dir/rootfs" "$img" 'ENV container=docker' 'STOPSIGNAL SIGRTMIN+3' 'ENTRYPOINT ["/sbin/init"]'
	e2e_image_stamp "$img" "$h"
fi
if ! e2e_image_fresh "$bbimg" "$h"; then
	rm -rf "$dir/busybox" && mkdir -p "$dir/busybox/bin" "$dir/debs"
	(cd "$dir/debs" && apt-get download busybox-static >/dev/null 2>&1) || e2e_die "apt-get download busybox-static"
	dpkg-deb -x "$dir"/debs/busybox-static_*.deb "$dir/busybox/x"
	cp "$dir/busybox/x/bin/busybox" "$dir/busybox/bin/" && rm -rf "$dir/busybox/x"
	ln -s busybox "$dir/busybox/bin/sh"
	e2e_import "$dir/busybox" "$bbimg" 'ENTRYPOINT ["/bin/busybox"]'
	e2e_image_stamp "$bbimg" "$h"
fi
echo "images ready in $(e2e_elapsed "$start")s: $(docker image inspect -f '{{.Size}}' "$img" | numfmt --to=iec) node, $(docker image inspect -f '{{.Size}}' "$bbimg" | numfmt --to=iec) busybox"

docker network create -d bridge "$net" >/dev/null
# kind's per-node flags (provision.go), on our own network.
for c in "$c1" "$c2"; do
	docker run -d -t --name "$c" --hostname "$c" --net "$net" --privileged \
		--security-opt seccomp=unconfined --security-opt apparmor=unconfined \
		--cgroupns=private --init=false --tmpfs /tmp --tmpfs /run --volume /var \
		--restart=on-failure:1 "$img" >/dev/null
done
for c in "$c1" "$c2"; do
	ok=0
	for _ in $(seq 60); do
		if docker logs "$c" 2>&1 | grep -q 'Reached target .*Multi-User System'; then ok=1; break; fi
		sleep 0.5
	done
	pid1=$(docker exec "$c" cat /proc/1/comm 2>/dev/null || true)
	state=$(docker exec "$c" systemctl is-system-running 2>/dev/null || true)
	if [ "$ok" = 1 ] && [ "$pid1" = systemd ]; then
		pass "$c: PID 1 is $pid1, 'Reached target Multi-User System', system $state ($(docker exec "$c" systemctl --version | head -1))"
	else
		fail "$c: PID 1 is '$pid1', system '$state'"; docker logs "$c" 2>&1 | tail -20
	fi
done
docker exec "$c1" sh -c 'echo "cgroups in the node: $(stat -fc %T /sys/fs/cgroup) at /sys/fs/cgroup, $(ls /sys/fs/cgroup | tr "\n" " ")"'

echo "== 3. containerd + runc in the container start a nested container"
for _ in $(seq 30); do docker exec "$c1" test -S /run/containerd/containerd.sock && break; sleep 0.5; done
if docker save "$bbimg" | docker exec -i "$c1" ctr -n stage0 images import - >/dev/null &&
	out=$(docker exec "$c1" ctr -n stage0 run --rm "docker.io/$bbimg" nested /bin/busybox sh -c 'echo nested container up: pid $$, kernel $(uname -r)') ; then
	pass "$out ($(docker exec "$c1" ctr version | awk '/Version/ {print "containerd " $2; exit}'), $(docker exec "$c1" runc --version | head -1), snapshotter overlayfs on /var: $(docker exec "$c1" stat -fc %T /var/lib/containerd))"
else
	fail "nested container"; docker exec "$c1" journalctl -u containerd --no-pager | tail -20
fi

echo "== 4. bpffs and a BPF program"
gcc -static -Os -Wall -Werror -o "$dir/bpfload" "$E2E_HERE/stage0/bpfload.c"
docker cp "$dir/bpfload" "$c1:/usr/local/bin/bpfload" >/dev/null
docker exec "$c1" sh -c 'mount | grep -q "/sys/fs/bpf type bpf" || mount -t bpf bpf /sys/fs/bpf' &&
	mnt=$(docker exec "$c1" sh -c 'mount | grep "/sys/fs/bpf type bpf"') &&
	out=$(docker exec "$c1" bpfload /sys/fs/bpf/stage0) &&
	docker exec "$c1" test -e /sys/fs/bpf/stage0 &&
	pass "$mnt; $out" || fail "bpffs or BPF program load"

echo "== 5 and 6. vxlan link, and a second container on a user-defined network"
ip1=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$c1")
ip2=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$c2")
docker exec "$c1" ip link add vx0 type vxlan id 42 remote "$ip2" dstport 4789 dev eth0 &&
	docker exec "$c2" ip link add vx0 type vxlan id 42 remote "$ip1" dstport 4789 dev eth0 &&
	docker exec "$c1" sh -c 'ip addr add 192.168.242.1/24 dev vx0 && ip link set vx0 up' &&
	docker exec "$c2" sh -c 'ip addr add 192.168.242.2/24 dev vx0 && ip link set vx0 up' &&
	pass "vxlan: $(docker exec "$c1" ip -d link show vx0 | grep -o 'vxlan id [0-9]* remote [0-9.]*')" || fail "vxlan link"
docker exec "$c1" ping -c 2 -W 2 "$ip2" >/dev/null &&
	pass "$c1 ($ip1) reaches $c2 ($ip2) on network $net" || fail "$c1 cannot reach $c2 on $net"
docker exec "$c1" ping -c 2 -W 2 192.168.242.2 >/dev/null &&
	pass "$c1 reaches $c2 through the vxlan tunnel (192.168.242.1 -> 192.168.242.2)" || fail "ping through vxlan"

echo "== $([ "$fails" = 0 ] && echo "all checks passed" || echo "$fails check(s) failed") in $(e2e_elapsed "$start")s"
exit $((fails > 0))
