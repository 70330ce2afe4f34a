#!/bin/sh
# SPDX-License-Identifier: MIT
# A few lines on why runs failed, printed just above the final
# "N passed, N failed" line, where a CI log's tail shows them: per
# kernel, how many tests differ from the expectations and the first of
# them, whether igt_runner aborted and why, the first kernel report on
# the console, and what became of the VM (for a hung one, run-vm.sh's
# hang.txt: the last subtest started, and what QEMU and an NMI showed).
# Prints nothing for a kernel whose results all match.
# Usage: why.sh RUN... (run names in $BENCH_OUT: fixed, stock, quick...)
set -eu
. "$(dirname "$0")/lib.sh"

pats=$BENCH_OUT/.kernel-reports
kernel_report_patterns >"$pats"
trap 'rm -f "$pats"' EXIT
for v in "$@"; do
	run=$BENCH_OUT/$v
	out=$run/outcome.txt
	[ -f "$out" ] || continue
	n=$(awk '$2 != $3' "$out" | wc -l)
	[ "$n" -gt 0 ] || continue
	variant=$(run_setting "$run" BENCH_VARIANT)
	if [ -z "$variant" ] || [ "$variant" = "$v" ]; then
		echo "Why the $v kernel's results differ ($n of $(wc -l <"$out") tests):"
	else
		echo "Why the results of $v, on the $variant kernel, differ ($n of $(wc -l <"$out") tests):"
	fi
	awk '$2 != $3 { printf "  first: %s (expected %s, got %s)\n", $1, $2, $3; exit }' "$out"
	first=$(awk '$2 != $3 { print $1; exit }' "$out")
	if [ -f "$run/results.json" ]; then
		# what the test itself said (IGT's CRITICAL lines: the failed
		# assertion and its message), and the first kernel report in
		# its own dmesg
		jq -r --arg t "$first" '.tests[$t] // empty | .err // empty' "$run/results.json" |
			sed '/^\*\*\*\* DEBUG/,/^\*\*\*\*  END/d' | grep -E 'CRITICAL|Test requirement not met' | head -n 4 | cut -c1-200 |
			sed 's/^/    its output: /'
		jq -r --arg t "$first" '.tests[$t] // empty | .dmesg // empty' "$run/results.json" >"$pats.dmesg"
		# a kernel report, else the first line that igt_runner's dmesg
		# check counts (a warning or worse: Warn on a passing subtest)
		{ grep -F -f "$pats" "$pats.dmesg" || grep -E '^<[0-4]>' "$pats.dmesg" || true; } |
			head -n 1 | cut -c1-160 | sed 's/^/    its kernel report: /'
		rm -f "$pats.dmesg"
	fi
	[ -f "$run/vm-failure" ] && echo "  VM: the guest $(cat "$run/vm-failure")"
	[ -f "$run/hang.txt" ] && sed 's/^/    /' "$run/hang.txt"
	if [ -f "$run/results.json" ]; then
		jq -r '.tests["igt@runner@aborted"] // empty | .out' "$run/results.json" |
			grep -v '^[[:space:]]*$' | head -n 2 | cut -c1-160 |
			sed 's/^/  igt_runner aborted: /'
	fi
	if [ -f "$run/console.log" ]; then
		# the run's first report, and for a WARNING its message (the
		# line before); not the panic of run-vm.sh's NMI to a hung guest
		awk -v patfile="$pats" '
		BEGIN { while ((getline p < patfile) > 0) pat[p] = 1 }
		/NMI received for unknown reason/ { exit }
		{ hit = 0; for (p in pat) if (index($0, p)) hit = 1 }
		hit {
			print "  first kernel report of the run: " substr($0, 1, 160)
			if (/WARNING:/ && prev != "")
				print "    its message: " substr(prev, 1, 160)
			exit
		} { prev = $0 }' "$run/console.log"
	fi
done
