#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot a built kernel variant in QEMU with the guest root over 9p, run
# igt_runner inside, and keep the results even if the guest panics or
# hangs: the host kills QEMU after $BENCH_TIMEOUT seconds, or once the
# console has shown no progress for $BENCH_SILENCE (after finding out
# what hung, see hang_report), turns what igt_runner wrote into
# results.json and reports the last console lines.
# Usage: run-vm.sh VARIANT GUEST_ROOT   -> results in $BENCH_OUT/VARIANT/
# (or $BENCH_OUT/$BENCH_RUN/)
set -eu
. "$(dirname "$0")/lib.sh"

variant=$1
guest=$2
# BENCH_TAG names this guest in the progress lines (run-vms.sh runs two)
tag=${BENCH_TAG:-guest}
: "${BENCH_TIMEOUT:=1500}"
: "${BENCH_TEST_TIMEOUT:=300}"
# A guest whose console has shown no progress for this long is hung:
# every subtest logs its start ("[IGT] ... starting subtest") and
# igt_runner ends one that runs past BENCH_TEST_TIMEOUT (0: none, nor a
# silence limit). Other kernel messages do not count: a deadlock's
# hung-task reports would otherwise keep a hung guest "talking".
if [ "$BENCH_TEST_TIMEOUT" -gt 0 ]; then
	: "${BENCH_SILENCE:=$(( BENCH_TEST_TIMEOUT + 120 ))}"
else
	: "${BENCH_SILENCE:=$BENCH_TIMEOUT}"
fi
: "${BENCH_MODULES=vunplug}"
: "${TESTLIST:=$BENCH_TOP/tests/testlist.txt}"
# The display devices of the guest, next to vunplug and vkms. VGA is first:
# SeaBIOS sets its VESA mode (vga= below), simpledrm takes that firmware
# framebuffer, and bochs takes it over when loaded. qxl is the secondary
# "qxl": QEMU wants qxl-vga as the first display device. Fixed addresses,
# so that results and core_hotunplug's wrappers name the same device in
# every run. bochs-display, the one display device QEMU lets device_del
# remove, sits behind a PCI bridge with ACPI hot-plug; the root bus has
# none, on every PC guest (below): under TCG, the AML of root-bus hot-plug
# makes every device of the root bus slow to enumerate at boot and every
# rescan slower (docs/performance.md).
: "${BENCH_DISPLAYS=-device VGA,id=vga,addr=0x4 -device pci-bridge,id=br1,chassis_nr=1,addr=0x5 -device bochs-display,id=bochs-display,bus=br1,addr=0x1 -device cirrus-vga,id=cirrus-vga,addr=0x6 -device virtio-gpu-pci,id=virtio-gpu-pci,addr=0x7 -device qxl,id=qxl,addr=0x8}"
# The guest's helpers for the tests: QEMU's PCI hot-unplug for the
# device-del targets, and the recipe's example for fbdev_programs.
: "${FBDEV_UNPLUG_HOTPLUG=/opt/vunplug-bench/bin/pci-hotplug}"
: "${FBDEV_UNPLUG_EXAMPLES=/opt/vunplug-bench/bin}"
export FBDEV_UNPLUG_HOTPLUG FBDEV_UNPLUG_EXAMPLES

tree=$(kernel_tree "$variant")
kernel=$tree/o/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no kernel for '$variant' at $kernel (run make kernel first)"
release=$(cat "$tree/o/.bench-release")

