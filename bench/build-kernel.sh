#!/bin/sh
# SPDX-License-Identifier: MIT
# Build one kernel variant and install its modules into the guest root.
#   fixed: the source tree + the whole patch series + the new files
#   stock: the source tree + only the driver patches + the new files
# The source is Debian's pristine linux-source-7.2, or $KERNEL_SRC, copied
# (never edited in place) into $BENCH_CACHE/kernel/<src>-<variant>, built in
# its o/ subdirectory (a direct subdirectory keeps paths relative, so ccache
# hits across variants and trees).
# Usage: build-kernel.sh fixed|stock GUEST_ROOT
set -eu
. "$(dirname "$0")/lib.sh"

phase_t0=$(now)
variant=$1
guest=${2:-}
# Modules are installed into the guest root only, never into the host.
case $guest in
"$BENCH_CACHE"/guest/root-*) [ -d "$guest" ] || die "guest root $guest does not exist" ;;
*) die "no guest root given (got '$guest'): refusing to install modules outside $BENCH_CACHE/guest" ;;
esac
case $variant in
fixed) kinds="fix driver" ;;
stock) kinds="driver" ;;
*) die "unknown kernel variant '$variant' (use fixed or stock)" ;;
esac

src=$(kernel_source)

tree=$(kernel_tree "$variant")
out=$tree/o
patches=$(series_patches $kinds)
newfiles=$(new_files)

# Cache keys: of what shapes the source tree and its configuration (the
# new files by name), and of everything that shapes the build.
tree_key=$( {
	printf '%s %s\n' "$src" "$variant"
	# your tree's commit and uncommitted edits: an edit rebuilds
	[ -n "${KERNEL_SRC:-}" ] && (cd "$src" && git describe --always --dirty 2>/dev/null &&
		git diff HEAD 2>/dev/null | sha256sum &&
		git status --porcelain 2>/dev/null | sha256sum || true)
	cd "$BENCH_TOP"
	for p in $patches; do cat "patches/$p"; done
	cat bench/kernel.config bench/build-kernel.sh bench/prepare-tree.sh
	printf '%s\n' $newfiles
} | sha256sum | cut -c1-16)
key=$( {
	printf '%s\n' "$tree_key"
	cd "$BENCH_TOP"
	cat $newfiles
} | sha256sum | cut -c1-16)

kmake() {
	make -C "$tree" O="$out" -j"$JOBS" \
		CC="ccache gcc" HOSTCC="ccache gcc" \
		KBUILD_BUILD_TIMESTAMP="bench" KBUILD_BUILD_USER=bench \
		KBUILD_BUILD_HOST=bench "$@"
}

if [ -f "$out/.bench-key" ] && [ "$(cat "$out/.bench-key")" = "$key" ] &&
   [ -f "$out/arch/x86/boot/bzImage" ]; then
	say "kernel[$variant]: up to date ($tree)"
elif [ -f "$out/.bench-tree-key" ] && [ "$(cat "$out/.bench-tree-key")" = "$tree_key" ] &&
     [ -f "$out/arch/x86/boot/bzImage" ]; then
	# The edit loop: only the contents of new files changed. Copy those
	# that differ (the others keep their mtimes) and build.
	changed=$(cd "$BENCH_TOP" && for f in $newfiles; do
		cmp -s "$f" "$tree/$f" || { cp "$f" "$tree/$f" && printf ' %s' "$f"; }
	done)
	say "kernel[$variant]: changed:$changed"
else
	say "kernel[$variant]: preparing source tree from $src"
	rm -f "$out/.bench-tree-key"
	"$BENCH_TOP/bench/prepare-tree.sh" "$src" "$tree" $patches

	say "kernel[$variant]: configuring (allnoconfig + bench/kernel.config)"
	mkdir -p "$out"
	frag=$out/.bench-fragment
	{ cat "$BENCH_TOP/bench/kernel.config"
	  printf 'CONFIG_LOCALVERSION="-vunplug-%s"\n' "$variant"
	  printf 'CONFIG_LOCALVERSION_AUTO=n\n'; } >"$frag"
	kmake -s KCONFIG_ALLCONFIG="$frag" allnoconfig >"$out/.bench-config.log" 2>&1 ||
		die "allnoconfig failed (see $out/.bench-config.log)"
	kmake -s olddefconfig >>"$out/.bench-config.log" 2>&1 ||
		die "olddefconfig failed (see $out/.bench-config.log)"
	dropped=""
	while IFS= read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*}
		want=${line#*=}
		got=$(sed -n "s/^$sym=//p" "$out/.config")
		if [ "$want" = n ]; then
			[ -z "$got" ] || dropped="$dropped $sym=$got(want n)"
		elif [ "$got" != "$want" ]; then
			dropped="$dropped $sym"
		fi
	done <"$frag"
	[ -z "$dropped" ] ||
		die "kernel config: options dropped by Kconfig (missing dependencies?):$dropped"
	printf '%s\n' "$tree_key" >"$out/.bench-tree-key"
fi
if [ "$(cat "$out/.bench-key" 2>/dev/null)" != "$key" ] ||
   [ ! -f "$out/arch/x86/boot/bzImage" ]; then
	say "kernel[$variant]: building with $JOBS jobs (ccache: $CCACHE_DIR)"
	t0=$(date +%s)
	kmake bzImage modules >"$out/.bench-build.log" 2>&1 || {
		grep -E 'error|Error' "$out/.bench-build.log" | head -n 20 >&2
		die "kernel build failed (full log: $out/.bench-build.log)"
	}
	say "kernel[$variant]: built in $(( $(date +%s) - t0 )) s"
	printf '%s\n' "$key" >"$out/.bench-key"
fi

release=$(cat "$out/include/config/kernel.release")
if [ ! -f "$guest/lib/modules/$release/.bench-key" ] ||
   [ "$(cat "$guest/lib/modules/$release/.bench-key")" != "$key" ]; then
	say "kernel[$variant]: installing modules of $release into the guest root"
	rm -rf "$guest/lib/modules/$release"
	make -C "$tree" O="$out" -s INSTALL_MOD_PATH="$guest" INSTALL_MOD_STRIP=1 \
		DEPMOD=/sbin/depmod modules_install >"$out/.bench-modinst.log" 2>&1 ||
		die "modules_install failed (see $out/.bench-modinst.log)"
	printf '%s\n' "$key" >"$guest/lib/modules/$release/.bench-key"
fi
printf '%s\n' "$release" >"$out/.bench-release"
phase "kernel build ($variant)" "$phase_t0"
