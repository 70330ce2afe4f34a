#!/bin/sh
# SPDX-License-Identifier: MIT
# The cost of the series on the deferred-I/O paths: boots both kernels once
# with only fbdev_unplug@defio-perf (medians of repeated rounds inside the
# guest) and prints each figure for stock and series and their ratio.
# Results: $BENCH_OUT/perf-stock/, $BENCH_OUT/perf-fixed/.
set -eu
. "$(dirname "$0")/lib.sh"

"$BENCH_TOP/bench/host-deps.sh"
guest=$("$BENCH_TOP/bench/build-guest.sh")
"$BENCH_TOP/bench/build-kernel.sh" stock "$guest"
"$BENCH_TOP/bench/build-kernel.sh" fixed "$guest"
for v in stock fixed; do
	BENCH_RUN=perf-$v TESTLIST=$BENCH_TOP/tests/testlist-perf.txt \
		"$BENCH_TOP/bench/run-vm.sh" "$v" "$guest"
done

# "perf: NAME VALUE" lines of the subtest's output in results.json.
figures() {
	f=$BENCH_OUT/perf-$1/results.json
	[ -f "$f" ] || die "no results for $1 (see $BENCH_OUT/perf-$1/console.log)"
	jq -r '.tests["igt@fbdev_unplug@defio-perf"].out // ""' "$f" |
		sed -n 's/.*perf: \([a-z-]*\) \([0-9.]*\)$/\1 \2/p'
}
figures stock >"$BENCH_OUT/perf-stock/figures.txt"
figures fixed >"$BENCH_OUT/perf-fixed/figures.txt"
[ -s "$BENCH_OUT/perf-stock/figures.txt" ] && [ -s "$BENCH_OUT/perf-fixed/figures.txt" ] ||
	die "defio-perf printed no figures (see $BENCH_OUT/perf-*/results.json)"

echo
echo "Deferred I/O on the vunplug fbdev mapping, median of rounds inside the guest ($(cat "$BENCH_OUT/perf-fixed/job/job.env" | sed -n "s/^BENCH_NAME='\(.*\)'/\1/p")):"
printf '  %-24s %14s %14s %8s\n' FIGURE "STOCK 7.2" "WITH SERIES" RATIO
while read -r name stock; do
	fixed=$(sed -n "s/^$name //p" "$BENCH_OUT/perf-fixed/figures.txt")
	awk -v n="$name" -v s="$stock" -v f="$fixed" 'BEGIN {
		printf "  %-24s %14s %14s %8.3f\n", n, s, f, (s > 0 ? f / s : 0) }'
done <"$BENCH_OUT/perf-stock/figures.txt"
echo "  (rates: higher is better; latency: lower is better)"
