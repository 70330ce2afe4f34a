# SPDX-License-Identifier: MIT
# Shared helpers for the bench scripts (sourced, POSIX sh).

: "${BENCH_CACHE:=$HOME/.cache/vunplug-bench}"
: "${BENCH_OUT:=$(pwd)/out}"
: "${JOBS:=$(nproc)}"
: "${CCACHE_DIR:=$BENCH_CACHE/ccache}"
BENCH_TOP=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_CACHE BENCH_OUT JOBS BENCH_TOP CCACHE_DIR

# Progress line for a long stage: "==> [stage] message", with elapsed time.
say() {
	printf '==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"
}

# Record how long a phase of this run took: phase NAME START [END]
# (seconds since the epoch; END defaults to now). bench/phases.sh prints
# them as the run's phase table.
phase() {
	mkdir -p "$BENCH_OUT"
	printf '%s|%s\n' "$1" "$(( ${3:-$(date +%s)} - $2 ))" >>"$BENCH_OUT/phases.txt"
}

die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

# Hash of files' contents (base names included, never where the clone
# is), for cache keys shared by every clone.
hash_files() {
	for f in "$@"; do
		basename "$f"
		cat "$f"
	done | sha256sum | cut -c1-16
}

# The kernel source the bench builds from: $KERNEL_SRC (checked), or
# Debian's pristine linux-source-7.2, fetched and unpacked once. Every
# script takes the source, the new files and the patches from here.
kernel_source() {
	if [ -n "${KERNEL_SRC:-}" ]; then
		[ -f "$KERNEL_SRC/Makefile" ] && [ -d "$KERNEL_SRC/drivers/video" ] ||
			die "KERNEL_SRC=$KERNEL_SRC is not a Linux source tree"
		(cd "$KERNEL_SRC" && pwd)
	else
		"$BENCH_TOP/bench/fetch-kernel.sh"
	fi
}

# The files this repository adds to the kernel tree, relative to both.
new_files() {
	(cd "$BENCH_TOP" && find drivers include -type f 2>/dev/null | sort)
}

# The patches of patches/series of the given kinds (fix, driver), in order.
series_patches() {
	awk -v kinds=" $* " '!/^#/ && NF == 2 && index(kinds, " " $1 " ") { print $2 }' \
		"$BENCH_TOP/patches/series"
}

# drm-ci's skips file of a kernel variant, tests/VARIANT-skips.txt: one
# regular expression a line (# comments) of tests that are not run. Prints
# the expressions; nothing when there is no such file.
skip_patterns() {
	f=$BENCH_TOP/tests/$1-skips.txt
	[ -f "$f" ] || return 0
	grep -vE '^[[:space:]]*(#|$)' "$f" || true
}

# The kernel files that the given patches of patches/ change, sorted.
patched_files() {
	for p in "$@"; do
		sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$BENCH_TOP/patches/$p"
	done | sort -u
}

# Identity of the kernel source: Debian's package, or a developer's tree.
kernel_src_id() {
	if [ -n "${KERNEL_SRC:-}" ]; then
		printf 'custom-%s\n' "$(printf '%s' "$(cd "$KERNEL_SRC" && pwd)" | sha256sum | cut -c1-8)"
	else
		printf 'debian\n'
	fi
}

# Directory holding the source tree and (in o/) the build of a variant.
kernel_tree() {
	printf '%s/kernel/%s-%s\n' "$BENCH_CACHE" "$(kernel_src_id)" "$1"
}

guest_root() {
	printf '%s/guest/root-%s\n' "$BENCH_CACHE" \
		"$(hash_files "$BENCH_TOP/bench/guest-packages.txt")"
}

# The Debian archive to fetch from: $BENCH_MIRROR, else the first archive
# (not a security one) of the host's own apt configuration, so the bench
# works behind a local mirror or proxy and names no archive itself.
debian_mirror() {
	if [ -n "${BENCH_MIRROR:-}" ]; then
		printf '%s\n' "$BENCH_MIRROR"
		return
	fi
	m=$( {
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] && sed -n 's/^deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\([^ \t]\+\).*/\2 \3/p' "$f"
		done
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] && awk '
				/^[ \t]*$/ { if (u != "") print u, s; u = s = ""; next }
				/^URIs:/ { u = $2 } /^Suites:/ { s = $2 }
				END { if (u != "") print u, s }' "$f"
		done
	} | awk '$2 !~ /security/ && $1 ~ /^(https?|file):/ { print $1; exit }')
	[ -n "$m" ] || die "no Debian archive in the host's apt configuration; set BENCH_MIRROR to one"
	printf '%s\n' "${m%/}"
}
