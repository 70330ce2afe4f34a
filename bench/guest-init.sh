#!/bin/sh
# SPDX-License-Identifier: MIT
# PID 1 of the bench guest: mounts what IGT needs, loads the modules, runs
# igt_runner over the job's test root, writes the results to the host's
# share and resets the guest, which ends QEMU. Console lines that start
# with "bench:" are read by the host. Every exec is slow under TCG: shell
# builtins wherever they do.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# QEMU ends with the guest: a reset, with which QEMU exits (it runs with
# -no-reboot), on every machine (microvm has no ACPI to power off). The
# reset does not wait for the console: stty's tcsetattr(TCSADRAIN) does,
# so that the host sees the last line.
end_guest() {
	stty onlcr 2>/dev/null </dev/console
	echo b >/proc/sysrq-trigger
}
# One helper mounts everything (one exec, not one mount(8) per mount);
# the bench share holds the job and takes the results.
if ! /opt/vunplug-bench/bin/bench-mounts; then
	echo "bench: cannot mount the bench share"
	end_guest
fi
job=/run/bench
. "$job/job.env"

off() {
	sync
	echo "bench: done"
	end_guest
	sleep 60
}

# Where the guest's time goes before the first test: seconds since boot.
stamp() {
	read -r up _ </proc/uptime
	echo "bench: at $up s: $*"
}

read -r release </proc/sys/kernel/osrelease
read -r cpus </sys/devices/system/cpu/online
echo "bench: guest up: kernel $release, cpus $cpus"
stamp "init started"
echo 8 >/proc/sys/kernel/printk
# The shared libraries of igt_runner, the tests and modprobe from the
# guest's disk (bench-mounts), not from the 9p root at every exec.
if [ -e /tmp/lib/libigt.so.0 ]; then
	export LD_LIBRARY_PATH=/tmp/lib
else
	echo "bench: no library disk on /tmp/lib; loading the libraries from 9p"
fi
for m in $BENCH_MODULES; do
	modprobe "$m" || echo "bench: modprobe $m failed"
done
[ -z "$BENCH_MODULES" ] || stamp "modules loaded ($BENCH_MODULES)"

# Self-test of the bench's crash handling: panic or hang the guest once
# the first test has finished. The hang leaves a task blocked in the
# kernel (LKDTM's HUNG_TASK: D state for good, as in a deadlock) and
# every process stopped; the hung-task detector keeps the console busy.
# The fault comes once a subtest of the second execution has started (its
# journal names it), and only in the first boot of a run (run-vm.sh
# resumes the run in a second boot).
if [ -n "${BENCH_FAULT:-}" ] && [ "${BENCH_BOOT:-1}" -eq 1 ]; then
	(
		while [ ! -s "$job/results/igt/1/journal.txt" ]; do sleep 1; done
		echo "bench: injecting fault: $BENCH_FAULT"
		case $BENCH_FAULT in
		panic) echo c >/proc/sysrq-trigger ;;
		hang)
			if modprobe lkdtm; then
				echo HUNG_TASK >/sys/kernel/debug/provoke-crash/DIRECT &
				sleep 1
			fi
			kill -STOP -1
			;;
		esac
	) &
fi

stamp "starting igt_runner"
cd /tmp
# One execution per binary for consecutive subtests of the test list
# (--multiple-mode): an exec of an IGT binary is the largest cost around
# a subtest under TCG (ld.so maps and relocates some 40 libraries). A
# subtest that crashes or times out costs only itself: igt_runner
# resumes the execution without the subtests it has started. Kernel
# reports stay pinned to their subtest: igt_runner splits dmesg at the
# "[IGT] ... starting subtest" lines.
# IGT_RUNNER_DISABLE_SOCKET_COMMUNICATION: IGT 2.5's resultgen splits
# the socket dump of one execution wrongly (each subtest got slices of
# its neighbour's output, passes turned into warn); the out.txt/err.txt
# it splits by the subtests' own start and result lines are right.
# The results share is cached 9p (bench-mounts.c): --sync
# makes every result reach the host as it is written. A fatal taint or
# lockdep report aborts the run once the execution it happened in ends
# (its subtest fails on it; the later subtests of that execution run and
# are judged on their own kernel log; the later executions are notrun),
# so that it is never buried under later passes (BENCH_ABORT empty: no
# abort, as make selftest's report-attribution run needs). The test root (run-vm.sh) links the
# binaries of the test list.
IGT_RUNNER_DISABLE_SOCKET_COMMUNICATION=1 \
	igt_runner --multiple-mode --sync --test-list "$job/testlist" \
	--per-test-timeout "$BENCH_TEST_TIMEOUT" \
	--overall-timeout "$BENCH_RUNNER_TIMEOUT" --dmesg-warn-level 4 \
	${BENCH_ABORT:+--abort-on-monitored-error="$BENCH_ABORT"} \
	-n "$BENCH_NAME" -o "$job/testroot" "$job/results/igt"
stamp "igt_runner exited with $?"	# bench/overhead.sh reads this line
off
