#!/bin/sh
# SPDX-License-Identifier: MIT
# Self-test of the bench's crash handling: two guests' results merged
# (no boot), then the test list run with a guest that panics, then one
# that hangs, after the first test. Both must be reported (with their
# last console lines) and keep the first result.
# Then one boot in which two subtests each make the kernel report
# (LKDTM): each report must be attributed to its own subtest.
set -eu
. "$(dirname "$0")/lib.sh"

"$BENCH_TOP/bench/host-deps.sh"
guest=$("$BENCH_TOP/bench/build-guest.sh")
"$BENCH_TOP/bench/build-kernel.sh" fixed "$guest"
ok=0
bad=0
# A case's verdict: case_ok WHAT / case_bad WHY
case_ok() {
	say "selftest: $1: ok"
	ok=$((ok + 1))
}
case_bad() {
	say "selftest: $1"
	bad=$((bad + 1))
}
# SELFTEST_CASES picks some of: merge panic hang resume reports (default:
# all).
cases=${SELFTEST_CASES:-merge panic hang resume reports}

# The merge of two guests' results (run-vms.sh, no boot): guest 1
# crashed after passing everything, guest 2 hung after failing one
# dynamic subtest of a and before running b. The run must fail a on
# guest 2's result, keep b NotRun despite guest 1's pass, and be a hang
# (status 4), not the crash of the first guest.
case " $cases " in
*" merge "*)
	say "selftest: merging two guests' results"
	out=$BENCH_OUT/selftest-merge
	rm -rf "$out"
	for i in 1 2; do
		mkdir -p "$out/fixed.vm$i/job"
		: >"$out/fixed.vm$i/job/skips"
		echo "BENCH_NAME='fixed-selftest'" >"$out/fixed.vm$i/job/job.env"
		printf 'igt@fbdev_unplug@a\nigt@fbdev_unplug@b\n' >"$out/fixed.vm$i/job/testlist"
	done
	echo igt@core_getversion@basic >>"$out/fixed.vm1/job/testlist"
	cat "$out/fixed.vm1/job/testlist" >"$out/testlist"
	echo '{ "tests": {
		"igt@fbdev_unplug@a": { "result": "pass" },
		"igt@fbdev_unplug@a@t1": { "result": "pass" },
		"igt@fbdev_unplug@b": { "result": "pass" },
		"igt@fbdev_unplug@b@t1": { "result": "pass" },
		"igt@core_getversion@basic": { "result": "pass" } } }' \
		>"$out/fixed.vm1/results.json"
	echo '{ "tests": {
		"igt@fbdev_unplug@a": { "result": "fail" },
		"igt@fbdev_unplug@a@t2": { "result": "fail" } } }' \
		>"$out/fixed.vm2/results.json"
	echo "crashed: QEMU exited without the guest finishing" >"$out/fixed.vm1/vm-failure"
	echo "hung: no progress on its console for 60 s" >"$out/fixed.vm2/vm-failure"
	BENCH_OUT=$out TESTLIST=$out/testlist "$BENCH_TOP/bench/run-vms.sh" --merge fixed
	got=$(jq -r '[.tests | to_entries[] | "\(.key)=\(.value.result)"] | sort | join(" ")' \
		"$out/fixed/results.json")
	want="igt@core_getversion@basic=pass igt@fbdev_unplug@a=fail igt@fbdev_unplug@a@t1=pass igt@fbdev_unplug@a@t2=fail igt@fbdev_unplug@b=notrun igt@fbdev_unplug@b@t1=pass"
	status=0
	BENCH_OUT=$out TESTLIST=$out/testlist "$BENCH_TOP/bench/summary.sh" fixed /dev/null \
		>"$out/summary.txt" 2>&1 || status=$?
	if [ "$got" = "$want" ] && [ "$status" -eq 4 ] &&
	   grep -q '^hung: .*(guest 2 of 2)$' "$out/fixed/vm-failure"; then
		case_ok "merge: a failed, b NotRun, the run hung (status 4)"
	else
		case_bad "merge gave: $got; summary status $status; $(cat "$out/fixed/vm-failure")"
	fi
	;;
esac

for fault in $cases; do
	case $fault in panic | hang) ;; *) continue ;; esac
	out=$BENCH_OUT/selftest-$fault
	say "selftest: guest that will $fault after the first test"
	t0=$(date +%s)
	BENCH_OUT=$out BENCH_FAULT=$fault BENCH_TIMEOUT=${SELFTEST_TIMEOUT:-480} \
		BENCH_SILENCE=${SELFTEST_SILENCE:-60} BENCH_RESUMES=0 \
		"$BENCH_TOP/bench/run-vm.sh" fixed "$guest"
	BENCH_OUT=$out "$BENCH_TOP/bench/summary.sh" fixed /dev/null || true
	# A hang must also be diagnosed: QEMU's monitor answered, and on the
	# NMI the guest's kernel printed its CPUs' backtraces and the task
	# that LKDTM left blocked in D state.
	diagnosed=true
	if [ "$fault" = hang ]; then
		sed 's/^/      /' "$out/fixed/hang.txt" 2>/dev/null || true
		grep -q "^QEMU's monitor: VM status: running" "$out/fixed/hang.txt" 2>/dev/null &&
			grep -q '^after an NMI, the guest printed [0-9]' "$out/fixed/hang.txt" &&
			grep -q '^blocked: task:.* state:D' "$out/fixed/hang.txt" &&
			grep -q 'NMI backtrace for cpu' "$out/fixed/console.log" ||
			diagnosed=false
	fi
	if $diagnosed && [ -f "$out/fixed/vm-failure" ] && [ -f "$out/fixed/results.json" ] &&
	   [ "$(jq '[.tests[] | select(.result == "pass")] | length' "$out/fixed/results.json")" -ge 1 ]; then
		case_ok "$fault reported after $(( $(date +%s) - t0 )) s with partial results"
	else
		case_bad "$fault was not reported with partial results"
	fi