# BENCH_RUN names the results directory (default: the variant).
run=$BENCH_OUT/${BENCH_RUN:-$variant}
# BENCH_BOOT: the boot of this run (run-vm.sh boots once more to resume
# a run whose guest hung or crashed, see below); a later boot keeps the job
# and what the earlier ones wrote.
boot=${BENCH_BOOT:-1}
if [ "$boot" -eq 1 ]; then
	rm -rf "$run"
	mkdir -p "$run/job/results"
	skip_patterns "$variant" >"$run/job/skips"
	grep -E '^igt@' "$TESTLIST" | { grep -vEf "$run/job/skips" 2>/dev/null || true; } \
		>"$run/job/testlist"
	[ -s "$run/job/testlist" ] || die "no igt@ entries to run in $TESTLIST"
	nskip=0
	[ ! -s "$run/job/skips" ] ||
		nskip=$(grep -E '^igt@' "$TESTLIST" | grep -cEf "$run/job/skips" || true)
	[ "$nskip" -eq 0 ] ||
		say "boot ($tag): not running $nskip test(s) that tests/$variant-skips.txt matches"
	# igt_runner stops the run at the first taint or lockdep report on our
	# kernel. Stock 7.2 never stops: its reports are expected (the KASAN of
	# evicted-node-writes, the WARNs that patches 10 and 11 fix), and each
	# subtest that sees one fails on it. (Stopping at lockdep did not work:
	# a KASAN report turns lockdep off, and whether igt_runner noticed that
	# during the last subtest or after it made its result Abort or Fail.)
	if [ -n "${BENCH_ABORT+set}" ]; then
		abort=$BENCH_ABORT
	elif [ "$variant" = stock ]; then
		abort=
	else
		abort=taint,lockdep
	fi
	cat >"$run/job/job.env" <<-ENV
	BENCH_VARIANT='$variant'
	BENCH_NAME='$variant-$release'
	BENCH_MODULES='$BENCH_MODULES'
	BENCH_TEST_TIMEOUT='$BENCH_TEST_TIMEOUT'
	BENCH_RUNNER_TIMEOUT='$(( BENCH_TIMEOUT * 3 / 4 ))'
	BENCH_FAULT='${BENCH_FAULT:-}'
	BENCH_ABORT='$abort'
	ENV
	# FBDEV_UNPLUG_* for the test, single-quoted for the guest's shell.
	env | grep -E '^FBDEV_UNPLUG_[A-Z_]+=' | while IFS= read -r kv; do
		printf "export %s='%s'\n" "${kv%%=*}" \
			"$(printf '%s' "${kv#*=}" | sed "s/'/'\\\\''/g")"
	done >>"$run/job/job.env"

	# igt_runner's test root, made here (in the guest, every ln is an exec):
	# the binaries of the test list, ours first, then IGT's;
	# a test on one device, <binary>_<device>[_<path>], is the wrapper
	# bench/guest/igt-device.sh under that name.
	mkdir -p "$run/job/testroot"
	bins=$(sed -n 's/^igt@\([^@]*\).*/\1/p' "$run/job/testlist" | sort -u)
	for b in $bins; do
		case $b in
		core_hotunplug_* | fbdev_unplug_* | fbdev_programs_*)
			ln -s /opt/vunplug-bench/igt-device "$run/job/testroot/$b" ;;
		*)
			for d in /opt/vunplug-bench/bin /usr/libexec/igt-gpu-tools; do
				if [ -x "$guest$d/$b" ]; then
					ln -s "$d/$b" "$run/job/testroot/$b"
					break
				fi
			done
			[ -L "$run/job/testroot/$b" ] ||
				die "test binary $b of $TESTLIST is neither in igt-tests/ nor in the guest's IGT"
			;;
		esac
	done
	{ echo TESTLIST; echo $bins; echo END TESTLIST; } >"$run/job/testroot/test-list.txt"
fi
# The shared libraries that igt_runner and the tests load, on a disk image
# made with the guest (build-guest.sh), mounted read-only by the guest.
libs=$guest/opt/vunplug-bench/libs.img
[ -f "$libs" ] || die "$guest has no libs.img: build the guest with this bench (make guest)"

