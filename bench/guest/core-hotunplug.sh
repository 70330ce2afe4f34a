#!/bin/sh
# SPDX-License-Identifier: MIT
# IGT's core_hotunplug on one QEMU display device: run as
# core_hotunplug_<device> (dashes as underscores), it finds that PCI
# device, loads its driver (not when igt_runner only lists the subtests:
# fbdev_unplug's aperture-handover needs bochs unloaded until it runs),
# waits for its card (up to 10 s) and runs core_hotunplug with IGT_DEVICE
# naming it. Exits 77 (skip) when the guest has no such device.
name=${0##*/}
name=${name#core_hotunplug_}
case $name in
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
# fbdev_unplug may have moved it to another slot. (Shell builtins only:
# every exec costs a fifth of a second under TCG.)
dev=
for d in /sys/bus/pci/devices/*; do
	read -r v <"$d/vendor"
	read -r p <"$d/device"
	read -r c <"$d/class"
	[ "$v:$p:${c%??}" = "$id" ] && dev=$d
done
if [ -z "$dev" ]; then
	echo "$0: this guest has no $name ($id)" >&2
	exit 77
fi
# IGT's filter by the card's node: its card is under the PCI device, or
# under its virtio device.
find_card() {
	card=
	for c in "$dev"/drm/card* "$dev"/virtio*/drm/card*; do
		[ -e "$c" ] && card=$c && return 0
	done
	return 1
}
case " $* " in
*" --list-subtests "*) find_card ;;
*)
	for m in "$dev"/modalias "$dev"/virtio*/modalias; do
		[ -f "$m" ] && read -r alias <"$m" && modprobe -q -b "$alias"
	done
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		find_card && break
		sleep 0.5
	done
	;;
esac
# IGT opens only the drivers of its own list with DRIVER_ANY (virtio_gpu
# is left out on purpose, bochs, cirrus-qemu and qxl are not in it):
# IGT_FORCE_DRIVER names the card's DRM driver (debugfs dri/N/name).
minor=${card##*/card}
drv=
[ -n "$minor" ] && read -r drv _ </sys/kernel/debug/dri/"$minor"/name
IGT_FORCE_DRIVER=$drv IGT_DEVICE=drm:/dev/dri/${card##*/} \
	exec /usr/libexec/igt-gpu-tools/core_hotunplug "$@"
