#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a kernel variant's test list in one guest (run-vm.sh), or in two
# side by side, merging what they wrote into $BENCH_OUT/VARIANT as one
# run for summary.sh, why.sh and check.sh.
#
# BENCH_VMS guests (default: 2 on a host with 4 cores or more, else 1),
# each with the host's cores shared out (-smp): one guest alone keeps
# about 1.1 cores busy under TCG, so two guests finish the list sooner
# although each runs slower than alone (docs/performance.md, "Two guests
# side by side").
#
# The list's lines are split: a target is a binary of its own
# (fbdev_unplug_<device>_<path>, fbdev_programs_<device>_<path>), and
# guest 2 takes the lines of the targets that no glob of BENCH_SPLIT
# matches; guest 1 takes every other line. Both run the list's first line,
# which sets a boot up (aperture-handover), and both results count. Each
# guest is a run-vm.sh of its own ($BENCH_OUT/VARIANT.vm1, .vm2): its own
# watchdog, hang report and phases.
# Usage: run-vms.sh VARIANT GUEST_ROOT   -> results in $BENCH_OUT/VARIANT/
# (or $BENCH_OUT/$BENCH_RUN/)
set -eu
. "$(dirname "$0")/lib.sh"
set -f	# globs of binaries, never of files

# Merge $run.vm1 and $run.vm2 into $run.
merge() {
	mkdir -p "$run/job"
	cp "$run.vm1/job/job.env" "$run.vm1/job/skips" "$run/job/"
	cat "$run.vm1/job/testlist" "$run.vm2/job/testlist" 2>/dev/null |
		awk '!seen[$0]++' >"$run/job/testlist"
	for i in 1 2; do
		r=$run.vm$i
		# Every test of a guest's list that it has no result for
		# (after a crash, igt_results leaves out the rest of the
		# execution) is NotRun: the other guest's pass must not hide it.
		if [ -f "$r/results.json" ]; then
			jq --rawfile list "$r/job/testlist" '.tests = ([$list | split("\n")[] |
				select(length > 0) | { key: ., value: { result: "notrun" } }] |
				from_entries) + .tests' "$r/results.json"
		else
			jq -Rn '{ tests: ([inputs | select(length > 0) |
				{ key: ., value: { result: "notrun" } }] | from_entries) }' \
				<"$r/job/testlist"
		fi >"$r/results-listed.json"
		printf '==== guest %s of 2 (%s) ====\n' "$i" "$r"
		cat "$r/console.log" 2>/dev/null || true
	done >"$run/console.log"
	# A test both guests ran keeps the worse of the two results (and its
	# output), and the time of both. No results.json when neither guest
	# wrote one, as with one guest.
	rm -f "$run/results.json"
	[ -f "$run.vm1/results.json" ] || [ -f "$run.vm2/results.json" ] ||
		return 0
	jq -n --slurpfile a "$run.vm1/results-listed.json" \
		--slurpfile b "$run.vm2/results-listed.json" '
		def rank: { skip: 0, pass: 1, notrun: 2, warn: 3, "dmesg-warn": 4,
			fail: 5, "dmesg-fail": 6, timeout: 7, incomplete: 8, crash: 9,
			abort: 10 }[.] // 5;
		def secs: if .time then .time.end - .time.start else 0 end;
		$a[0] |
		.tests = reduce ($b[0].tests | to_entries[]) as $e (.tests;
			if has($e.key) then
				.[$e.key] as $x |
				(if ($e.value.result | rank) > ($x.result | rank)
				 then $e.value else $x end) as $w |
				(($x | secs) + ($e.value | secs)) as $t |
				.[$e.key] = ($w | if $t > 0 then .time = {
					__type__: "TimeAttribute", start: 0, end: $t } else . end)
			else .[$e.key] = $e.value end) |
		del(.totals)' >"$run/results.json"
}

# The run's failure: a hang before a crash (exit status 4, not 3), with
# the guest it happened in; every guest's hang report.
merge_failures() {
	rm -f "$run/vm-failure" "$run/hang.txt"
	for i in 1 2; do
		f=$run.vm$i/vm-failure
		if [ -f "$f" ] && { [ ! -f "$run/vm-failure" ] ||
		     { grep -qE '(^|; boot [0-9]+: )hung' "$f" &&
		       ! grep -qE '(^|; boot [0-9]+: )hung' "$run/vm-failure"; }; }; then
			printf '%s (guest %s of 2)\n' "$(cat "$f")" "$i" >"$run/vm-failure"
		fi
		[ ! -f "$run.vm$i/hang.txt" ] ||
			sed "s/^/guest $i: /" "$run.vm$i/hang.txt" >>"$run/hang.txt"
	done
	cat "$run.vm1/vm-seconds" "$run.vm2/vm-seconds" 2>/dev/null | sort -n |
		tail -n 1 >"$run/vm-seconds"
}

merge_only=
if [ "${1:-}" = --merge ]; then	# merge the guests' results again
	merge_only=1
	shift