# QEMU's QMP socket. On the PC, the guest's monitor: a virtio-serial port
# whose chardev connects to it (real hot-unplug, device_del, from inside
# the guest; no host tool in between).
qmp=$run/qmp.sock
[ ${#qmp} -le 100 ] ||
	die "the QMP socket path $qmp is longer than a UNIX socket allows; use a shorter BENCH_OUT"
rm -f "$qmp"
# A human monitor for the host, on two FIFOs (QEMU opens both read-write,
# so neither side blocks on open): run-vm.sh asks a hung guest's QEMU
# whether it still answers, then sends an NMI (see hang_report below).
hmp=$run/hmp
mkfifo "$hmp.in" "$hmp.out"

# KVM when a probe shows that a guest really boots under it with some CPU
# model.
accel=$(choose_accel "$kernel")
case $accel in
kvm) cpu="-accel kvm -cpu host" ;;
"kvm "*) cpu="-accel kvm -cpu ${accel#kvm }" ;;
tcg) cpu="-accel tcg,thread=multi -cpu max" ;;
*) die "BENCH_ACCEL must be kvm, 'kvm CPU-MODEL' or tcg (got '$accel')" ;;
esac

# SeaBIOS sets the VESA mode of vga= on the VGA device (for simpledrm and
# aperture-handover); without one, the kernel's real-mode setup waits
# under TCG for a video BIOS that is not there.
case " $BENCH_DISPLAYS " in
*" -device VGA,"*) vga_mode=" vga=0x311" ;;
*) vga_mode="" ;;
esac
# The machine. Under TCG, a guest without PCI display devices (make
# quick: vunplug and vfbdefio need none) is QEMU's microvm: no PCI bus, no
# ACPI (QEMU names its virtio-mmio devices on the kernel's command line),
# the kernel entered uncompressed through PVH, none of the PC's ACPI and
# PCI enumeration, the largest part of its boot under TCG (figures in
# docs/performance.md). The PC for everything else: under KVM (where
# microvm is untried and the PC's ACPI is cheap), on a non-x86 host (see
# the TSC below), and where the kernel lacks the options below (a tree
# configured before the bench asked for them). BENCH_MACHINE=pc or
# microvm overrides the choice.
has_microvm_config() {
	for o in CONFIG_PVH CONFIG_VIRTIO_MMIO CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES; do
		grep -q "^$o=y" "$tree/o/.config" || { missing_option=$o; return 1; }
	done
	[ -f "$tree/o/vmlinux" ] || { missing_option="vmlinux"; return 1; }
}
machine=${BENCH_MACHINE:-}
if [ -z "$machine" ]; then
	machine=pc
	if [ -z "$BENCH_DISPLAYS" ] && [ "$accel" = tcg ] &&
	   [ "$(uname -m)" = x86_64 ] && has_microvm_config; then
		machine=microvm
	fi
fi
case $machine in
pc)
	mach="-M pc -global PIIX4_PM.acpi-root-pci-hotplug=off"
	virtio=pci blk_addr=,addr=0xa
	# QEMU's monitor for the guest, for device_del (below)
	qmp_port=1
	: "${BENCH_MEM:=1G}"
	# (without it, each PCI IRQ link's _PRT evaluation under TCG loops
	# until ACPICA's 30 s timeout)
	append="acpi=noirq"
	;;
microvm)
	[ -z "$BENCH_DISPLAYS" ] ||
		die "BENCH_MACHINE=microvm has no PCI bus for BENCH_DISPLAYS; use BENCH_MACHINE=pc"
	has_microvm_config ||
		die "BENCH_MACHINE=microvm needs a kernel with CONFIG_PVH, CONFIG_VIRTIO_MMIO and CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES ($missing_option missing in $tree/o); use BENCH_MACHINE=pc"
	kernel=$tree/o/vmlinux
	# (without ACPI nothing powers off: the guest resets, and QEMU
	# exits, -no-reboot)
	mach="-M microvm,acpi=off"
	virtio=device blk_addr=''
	# no PCI device to hot-unplug, so no QMP port (probing a
	# virtio-serial port is slow under TCG); and the memory that make
	# quick's tests need (KASAN's shadow of more slows the boot)
	qmp_port=
	: "${BENCH_MEM:=512M}"
	# (a reset by triple fault: the kernel's default tries ACPI and the
	# keyboard controller first, which microvm lacks, for seconds)
	append="reboot=t"
	# No HPET, PM timer or PIT gate to calibrate the TSC against: under
	# TCG the guest's TSC runs at the host's rate, measured here.
	case $accel in
	tcg)
		[ "$(uname -m)" = x86_64 ] ||
			die "BENCH_MACHINE=microvm under TCG needs an x86-64 host (the guest's TSC is the host's); use BENCH_MACHINE=pc"
		khz=$BENCH_CACHE/host/tsc-khz-$(hash_files "$BENCH_TOP/bench/host/tsc-khz.c")
		if [ ! -x "$khz" ]; then
			mkdir -p "${khz%/*}"
			gcc -O2 -o "$khz.$$" "$BENCH_TOP/bench/host/tsc-khz.c" && mv "$khz.$$" "$khz" ||
				die "cannot build bench/host/tsc-khz.c for a microvm guest (BENCH_MACHINE=pc needs none)"
		fi
		rate=$("$khz" || true)
		[ "${rate:-0}" -gt 0 ] 2>/dev/null ||
			die "measuring the host's TSC rate with $khz failed (got '$rate'); use BENCH_MACHINE=pc"
		append="$append tsc_early_khz=$rate"
		;;
	esac
	;;
