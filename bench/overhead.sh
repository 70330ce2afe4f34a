#!/bin/sh
# SPDX-License-Identifier: MIT
# igt_runner's overhead per test of one run: between the starts of two
# consecutive tests (igt_runner's "[N/M]" console lines), what the first
# test's own subtest time does not account for: exec, library loading,
# IGT's start, fixtures, exit, igt_runner writing the results.
# Usage: overhead.sh RUN_DIR  -> "MEDIAN MEAN TESTS", seconds per test
# (nothing if the run has fewer than two tests). The median is igt_runner's
# own cost; the mean adds the fixtures of tests that do much outside their
# subtests (core_hotunplug: module loads, health checks).
set -eu
run=$1
[ -f "$run/results.json" ] && [ -f "$run/console.log" ] || exit 0
jq -r '.tests | to_entries[] | select(.key | split("@") | length == 3) |
	"\(.key) \(.value.time.end - .value.time.start)"' "$run/results.json" |
awk -v console="$run/console.log" '
	{ dur[$1] = $2 }
	END {
		n = 0
		while ((getline line < console) > 0) {
			gsub(/\r/, "", line)
			if (line !~ /^\[ *[0-9.]+\] \[[0-9]+\/[0-9]+\] \([^)]*\) [^ ]+ \(.*\)$/)
				continue
			t = line; sub(/^\[ */, "", t); sub(/\].*/, "", t)
			bin = line; sub(/^[^)]*\) /, "", bin); sub(/ .*/, "", bin)
			sub_ = line; sub(/.* \(/, "", sub_); sub(/\)$/, "", sub_)
			start[n] = t; name[n] = "igt@" bin "@" sub_; n++
		}
		for (i = 0; i + 1 < n; i++) {
			if (!(name[i] in dur))
				continue
			o[m++] = start[i + 1] - start[i] - dur[name[i]]
			sum += o[m - 1]
		}
		if (!m)
			exit
		# insertion sort: a few hundred values at most
		for (i = 1; i < m; i++)
			for (j = i; j > 0 && o[j - 1] > o[j]; j--) {
				v = o[j]; o[j] = o[j - 1]; o[j - 1] = v
			}
		med = m % 2 ? o[(m - 1) / 2] : (o[m / 2 - 1] + o[m / 2]) / 2
		printf "%.2f %.2f %d\n", med, sum / m, m
	}'
