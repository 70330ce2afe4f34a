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
mount -t configfs configfs /sys/kernel/config
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

# Where the guest's time goes before the first test: seconds since boot.
stamp() {
	echo "bench: at $(cut -d' ' -f1 /proc/uptime) s: $*"
}

echo "bench: guest up: kernel $(uname -r), $(nproc) cpus"
stamp "init started"
echo 8 >/proc/sys/kernel/printk
for m in $BENCH_MODULES; do
	modprobe "$m" || echo "bench: modprobe $m failed"
done
stamp "modules loaded ($BENCH_MODULES)"

# QEMU's name of a PCI display device (as fbdev_unplug names it), from
# its vendor, device and class.
# (Shell builtins only: every exec costs a tenth of a second under TCG.)
pci_id() {
	read -r _v <"$1/vendor"
	read -r _d <"$1/device"
	read -r _c <"$1/class"
	echo "$_v:$_d:${_c%??}"
}

qemu_name() {
	case $(pci_id "$1") in
	0x1234:0x1111:0x0300) echo vga ;;
	0x1234:0x1111:0x0380) echo bochs-display ;;
	0x1013:0x00b8:0x0300) echo cirrus-vga ;;
	0x1af4:0x1050:0x0380) echo virtio-gpu-pci ;;
	0x1af4:0x1050:0x0300) echo virtio-vga ;;
	0x1b36:0x0100:0x0300) echo qxl-vga ;;
	0x1b36:0x0100:0x0380) echo qxl ;;
	esac
}

# A test root holding only the binaries of the test list.
root=/tmp/testroot
mkdir -p "$root"
# IGT's core_hotunplug on one device: core_hotunplug_<device> (dashes as
# underscores) runs it with IGT_DEVICE naming that PCI device, whose
# driver it loads first (not when igt_runner only lists the subtests: the
# aperture-handover subtest needs bochs unloaded until it runs).
mkdir -p /tmp/wrappers
for dev in /sys/bus/pci/devices/*; do
	read -r class <"$dev/class"
	case $class in 0x03*) ;; *) continue ;; esac
	name=$(qemu_name "$dev")
	[ -n "$name" ] || continue
	w=/tmp/wrappers/core_hotunplug_$(echo "$name" | sed 's/-/_/g')
	id=$(pci_id "$dev")
	# The device is found when the wrapper runs: a device_del and
	# device_add of fbdev_unplug may have moved it to another slot. Its
	# driver is loaded and its card waited for (up to 10 s).
	cat >"$w" <<WRAP
#!/bin/sh
for d in /sys/bus/pci/devices/*; do
	read -r v <"\$d/vendor"; read -r p <"\$d/device"; read -r c <"\$d/class"
	[ "\$v:\$p:\${c%??}" = "$id" ] && dev=\$d
done
# IGT's filter by the card's node: its card is under the PCI device, or
# under its virtio device.
find_card() {
	card=
	for c in \$dev/drm/card* \$dev/virtio*/drm/card*; do
		[ -e "\$c" ] && card=\$c && return 0
	done
	return 1
}
case " \$* " in
*" --list-subtests "*) find_card ;;
*) for m in \$dev/modalias \$dev/virtio*/modalias; do
	[ -f "\$m" ] && read -r alias <"\$m" && modprobe -q -b "\$alias"
   done
   for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	find_card && break
	sleep 0.5
   done ;;
esac
# IGT opens only the drivers of its own list with DRIVER_ANY (virtio_gpu
# is left out on purpose, bochs, cirrus-qemu and qxl are not in it):
# IGT_FORCE_DRIVER names the card's DRM driver (debugfs dri/N/name).
minor=\${card##*/card}
drv=
[ -n "\$minor" ] && read -r drv rest </sys/kernel/debug/dri/\$minor/name
IGT_FORCE_DRIVER=\$drv IGT_DEVICE=drm:/dev/dri/\${card##*/} \\
	exec /usr/libexec/igt-gpu-tools/core_hotunplug "\$@"
WRAP
	chmod +x "$w"
done
bins=$(sed -n 's/^igt@\([^@]*\).*/\1/p' "$job/testlist" | sort -u)
for b in $bins; do
	for d in /opt/vunplug-bench/bin /tmp/wrappers /usr/libexec/igt-gpu-tools; do
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

stamp "test root ready, starting igt_runner"
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
