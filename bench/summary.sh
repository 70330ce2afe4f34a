#!/bin/sh
# SPDX-License-Identifier: MIT
# Print the results of a run (test, result, time; for anything not passing,
# the kernel warnings and the failure output), compare them with an
# expectations file in drm-ci's format ("igt@bin@subtest,Fail"; every test
# not listed is expected to Pass) and write RUN/outcome.txt with one line
# per test: "name expected actual". Exits non-zero on a mismatch.
# What was listed, the variant and how targets were chosen come from the
# run's record (RUN/job/), not from the environment.
# Usage: summary.sh RUN [EXPECTATIONS]
#   RUN: the run's name in $BENCH_OUT (fixed, stock, quick...);
#   EXPECTATIONS: default tests/VARIANT-fails.txt of the run's variant
set -eu
. "$(dirname "$0")/lib.sh"

phase_t0=$(now)
name=$1
run=$BENCH_OUT/$name
variant=$(run_setting "$run" BENCH_VARIANT)
variant=${variant:-$name}
expect=${2:-$BENCH_TOP/tests/$variant-fails.txt}
json=$run/results.json

[ -f "$run/job/testlist" ] || die "no run recorded in $run (no job/testlist): run it first"
echo
if [ "$name" = "$variant" ]; then
	echo "Results on the $variant kernel ($(run_setting "$run" BENCH_NAME)):"
else
	echo "Results of $name, on the $variant kernel ($(run_setting "$run" BENCH_NAME)):"
fi
[ -f "$run/vm-failure" ] && echo "  VM: the guest $(cat "$run/vm-failure")"
if [ ! -f "$json" ]; then
	echo "  no results.json: the guest wrote no results"
	: >"$run/outcome.txt"
	# every listed test is then missing
	names=""
fi
# One pass over results.json (not a jq per test, slow on a large run): name,
# result, seconds (junit.sh reads it too).
results_table "$json" >"$run/results.tsv"
[ ! -f "$json" ] || names=$(cut -f1 "$run/results.tsv")
# and the kernel log and stderr lines of the tests that did not pass
: >"$run/not-passed.tsv"
[ ! -f "$json" ] || jq -r '.tests | to_entries[] | select(.value.result != "pass") |
	.key as $k | ((.value.dmesg // "") | split("\n")[] | "dmesg\t\($k)\t\(.)"),
	((.value.err // "") | split("\n")[] | "err\t\($k)\t\(.)")' "$json" >"$run/not-passed.tsv"
# Tests the list asked for, as runner names, plus what ran.
# igt@runner@aborted is what igt_runner adds when a kernel report made it
# abort the run (--abort-on-monitored-error); a run it is absent from was
# not aborted, and that counts as its Pass.
grep -E '^igt@' "$run/job/testlist" >"$run/listed.txt"
{
	printf '%s\n' $names
	grep -E '^igt@[^@]+@' "$run/listed.txt" || true
	echo igt@runner@aborted
} | sort -u >"$run/names.txt"

# Kernel-report patterns: the list fbdev_unplug fails a subtest on (the
# strings between the braces of its array).
kernel_report_patterns >"$run/kernel-reports.txt"
[ -s "$run/kernel-reports.txt" ] || die "no kernel-report patterns found in igt-tests/lib/fbdev_target.c"
[ -f "$json" ] && printf '  kernel: Linux %s\n' "$(jq -r '.uname // "?"' "$json" | awk '{ print $3 }')"
printf '  %-52s %-10s %-9s %8s\n' TEST RESULT EXPECTED TIME
mismatch=0
: >"$run/outcome.txt"
while IFS= read -r t; do
	[ -n "$t" ] || continue
	r=$(awk -F'\t' -v t="$t" '$1 == t { print $2; exit }' "$run/results.tsv")
	secs=$(awk -F'\t' -v t="$t" '$1 == t && $3 != "" { printf "%.1fs", $3; exit }' "$run/results.tsv")
	actual=$(status_of "$r")
	[ "$t" = igt@runner@aborted ] && [ -z "$r" ] && [ -f "$json" ] && actual=Pass
	want=$(expected_of "$t" "$expect")
	mark=""
	# A listed flake that differed, or a test the guest hung or crashed
	# in, is retried once (bench/retry-flakes.sh): it counts as expected
	# only when the retry gives the expectation, and is reported as a
	# Flake, never silently.
	if [ "$actual" != "$want" ] && is_retried "$variant" "$run" "$t" "$actual"; then
		retry=$(result_of "$run-retry/results.json" "$t")
		why=""
		is_vm_casualty "$run" "$actual" && why=" (the guest hung or crashed in it)"
		if [ "$retry" = "$want" ]; then
			mark="  Flake: $actual$why, then $retry on retry"
			printf '%s %s %s\n' "$t" "$actual" "$retry" >>"$run/flakes.txt"
			actual=$want
		else
			mark="  (retried: ${retry:-not run})"
		fi
	fi
	if [ "$actual" != "$want" ]; then
		if [ "$actual" = Pass ]; then
			mark="  <-- UnexpectedImprovement($want)$mark"
		else
			mark="  <-- MISMATCH$mark"
		fi
		mismatch=$((mismatch + 1))
	fi
	printf '  %-52s %-10s %-9s %8s%s\n' "$t" "$actual" "$want" "$secs" "$mark"
	printf '%s %s %s\n' "$t" "$want" "$actual" >>"$run/outcome.txt"
	if [ "$actual" != Pass ] && [ -f "$json" ] && [ -n "$r" ]; then
		awk -F'\t' -v t="$t" '$1 == "dmesg" && $2 == t { sub(/^[^\t]*\t[^\t]*\t/, ""); print }' "$run/not-passed.tsv" |
			grep -aF -f "$run/kernel-reports.txt" |
			head -n 12 | sed 's/^/      dmesg: /'
		awk -F'\t' -v t="$t" '$1 == "err" && $2 == t { sub(/^[^\t]*\t[^\t]*\t/, ""); print }' "$run/not-passed.tsv" |
			grep -aE 'CRITICAL|WARNING|Failed assertion|error:|\(errno|did not|succeeded' |
			grep -av 'DEBUG' | sed 's/^\[[0-9. ]*\] ([^)]*) //' |
			head -n 6 | sed 's/^/      err: /'
	fi
done <"$run/names.txt"

# Totals of the run itself
if [ -f "$json" ]; then
	printf '  totals: %s\n' "$(jq -r '[.tests[].result] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$json")"
fi
"$BENCH_TOP/bench/junit.sh" "$name"
echo "  results: $json, junit.xml"
echo "  console: $run/console.log"
phase "results ($name)" "$phase_t0"
run_status "$mismatch" "$name"
