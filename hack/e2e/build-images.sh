#!/usr/bin/env bash
# build-images.sh: the e2e images, from the binaries of build-bins.sh and
# Debian packages (debootstrap), into this machine's Docker engine, each
# under exactly the name kubeadm, the Cilium chart or the demo manifests
# reference. An image is rebuilt only when its inputs changed (stamps in
# $E2E_CACHE/stamps); the node image carries every other image in its
# containerd, so it is rebuilt when any of them is.
#
#   hack/e2e/build-images.sh [IMAGE-KEY...]   (default: all, then the node)
#
# Keys (or "rootfs": only the Debian trees): pause kube-apiserver kube-controller-manager kube-scheduler
# kube-proxy etcd coredns cilium operator clustermesh-apiserver certgen
# nginx busybox node
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_HERE/versions.sh"

bin=$E2E_CACHE/bin
work=$E2E_CACHE/work
mkdir -p "$work"
self=$E2E_HERE/build-images.sh
CILIUM_MOD=$(cd "$E2E_HERE/mod/cilium" && GOWORK=off GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/cilium/cilium)
LABEL='LABEL io.clustermesh-lab.e2e="built by hack/e2e from Go modules and Debian packages"'
ENVPATH='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

declare -A NAME=(
	[pause]=registry.k8s.io/pause:$PAUSE_VERSION
	[kube-apiserver]=registry.k8s.io/kube-apiserver:$K8S_VERSION
	[kube-controller-manager]=registry.k8s.io/kube-controller-manager:$K8S_VERSION
	[kube-scheduler]=registry.k8s.io/kube-scheduler:$K8S_VERSION
	[kube-proxy]=registry.k8s.io/kube-proxy:$K8S_VERSION
	[etcd]=registry.k8s.io/etcd:$ETCD_K8S_VERSION-0
	[coredns]=registry.k8s.io/coredns/coredns:$COREDNS_VERSION
	[cilium]=quay.io/cilium/cilium:v$CILIUM_VERSION
	[operator]=quay.io/cilium/operator-generic:v$CILIUM_VERSION
	[clustermesh-apiserver]=quay.io/cilium/clustermesh-apiserver:v$CILIUM_VERSION
	[certgen]=quay.io/cilium/certgen:$CERTGEN_TAG
	[nginx]=$NGINX_IMAGE
	[busybox]=$BUSYBOX_IMAGE
	[node]=$NODE_IMAGE
)
# The images preloaded into the node image's containerd.
# E2E_PRELOAD (keys, space separated) narrows it, to try a node image early.
PRELOAD=(pause kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd coredns
	cilium operator clustermesh-apiserver certgen nginx busybox)
[ -z "${E2E_PRELOAD:-}" ] || read -r -a PRELOAD <<< "$E2E_PRELOAD"

stamp_of() { cat "$E2E_CACHE/stamps/$1" 2>/dev/null || echo none; }

# rootfs KEY PACKAGES: a cached debootstrap tree in $E2E_CACHE/rootfs/KEY,
# rebuilt when the package list changes; prints nothing.
rootfs() {
	local key=$1 pkgs=$2 h
	h=$(e2e_hash -- "$E2E_SUITE" "$E2E_MIRROR" "$pkgs")
	if e2e_fresh "rootfs-$key" "$h" && [ -d "$E2E_CACHE/rootfs/$key" ]; then return; fi
	local start
	start=$(date +%s)
	e2e_log "rootfs $key: debootstrap $E2E_SUITE minbase + $pkgs"
	e2e_debootstrap "$E2E_CACHE/rootfs/$key" "$pkgs"
	e2e_stamp "rootfs-$key" "$h"
	e2e_log "rootfs $key: $(du -sh "$E2E_CACHE/rootfs/$key" | cut -f1) in $(e2e_elapsed "$start")s"
}
ROOTFS_NODE=systemd,systemd-sysv,dbus,iptables,nftables,iproute2,ethtool,conntrack,kmod,libseccomp2,pigz,jq,procps,ca-certificates,util-linux,mount,iputils-ping
ROOTFS_CILIUM=clang-19,iproute2,iptables,ipset,kmod,ca-certificates,libatomic1,bash,util-linux,mount,procps,findutils
ROOTFS_KUBE_PROXY=iptables,kmod,conntrack
ROOTFS_NGINX=nginx-light,ca-certificates

