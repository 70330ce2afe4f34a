#!/bin/sh
# SPDX-License-Identifier: MIT
# The compositor authors' table: what each operation on /dev/fbN does after
# the DRM device was unplugged, on stock 7.2 and with the series, as the
# fbdev_unplug test observed it ("behaviour: <operation> | <outcome>"
# lines in the runs' results.json). Prints a Markdown table.
set -eu
. "$(dirname "$0")/lib.sh"

lines() {
	json=$BENCH_OUT/$1/results.json
	[ -f "$json" ] || return 0
	jq -r '.tests | to_entries[] | select(.key | startswith("igt@fbdev_unplug@")) | .value.out // ""' "$json" |
		sed -n 's/^.*behaviour: \(.*\) | \(.*\)$/\1|\2/p' | sed 's/ @ 0x[0-9a-f]*//g; s/0x[0-9a-f]\{8,\}/0x.../g' | awk -F'|' '!seen[$1]++'
}
lines stock >"$BENCH_OUT/behaviour-stock.txt"
lines fixed >"$BENCH_OUT/behaviour-fixed.txt"
echo "| after unplug, on /dev/fbN | stock 7.2 | with the series |"
echo "| --- | --- | --- |"
cut -d'|' -f1 "$BENCH_OUT/behaviour-fixed.txt" "$BENCH_OUT/behaviour-stock.txt" |
	awk '!seen[$0]++' | while IFS= read -r op; do
	s=$(grep -F "$op|" "$BENCH_OUT/behaviour-stock.txt" | head -n 1 | cut -d'|' -f2)
	f=$(grep -F "$op|" "$BENCH_OUT/behaviour-fixed.txt" | head -n 1 | cut -d'|' -f2)
	echo "| $op | ${s:-not reached} | ${f:-not reached} |"
done
