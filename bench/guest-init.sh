#!/bin/sh
# SPDX-License-Identifier: MIT
# PID 1 of the bench guest: mounts what IGT needs, loads the modules, runs
# igt_runner over a test root holding only the listed binaries, writes the
# results to the host's share and powers off. Console lines that start with
# "bench:" are read by the host.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /run/bench
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 bench /run/bench ||
	{ echo "bench: cannot mount the bench share"; echo o >/proc/sysrq-trigger; }
job=/run/bench
. "$job/job.env"

off() {
	sync
	echo "bench: done"
	echo o >/proc/sysrq-trigger
	sleep 60
}

echo "bench: guest up: kernel $(uname -r), $(nproc) cpus"
echo 8 >/proc/sys/kernel/printk
for m in $BENCH_MODULES; do
	modprobe "$m" || echo "bench: modprobe $m failed"
done

# A test root holding only the binaries of the test list.
root=/tmp/testroot
mkdir -p "$root"
bins=$(sed -n 's/^igt@\([^@]*\).*/\1/p' "$job/testlist" | sort -u)
for b in $bins; do
	for d in /opt/vunplug-bench/bin /usr/libexec/igt-gpu-tools; do
		if [ -x "$d/$b" ]; then
			ln -s "$d/$b" "$root/$b"
			break
		fi
	done
	[ -e "$root/$b" ] || echo "bench: test binary $b not found in the guest"
done
{ echo TESTLIST; echo $bins; echo END TESTLIST; } >"$root/test-list.txt"

# Self-test of the bench's crash handling: panic or hang the guest once
# the first test has finished.
if [ -n "${BENCH_FAULT:-}" ]; then
	(
		while [ ! -d "$job/results/igt/1" ]; do sleep 1; done
		echo "bench: injecting fault: $BENCH_FAULT"
		case $BENCH_FAULT in
		panic) echo c >/proc/sysrq-trigger ;;
		hang) kill -STOP -1 ;;
		esac
	) &
fi

cd /tmp
# One execution per subtest: with --multiple-mode, output of one subtest
# ended up in another's results (igt_runner of IGT 2.5), turning passes
# into warn. The results share is uncached 9p: every write reaches the
# host at once, no --sync needed. A fatal taint or lockdep report aborts
# the run, so that it is never buried under later passes (BENCH_ABORT
# empty: no abort, as make selftest's report-attribution run needs).
igt_runner --test-list "$job/testlist" --per-test-timeout "$BENCH_TEST_TIMEOUT" \
	--overall-timeout "$BENCH_RUNNER_TIMEOUT" --dmesg-warn-level 4 \
	${BENCH_ABORT:+--abort-on-monitored-error="$BENCH_ABORT"} \
	-n "$BENCH_NAME" -o "$root" "$job/results/igt"
echo "bench: igt_runner exited with $?"
off
