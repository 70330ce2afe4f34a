#!/bin/sh
# SPDX-License-Identifier: MIT
# The suite's two sides: every test passes on the kernel with the series
# (tests/fixed-fails.txt lists accepted exceptions, none today) and on
# stock 7.2 plus only the vunplug driver, the tests that depend on the
# fixes fail exactly as tests/stock-fails.txt records. Prints both columns
# and ends with "N passed, N failed" (one check per test and kernel).
set -eu
. "$(dirname "$0")/lib.sh"

# With --compare, only compare the results already in $BENCH_OUT.
if [ "${1:-}" != --compare ]; then
	"$BENCH_TOP/bench/phases.sh" --reset
	"$BENCH_TOP/bench/host-deps.sh"
	guest=$("$BENCH_TOP/bench/build-guest.sh")
	"$BENCH_TOP/bench/build-kernel.sh" fixed "$guest"
	# The stock kernel builds while the fixed one runs its tests: the
	# build takes what the guests leave of the cores (niced, so that the
	# guests' timing is not the build's to decide).
	nice -n 19 "$BENCH_TOP/bench/build-kernel.sh" stock "$guest" &
	stock_build=$!
	trap 'kill "$stock_build" 2>/dev/null' EXIT
	BENCH_GUEST=$guest "$BENCH_TOP/bench/run.sh" --no-build --no-report fixed
	wait "$stock_build" || die "the stock kernel did not build (see above)"
	trap - EXIT
	BENCH_GUEST=$guest "$BENCH_TOP/bench/run.sh" --no-build --no-report stock
fi
for v in fixed stock; do
	[ -f "$BENCH_OUT/$v/job/testlist" ] ||
		die "no results of a $v run in $BENCH_OUT: run make check first"
done
"$BENCH_TOP/bench/summary.sh" fixed || true
"$BENCH_TOP/bench/summary.sh" stock || true

echo
echo "Both kernels (expected/actual; a check passes when they agree):"
printf '  %-52s %-20s %-20s\n' TEST "STOCK $(kernel_version)" "WITH SERIES"
passed=0
failed=0
for t in $(cat "$BENCH_OUT/fixed/names.txt" "$BENCH_OUT/stock/names.txt" | sort -u); do
	cols=""
	for v in stock fixed; do
		line=$(grep -E "^$t " "$BENCH_OUT/$v/outcome.txt" || true)
		want=$(printf '%s' "$line" | cut -d' ' -f2)
		got=$(printf '%s' "$line" | cut -d' ' -f3)
		if [ -n "$line" ] && [ "$want" = "$got" ]; then
			passed=$((passed + 1))
			cell="$got"
		elif [ -z "$line" ] && [ -s "$BENCH_OUT/$v/job/skips" ] &&
			printf '%s\n' "$t" | grep -qEf "$BENCH_OUT/$v/job/skips"; then
			# not run on this kernel on purpose (tests/$v-skips.txt)
			cell="skipped"
		else
			failed=$((failed + 1))
			cell="${want:-?}/${got:-missing} !!"
		fi
		cols="$cols$(printf '%-20s ' "$cell")"
	done
	printf '  %-52s %s\n' "$t" "$cols"
done
echo
echo "What user space sees after unplug (the fbdev_unplug and fbdev_programs results):"
"$BENCH_TOP/bench/behaviour.sh" | sed 's/^/  /'
echo
for v in fixed stock; do
	[ -f "$BENCH_OUT/$v/vm-failure" ] &&
		echo "  the $v guest $(cat "$BENCH_OUT/$v/vm-failure")"
done
[ "${1:-}" = --compare ] || "$BENCH_TOP/bench/phases.sh"
[ "$failed" -eq 0 ] || "$BENCH_TOP/bench/why.sh" fixed stock
echo "$passed passed, $failed failed"
[ "$passed" -gt 0 ] || die "no test was compared"
run_status "$failed" fixed stock
