#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch Debian's linux-source-7.2 into the cache (private apt setup) and
# unpack one pristine tree. Prints the pristine tree's path.
set -eu
. "$(dirname "$0")/lib.sh"

pkg=${KERNEL_PKG:-linux-source-7.2}
dir=$BENCH_CACHE/debian
mkdir -p "$dir/deb"

if [ -z "$(ls "$dir"/deb/"$pkg"_*.deb 2>/dev/null)" ]; then
	say "fetch: downloading $pkg from Debian (sid / trixie-backports)" >&2
	"$BENCH_TOP/bench/apt-private.sh" "$BENCH_CACHE" apt-get -q update \
		>"$dir/apt-update.log" 2>&1 ||
		die "apt update of sid/trixie-backports failed (see $dir/apt-update.log)"
	(cd "$dir/deb" && "$BENCH_TOP/bench/apt-private.sh" "$BENCH_CACHE" \
		apt-get -q download "$pkg") >"$dir/apt-download.log" 2>&1 ||
		die "cannot download $pkg (see $dir/apt-download.log)"
fi
deb=$(ls "$dir"/deb/"$pkg"_*.deb | sort -V | tail -n 1)
ver=$(dpkg-deb -f "$deb" Version)
tree=$dir/pristine-$ver
if [ ! -f "$tree/.bench-pristine" ]; then
	say "fetch: unpacking $pkg $ver" >&2
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -O --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -C "$tree.tmp" -xJ --strip-components=1
	[ -f "$tree.tmp/Makefile" ] || die "unexpected layout in $deb"
	touch "$tree.tmp/.bench-pristine"
	mv "$tree.tmp" "$tree"
fi
printf '%s\n' "$tree"
