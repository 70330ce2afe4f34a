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
