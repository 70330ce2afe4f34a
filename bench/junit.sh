#!/bin/sh
# SPDX-License-Identifier: MIT
# JUnit XML of a run, next to its results.json, as drm-ci's runs write it:
# one testcase per test, a <failure> where the result differs from the
# expectation, <skipped/> for skips.
# Usage: junit.sh VARIANT   (reads $BENCH_OUT/VARIANT/outcome.txt)
set -eu
. "$(dirname "$0")/lib.sh"

run=$BENCH_OUT/$1
[ -f "$run/outcome.txt" ] || die "no outcome.txt in $run"
esc() {
	printf '%s' "$1" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'
}
# name, result, seconds: summary.sh's one pass over results.json
table=$run/results.tsv
[ -f "$table" ] || results_table "$run/results.json" >"$table"
total=$(wc -l <"$run/outcome.txt")
failures=$(awk '$2 != $3' "$run/outcome.txt" | wc -l)
skipped=$(awk '$3 == "Skip"' "$run/outcome.txt" | wc -l)
{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	printf '<testsuites>\n<testsuite name="%s" tests="%s" failures="%s" skipped="%s">\n' \
		"$(esc "IGT $1")" "$total" "$failures" "$skipped"
	while read -r t want got; do
		secs=$(awk -F'\t' -v t="$t" '$1 == t && $3 != "" { print $3; exit }' "$table")
		bin=$(printf '%s' "$t" | cut -d@ -f2)
		printf '  <testcase classname="igt.%s" name="%s" time="%s">' \
			"$(esc "$bin")" "$(esc "$t")" "${secs:-0}"
		if [ "$want" != "$got" ]; then
			printf '<failure message="%s"/>' \
				"$(esc "expected $want, got $got")"
		elif [ "$got" = Skip ]; then
			printf '<skipped/>'
		fi
		fl=$(grep -E "^$t " "$run/flakes.txt" 2>/dev/null | head -n 1 || true)
		[ -z "$fl" ] || printf '<system-out>%s</system-out>' \
			"$(esc "Flake: $(echo "$fl" | cut -d' ' -f2), then $(echo "$fl" | cut -d' ' -f3) on retry")"
		printf '</testcase>\n'
	done <"$run/outcome.txt"
	echo '</testsuite>'
	echo '</testsuites>'
} >"$run/junit.xml"
