#!/bin/sh
# SPDX-License-Identifier: MIT
# The phase table of this run: how long each stage took, as the scripts
# recorded it in $BENCH_OUT/phases.txt. With --reset, starts a new run.
set -eu
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --reset ]; then
	mkdir -p "$BENCH_OUT"
	: >"$BENCH_OUT/phases.txt"
	now >"$BENCH_OUT/phases.start"
	exit 0
fi
[ -s "$BENCH_OUT/phases.txt" ] || exit 0
echo
rel=$(cat "$(kernel_tree fixed)/o/include/config/kernel.release" 2>/dev/null || echo unknown)
echo "Phases of this run (seconds), Linux $rel:"
awk -F'|' '{ printf "  %-52s %8s\n", $1, $2 }' "$BENCH_OUT/phases.txt"
[ -f "$BENCH_OUT/phases.start" ] &&
	awk -v a="$(cat "$BENCH_OUT/phases.start")" -v b="$(now)" \
		'BEGIN { printf "  %-52s %8.1f\n", "total", b - a }'
exit 0