*) die "BENCH_MACHINE must be pc or microvm (got '$machine')" ;;
esac
say "boot ($tag): $release under $accel on $machine, watchdog ${BENCH_TIMEOUT} s (console: $run/console.log)"
t0=$(date +%s)
t0_ms=$(now)
# shellcheck disable=SC2086
qemu-system-x86_64 $mach $cpu -smp "${BENCH_SMP:-$JOBS}" -m "$BENCH_MEM" -nodefaults -no-reboot \
	-display none -monitor none -serial "file:$run/console.log" \
	-kernel "$kernel" \
	-append "console=ttyS0${vga_mode} root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=524288,cache=loose rw${append:+ $append} init=/opt/vunplug-bench/init printk.time=1 panic=-1 oops=panic softlockup_panic=1 unknown_nmi_panic panic_sys_info=all_bt,blocked_tasks,locks kasan.fault=report kasan_multi_shot${BENCH_CMDLINE:+ $BENCH_CMDLINE}" \
	-fsdev "local,id=root,path=$guest,security_model=none,multidevs=remap" \
	-device "virtio-9p-$virtio,fsdev=root,mount_tag=/dev/root" \
	-fsdev "local,id=bench,path=$run/job,security_model=none" \
	-device "virtio-9p-$virtio,fsdev=bench,mount_tag=bench" \
	$BENCH_DISPLAYS \
	-drive "file=$libs,format=raw,if=none,id=libs,readonly=on" \
	-device "virtio-blk-$virtio,drive=libs$blk_addr" \
	-chardev "socket,id=qmp,path=$qmp,server=on,wait=off" -mon chardev=qmp,mode=control \
	${qmp_port:+-device virtio-serial-pci,addr=0x9} \
	${qmp_port:+-chardev "socket,id=qmp-port,path=$qmp"} \
	${qmp_port:+-device virtserialport,chardev=qmp-port,name=org.qemu.qmp} \
	-chardev "pipe,id=hmp,path=$hmp" -mon chardev=hmp,mode=readline \
	>"$run/qemu.log" 2>&1 &
qpid=$!
# An interrupted make (Ctrl-C, CI's timeout) must not leave QEMU running.
trap 'kill "$qpid" 2>/dev/null; exit 130' INT TERM HUP

# QEMU's CPU time so far, in clock ticks (user + system, all threads).
qemu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$qpid/stat" 2>/dev/null || echo 0
}

