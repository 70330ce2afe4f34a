#!/bin/sh
# SPDX-License-Identifier: MIT
# An IGT test on one device, for igt_runner's test list: a target is a
# binary name, so that a line of the list names it and results name the
# driver and the way it goes away. run-vm.sh links this script under the
# names the list uses:
#   core_hotunplug_<device>           IGT's core_hotunplug
#   fbdev_unplug_<device>_<path>      fbdev_unplug --removal <path>
#   fbdev_programs_<device>_<path>    fbdev_programs --removal <path>
# (dashes as underscores). <device> is a QEMU display device, or vunplug
# and vkms, which the tests make themselves (paths debugfs and configfs).
# For a PCI device it finds the device, loads its driver (not when
# igt_runner only lists the subtests: fbdev_unplug's aperture-handover
# needs bochs unloaded until it runs), waits for its card (up to 10 s) and
# names it with IGT_DEVICE. A device the guest does not have, or whose
# driver makes no card, is named by a filter that matches no card: the
# test skips each subtest, as on a machine without it.
name=${0##*/}
case $name in
core_hotunplug_*)
	bin=/usr/libexec/igt-gpu-tools/core_hotunplug
	name=${name#core_hotunplug_}
	path=
	;;
fbdev_unplug_* | fbdev_programs_*)
	rest=${name#fbdev_*_}
	bin=/opt/vunplug-bench/bin/${name%_"$rest"}
	name=$rest
	case $name in
	*_device_del) path=device-del name=${name%_device_del} ;;
	*) path=${name##*_} name=${name%_*} ;;
	esac
	;;
*)
	echo "$0: not a test of this bench" >&2
	exit 77
	;;
esac
case $name in
vunplug | vkms) exec "$bin" --removal "$path" "$@" ;;
vga) id=0x1234:0x1111:0x0300 ;;
bochs_display) id=0x1234:0x1111:0x0380 ;;
cirrus_vga) id=0x1013:0x00b8:0x0300 ;;
virtio_gpu_pci) id=0x1af4:0x1050:0x0380 ;;
virtio_vga) id=0x1af4:0x1050:0x0300 ;;
qxl_vga) id=0x1b36:0x0100:0x0300 ;;
qxl) id=0x1b36:0x0100:0x0380 ;;
*)
	echo "$0: no QEMU display device is called $name" >&2
	exit 77
	;;
esac
# The device is looked up each time: a device_del and device_add of
# fbdev_unplug may have moved it to another slot, and a test that died
# may have left it removed (a rescan brings it back). Shell builtins only:
# every exec is slow under TCG.
find_dev() {
	dev=
	for d in /sys/bus/pci/devices/*; do
		read -r v <"$d/vendor"
		read -r p <"$d/device"
		read -r c <"$d/class"
		[ "$v:$p:${c%??}" = "$id" ] && dev=$d
	done
	[ -n "$dev" ]
}
listing=
case " $* " in
*" --list-subtests "*) listing=1 ;;
esac
# IGT's filter by the card's node: its card is under the PCI device, or
# under its virtio device.
find_card() {
	card=
	for c in "$dev"/drm/card* "$dev"/virtio*/drm/card*; do
		[ -e "$c" ] && card=$c && return 0
	done
	return 1
}
# The test without its device: IGT_DEVICE names the device's PCI slot
# ("none" when it has none), which no card matches, so that every subtest
# skips with the test's own reason. (Not its vendor and device ids: VGA
# and bochs-display share them, and so do virtio-vga and virtio-gpu-pci.)
# Usage: no_device SLOT REASON
no_device() {
	echo "$0: $2" >&2
	card='' filter="pci:slot=$1"
}
card='' filter=''
if ! find_dev && { [ -n "$listing" ] || ! echo 1 >/sys/bus/pci/rescan || ! find_dev; }; then
	[ -n "$listing" ] || no_device none "this guest has no $name ($id)"
elif [ -n "$listing" ]; then
	find_card
elif ! find_card; then
	# (modprobe only when there is no card yet: each exec is slow under
	# TCG, and most executions find the driver bound)
	for m in "$dev"/modalias "$dev"/virtio*/modalias; do
		[ -f "$m" ] && read -r alias <"$m" && modprobe -q -b "$alias"
	done
	# an unbound device whose module is loaded already
	[ -e "$dev/driver" ] || echo "${dev##*/}" >/sys/bus/pci/drivers_probe
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		find_card && break
		sleep 0.5
	done
	[ -n "$card" ] ||
		no_device "${dev##*/}" "${dev##*/} ($name) has no DRM card 10 s after loading its driver"
fi
# IGT opens only the drivers of its own list with DRIVER_ANY (virtio_gpu
# is left out on purpose, bochs, cirrus-qemu and qxl are not in it):
# IGT_FORCE_DRIVER names the card's DRM driver (debugfs dri/N/name).
minor=${card##*/card}
drv=
[ -n "$minor" ] && read -r drv _ </sys/kernel/debug/dri/"$minor"/name
if [ -n "$card" ]; then
	export IGT_DEVICE="drm:/dev/dri/${card##*/}"
elif [ -n "$filter" ]; then
	export IGT_DEVICE="$filter"
fi
[ -z "$drv" ] || export IGT_FORCE_DRIVER="$drv"
[ -n "$path" ] && set -- --removal "$path" "$@"
exec "$bin" "$@"
