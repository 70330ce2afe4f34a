#!/bin/sh
# SPDX-License-Identifier: MIT
# drm-ci's flakes: the tests of a run whose result differs from the
# expectation and that tests/VARIANT-flakes.txt lists are run once more,
# in one more boot, into $BENCH_OUT/VARIANT-retry/. summary.sh then counts
# such a test as expected only if the retry gives the expectation, and
# reports it as a Flake. Nothing to retry: nothing is booted.
# Usage: retry-flakes.sh VARIANT GUEST_ROOT EXPECTATIONS
set -eu
. "$(dirname "$0")/lib.sh"

variant=$1
guest=$2
expect=$3
run=$BENCH_OUT/$variant
rm -rf "$BENCH_OUT/$variant-retry"
[ -f "$run/results.json" ] && [ -n "$(flake_patterns "$variant")" ] || exit 0
list=$BENCH_OUT/.retry-$variant
: >"$list"
for t in $(jq -r '.tests | keys[]' "$run/results.json"); do
	if [ "$(result_of "$run/results.json" "$t")" != "$(expected_of "$t" "$expect")" ] &&
	   is_flake "$variant" "$t"; then
		# a dynamic subtest (igt@bin@subtest@target) is run through
		# its subtest, which runs the same targets as the first run
		printf '%s\n' "$t" | cut -d@ -f1-3 >>"$list"
	fi
done
sort -u -o "$list" "$list"
if [ -s "$list" ]; then
	say "flakes: retrying $(wc -l <"$list") listed flake(s) that differed: $(tr '\n' ' ' <"$list")"
	BENCH_RUN=$variant-retry TESTLIST=$list "$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest"
fi
rm -f "$list"
