#!/bin/sh
# SPDX-License-Identifier: MIT
# drm-ci's flakes: the tests of a run whose result differs from the
# expectation and that tests/VARIANT-flakes.txt lists are run once more,
# in one more boot, into $BENCH_OUT/VARIANT-retry/. So is a test that the
# guest hung or crashed in (Incomplete; run-vm.sh resumed the run after
# it): rare hangs that nothing here explains yet (docs/limitations.md)
# cost one retry, not the run. summary.sh then counts such a test as
# expected only if the retry gives the expectation, and reports it as a
# Flake, with the hang report. Nothing to retry: nothing is booted.
# Usage: retry-flakes.sh RUN GUEST_ROOT (RUN: the run's name in
# $BENCH_OUT, fixed, stock, quick...; its variant and test list come from
# the run's record, the expectations are tests/VARIANT-fails.txt)
set -eu
. "$(dirname "$0")/lib.sh"

name=$1
guest=$2
run=$BENCH_OUT/$name
variant=$(run_setting "$run" BENCH_VARIANT)
variant=${variant:-$name}
expect=$BENCH_TOP/tests/$variant-fails.txt
rm -rf "$run-retry"
[ -f "$run/results.json" ] || exit 0
list=$BENCH_OUT/.retry-$name
: >"$list"
for t in $(jq -r '.tests | keys[]' "$run/results.json"); do
	r=$(result_of "$run/results.json" "$t")
	if [ "$r" != "$(expected_of "$t" "$expect")" ] &&
	   is_retried "$variant" "$run" "$t" "$r"; then
		printf '%s\n' "$t" >>"$list"
	fi
done
sort -u -o "$list" "$list"
if [ -s "$list" ]; then
	say "flakes: retrying $(wc -l <"$list") test(s) that differed, listed flakes or tests a guest hung in: $(tr '\n' ' ' <"$list")"
	BENCH_RUN=$name-retry TESTLIST=$list "$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest"
fi
rm -f "$list"
