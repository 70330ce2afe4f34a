#!/bin/sh
# SPDX-License-Identifier: MIT
# igt_runner's overhead per test of one run: the time from the start of
# the first test to igt_runner's exit (console lines: igt_runner's first
# "[1/M]" line and guest-init's "igt_runner exited", both stamped with
# the guest's boot clock) that the subtests' own times do not account
# for, divided by the number of tests (the subtests of the test list).
# It is everything igt_runner adds: exec, library loading, IGT's start,
# fixtures outside the subtests, exit, dmesg collection, writing the
# results, and writing results.json at the end.
# Usage: overhead.sh RUN_DIR -> "MEAN TESTS OUTSIDE" (seconds per test,
# tests, seconds outside the subtests), nothing if the run did not end.
set -eu
run=$1
[ -f "$run/results.json" ] && [ -f "$run/console.log" ] || exit 0
first=$(sed -n 's/^\[ *\([0-9.]*\)\] \[0*1\/[0-9]*\] .*/\1/p' "$run/console.log" | head -n 1)
last=$(sed -n 's/^bench: at \([0-9.]*\) s: igt_runner exited.*/\1/p' "$run/console.log" | tail -n 1)
[ -n "$first" ] && [ -n "$last" ] || exit 0
# A subtest that timed out, crashed or never finished has no reliable
# time of its own: all of it counts as overhead.
jq -r '.tests | to_entries[] |
	select((.key | split("@") | length == 3) and (.key | startswith("igt@runner@") | not)) |
	if (.value.result | test("^(timeout|incomplete|crash|abort|notrun)$"))
	then 0 else (.value.time.end // 0) - (.value.time.start // 0) end' "$run/results.json" |
awk -v wall="$(awk -v a="$first" -v b="$last" 'BEGIN { print b - a }')" '
	{ own += $1; n++ }
	END { if (n) printf "%.2f %d %.1f\n", (wall - own) / n, n, wall - own }'
