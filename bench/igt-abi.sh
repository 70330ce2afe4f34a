#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks bench/guest/igt_subset.h against the guest's IGT before the tests
# are compiled (see the header's own comment):
#  1. the guest's igt-gpu-tools is the release the header names
#     (IGT_SUBSET_VERSION); anything else stops the build;
#  2. with IGT's headers of that release -- $IGT_SRC (an IGT source tree),
#     else Debian's intel-gpu-tools source package from the archive -- the
#     header must compile after IGT's own with IGT_SUBSET_CHECK: every
#     declaration then agrees with IGT's; and the tests must compile as in
#     IGT's tree, with igt.h instead of igt_subset.h. When neither can be had, one line
#     says so and the link against libigt.so.0 (every symbol resolved) is
#     the remaining check.
# Usage: igt-abi.sh GUEST_ROOT
set -eu
. "$(dirname "$0")/lib.sh"

root=$1
hdr=$BENCH_TOP/bench/guest/igt_subset.h
pin=$(sed -n 's/^#define IGT_SUBSET_VERSION "\(.*\)"$/\1/p' "$hdr")
[ -n "$pin" ] || die "bench/guest/igt_subset.h names no IGT_SUBSET_VERSION"
ver=$(chroot "$root" dpkg-query -W -f '${Version}' igt-gpu-tools 2>/dev/null) ||
	die "the guest root has no igt-gpu-tools package"
