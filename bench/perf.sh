#!/bin/sh
# SPDX-License-Identifier: MIT
# The cost of the series on the deferred-I/O paths: boots both kernels,
# alternating, $BENCH_PERF_BOOTS times each with only
# fbdev_defio_perf@defio-perf (medians of repeated rounds inside the guest) and
# prints each figure for stock and series and their ratio.
# Results: $BENCH_OUT/perf-{stock,fixed}-N/.
set -eu
. "$(dirname "$0")/lib.sh"

"$BENCH_TOP/bench/host-deps.sh"
guest=$("$BENCH_TOP/bench/build-guest.sh")
"$BENCH_TOP/bench/build-kernel.sh" stock "$guest"
"$BENCH_TOP/bench/build-kernel.sh" fixed "$guest"
# Boots alternate between the kernels; each boot runs the subtest once
# (medians of its rounds) and the table gives the median over the boots.
: "${BENCH_PERF_BOOTS:=3}"
# "perf: NAME VALUE" lines of the subtest's output in results.json.
figures() {
	f=$BENCH_OUT/$1/results.json
	[ -f "$f" ] || die "no results in $BENCH_OUT/$1 (see its console.log)"
	jq -r '.tests["igt@fbdev_defio_perf@defio-perf"].out // ""' "$f" |
		sed -n 's/.*perf: \([a-z-]*\) \([0-9.]*\)$/\1 \2/p'
}
for v in stock fixed; do
	rm -f "$BENCH_OUT/perf-$v.txt"
done
for i in $(seq 1 "$BENCH_PERF_BOOTS"); do
	for v in stock fixed; do
		BENCH_RUN=perf-$v-$i TESTLIST=$BENCH_TOP/tests/testlist-perf.txt \
			"$BENCH_TOP/bench/run-vm.sh" "$v" "$guest"
		figures "perf-$v-$i" >>"$BENCH_OUT/perf-$v.txt"
	done
done
for v in stock fixed; do
	[ -s "$BENCH_OUT/perf-$v.txt" ] ||
		die "defio-perf printed no figures on $v (see $BENCH_OUT/perf-$v-*/results.json)"
done

# median of NAME's values in FILE
med() {
	sed -n "s/^$1 //p" "$2" | sort -g | awk '{ v[NR] = $1 } END {
		print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo
echo "Deferred I/O on the vunplug fbdev mapping: per boot the median of 11 rounds, here the median of $BENCH_PERF_BOOTS boots per kernel ($(sed -n "s/^BENCH_NAME='\(.*\)'/\1/p" "$BENCH_OUT/perf-fixed-1/job/job.env")):"
printf '  %-24s %14s %14s %8s   %s\n' FIGURE "STOCK 7.2" "WITH SERIES" RATIO "PER BOOT (stock / series)"
for name in $(cut -d' ' -f1 "$BENCH_OUT/perf-stock.txt" | awk '!seen[$0]++'); do
	s=$(med "$name" "$BENCH_OUT/perf-stock.txt")
	f=$(med "$name" "$BENCH_OUT/perf-fixed.txt")
	all="$(sed -n "s/^$name //p" "$BENCH_OUT/perf-stock.txt" | tr '\n' ' ')/ $(sed -n "s/^$name //p" "$BENCH_OUT/perf-fixed.txt" | tr '\n' ' ')"
	awk -v n="$name" -v s="$s" -v f="$f" -v all="$all" 'BEGIN {
		printf "  %-24s %14s %14s %8.3f   %s\n", n, s, f, (s > 0 ? f / s : 0), all }'
done
echo "  (rates: higher is better; latency: lower is better)"