fi
variant=$1
guest=${2:-}
name=${BENCH_RUN:-$variant}
run=$BENCH_OUT/$name
: "${TESTLIST:=$BENCH_TOP/tests/testlist.txt}"
if [ -n "$merge_only" ]; then
	merge
	merge_failures
	exit 0
fi
if [ -z "${BENCH_VMS:-}" ]; then
	BENCH_VMS=1
	[ "$JOBS" -lt 4 ] || BENCH_VMS=2
fi
# About even halves of the test time of both kernels (README)
: "${BENCH_SPLIT:=fbdev_*_vunplug_* fbdev_unplug_vga_* fbdev_*_device_del}"
case $BENCH_VMS in
1)
	rm -rf "$run.vm1" "$run.vm2"
	exec "$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest"
	;;
2) ;;
*) die "BENCH_VMS must be 1 or 2 (got '$BENCH_VMS')" ;;
esac
[ -n "$(printf '%s' "$BENCH_SPLIT" | tr -d ' ,')" ] ||
	die "BENCH_SPLIT is empty: it takes globs of the target binaries of guest 1"
case " $(printf '%s' "$BENCH_SPLIT" | tr ',' ' ') " in
*@*) die "BENCH_SPLIT takes globs of binary names, such as fbdev_unplug_vga_*, without '@' (got '$BENCH_SPLIT')" ;;
esac

rm -rf "$run" "$run.vm1" "$run.vm2"
mkdir -p "$run/job"
list1=$run/job/testlist.vm1
list2=$run/job/testlist.vm2
: >"$list1"
: >"$list2"
# (the skips first: a guest with nothing but the setup line is not booted)
skip_patterns "$variant" >"$run/job/skips"
grep -E '^igt@' "$TESTLIST" | { grep -vEf "$run/job/skips" 2>/dev/null || cat; } |
	awk -v split_globs="$(printf '%s' "$BENCH_SPLIT" | tr ',' ' ')" -v l1="$list1" -v l2="$list2" '
	function glob_re(g) { gsub(/[.+^$(){}|\[\]\\]/, "\\\\&", g); gsub(/\*/, ".*", g); gsub(/\?/, ".", g); return "^" g "$" }
	BEGIN { n = split(split_globs, g, " "); for (i = 1; i <= n; i++) re[i] = glob_re(g[i]) }
	{
		bin = $0; sub(/^igt@/, "", bin); sub(/@.*/, "", bin)
		to = l1
		if (bin ~ /^fbdev_(unplug|programs)_/) {
			to = l2
			for (i = 1; i <= n; i++) if (bin ~ re[i]) to = l1
		}
		# the first line sets a boot up: both guests run it
		if (NR == 1 && to == l1) print >> l2
		print >> to
	}'
grep -qE '^igt@(fbdev_unplug|fbdev_programs)_' "$list2" ||
	exec "$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest"
[ -s "$list1" ] || exec env TESTLIST="$list2" "$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest"

# The KVM probe boots a guest: once, before the two
BENCH_ACCEL=$(choose_accel "$(kernel_tree "$variant")/o/arch/x86/boot/bzImage")
export BENCH_ACCEL
BENCH_SMP=$(( JOBS / 2 ))
[ "$BENCH_SMP" -ge 2 ] || BENCH_SMP=2	# the races want two CPUs
export BENCH_SMP

say "VMs: $variant in two guests of $BENCH_SMP CPUs: 1 takes the targets '$BENCH_SPLIT' and IGT's tests, 2 the other targets"
t0=$(now)
BENCH_RUN=$name.vm1 BENCH_TAG="guest 1" TESTLIST=$list1 \
	"$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest" &
p1=$!
trap 'kill "$p1" 2>/dev/null; exit 130' INT TERM HUP
# Guest 2 boots once guest 1 has started its first test: two boots at
# once are each much slower than one alone.
i=0
while [ $i -lt 300 ] && kill -0 "$p1" 2>/dev/null &&
      ! grep -aqE '\[0*1/[0-9]+\]' "$run.vm1/console.log" 2>/dev/null; do
	sleep 0.2
	i=$((i + 1))
done
rc=0
if ! kill -0 "$p1" 2>/dev/null; then	# (a guest that died at boot)
	wait "$p1" || die "run-vm.sh failed for guest 1 of $variant (see above)"
	p1=
fi
BENCH_RUN=$name.vm2 BENCH_TAG="guest 2" TESTLIST=$list2 \
	"$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest" &
p2=$!
trap 'kill $p1 "$p2" 2>/dev/null; exit 130' INT TERM HUP
[ -z "$p1" ] || wait "$p1" || rc=$?
wait "$p2" || rc=$?
trap - INT TERM HUP
[ "$rc" -eq 0 ] || die "run-vm.sh failed for a guest of $variant (see above)"
phase "VMs side by side, wall clock ($variant)" "$t0"
merge
merge_failures
exit 0