up=${ver#*:}
up=${up%-*}
[ "$up" = "$pin" ] ||
	die "the guest has IGT $up ($ver) but bench/guest/igt_subset.h is written for IGT $pin: compare its declarations with IGT $up's headers (IGT_SRC=<igt-$up tree> make guest checks them) and update IGT_SUBSET_VERSION"

# IGT's headers of that release: $IGT_SRC, or the Debian source package
# (verified against the archive's Sources index), unpacked once.
src=${IGT_SRC:-}
if [ -z "$src" ]; then
	src=$BENCH_CACHE/igt/src-$ver
	# A failed attempt is remembered for a day: no 10 MB index download
	# at every rebuild of the tests.
	miss=$BENCH_CACHE/igt/unavailable-$ver
	if [ ! -f "$src/.bench-ready" ] && [ -n "$(find "$miss" -mtime -1 2>/dev/null)" ]; then
		say "igt: igt_subset.h checked against IGT $up's version and libigt.so.0's symbols only: IGT's headers are not available ($(cat "$miss"), remembered for a day; IGT_SRC=<igt-$up tree> checks them)" >&2
		exit 0
	fi
	if [ ! -f "$src/.bench-ready" ]; then
		mirror=$(debian_mirror)
		mkdir -p "$BENCH_CACHE/igt"
		tmp=$BENCH_CACHE/igt/dl.$$
		rm -rf "$tmp" "$src"
		mkdir -p "$tmp"
		why=""
		if ! curl -fsL -o "$tmp/Sources.xz" "$mirror/dists/sid/main/source/Sources.xz"; then
			why="no sid Sources index at $mirror"
		else
			entry=$(xz -dc "$tmp/Sources.xz" |
				awk -v v="$ver" '/^Package: intel-gpu-tools$/ { p = 1 }
					p && /^Version: / && $2 != v { p = 0 }
					p && /^$/ { exit } p')
			dirn=$(printf '%s\n' "$entry" | sed -n 's/^Directory: //p')
			orig=$(printf '%s\n' "$entry" | sed -n '/^Checksums-Sha256:/,/^[^ ]/p' |
				awk '$3 ~ /\.orig\.tar\.xz$/ { print $1, $3; exit }')
			if [ -z "$dirn" ] || [ -z "$orig" ]; then
				why="intel-gpu-tools $ver is not in sid's Sources index"
			elif ! curl -fsL -o "$tmp/orig.tar.xz" "$mirror/$dirn/${orig#* }"; then
				why="$mirror/$dirn/${orig#* } cannot be downloaded"
			elif [ "$(sha256sum <"$tmp/orig.tar.xz" | cut -d' ' -f1)" != "${orig%% *}" ]; then
				why="${orig#* } does not match the Sources index's checksum"
			else
				mkdir -p "$src.tmp"
				tar -C "$src.tmp" -xJf "$tmp/orig.tar.xz" --strip-components=1 \
					--wildcards '*/lib/*.h' '*/include/*.h'
				touch "$src.tmp/.bench-ready"
				mv "$src.tmp" "$src"
			fi
		fi
		rm -rf "$tmp" "$src.tmp"
		if [ -n "$why" ]; then
			printf '%s\n' "$why" >"$miss"
			say "igt: igt_subset.h checked against IGT $up's version and libigt.so.0's symbols only: IGT's headers are not available ($why; IGT_SRC=<igt-$up tree> checks them)" >&2
			exit 0
		fi
	fi
fi
[ -f "$src/lib/igt_core.h" ] || die "IGT_SRC=$src has no lib/igt_core.h"

# Compile the header after IGT's own inside the guest root, whose compiler
# and libraries the tests are built with.
chk=$root/opt/vunplug-bench/igt-check
rm -rf "$chk"
mkdir -p "$chk/igt"
(cd "$src" && find lib include -name '*.h' | cpio -pdm --quiet "$chk/igt")
cp "$hdr" "$chk/"
cat >"$chk/check.c" <<'C'
#include "igt_core.h"
#include "igt_aux.h"
#include "igt_debugfs.h"
#include "igt_device_scan.h"
#include "igt_kmod.h"
#include "igt_kms.h"
#include "igt_stats.h"
#include "igt_sysfs.h"
#include "igt_vkms.h"
#define IGT_SUBSET_CHECK
#include "igt_subset.h"
C
if ! chroot "$root" sh -c 'cd /opt/vunplug-bench/igt-check &&
	gcc -fsyntax-only -Werror -D_GNU_SOURCE -I. -Iigt/lib \
		-Iigt/include/drm-uapi -Iigt/include/linux-uapi -Iigt/include \
		$(pkg-config --cflags libdrm cairo pixman-1 libkmod) check.c' \
	>"$chk.log" 2>&1; then
	sed 's/^/    /' "$chk.log" | head -n 30 >&2
	die "bench/guest/igt_subset.h does not agree with IGT $up's headers ($src): see above"
fi
say "igt: igt_subset.h agrees with the IGT headers in $src" >&2

# And the tests as IGT's tree would build them: with igt.h, without
# igt_subset.h (the tree's meson-generated config.h: an empty one).
mkdir -p "$chk/src/lib"
cp "$BENCH_TOP"/igt-tests/*.c "$chk/src/"
cp "$BENCH_TOP"/igt-tests/lib/* "$chk/src/lib/"
: >"$chk/src/config.h"
for c in "$BENCH_TOP"/igt-tests/*.c; do
	t=$(basename "$c")
	libsrc=""
	! grep -q '^#include "fbdev_target.h"' "$c" || libsrc=lib/fbdev_target.c
	if ! chroot "$root" sh -c "cd /opt/vunplug-bench/igt-check/src &&
		gcc -fsyntax-only -Wall -Wextra -Wno-unused-parameter -Werror -D_GNU_SOURCE \
			-I. -Ilib -I../igt/lib -I../igt/include/drm-uapi \
			-I../igt/include/linux-uapi -I../igt/include \
			\$(pkg-config --cflags libdrm cairo pixman-1 libkmod) $t $libsrc" \
		>"$chk.log" 2>&1; then
		sed 's/^/    /' "$chk.log" | head -n 30 >&2
		die "igt-tests/$t does not build with igt.h against IGT $up's headers ($src): see above"
	fi
done
say "igt: igt-tests/ builds with igt.h against the IGT headers in $src" >&2
