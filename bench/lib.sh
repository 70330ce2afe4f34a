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
	awk -v n="$1" -v a="$2" -v b="${3:-$(now)}" \
		'BEGIN { printf "%s|%.1f\n", n, b - a }' >>"$BENCH_OUT/phases.txt"
}

# Seconds since the epoch, to the millisecond (phase's start and end).
now() {
	date +%s.%3N
}

die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 2
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

# VERSION.PATCHLEVEL of the kernel source the bench builds ("7.2"), read
# without fetching it: from KERNEL_PKG, or from the Makefile of KERNEL_SRC.
kernel_version() {
	if [ -n "${KERNEL_SRC:-}" ]; then
		awk '$1 == "VERSION" { v = $3 } $1 == "PATCHLEVEL" { p = $3 }
		     END { print v "." p }' "$KERNEL_SRC/Makefile"
	else
		printf '%s\n' "${KERNEL_PKG:-linux-source-7.2}" | sed 's/^linux-source-//'
	fi
}

# awk: for_kernel(since) is true if the selected kernel (kv, "7.3") is
# "since" or newer, or if "since" is empty.
SERIES_AWK='
function for_kernel(since,   a, b) {
	if (since == "")
		return 1
	split(kv, a, "."); split(since, b, ".")
	return a[1] + 0 > b[1] + 0 || (a[1] + 0 == b[1] + 0 && a[2] + 0 >= b[2] + 0)
}'

# The patches of patches/series of the given kinds (fix, driver), in order,
# that the selected kernel takes (patches/series' fourth column).
series_patches() {
	awk -v kinds=" $* " -v kv="$(kernel_version)" "$SERIES_AWK"'
		!/^#/ && NF >= 2 && index(kinds, " " $1 " ") && for_kernel($4) { print $2 }' \
		"$BENCH_TOP/patches/series"
}

# drm-ci's skips file of a kernel variant, tests/VARIANT-skips.txt: one
# regular expression a line (# comments) of tests that are not run. Prints
# the expressions; nothing when there is no such file.
# tests/VARIANT-skips-7.3.txt adds those of one kernel.
skip_patterns() {
	cat "$BENCH_TOP/tests/$1-skips.txt" "$BENCH_TOP/tests/$1-skips-$(kernel_version).txt" \
		2>/dev/null | grep -vE '^[[:space:]]*(#|$)' || true
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
	elif [ "${KERNEL_PKG:-linux-source-7.2}" = linux-source-7.2 ]; then
		printf 'debian\n'
	else
		printf 'debian-%s\n' "${KERNEL_PKG#linux-source-}"
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

# drm-ci result names of igt_runner results: status_of RESULT
status_of() {
	case $1 in
	pass) echo Pass ;;
	fail) echo Fail ;;
	skip) echo Skip ;;
	crash) echo Crash ;;
	timeout) echo Timeout ;;
	dmesg-fail) echo Fail ;;
	dmesg-warn | warn) echo Warn ;;
	abort) echo Abort ;;
	incomplete) echo Incomplete ;;
	notrun | '') echo NotRun ;;
	*) echo "$1" ;;
	esac
}

# What counts as a kernel report, one fixed string a line: the list that
# fbdev_unplug fails a subtest on (the strings of its array "bad"), the one
# definition that summary.sh and why.sh read too.
kernel_report_patterns() {
	sed -n '/static const char \*const bad\[\] = {/,/};/p' "$BENCH_TOP/igt-tests/lib/fbdev_target.c" |
		grep -o '"[^"]*"' | tr -d '"'
}

# The expectation of test $1 in drm-ci expectations file $2 (Pass if
# absent). A file of the same name for the selected kernel, $2 with
# "-7.3" before ".txt", comes first: its lines replace those of $2.
expected_of() {
	e=$(cat "${2%.txt}-$(kernel_version).txt" "$2" 2>/dev/null |
		grep -E "^$1," | head -n 1 | cut -d, -f2)
	echo "${e:-Pass}"
}

