#!/bin/sh
# SPDX-License-Identifier: MIT
# Choose how QEMU runs the guest: "kvm CPU-MODEL" when a kernel really
# boots under KVM with that CPU model, else "tcg". Each candidate model is
# tried once per host kernel and QEMU version (cached); for each, the
# reason it was taken or not is kept and printed:
#   refused  - QEMU itself refused the model (its message is kept),
#   silent   - QEMU ran but the guest printed nothing in the time given,
#   no root  - the guest kernel booted (it got as far as mounting root).
# Usage: accel.sh KERNEL_IMAGE   (prints the choice on stdout)
set -eu
. "$(dirname "$0")/lib.sh"

kernel=$1
: "${BENCH_KVM_PROBE_SECONDS:=30}"
key=$(printf '%s %s' "$(uname -r)" "$(qemu-system-x86_64 --version | head -n 1)" |
	sha256sum | cut -c1-8)
cache=$BENCH_CACHE/accel-$key
if [ ! -f "$cache" ]; then
	dir=$(mktemp -d "$BENCH_CACHE/accel-probe.XXXXXX")
	choice=tcg
	if [ ! -w /dev/kvm ]; then
		echo "kvm: /dev/kvm is not writable" >"$dir/reasons"
	else
		: >"$dir/reasons"
		for cpu in host host,-arch-capabilities max; do
			t0=$(date +%s)
			rc=0
			timeout "$BENCH_KVM_PROBE_SECONDS" qemu-system-x86_64 -accel kvm \
				-cpu "$cpu" -m 512M -display none -no-reboot -monitor none \
				-serial "file:$dir/console" -kernel "$kernel" \
				-append "console=ttyS0 panic=-1 root=/dev/bench-no-root" \
				>"$dir/qemu" 2>&1 || rc=$?
			secs=$(( $(date +%s) - t0 ))
			if grep -aq 'VFS: Unable to mount root\|Kernel panic' "$dir/console" 2>/dev/null; then
				echo "kvm -cpu $cpu: no root after ${secs} s: the guest boots, chosen" >>"$dir/reasons"
				choice="kvm $cpu"
				break
			elif [ "$rc" -ne 124 ] && [ -s "$dir/qemu" ]; then
				echo "kvm -cpu $cpu: refused by QEMU: $(head -n 1 "$dir/qemu")" >>"$dir/reasons"
			else
				echo "kvm -cpu $cpu: silent: the guest printed nothing in ${secs} s" >>"$dir/reasons"
			fi
			rm -f "$dir/console" "$dir/qemu"
		done
	fi
	{ echo "$choice"; cat "$dir/reasons"; } >"$cache"
	rm -rf "$dir"
fi
sed -n '2,$s/^/    accel: /p' "$cache" >&2
head -n 1 "$cache"
