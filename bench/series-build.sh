#!/bin/sh
# SPDX-License-Identifier: MIT
# Every prefix of the fix patches builds on its own: for k = 1..N, the
# source tree with patches 1..k (and the driver patch and files, which the
# build needs) is built with the fixed kernel's configuration; every
# directory that the series touches is compiled with -Werror.
set -eu
. "$(dirname "$0")/lib.sh"

src=$(kernel_source)
fixes=$(series_patches fix)
drivers=$(series_patches driver)
touched=$(patched_files $fixes $drivers)
# The directories of the touched sources, and every fbdev and DRM user of
# the touched headers that the configuration builds.
dirs=$( { printf '%s\n' $touched | grep '\.c$' | xargs -n 1 dirname
	  printf 'drivers/video\ndrivers/gpu/drm\n'; } | sort -u | sed 's|$|/|' | tr '\n' ' ')

guest=$("$BENCH_TOP/bench/build-guest.sh")
"$BENCH_TOP/bench/build-kernel.sh" fixed "$guest" >/dev/null
config=$(kernel_tree fixed)/o/.config
tree=$(kernel_tree prefix)
out=$tree/o
mkdir -p "$out"

n=0
total=$(printf '%s\n' $fixes | wc -l)
failed=0
for k in $(seq 0 "$total"); do
	applied=$(printf '%s\n' $fixes | head -n "$k")
	"$BENCH_TOP/bench/prepare-tree.sh" "$src" "$tree" $applied $drivers
	cp "$config" "$out/.config"
	name=$(printf '%s\n' $applied | tail -n 1)
	say "series-build: patches 1..$k ${name:+(up to $name)}"
	t0=$(date +%s)
	if make -C "$tree" O="$out" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc" \
		KCFLAGS=-Werror olddefconfig $dirs >"$out/.bench-prefix-$k.log" 2>&1; then
		say "series-build: patches 1..$k build ($(grep -c '^ *CC ' "$out/.bench-prefix-$k.log") objects compiled, $(( $(date +%s) - t0 )) s)"
		n=$((n + 1))
	else
		grep -E 'error|warning' "$out/.bench-prefix-$k.log" | head -n 20 >&2
		say "series-build: patches 1..$k FAIL (log: $out/.bench-prefix-$k.log)"
		failed=$((failed + 1))
	fi
done
echo "$n passed, $failed failed"
[ "$failed" -eq 0 ]
