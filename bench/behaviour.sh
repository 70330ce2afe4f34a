#!/bin/sh
# SPDX-License-Identifier: MIT
# The compositor authors' table: what a program sees on /dev/fbN after its
# DRM device went away, on stock 7.2 and with the series, made from the
# last runs' results (results.json of each kernel) and bench/behaviour.txt,
# which names the rows: one per subtest, with what the subtest requires.
# Each cell is the subtest's result over every target (driver and removal
# path, from the binary's name: fbdev_unplug_<device>_<path>), in
# expectations' terms (a kernel report on the way does not change Fail to
# Dmesg-fail); a result other than Pass shows the test's own message, and
# targets that differ are named. Every subtest of every target, listed
# rows first, goes to $BENCH_OUT/behaviour.md.
set -eu
. "$(dirname "$0")/lib.sh"

rows=$BENCH_TOP/bench/behaviour.txt

# target|subtest|outcome for one kernel. The outcome is the result and,
# for anything but a pass, the test's message: the last CRITICAL line of
# its failed check that is not the check's location or errno, or for a
# skip its reason. Addresses, device numbers and page counts are made
# alike across targets, and | is escaped for Markdown.
results() {
	json=$BENCH_OUT/$1/results.json
	if [ ! -f "$json" ]; then
		say "behaviour: no results of the $1 kernel ($json): its column says \"not run\"" >&2
		return 0
	fi
	jq -r '
		def norm: gsub("0x[0-9a-f]+"; "0x...") |
			gsub("/dev/fb[0-9]+"; "/dev/fbN") |
			gsub("(?<![[:alnum:]_])card[0-9]+"; "cardN") |
			gsub("(?<![[:alnum:]_])fb[0-9]+"; "fbN") |
			gsub("page 0 of (?<n>[0-9]+): (?<w>.*?) did not raise SIGBUS \\(\\k<n> pages did not\\)";
			     "\(.w) did not raise SIGBUS on any page") |
			gsub("(?<![0-9])(?<n>[0-9]+) of \\k<n> pages"; "all pages") |
			gsub("\\|"; "\\|") | sub("\\s+$"; "");
		def message: (.err // "") | (split("\n**** DEBUG ****")[0] // "") |
			[split("\n")[] | select(test("CRITICAL: ")) | sub("^.*CRITICAL: "; "") |
			 select(test("^(Test assertion failure|Last errno)") | not)] | last;
		def reason: (.out // "") | [split("\n")[] | select(length > 0) |
			select(test("^Subtest .*: SKIP") | not)] | last;
		.tests | to_entries[] | (.key | split("@")) as $k |
		select($k[1] | test("^fbdev_(unplug|programs)")) |
		(if $k[1] | test("^fbdev_(unplug|programs)_") then
			$k[1] | sub("^fbdev_(unplug|programs)_"; "") | gsub("_"; "-")
		 elif $k[2] == "aperture-handover" then "simpledrm-handover"
		 else empty end) as $t |
		(.value.result // "") as $r |
		(if $r == "pass" then null
		 elif $r == "skip" then .value | reason
		 else .value | message end) as $m |
		"\($t)|\($k[2])|\($r)|" + (if $m then $m | norm else "" end)' "$json" |
		# (the result in drm-ci's terms, as the expectations have it)
		while IFS='|' read -r t st r m; do
			printf '%s|%s|%s%s\n' "$t" "$st" "$(status_of "$r")" "${m:+: $m}"
		done
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
grep -v -e '^#' -e '^$' "$rows" | while IFS='|' read -r st what want; do
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

# Every subtest: the table's rows in their order, then the others.
subtests=$({
	grep -v -e '^#' -e '^$' "$rows" | cut -d'|' -f1
	cut -d'|' -f2 "$BENCH_OUT/behaviour-fixed.txt" "$BENCH_OUT/behaviour-stock.txt"
} | awk '!seen[$0]++')
{
	echo "| target (device-path) | subtest | stock 7.2 | with the series |"
	echo "| --- | --- | --- | --- |"
	cut -d'|' -f1 "$BENCH_OUT/behaviour-fixed.txt" "$BENCH_OUT/behaviour-stock.txt" |
		sort -u | while IFS= read -r t; do
		printf '%s\n' "$subtests" | while IFS= read -r st; do
			s=$(outcome "$BENCH_OUT/behaviour-stock.txt" "$t" "$st")
			f=$(outcome "$BENCH_OUT/behaviour-fixed.txt" "$t" "$st")
			[ -n "$s$f" ] || continue
			echo "| $t | $st | ${s:-not run} | ${f:-not run} |"
		done
	done
} >"$BENCH_OUT/behaviour.md"
echo
echo "Every subtest of every target: $BENCH_OUT/behaviour.md"
