#!/bin/sh
# SPDX-License-Identifier: MIT
# Choose how QEMU runs the guest: "kvm CPU-MODEL" when a kernel really
# boots under KVM with that CPU model, else "tcg". Each candidate model is
# tried once per host kernel and QEMU version (cached); for each, the
# reason it was taken or not is kept and printed:
#   refused  - QEMU itself refused the model (its message is kept),
#   silent   - QEMU ran but the guest printed nothing in the time given,
#   slow     - the guest printed, but did not get to mounting root in time,
#   no root  - the guest kernel booted (it got as far as mounting root).
# Usage: accel.sh KERNEL_IMAGE   (prints the choice on stdout)
set -eu
. "$(dirname "$0")/lib.sh"

kernel=$1
: "${BENCH_KVM_PROBE_SECONDS:=30}"
: "${BENCH_KVM_PROBE_SILENT:=10}"
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
			qemu-system-x86_64 -accel kvm \
				-cpu "$cpu" -m 512M -display none -no-reboot -monitor none \
				-serial "file:$dir/console" -kernel "$kernel" \
				-append "console=ttyS0 panic=-1 root=/dev/bench-no-root" \
				>"$dir/qemu" 2>&1 &
			pid=$!
			# A kernel under KVM prints within a second or two: a guest
			# still silent after $BENCH_KVM_PROBE_SILENT s is given up
			# on; one that prints gets $BENCH_KVM_PROBE_SECONDS s.
			result=silent
			while kill -0 "$pid" 2>/dev/null; do
				secs=$(( $(date +%s) - t0 ))
				if grep -aq 'VFS: Unable to mount root\|Kernel panic' "$dir/console" 2>/dev/null; then
					result=boots
					break
				fi
				[ "$secs" -lt "$BENCH_KVM_PROBE_SECONDS" ] || break
				[ -s "$dir/console" ] || [ "$secs" -lt "$BENCH_KVM_PROBE_SILENT" ] || break
				sleep 0.5
			done
			qemu_state=$(kill -0 "$pid" 2>/dev/null && echo running || echo exited)
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			secs=$(( $(date +%s) - t0 ))
			if [ "$result" = boots ]; then
				echo "kvm -cpu $cpu: no root after ${secs} s: the guest boots, chosen" >>"$dir/reasons"
				choice="kvm $cpu"
				break
			elif [ "$qemu_state" = exited ] && [ -s "$dir/qemu" ]; then
				echo "kvm -cpu $cpu: refused by QEMU: $(head -n 1 "$dir/qemu")" >>"$dir/reasons"
			elif [ -s "$dir/console" ]; then
				echo "kvm -cpu $cpu: slow: the guest printed but did not reach its root in ${secs} s" >>"$dir/reasons"
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