# fresh_tree KEY: an empty work tree for an image.
fresh_tree() { rm -rf "$work/$1" && mkdir -p "$work/$1" && echo "$work/$1"; }
# copy_rootfs KEY: a work tree starting from a cached rootfs.
copy_rootfs() { local t; t=$(fresh_tree "$1"); cp -a "$E2E_CACHE/rootfs/$2/." "$t/"; echo "$t"; }
# Fallback files for scratch images.
scratch_base() {
	local t=$1
	mkdir -p "$t"/{tmp,etc/ssl/certs}
	chmod 1777 "$t/tmp"
	cp /etc/ssl/certs/ca-certificates.crt "$t/etc/ssl/certs/"
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$t/etc/passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' > "$t/etc/group"
}
# iptables_wrapped TREE: iptables* and ip6tables* go through iptables-wrapper.
iptables_wrapped() {
	install -m 0755 "$E2E_HERE/images/iptables-wrapper" "$1/usr/sbin/iptables-wrapper"
	local l
	for l in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		ln -sf /usr/sbin/iptables-wrapper "$1/etc/alternatives/$l"
	done
}

build_pause() {
	local t; t=$(fresh_tree pause)
	gcc -static -Os -Wall -Werror -o "$t/pause" "$E2E_HERE/images/pause.c"
	e2e_import "$t" "${NAME[pause]}" "$LABEL" 'USER 65535:65535' 'ENTRYPOINT ["/pause"]'
}
control_plane() { # control_plane KEY: one static binary on PATH
	local t; t=$(fresh_tree "$1")
	scratch_base "$t"
	install -D -m 0755 "$bin/$1" "$t/usr/local/bin/$1"
	e2e_import "$t" "${NAME[$1]}" "$LABEL" "$ENVPATH" "ENTRYPOINT [\"/usr/local/bin/$1\"]"
}
build_kube-apiserver() { control_plane kube-apiserver; }
build_kube-controller-manager() { control_plane kube-controller-manager; }
build_kube-scheduler() { control_plane kube-scheduler; }
build_etcd() {
	local t; t=$(fresh_tree etcd)
	scratch_base "$t"
	install -D -m 0755 "$bin/etcd-$ETCD_K8S_VERSION" "$t/usr/local/bin/etcd"
	mkdir -p "$t/var/lib/etcd"
	e2e_import "$t" "${NAME[etcd]}" "$LABEL" "$ENVPATH" 'ENTRYPOINT ["/usr/local/bin/etcd"]'
}
build_coredns() {
	local t; t=$(fresh_tree coredns)
	scratch_base "$t"
	install -m 0755 "$bin/coredns" "$t/coredns"
	# As root (no USER): the pod keeps NET_BIND_SERVICE for port 53.
	e2e_import "$t" "${NAME[coredns]}" "$LABEL" "$ENVPATH" 'EXPOSE 53 53/udp' 'ENTRYPOINT ["/coredns"]'
}
build_kube-proxy() {
	rootfs kube-proxy "$ROOTFS_KUBE_PROXY"
	local t; t=$(copy_rootfs kube-proxy kube-proxy)
	install -m 0755 "$bin/kube-proxy" "$t/usr/local/bin/kube-proxy"
	iptables_wrapped "$t"
	e2e_import "$t" "${NAME[kube-proxy]}" "$LABEL" "$ENVPATH" 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]'
}
build_cilium() {
	rootfs cilium "$ROOTFS_CILIUM"
	local t b; t=$(copy_rootfs cilium cilium)
	for b in cilium-agent cilium-dbg cilium-health cilium-health-responder cilium-mount cilium-sysctlfix; do
		install -m 0755 "$bin/$b" "$t/usr/bin/$b"
	done
	ln -sf cilium-dbg "$t/usr/bin/cilium"
	install -D -m 0755 "$bin/cilium-cni" "$t/opt/cni/bin/cilium-cni"
	install -D -m 0755 "$bin/loopback" "$t/cni/loopback"
	# The agent compiles its datapath at run time with `clang` (LLVM 19,
	# as Cilium's own image) from the BPF sources under /var/lib/cilium/bpf.
	ln -sf /usr/bin/clang-19 "$t/usr/local/bin/clang"
	ln -sf /usr/bin/llc-19 "$t/usr/local/bin/llc"
	mkdir -p "$t/var/lib/cilium/bpf"
	(cd "$CILIUM_MOD/bpf" && find . -type f \
		! -path './tests/*' ! -path './complexity-tests/*' ! -path './custom/*' \
		! -name 'Makefile*' ! -name '.gitignore' ! -name '*.i' ! -name '*.s' -print0 |
		xargs -0 -I{} install -D -m 0644 {} "$t/var/lib/cilium/bpf/{}")
	find "$t/var/lib/cilium/bpf" -type d -exec chmod 0750 {} +
	install -m 0755 "$E2E_HERE/images/cilium/init-container.sh" "$t/init-container.sh"
	install -m 0755 "$E2E_HERE/images/cilium/install-plugin.sh" "$t/install-plugin.sh"
	install -m 0755 "$E2E_HERE/images/cilium/cni-uninstall.sh" "$t/cni-uninstall.sh"
	mkdir -p "$t/home/cilium"
	iptables_wrapped "$t"
	e2e_import "$t" "${NAME[cilium]}" "$LABEL" "$ENVPATH" 'ENV HUBBLE_SERVER=unix:///var/run/cilium/hubble.sock' \
		'ENV INITSYSTEM=SYSTEMD' 'WORKDIR /home/cilium' 'CMD ["/usr/bin/cilium-dbg"]'
}
build_operator() {
	local t; t=$(fresh_tree operator)
	scratch_base "$t"
	install -D -m 0755 "$bin/cilium-operator-generic" "$t/usr/bin/cilium-operator-generic"
	mkdir -p "$t/home/gops" && chmod 0777 "$t/home/gops"
	e2e_import "$t" "${NAME[operator]}" "$LABEL" "$ENVPATH" 'ENV GOPS_CONFIG_DIR=/home/gops' 'CMD ["/usr/bin/cilium-operator-generic"]'
}
build_clustermesh-apiserver() {
	local t; t=$(fresh_tree clustermesh-apiserver)
	scratch_base "$t"
	install -D -m 0755 "$bin/clustermesh-apiserver" "$t/usr/bin/clustermesh-apiserver"
	install -D -m 0755 "$bin/etcd-$ETCD_CILIUM_VERSION" "$t/usr/bin/etcd"
	install -D -m 0644 "$CILIUM_MOD/clustermesh-apiserver/etcd-config.yaml" "$t/var/lib/cilium/etcd-config.yaml"
	# The pod runs as 65532: /var/run/cilium must be writable by anyone.
	mkdir -p "$t/var/run/cilium" && chmod 0777 "$t/var/run/cilium"
	e2e_import "$t" "${NAME[clustermesh-apiserver]}" "$LABEL" "$ENVPATH" 'ENV GOPS_CONFIG_DIR=/tmp/gops' \
		'ENTRYPOINT ["/usr/bin/clustermesh-apiserver"]'
}
build_certgen() {
	local t; t=$(fresh_tree certgen)
	scratch_base "$t"
	install -D -m 0755 "$bin/cilium-certgen" "$t/usr/bin/cilium-certgen"
	e2e_import "$t" "${NAME[certgen]}" "$LABEL" 'LABEL io.clustermesh-lab.e2e.stand-in="not Cilium certgen: hack/e2e/certgen does its job for the e2e run"' \
		"$ENVPATH" 'USER 65532:65532' 'ENTRYPOINT ["/usr/bin/cilium-certgen"]'
}
build_nginx() {
	rootfs nginx "$ROOTFS_NGINX"
	local t; t=$(copy_rootfs nginx nginx)
	# Logs to the container's output, as the official image does.
	ln -sf /dev/stdout "$t/var/log/nginx/access.log"
	ln -sf /dev/stderr "$t/var/log/nginx/error.log"
	e2e_import "$t" "${NAME[nginx]}" "$LABEL" "$ENVPATH" 'EXPOSE 80' 'STOPSIGNAL SIGQUIT' 'CMD ["nginx", "-g", "daemon off;"]'
}
# busybox from trixie (1.37, the demo's tag): bookworm's 1.35 segfaults on
# `wget -T`, which the lab's probe uses.
build_busybox() {
	local t; t=$(fresh_tree busybox)
	mkdir -p "$t/bin" "$t/tmp" "$t/etc" && chmod 1777 "$t/tmp"
	local deb
	deb=$(trixie_download busybox-static)
	dpkg-deb -x "$deb" "$work/busybox-deb"
	install -m 0755 "$work/busybox-deb/usr/bin/busybox" "$t/bin/busybox"
	rm -rf "$work/busybox-deb"
	local a
	for a in $("$t/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$t/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$t/etc/passwd"
	printf 'root:x:0:\nnobody:x:65534:\n' > "$t/etc/group"
	e2e_import "$t" "${NAME[busybox]}" "$LABEL" 'ENV PATH=/bin' 'CMD ["sh"]'
}

# trixie_download PACKAGE: fetch a trixie .deb with a private apt state (the
# system's apt is not touched); prints its path.
trixie_download() {
	local d=$E2E_CACHE/apt-trixie
	local a=(-o "Dir::Etc::SourceList=$d/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache")
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc" "$d/debs"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $E2E_MIRROR trixie main" > "$d/etc/sources.list"
	apt-get "${a[@]}" update >/dev/null 2>&1 || e2e_die "apt-get update (trixie) failed"
	rm -f "$d/debs/$1"_*.deb
	(cd "$d/debs" && apt-get "${a[@]}" download "$1" >/dev/null 2>&1) || e2e_die "apt-get download $1 (trixie) failed"
	ls "$d/debs/$1"_*.deb
}

# The node image: a Debian rootfs with systemd, the node files, containerd,
# runc (behind capclamp), crictl, CNI plugins, kubeadm, kubelet, kubectl,
# and every PRELOAD image imported (not unpacked) into its containerd.
build_node() {
	rootfs node "$ROOTFS_NODE"
	local t b; t=$(copy_rootfs node node)
	for b in containerd ctr containerd-shim-runc-v2 crictl; do install -m 0755 "$bin/$b" "$t/usr/local/bin/$b"; done
	install -m 0755 "$bin/runc" "$t/usr/local/sbin/runc"
	install -m 0755 "$bin/capclamp" "$t/usr/local/sbin/capclamp"
	for b in loopback host-local ptp portmap; do install -D -m 0755 "$bin/$b" "$t/opt/cni/bin/$b"; done
	for b in kubeadm kubelet kubectl; do install -m 0755 "$bin/$b" "$t/usr/bin/$b"; done
	cp -a "$E2E_HERE/node/files/." "$t/"
	echo "$K8S_VERSION" > "$t/kind/version"
	mkdir -p "$t/etc/kubernetes/manifests" "$t/var/lib/kubelet" "$t/etc/cni/net.d"
	# The base runtime spec: containerd's default without rlimits.
	"$bin/ctr" oci spec | chroot "$t" jq 'del(.process.rlimits)' > "$t/etc/containerd/cri-base.json"
	# systemd in a container: no consoles, udev, binfmt or kernel log.
	rm -f "$t"/etc/systemd/system/getty.target.wants/* \
		"$t"/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service \
		"$t"/lib/systemd/system/sockets.target.wants/*udev* \
		"$t"/lib/systemd/system/sysinit.target.wants/systemd-udev*
	mkdir -p "$t/etc/systemd/journald.conf.d"
	printf '[Journal]\nReadKMsg=no\n' > "$t/etc/systemd/journald.conf.d/10-container.conf"
	chroot "$t" systemctl mask systemd-binfmt.service proc-sys-fs-binfmt_misc.automount getty@tty1.service >/dev/null 2>&1
	chroot "$t" systemctl enable containerd.service kubelet.service >/dev/null 2>&1
	rm -f "$t/etc/machine-id" && touch "$t/etc/machine-id"
	preload "$t"
	e2e_import "$t" "${NAME[node]}" "$LABEL" 'ENV container=docker' 'STOPSIGNAL SIGRTMIN+3' \
		'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]'
}

# preload TREE: import the PRELOAD images into TREE's containerd content
# store with a containerd of our own running on the host (content only,
# as kind's node-image build does; CRI unpacks an image when a pod needs it).
preload() {
	local t=$1 d=$work/preload-containerd names=() k
	for k in "${PRELOAD[@]}"; do names+=("${NAME[$k]}"); done
	rm -rf "$d" && mkdir -p "$d"
	cat > "$d/config.toml" <<-TOML
		version = 3
		root = "$t/var/lib/containerd"
		state = "$d/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs"]
		[grpc]
		  address = "$d/containerd.sock"
		[ttrpc]
		  address = "$d/containerd.sock.ttrpc"
	TOML
	"$bin/containerd" --config "$d/config.toml" > "$d/containerd.log" 2>&1 &
	local pid=$!
	for _ in $(seq 50); do [ -S "$d/containerd.sock" ] && break; sleep 0.2; done
	docker save "${names[@]}" | "$bin/ctr" --address "$d/containerd.sock" -n k8s.io images import \
		--label io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null || {
		kill "$pid"; tail -20 "$d/containerd.log" >&2; e2e_die "ctr import into the node image failed"; }
	e2e_log "node: preloaded $("$bin/ctr" --address "$d/containerd.sock" -n k8s.io images ls -q | grep -vc '^sha256' || true) images into containerd"
	kill "$pid" && wait "$pid" 2>/dev/null || true
}

# hash_inputs KEY: what an image is built from: its build function and the
# helpers (their text, not this whole script, so that editing one image's
# recipe rebuilds that image only), the versions, and its inputs.
hash_inputs() {
	local k=$1
	local code
	code=$(declare -f "build_$k" fresh_tree copy_rootfs scratch_base iptables_wrapped control_plane preload trixie_download e2e_import)
	local common=("$E2E_HERE/versions.sh" -- "$code" "$LABEL" "$ENVPATH")
	case $k in
	pause) e2e_hash "$E2E_HERE/images/pause.c" "${common[@]}" ;;
	kube-*) e2e_hash "$E2E_HERE/images/iptables-wrapper" "${common[@]}" "$(stamp_of bins-k8s)" "$ROOTFS_KUBE_PROXY" ;;
	etcd) e2e_hash "${common[@]}" "$(stamp_of bins-etcd)" ;;
	coredns) e2e_hash "${common[@]}" "$(stamp_of bins-coredns)" ;;
	cilium | operator | clustermesh-apiserver)
		e2e_hash "$E2E_HERE/images/iptables-wrapper" "$E2E_HERE/images/cilium" "${common[@]}" \
			"$(stamp_of bins-cilium)" "$(stamp_of bins-etcd)" "$(stamp_of bins-node_tools)" "$ROOTFS_CILIUM" ;;
	certgen) e2e_hash "${common[@]}" "$(stamp_of bins-certgen)" ;;
	nginx) e2e_hash "${common[@]}" "$ROOTFS_NGINX" ;;
	busybox) e2e_hash "${common[@]}" ;;
	node)
		local ids=() p
		for p in "${PRELOAD[@]}"; do ids+=("$(docker image inspect -f '{{.Id}}' "${NAME[$p]}")"); done
		e2e_hash "$E2E_HERE/node/files" "${common[@]}" "$(stamp_of bins-k8s)" "$(stamp_of bins-node_tools)" "$ROOTFS_NODE" "${ids[@]}" ;;
	esac
}

image() {
	local k=$1 h start
	h=$(hash_inputs "$k")
	if e2e_image_fresh "${NAME[$k]}" "$h"; then
		e2e_log "$k: up to date (${NAME[$k]})"
		return
	fi
	start=$(date +%s)
	"build_$k"
	rm -rf "${work:?}/$k" # the tree is in the image now
	e2e_image_stamp "${NAME[$k]}" "$h"
	e2e_log "$k: built ${NAME[$k]} in $(e2e_elapsed "$start")s, $(docker image inspect -f '{{.Size}}' "${NAME[$k]}" | numfmt --to=iec)"
}

keys=("$@")
[ ${#keys[@]} -gt 0 ] || keys=("${PRELOAD[@]}" node)
for k in "${keys[@]}"; do
	if [ "$k" = rootfs ]; then # only the Debian trees (no Go binary needed)
		rootfs node "$ROOTFS_NODE"; rootfs cilium "$ROOTFS_CILIUM"
		rootfs kube-proxy "$ROOTFS_KUBE_PROXY"; rootfs nginx "$ROOTFS_NGINX"
		continue
	fi
	[ -n "${NAME[$k]:-}" ] || e2e_die "unknown image $k"
	image "$k"
done