done

# Going on after a crash: a guest that panics in the second of three
# executions; one more boot must run the tests that have no result (the
# rest of the second execution, the whole third), so that every listed
# test has one, the crashed one Incomplete.
case " $cases " in
*" resume "*)
	out=$BENCH_OUT/selftest-resume
	say "selftest: a guest that panics in the middle of the list, then a boot that resumes the run"
	# (the quick list's vunplug subtests; then a second execution whose
	# first subtest lasts several seconds, kmemleak's minimum age at
	# least, so that the panic, which comes within a second of its start,
	# lands in it and not between two short subtests; then a third
	# execution that never starts in boot 1)
	mkdir -p "$out"
	list=$out/testlist
	{ grep -E '^igt@fbdev_unplug_vunplug_debugfs@' "$BENCH_TOP/tests/testlist-quick.txt"
	  echo igt@fbdev_unplug_vkms_configfs@plug-unplug-cycles
	  echo igt@fbdev_unplug_vkms_configfs@replug-while-open
	  echo igt@core_getversion@basic; } >"$list"
	BENCH_OUT=$out BENCH_FAULT=panic BENCH_TIMEOUT=${SELFTEST_TIMEOUT:-480} \
		BENCH_DISPLAYS='' \
		TESTLIST=$list "$BENCH_TOP/bench/run-vm.sh" fixed "$guest"
	# (the binary's subtest order decides which test the panic hits)
	got=$(jq -r --rawfile list "$list" '[$list | split("\n")[] |
		select(startswith("igt@"))] as $l | [.tests | to_entries[] |
		select(.key as $k | $l | index($k)) | .value.result] |
		group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$out/fixed/results.json" 2>/dev/null)
	want="incomplete 1, pass $(( $(grep -c '^igt@' "$list") - 1 ))"
	if grep -q '^crashed: .*boot 2 was started for the rest of the list' "$out/fixed/vm-failure" 2>/dev/null &&
	   [ -f "$out/fixed/boot1.console.log" ] && [ "$got" = "$want" ]; then
		case_ok "resume: one test Incomplete, the rest of the list ran in boot 2"
	else
		case_bad "resume: $(cat "$out/fixed/vm-failure" 2>/dev/null || echo no failure recorded); listed tests: ${got:-none} (want $want)"
	fi
	;;
esac

# Report attribution: three subtests that each provoke one kernel report
# (LKDTM; two KASAN reports, so kasan_multi_shot is needed), then two that
# provoke none, in one boot with kasan_multi_shot
# and without igt_runner's abort on taint. Each report must be in its own
# subtest's dmesg and nowhere else, and the clean subtests must pass.
case " $cases " in *" reports "*) ;; *) echo "$ok passed, $bad failed"; [ "$bad" -eq 0 ]; exit ;; esac
out=$BENCH_OUT/selftest-reports
say "selftest: three subtests that each make the kernel report, in one boot"
BENCH_OUT=$out BENCH_MODULES="vunplug lkdtm" BENCH_ABORT= \
	TESTLIST=$BENCH_TOP/tests/testlist-selftest.txt \
	"$BENCH_TOP/bench/run-vm.sh" fixed "$guest"
json=$out/fixed/results.json
# attributed TEST WANT_PATTERN RESULTS...: TEST's result is one of
# RESULTS, its dmesg matches WANT_PATTERN (or, for "-", no report at
# all), and it has no report of another kind.
attributed() {
	t=igt@kernel_reports@$1
	[ "$1" = defio-flush ] && t=igt@fbdev_unplug_vunplug_debugfs@$1
	want=$2
	shift 2
	[ -f "$json" ] || return 1
	r=$(jq -r --arg t "$t" '.tests[$t].result // "missing"' "$json")
	dm=$(jq -r --arg t "$t" '.tests[$t].dmesg // ""' "$json")
	kasan=$(printf '%s\n' "$dm" | grep -c 'BUG: KASAN' || true)
	warn=$(printf '%s\n' "$dm" | grep -c 'WARNING: ' || true)
	say "selftest:   $t: $r; its dmesg: $kasan KASAN, $warn WARNING report line(s)"
	printf '%s\n' "$dm" | grep -E 'BUG: KASAN|WARNING: ' | head -n 2 |
		sed 's/^/      /'
	case " $* " in *" $r "*) ;; *) return 1 ;; esac
	case $want in
	KASAN) [ "$kasan" -ge 1 ] && [ "$warn" -eq 0 ] ;;
	WARNING) [ "$warn" -ge 1 ] && [ "$kasan" -eq 0 ] ;;
	-) [ "$kasan" -eq 0 ] && [ "$warn" -eq 0 ] ;;
	esac
}
n=0
attributed warn WARNING dmesg-warn dmesg-fail || n=$((n + 1))
attributed kasan KASAN dmesg-warn dmesg-fail || n=$((n + 1))
attributed kasan-overflow KASAN dmesg-warn dmesg-fail || n=$((n + 1))
attributed clean - pass || n=$((n + 1))
attributed defio-flush - pass || n=$((n + 1))
if [ "$n" -eq 0 ]; then
	case_ok "each report attributed to its own subtest"
else
	case_bad "reports were not attributed to their own subtests (see $out/fixed)"
fi
echo "$ok passed, $bad failed"
[ "$bad" -eq 0 ]