# A hung guest: find out what hung before QEMU is killed, into
# $run/hang.txt (why.sh prints it at the end of the run). Whether the
# guest's CPUs still run (QEMU's CPU use), whether QEMU itself answers
# its monitor, and, through an NMI, what the guest kernel is doing:
# unknown_nmi_panic makes it panic, and panic_sys_info prints every
# CPU's backtrace, the tasks blocked in D state and the locks held.
hang_report() {
	{
		# binary@subtest[@dynamic subtest], from IGT's kernel log lines;
		# the binary as igt_runner's "[N/M] (S left) BINARY (...)" line
		# names it (a target's, where igt-device.sh runs the test)
		printf 'the last subtest started: %s\n' "$(tr -d '\r' <"$run/console.log" | awk '
			/\[[0-9]+\/[0-9]+\] \( *[0-9]+s left\) / { b = $0; sub(/.*s left\) /, "", b); sub(/ .*/, "", b) }
			/\[IGT\] [^ ]+: starting subtest / { t = $(NF - 3); sub(":$", "", t)
				if (b != "" && index(b, t "_") == 1) t = b
				t = t "@" $NF }
			/\[IGT\] [^ ]+: starting dynamic subtest / { d = $NF; dt = t }
			END { if (d != "" && dt == t) t = t "@" d; print t }')"
		c0=$(qemu_ticks)
		sleep 5
		pct=$(( ($(qemu_ticks) - c0) * 100 / (5 * $(getconf CLK_TCK)) ))
		# (a TCG guest whose CPUs all halt costs QEMU about 25% of
		# a core: make selftest's hang, 26%; a looping vCPU, 100%)
		if [ "$pct" -ge 60 ]; then
			echo "QEMU's CPU use over 5 s: $pct% of one core (a guest CPU is busy: a loop in the kernel or in a test)"
		else
			echo "QEMU's CPU use over 5 s: $pct% of one core (the guest is idle: every task waits)"
		fi
		cat "$hmp.out" >"$run/hmp.log" 2>/dev/null &
		reader=$!
		# (a write to a FIFO that QEMU no longer holds would block)
		timeout 5 sh -c 'printf "info status\n" >"$1"' sh "$hmp.in" || true
		sleep 3
		if grep -aq 'VM status' "$run/hmp.log"; then
			printf "QEMU's monitor: %s\n" "$(grep -a 'VM status' "$run/hmp.log" | tail -n 1 | tr -d '\r')"
		else
			echo "QEMU's monitor: no answer in 3 s (QEMU itself is wedged)"
		fi
		before=$(wc -l <"$run/console.log")
		timeout 5 sh -c 'printf "nmi\n" >"$1"' sh "$hmp.in" || true
		i=0
		while [ $i -lt 60 ] && kill -0 "$qpid" 2>/dev/null; do
			sleep 1
			i=$((i + 1))
		done
		kill "$reader" 2>/dev/null || true
		after=$(wc -l <"$run/console.log")
		if [ "$after" -gt "$before" ]; then
			printf 'after an NMI, the guest printed %s lines (console.log from line %s)\n' \
				$((after - before)) $((before + 1))
			# each CPU's task and where it ran, then each blocked task
			# with the innermost frames of its stack below schedule()
			tail -n +"$((before + 1))" "$run/console.log" | tr -d '\r' |
				sed 's/^\[ *[0-9.]*\] *//' | awk '
				/^NMI backtrace for cpu / { cpu = $NF; next }
				cpu != "" && /^CPU: / { for (i = 1; i < NF; i++) if ($i == "Comm:") comm = $(i + 1); next }
				cpu != "" && /^RIP: / { r = $2; sub(/^[0-9]+:/, "", r); printf "cpu %s: %s in %s\n", cpu, comm, r; cpu = ""; next }
				/^task:[^ ]+ +state:D/ { n++; if (n > 4) { t = ""; next } t = $1 " " $2; f = ""; k = 0; next }
				t != "" && /^(<\/TASK>|task:)/ { printf "blocked: %s:%s\n", t, f; t = ""; next }
				t != "" && /\+0x/ && k < 6 {
					fn = $1; sub(/\+.*/, "", fn); if (fn == "?") next
					if (fn ~ /^(__schedule|schedule|schedule_timeout|schedule_preempt_disabled|io_schedule)$/) next
					f = f " " fn; k++ }
				END { if (n > 4) printf "blocked: %d more tasks in D state\n", n - 4 }'
		else
			echo "after an NMI, the guest printed nothing"
		fi
	} >"$run/hang.txt" 2>&1
}