# The drm-ci result of test $2 in results.json $1 (empty: not there).
result_of() {
	[ -f "$1" ] || return 0
	_r=$(jq -r --arg t "$2" '.tests[$t].result // ""' "$1")
	[ -z "$_r" ] || status_of "$_r"
}

# How QEMU runs the guest of kernel image $1: $BENCH_ACCEL, else what the
# KVM probe (bench/accel.sh, cached per host kernel and QEMU version)
# chose. Only the first run on a host probes; then it is a phase of its own.
choose_accel() {
	if [ -n "${BENCH_ACCEL:-}" ]; then
		printf '%s\n' "$BENCH_ACCEL"
		return
	fi
	_t=$(now)
	"$BENCH_TOP/bench/accel.sh" "$1"
	awk -v a="$_t" -v b="$(now)" 'BEGIN { exit !(b - a >= 2) }' &&
		phase "KVM probe" "$_t"
	return 0
}

# The tests of results.json $1, a line each: name, igt_runner's result and
# seconds (empty when not timed), tab-separated. Nothing without the file.
results_table() {
	[ -f "$1" ] || return 0
	jq -r '.tests | to_entries[] | [.key, .value.result,
		(.value.time as $x | if $x then ($x.end - $x.start) else "" end)] | @tsv' "$1"
}

# drm-ci's flakes file of a variant, tests/VARIANT-flakes.txt: regular
# expressions (# comments) of tests whose result may differ once.
# tests/VARIANT-flakes-7.3.txt adds those of one kernel.
flake_patterns() {
	cat "$BENCH_TOP/tests/$1-flakes.txt" "$BENCH_TOP/tests/$1-flakes-$(kernel_version).txt" \
		2>/dev/null | grep -vE '^[[:space:]]*(#|$)' || true
}

# Whether test $2 matches a flake pattern of variant $1.
is_flake() {
	_p=$(flake_patterns "$1" | paste -sd '|' -)
	[ -n "$_p" ] && printf '%s\n' "$2" | grep -qE "$_p"
}

# Whether a test with drm-ci result $2 in run directory $1 is one that
# its guest hung or crashed in: Incomplete in a run with a VM failure.
is_vm_casualty() {
	[ "$2" = Incomplete ] && [ -f "$1/vm-failure" ]
}

# Whether test $3, with drm-ci result $4 in run directory $2 of variant
# $1, is retried once when it differs from its expectation: a listed
# flake, or a test its guest hung or crashed in.
is_retried() {
	is_flake "$1" "$3" || is_vm_casualty "$2" "$4"
}

# A setting that run directory $1 recorded (run-vm.sh's job.env):
# run_setting DIR NAME. A run records its variant (BENCH_VARIANT), its
# test list (job/testlist) and its settings, so that summary.sh,
# retry-flakes.sh and make compare read the run, not the environment.
run_setting() {
	sed -n "s/^$2='\(.*\)'\$/\1/p" "$1/job/job.env" 2>/dev/null | head -n 1
}

# Exit status of a run, distinct per kind of failure (README, "Exit
# status"): 4 a guest hung, 3 a guest crashed or panicked, 1 results
# differ from the expectations, 0 none of these. A guest that hung or
# crashed in a test whose retry then gave the expectation (a Flake) is
# reported, but every test was judged: that alone is status 0. Also written to
# $BENCH_OUT/exit-status, since make turns every failure into status 2.
# Usage: run_status MISMATCHES VARIANT...
run_status() {
	_st=0
	if [ "$1" -eq 0 ]; then
		printf '0\n' >"$BENCH_OUT/exit-status"
		return 0
	fi
	_st=1
	shift
	# (a run's later boots add "; boot N: <failure>" to its vm-failure)
	for _v in "$@"; do
		_f=$BENCH_OUT/$_v/vm-failure
		if grep -qE '(^|; boot [0-9]+: )hung' "$_f" 2>/dev/null; then
			_st=4
		elif grep -qE '(^|; boot [0-9]+: )crashed' "$_f" 2>/dev/null; then
			[ "$_st" -eq 4 ] || _st=3
		fi
	done
	printf '%s\n' "$_st" >"$BENCH_OUT/exit-status"
	return "$_st"
}
