#!/bin/sh
# SPDX-License-Identifier: MIT
# Build (once per package list) the Debian sid guest root with IGT, and
# compile the project's IGT tests in it. Prints the guest root's path.
set -eu
. "$(dirname "$0")/lib.sh"

phase_t0=$(now)
root=$(guest_root)
if [ ! -f "$root/.bench-ready" ]; then
	pkgs=$(grep -v '^#' "$BENCH_TOP/bench/guest-packages.txt" | tr -s ' \n' ',' | sed 's/,$//')
	say "guest: building Debian sid root with mmdebstrap ($pkgs)" >&2
	mirror=$(debian_mirror) || exit 1
	mkdir -p "$BENCH_CACHE/guest"
	rm -rf "$root" "$root.tmp"
	t0=$(date +%s)
	mmdebstrap --variant=apt --mode=root \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--include="$pkgs" sid "$root.tmp" \
		"$mirror" \
		>"$BENCH_CACHE/guest/mmdebstrap.log" 2>&1 ||
		die "mmdebstrap failed (see $BENCH_CACHE/guest/mmdebstrap.log)"
	# Console login is never needed; the bench init runs the tests.
	printf 'vunplug-bench\n' >"$root.tmp/etc/hostname"
	touch "$root.tmp/.bench-ready"
	mv "$root.tmp" "$root"
	# Keep only the newest guest root.
	for old in "$BENCH_CACHE"/guest/root-*; do
		[ "$old" = "$root" ] || rm -rf "$old"
	done
	say "guest: built in $(( $(date +%s) - t0 )) s ($(du -sh "$root" | cut -f1))" >&2
fi

# The project's IGT tests and the bench's own (bench/guest/, the ones
# that include igt_subset.h), built against the guest's libigt.so.0; the
# examples; the guest's init and the per-device wrapper. Made here,
# once per change, never while a guest runs from this root.
bin=$root/opt/vunplug-bench/bin
key=$(hash_files "$BENCH_TOP"/igt-tests/*.c "$BENCH_TOP"/igt-tests/lib/* \
	"$BENCH_TOP"/examples/*.c "$BENCH_TOP"/bench/guest/* \
	"$BENCH_TOP/bench/guest-init.sh" "$BENCH_TOP/bench/igt-abi.sh" \
	"$BENCH_TOP/bench/build-guest.sh")
if [ ! -f "$bin/.bench-key" ] || [ "$(cat "$bin/.bench-key")" != "$key" ]; then
	"$BENCH_TOP/bench/igt-abi.sh" "$root"
	say "guest: compiling igt-tests/ against libigt.so.0" >&2
	rm -rf "$root/opt/vunplug-bench"
	mkdir -p "$bin" "$root/opt/vunplug-bench/src/lib"
	# (igt_subset.h: the libigt declarations the tests use, in place of
	# IGT's headers, which Debian does not ship)
	cp "$BENCH_TOP"/igt-tests/*.c "$BENCH_TOP"/bench/guest/igt_subset.h \
		"$root/opt/vunplug-bench/src/"
	cp "$BENCH_TOP"/igt-tests/lib/* "$root/opt/vunplug-bench/src/lib/"
	for c in "$BENCH_TOP"/igt-tests/*.c "$BENCH_TOP"/bench/guest/*.c; do
		case $c in
		*/bench/guest/*) grep -q '^#include "igt_subset.h"' "$c" || continue ;;
		esac
		t=$(basename "$c" .c)
		cp "$c" "$root/opt/vunplug-bench/src/"
		# a test that includes the device library links it (in IGT's
		# tree: lib/); -Wno-unused-parameter as IGT's meson.build has
		# it (exit handlers take the signal)
		libsrc=""
		! grep -q '^#include "fbdev_target.h"' "$c" ||
			libsrc=/opt/vunplug-bench/src/lib/fbdev_target.c
		chroot "$root" sh -c "gcc -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -D_GNU_SOURCE \
			-DIGT_SUBSET_BUILD -I/opt/vunplug-bench/src -I/opt/vunplug-bench/src/lib \
			\$(pkg-config --cflags libdrm) \
			-o /opt/vunplug-bench/bin/$t /opt/vunplug-bench/src/$t.c $libsrc \
			/usr/lib/x86_64-linux-gnu/libigt.so.0 -ldrm -lpthread" \
			>&2 || die "compiling ${c#"$BENCH_TOP"/} failed"
	done
	# The examples for fbdev users and the guest init's helpers: plain C,
	# no IGT.
	for c in "$BENCH_TOP"/examples/*.c "$BENCH_TOP"/bench/guest/*.c; do
		! grep -q '^#include "igt_subset.h"' "$c" || continue
		t=$(basename "$c" .c)
		cp "$c" "$root/opt/vunplug-bench/src/"
		chroot "$root" gcc -O2 -Wall -Wextra -Werror \
			-o "/opt/vunplug-bench/bin/$t" "/opt/vunplug-bench/src/$t.c" >&2 ||
			die "compiling ${c#"$BENCH_TOP"/} failed"
	done
	install -m 0755 "$BENCH_TOP/bench/guest-init.sh" "$root/opt/vunplug-bench/init"
	install -m 0755 "$BENCH_TOP/bench/guest/igt-device.sh" \
		"$root/opt/vunplug-bench/igt-device"
	# The shared libraries of igt_runner and the tests (ours and the IGT
	# tests of tests/*.txt, all linked alike), on a read-only ext2 disk
	# image that the guest mounts on /tmp/lib (LD_LIBRARY_PATH): each
	# exec would otherwise look up and read some 40 files over 9p, and
	# copying them into RAM costs the guest a copy of every byte. From
	# the disk only the pages used reach the page cache, by QEMU's DMA
	# (docs/performance.md has the figures). Listed and copied in the
	# chroot: ldd names symlinks, which cp -L follows inside the guest
	# root.
	libs=$(for b in /usr/bin/igt_runner /usr/libexec/igt-gpu-tools/core_hotunplug \
		$(cd "$root" && ls -d opt/vunplug-bench/bin/* | sed 's|^|/|'); do
		chroot "$root" ldd "$b" 2>/dev/null || true	# scripts have none
	done | sed -n 's/.* => \/\([^ ]*\) .*/\1/p' | sort -u)
	dir=$root/opt/vunplug-bench/libs
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	chroot "$root" cp -L $libs /opt/vunplug-bench/libs/ ||
		die "collecting the guest's shared libraries failed"
	kb=$(du -sk --apparent-size "$dir" | cut -f1)
	: >"$root/opt/vunplug-bench/libs.img"	# (else mke2fs says it creates it)
	PATH=$PATH:/usr/sbin:/sbin mke2fs -q -F -t ext2 -b 4096 -m 0 -L bench-libs \
		-E root_owner=0:0 -d "$dir" "$root/opt/vunplug-bench/libs.img" \
		"$((kb + kb / 8 + 1024))k" >&2 ||
		die "making the guest's library disk (mke2fs -d) failed"
	rm -rf "$dir"
	printf '%s\n' "$key" >"$bin/.bench-key"
fi
phase guest "$phase_t0"
printf '%s\n' "$root"