stop_guest() {
	kill "$qpid" 2>/dev/null || true
	sleep 2
	kill -9 "$qpid" 2>/dev/null || true
}

# A hung guest: its console's length at the hang (the NMI's dump
# follows), the hang report, then QEMU is stopped.
stop_hung_guest() {
	lines_hung=$(wc -l 2>/dev/null <"$run/console.log" || echo 0)
	hang_report
	stop_guest
}

# Follow the console: progress lines of the guest and of igt_runner are
# shown; those and IGT's subtest starts count as progress.
shown='^bench:|\[[0-9]+/[0-9]+\]'
seen=0
status=running
init_started=""	# the guest's init has printed its first bench: line
t_first=""
t_said=$(date +%s)	# the last progress line (see BENCH_SILENCE)
while :; do
	t_now=$(date +%s)
	if ! kill -0 "$qpid" 2>/dev/null; then
		status=exited
	elif [ -z "$init_started" ] && [ $((t_now - t0)) -ge "${BENCH_INIT_TIMEOUT:-180}" ]; then
		# A kernel that never reaches the guest's init (seen once
		# under TCG: CPU 0 waiting for an IPI in free_smp_locks() at
		# 2.5 s) ran no test: report it, then boot once more below.
		status=earlyboot
		stop_hung_guest
	elif [ $((t_now - t0)) -ge "$BENCH_TIMEOUT" ] ||
	     [ $((t_now - t_said)) -ge "$BENCH_SILENCE" ]; then
		if [ $((t_now - t0)) -ge "$BENCH_TIMEOUT" ]; then
			status=timeout
		else
			status=silent
		fi
		stop_hung_guest
	fi
	if [ -f "$run/console.log" ]; then
		total=$(wc -l <"$run/console.log")
		if [ "$total" -gt "$seen" ]; then
			new=$(sed -n "$((seen + 1)),${total}p" "$run/console.log")
			printf '%s\n' "$new" | grep -aE "$shown" |
				sed "s/^/    $tag: /" || true
			! printf '%s\n' "$new" | grep -aqE "$shown|\\[IGT\\]" ||
				t_said=$(date +%s)
			[ -n "$t_first" ] ||
				! printf '%s\n' "$new" | grep -aqE '\[0*1/[0-9]+\]' ||
				t_first=$(now)
			[ -n "$init_started" ] ||
				! printf '%s\n' "$new" | grep -aq '^bench:' ||
				init_started=1
			# A kernel that fails before the guest's init runs (a
			# KASAN report in early boot under TCG, seen a few times
			# at 0.004-0.008 s) is not a test result: stop it now.
			if [ -z "$init_started" ] && [ "$status" = running ] &&
			   printf '%s\n' "$new" | grep -aqE '^\[ *[0-9.]+\] (BUG:|Kernel panic)'; then
				status=earlyboot
				stop_guest
			fi
			seen=$total
		fi
	fi
	[ "$status" = running ] || break
	# finely until the first test, for the boot's phase
	if [ -n "$t_first" ]; then sleep 1; else sleep 0.2; fi
done
wait "$qpid" 2>/dev/null || true
trap - INT TERM HUP
rm -f "$hmp.in" "$hmp.out"
elapsed=$(( $(date +%s) - t0 ))
# (every boot of the run: a resumed run adds its boots up)
prev=0
[ "$boot" -eq 1 ] || prev=$(cat "$run/vm-seconds" 2>/dev/null || echo 0)
printf '%s\n' "$((prev + elapsed))" >"$run/vm-seconds"
name=${BENCH_RUN:-$variant}
[ "$boot" -eq 1 ] || name="$name, boot $boot"
if [ -n "$t_first" ]; then
	phase "boot to first test ($name)" "$t0_ms" "$t_first"
	phase "tests ($name)" "$t_first"
else
	phase "VM, no test started ($name)" "$t0_ms"
fi

