#!/bin/sh
# SPDX-License-Identifier: MIT
# The compositor authors' table: what each operation on /dev/fbN does after
# its DRM device went away, on stock 7.2 and with the series, as
# fbdev_unplug observed it ("behaviour: <operation> | <outcome>" lines in
# the runs' results.json), for every target (driver and removal path,
# from the binary's name: fbdev_unplug_<device>_<path>).
# Prints the Markdown table for the README: one row per operation, one
# outcome per kernel when every target agrees, else the outcomes with the
# targets that gave them. The whole driver x path x operation matrix goes
# to $BENCH_OUT/behaviour.md.
set -eu
. "$(dirname "$0")/lib.sh"

# target|operation|outcome, the first of each target and operation.
lines() {
	json=$BENCH_OUT/$1/results.json
	[ -f "$json" ] || return 0
	jq -r '.tests | to_entries[] | (.key | split("@")) as $k |
		select($k[1] | test("^fbdev_(unplug|programs)")) |
		(if $k[1] | test("^fbdev_(unplug|programs)_") then
			$k[1] | sub("^fbdev_(unplug|programs)_"; "") | gsub("_"; "-")
		 elif $k[2] == "aperture-handover" then "simpledrm-handover"
		 else empty end) as $t |
		(.value.out // "") | split("\n")[] | select(test("behaviour: ")) |
		"\($t)|" + sub("^.*behaviour: "; "")' "$json" |
		sed 's/ | /|/; s/ @ 0x[0-9a-f]*//g; s/0x[0-9a-f]\{8,\}/0x.../g' |
		awk -F'|' '!seen[$1 "|" $2]++'
}
lines stock >"$BENCH_OUT/behaviour-stock.txt"
lines fixed >"$BENCH_OUT/behaviour-fixed.txt"

# One cell: the outcomes of operation $2 in file $1 over all targets.
cell() {
	awk -F'|' -v op="$2" '
		$2 == op {
			o = $3
			sub(/ after [0-9.]+ s$/, "", o)
			if (!(o in who)) order[n++] = o
			who[o] = who[o] (who[o] == "" ? "" : ", ") $1
			count++
		}
		END {
			if (n == 0) { printf "not reached"; exit }
			if (n == 1) { printf "%s", order[0]; exit }
			for (i = 0; i < n; i++)
				printf "%s%s (%s)", i ? "; " : "", order[i], who[order[i]]
		}' "$1"
}

echo "| after the device went away, on /dev/fbN | stock 7.2 | with the series |"
echo "| --- | --- | --- |"
cut -d'|' -f2 "$BENCH_OUT/behaviour-fixed.txt" "$BENCH_OUT/behaviour-stock.txt" |
	awk '!seen[$0]++' | while IFS= read -r op; do
	echo "| $op | $(cell "$BENCH_OUT/behaviour-stock.txt" "$op") | $(cell "$BENCH_OUT/behaviour-fixed.txt" "$op") |"
done

# The outcome of target $2 and operation $3 in file $1.
outcome() {
	awk -F'|' -v t="$2" -v op="$3" '$1 == t && $2 == op { print $3; exit }' "$1"
}

{
	echo "| target (device-path) | operation | stock 7.2 | with the series |"
	echo "| --- | --- | --- | --- |"
	cut -d'|' -f1,2 "$BENCH_OUT/behaviour-fixed.txt" "$BENCH_OUT/behaviour-stock.txt" |
		awk '!seen[$0]++' | sort -t'|' -k1,1 -s | while IFS='|' read -r t op; do
		s=$(outcome "$BENCH_OUT/behaviour-stock.txt" "$t" "$op")
		f=$(outcome "$BENCH_OUT/behaviour-fixed.txt" "$t" "$op")
		echo "| $t | $op | ${s:-not reached} | ${f:-not reached} |"
	done
} >"$BENCH_OUT/behaviour.md"
echo
echo "Every target: $BENCH_OUT/behaviour.md"
