#!/bin/sh
# SPDX-License-Identifier: MIT
# The compositor authors' table: what a program sees on /dev/fbN after its
# DRM device went away, on stock 7.2 and with the series, made from the
# last runs' results (results.json of each kernel) and bench/behaviour.txt,
# which names the rows: one per subtest, with what the subtest requires.
# Each cell is the subtest's result over every target (driver and removal
# path, from the binary's name: fbdev_unplug_<device>_<path>); a result
# other than Pass shows the test's own failure message, and targets that
# differ are named. The whole target x subtest matrix goes to
# $BENCH_OUT/behaviour.md.
set -eu
. "$(dirname "$0")/lib.sh"

rows=$BENCH_TOP/bench/behaviour.txt

# target|subtest|outcome for one kernel. The outcome is the result, and
# for anything but a pass the message of the test's failed assertion (its
# last CRITICAL line that is not the assertion's location or errno), with
# device numbers, addresses and page counts made alike across targets.
results() {
	json=$BENCH_OUT/$1/results.json
	[ -f "$json" ] || return 0
	jq -r '.tests | to_entries[] | (.key | split("@")) as $k |
		select($k[1] | test("^fbdev_(unplug|programs)")) |
		(if $k[1] | test("^fbdev_(unplug|programs)_") then
			$k[1] | sub("^fbdev_(unplug|programs)_"; "") | gsub("_"; "-")
		 elif $k[2] == "aperture-handover" then "simpledrm-handover"
		 else empty end) as $t |
		(.value.result | .[0:1] | ascii_upcase) as $r0 |
		($r0 + (.value.result | .[1:])) as $r |
		if .value.result == "pass" then "\($t)|\($k[2])|Pass"
		else
			[(.value.err // "") | split("\n")[] |
			 select(test("CRITICAL: ")) | sub("^.*CRITICAL: "; "") |
			 select(test("^(Test assertion failure|Failed assertion|Last errno)") | not)] as $m |
			"\($t)|\($k[2])|\($r)" + (if ($m | length) > 0 then ": " + ($m[-1] | gsub("\\|"; "\\|")) else "" end)
		end' "$json" |
		sed -E 's,/dev/fb[0-9]+,/dev/fbN,g; s,card[0-9]+,cardN,g;
			s,([^a-z])fb[0-9]+,\1fbN,g; s,0x[0-9a-f]+,0x...,g;
			s/page 0 of ([0-9]+): (.*) did not raise SIGBUS \(\1 pages did not\)/\2 did not raise SIGBUS on any page/
			s/([0-9]+) of \1 pages/all pages/g; s/[[:space:]]+$//'
}
results stock >"$BENCH_OUT/behaviour-stock.txt"
results fixed >"$BENCH_OUT/behaviour-fixed.txt"

# One cell: the outcomes of subtest $2 in file $1 over all targets.
cell() {
	awk -F'|' -v st="$2" '
		$2 == st {
			o = $3
			for (i = 4; i <= NF; i++) o = o "|" $i
			if (!(o in who)) order[n++] = o
			who[o] = who[o] (who[o] == "" ? "" : ", ") $1
		}
		END {
			if (n == 0) { printf "not run"; exit }
			if (n == 1) { printf "%s", order[0]; exit }
			for (i = 0; i < n; i++)
				printf "%s%s (%s)", i ? "; " : "", order[i], who[order[i]]
		}' "$1"
}

echo "| after the device went away, a program ... | the subtest requires | stock 7.2 | with the series |"
echo "| --- | --- | --- | --- |"
grep -v '^#' "$rows" | while IFS='|' read -r st what want; do
	echo "| $what (\`$st\`) | $want | $(cell "$BENCH_OUT/behaviour-stock.txt" "$st") | $(cell "$BENCH_OUT/behaviour-fixed.txt" "$st") |"
done

# The outcome of target $2 and subtest $3 in file $1.
outcome() {
	awk -F'|' -v t="$2" -v st="$3" '$1 == t && $2 == st {
		o = $3
		for (i = 4; i <= NF; i++) o = o "|" $i
		print o
		exit
	}' "$1"
}

{
	echo "| target (device-path) | subtest | stock 7.2 | with the series |"
	echo "| --- | --- | --- | --- |"
	grep -v '^#' "$rows" | cut -d'|' -f1 >"$BENCH_OUT/behaviour-rows.txt"
	cut -d'|' -f1 "$BENCH_OUT/behaviour-fixed.txt" "$BENCH_OUT/behaviour-stock.txt" |
		sort -u | while IFS= read -r t; do
		while IFS= read -r st; do
			s=$(outcome "$BENCH_OUT/behaviour-stock.txt" "$t" "$st")
			f=$(outcome "$BENCH_OUT/behaviour-fixed.txt" "$t" "$st")
			[ -n "$s$f" ] || continue
			echo "| $t | $st | ${s:-not run} | ${f:-not run} |"
		done <"$BENCH_OUT/behaviour-rows.txt"
	done
	rm -f "$BENCH_OUT/behaviour-rows.txt"
} >"$BENCH_OUT/behaviour.md"
echo
echo "Every target: $BENCH_OUT/behaviour.md"