# Results: igt_runner writes results.json when it completes; otherwise
# build it from what it wrote so far (igt_results runs in the guest root,
# whose libc matches it, in a mount namespace of its own where a copy of
# the results is the root's /tmp: nothing is written into the root).
igt=$run/job/results/igt
if [ -d "$igt" ] && [ ! -f "$igt/results.json" ]; then
	tmp=$run/igt-results.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	cp -a "$igt" "$tmp/igt"
	unshare --mount --propagation private sh -c \
		'mount --bind "$1" "$2/tmp" && chroot "$2" igt_results /tmp/igt' \
		sh "$tmp" "$guest" >/dev/null 2>&1 || true
	[ -f "$tmp/igt/results.json" ] && cp "$tmp/igt/results.json" "$igt/results.json"
	rm -rf "$tmp"
fi
[ -f "$igt/results.json" ] && cp "$igt/results.json" "$run/results.json"
# igt_runner's own cost per test, in the phase table
# shellcheck disable=SC2046
set -- $("$BENCH_TOP/bench/overhead.sh" "$run")
[ $# -eq 3 ] &&
	printf '%s|%s (%s tests, %s s outside the subtests)\n' \
		"igt_runner overhead per test ($name)" "$1" "$2" "$3" \
		>>"$BENCH_OUT/phases.txt"

# One more boot for a kernel that failed before the guest's init: the
# failed console stays beside the run's directory.
if [ "$status" = earlyboot ] && [ -z "${BENCH_BOOT_RETRIED:-}" ]; then
	cp "$run/console.log" "$run.earlyboot-console.log" 2>/dev/null || true
	cp "$run/hang.txt" "$run.earlyboot-hang.txt" 2>/dev/null || true
	first=$(sed -n "1,${lines_hung:-\$}p" "$run/console.log" | grep -am1 -E '(BUG:|Kernel panic)' | sed 's/^\[[^]]*\] //')
	say "boot ($tag): the kernel failed in early boot, before the guest's init (${first:-no init after ${BENCH_INIT_TIMEOUT:-180} s}); booting once more (console kept in $run.earlyboot-console.log)"
	BENCH_BOOT_RETRIED=1 exec sh "$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest"
fi

failed=
if grep -aq '^bench: done' "$run/console.log" 2>/dev/null; then
	say "boot ($tag): guest finished in $elapsed s"
else
	failed=1
	case $status in
	timeout) why="hung: killed by the watchdog after $BENCH_TIMEOUT s" ;;
	silent) why="hung: no progress on its console for $BENCH_SILENCE s (killed after $elapsed s)" ;;
	earlyboot) why="crashed or hung in early boot, before its init, twice" ;;
	*) why="crashed: QEMU exited without the guest finishing ($(grep -acE 'Kernel panic' "$run/console.log" 2>/dev/null || echo 0) panic lines)" ;;
	esac
	if [ "$boot" -gt 1 ] && [ -f "$run/vm-failure" ]; then
		printf '%s; boot %s: %s\n' "$(head -n 1 "$run/vm-failure")" "$boot" "$why" >"$run/vm-failure.new"
		mv "$run/vm-failure.new" "$run/vm-failure"
	else
		printf '%s\n' "$why" >"$run/vm-failure"
	fi
	say "boot ($tag): the guest $why; last console lines:"
	# a hung guest's last lines before the NMI's dump, then the dump's gist
	sed -n "1,${lines_hung:-\$}p" "$run/console.log" 2>/dev/null | tail -n 40 |
		sed "s/^/    ${BENCH_TAG:+$BENCH_TAG }console: /"
	[ -f "$run/hang.txt" ] && sed "s/^/    ${BENCH_TAG:+$BENCH_TAG }hang: /" "$run/hang.txt"
	[ -s "$run/qemu.log" ] && sed "s/^/    ${BENCH_TAG:+$BENCH_TAG }qemu: /" "$run/qemu.log"
fi

