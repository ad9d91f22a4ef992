# lib.sh: helpers shared by hack/e2e's scripts. Source it; it defines no
# side effects beyond variables.
#
#   E2E_ROOT   the repository
#   E2E_CACHE  where every built thing goes (git-ignored): .cache/e2e
#   E2E_MIRROR the Debian mirror the machine's apt uses

E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
E2E_ROOT=$(cd "$E2E_HERE/../.." && pwd -P)
E2E_CACHE=${E2E_CACHE:-$E2E_ROOT/.cache/e2e}
E2E_SUITE=bookworm
mkdir -p "$E2E_CACHE"

# The first deb822 URIs line of the machine's sources for the main archive,
# else the classic sources.list, else Debian's canonical host.
e2e_mirror() {
	local u=""
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		u=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$u" ] && [ -r /etc/apt/sources.list ]; then
		u=$(awk '$1 == "deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
	fi
	echo "${u:-http://deb.debian.org/debian}"
}
E2E_MIRROR=${E2E_MIRROR:-$(e2e_mirror)}

e2e_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
e2e_die() { e2e_log "error: $*"; exit 1; }

# e2e_hash FILE... prints one hash of the files' contents and names (and
# of any extra words given after --), for stamps.
e2e_hash() {
	local files=() words=()
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then shift; words=("$@"); break; fi
		files+=("$1"); shift
	done
	{
		for f in "${files[@]}"; do
			if [ -d "$f" ]; then
				(cd "$f" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
			else
				echo "$f"; sha256sum < "$f"
			fi
		done
		printf '%s\n' "${words[@]}"
	} | sha256sum | cut -c1-16
}

# e2e_fresh NAME HASH: true when stamp NAME records HASH.
e2e_fresh() { [ -f "$E2E_CACHE/stamps/$1" ] && [ "$(cat "$E2E_CACHE/stamps/$1")" = "$2" ]; }
e2e_stamp() { mkdir -p "$E2E_CACHE/stamps"; echo "$2" > "$E2E_CACHE/stamps/$1"; }

# e2e_image_fresh NAME HASH: the stamp matches and the image is in the engine.
e2e_image_fresh() { e2e_fresh "image-${1//[\/:]/_}" "$2" && docker image inspect "$1" >/dev/null 2>&1; }
e2e_image_stamp() { e2e_stamp "image-${1//[\/:]/_}" "$2"; }

# e2e_debootstrap DIR PACKAGES: a minbase Debian rootfs with the packages
# (comma separated) in DIR, .debs cached across builds. Needs root.
e2e_debootstrap() {
	local dir=$1 pkgs=$2
	mkdir -p "$E2E_CACHE/debs"
	rm -rf "$dir"
	mkdir -p "$(dirname "$dir")"
	debootstrap --variant=minbase --cache-dir="$E2E_CACHE/debs" --include="$pkgs" \
		"$E2E_SUITE" "$dir" "$E2E_MIRROR" >"$dir.debootstrap.log" 2>&1 ||
		{ tail -20 "$dir.debootstrap.log" >&2; e2e_die "debootstrap of $dir failed (log: $dir.debootstrap.log)"; }
	# Images carry no apt lists or package cache.
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
}

# e2e_import DIR IMAGE [INSTRUCTION...]: the directory as a one-layer image,
# with Dockerfile instructions (ENV, ENTRYPOINT, STOPSIGNAL, USER...) applied
# on top by a FROM-less-pull build: its base is the imported layer.
e2e_import() {
	local dir=$1 image=$2
	shift 2
	tar --numeric-owner --xattrs -C "$dir" -c . | docker import - "$image" >/dev/null
	if [ $# -gt 0 ]; then
		local err
		err=$({ echo "FROM $image"; printf '%s\n' "$@"; } | DOCKER_BUILDKIT=0 docker build -q -t "$image" - 2>&1 >/dev/null) ||
			{ echo "$err" >&2; return 1; }
	fi
}

# e2e_elapsed START: seconds since START (date +%s).
e2e_elapsed() { echo $(($(date +%s) - $1)); }