# A guest that hung or crashed in the middle of the list: one more boot
# runs the tests that have no result yet (igt_results writes NotRun for
# the executions that never started), so that one hang costs the test it
# hung in (Incomplete), not the rest of the list. The list's first test
# is its boots' setup (make check's aperture-handover loads bochs): every
# boot runs it first, and the first boot's result of it counts. (Not
# igt_resume: it drops the rest of an execution whose first subtest never
# finished.) BENCH_RESUMES boots may follow (default 1; 0: none). Boot
# N's console, hang report, QEMU log and results stay as bootN.*; at the
# end, results.json, console.log and hang.txt gather every boot's.
if [ -n "$failed" ] && [ "$status" != earlyboot ] && [ -f "$run/results.json" ] &&
   [ "$boot" -le "${BENCH_RESUMES:-1}" ]; then
	[ -f "$run/job/testlist.all" ] || cp "$run/job/testlist" "$run/job/testlist.all"
	jq -r --rawfile list "$run/job/testlist" '
		[.tests | to_entries[] | select(.value.result != "notrun") | .key] as $k |
		$list | split("\n")[] | select(length > 0) | . as $t |
		select($k | any(. == $t or startswith($t + "@")) | not)' \
		"$run/results.json" >"$run/job/testlist.left"
	if [ -s "$run/job/testlist.left" ]; then
		setup=$(head -n 1 "$run/job/testlist.all")
		{ grep -qxF "$setup" "$run/job/testlist.left" || printf '%s\n' "$setup"
		  cat "$run/job/testlist.left"; } >"$run/job/testlist"
		for f in console.log hang.txt qemu.log results.json; do
			[ ! -f "$run/$f" ] || mv "$run/$f" "$run/boot$boot.$f"
		done
		mv "$igt" "$run/job/results/igt.boot$boot"
		rm -f "$run/job/testlist.left"
		echo "BENCH_BOOT=$((boot + 1))" >>"$run/job/job.env"
		printf '%s (boot %s was started for the rest of the list)\n' \
			"$(cat "$run/vm-failure")" "$((boot + 1))" >"$run/vm-failure.new"
		mv "$run/vm-failure.new" "$run/vm-failure"
		say "boot ($tag): booting once more for the $(wc -l <"$run/job/testlist") test(s) of the list that have no result, with the list's first (boot $boot's console: $run/boot$boot.console.log)"
		BENCH_BOOT=$((boot + 1)) BENCH_BOOT_RETRIED='' \
			exec sh "$BENCH_TOP/bench/run-vm.sh" "$variant" "$guest"
	fi
	rm -f "$run/job/testlist.left"
fi
if [ "$boot" -gt 1 ]; then
	mv "$run/job/testlist.all" "$run/job/testlist"
	# every boot's console, hang report and results (bootN.*, then this
	# boot's own files)
	: >"$run/console.all"
	: >"$run/hang.all"
	results=""
	i=1
	while [ $i -le "$boot" ]; do
		p=$run/boot$i.
		[ "$i" -lt "$boot" ] || p=$run/
		printf '==== boot %s of %s ====\n' "$i" "$boot" >>"$run/console.all"
		cat "${p}console.log" >>"$run/console.all" 2>/dev/null || true
		[ ! -f "${p}hang.txt" ] || sed "s/^/boot $i: /" "${p}hang.txt" >>"$run/hang.all"
		[ ! -f "${p}results.json" ] || results="$results ${p}results.json"
		i=$((i + 1))
	done
	mv "$run/console.all" "$run/console.log"
	if [ -s "$run/hang.all" ]; then mv "$run/hang.all" "$run/hang.txt"; else rm -f "$run/hang.all"; fi
	# a test's first result that is not NotRun (the setup test ran in
	# every boot), the last boot's run attributes
	# shellcheck disable=SC2086
	jq -s '.[-1] + { tests: (reduce (.[] | .tests | to_entries[]) as $e ({};
			if (.[$e.key] == null) or (.[$e.key].result == "notrun")
			then .[$e.key] = $e.value else . end)) } | del(.totals)' \
		$results >"$run/results.all" && mv "$run/results.all" "$run/results.json"
fi
[ -f "$run/results.json" ] || say "boot ($tag): no results were written"
exit 0
