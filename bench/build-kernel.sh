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
# the key of a build from the new files as they are in directory $1
# (the bench's: the build wanted; the tree's: the build it was copied for)
files_key() {
	{
		printf '%s\n' "$tree_key"
		cd "$1"
		cat $newfiles 2>/dev/null
	} | sha256sum | cut -c1-16
}
key=$(files_key "$BENCH_TOP")

# The modules that the given files of the tree are built into, as
# kbuild targets (dir/name.ko): kbuild's dependency records (.*.cmd)
# name what is built from each file, the modules' .mod files the module
# each object is linked into. Fails when a file is not a C source or
# header, or is used by nothing yet, by anything but an object, or by an
# object built into the kernel.
edited_modules() {
	mods=
	for f in "$@"; do
		case $f in *.c | *.h) ;; *) return 1 ;; esac
		cmds=$(cd "$out" && grep -rlF --include='.*.cmd' "../$f" .) || return 1
		for c in $cmds; do
			case $c in *.o.cmd) ;; *) return 1 ;; esac
			o=${c#./}
			o=${o%/*}/${o##*/.}
			o=${o%.cmd}
			mod=$(cd "$out" && grep -rlxF --include='*.mod' "$o" .) || return 1
			# (one module, not an object linked into several)
			case $mod in *"
"*) return 1 ;; esac
			mod=${mod#./}
			mods="$mods ${mod%.mod}.ko"
		done
	done
	# shellcheck disable=SC2086
	printf '%s\n' $mods | sort -u
}

kmake() {
	make -C "$tree" O="$out" -j"$JOBS" \
		CC="ccache gcc" HOSTCC="ccache gcc" \
		KBUILD_BUILD_TIMESTAMP="bench" KBUILD_BUILD_USER=bench \
		KBUILD_BUILD_HOST=bench "$@"
}

built_key=$(cat "$out/.bench-key" 2>/dev/null || true)
# (a single-module build that was interrupted: the tree's modules.order)
[ ! -f "$out/.bench-modules.order" ] || mv "$out/.bench-modules.order" "$out/modules.order"
kos=
if [ "$built_key" = "$key" ] && [ -f "$out/arch/x86/boot/bzImage" ]; then
	say "kernel[$variant]: up to date ($tree)"
elif [ -f "$out/.bench-tree-key" ] && [ "$(cat "$out/.bench-tree-key")" = "$tree_key" ] &&
     [ -f "$out/arch/x86/boot/bzImage" ]; then
	# The edit loop: only the contents of new files changed. Copy those
	# that differ (the others keep their mtimes) and build: only the
	# modules they are in, when the tree was built as it is now (not
	# after an edit whose build failed: it may have changed more).
	tree_now=$(files_key "$tree")
	changed=$(cd "$BENCH_TOP" && for f in $newfiles; do
		cmp -s "$f" "$tree/$f" || { cp "$f" "$tree/$f" && printf ' %s' "$f"; }
	done)
	say "kernel[$variant]: changed:$changed"
	# shellcheck disable=SC2086
	[ "$tree_now" != "$built_key" ] || kos=$(edited_modules $changed) || kos=
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
	t0=$(date +%s)
	# Only modules change: kbuild builds those alone (make M= would
	# build in the source tree). Its single-module build replaces
	# modules.order, which modules_install reads, with its own and then
	# deletes it: the tree's is put back. If it fails, the whole build
	# runs.
	if [ -n "$kos" ] && ! cp "$out/modules.order" "$out/.bench-modules.order"; then
		kos=
	fi
	if [ -n "$kos" ]; then
		# shellcheck disable=SC2086
		say "kernel[$variant]: building" $kos
		# shellcheck disable=SC2086
		kmake $kos >"$out/.bench-build.log" 2>&1 || {
			say "kernel[$variant]: building the modules alone failed (log: $out/.bench-build-modules.log)"
			mv "$out/.bench-build.log" "$out/.bench-build-modules.log"
			kos=
		}
		mv "$out/.bench-modules.order" "$out/modules.order"
	fi
	if [ -z "$kos" ]; then
		say "kernel[$variant]: building with $JOBS jobs (ccache: $CCACHE_DIR)"
		kmake bzImage modules >"$out/.bench-build.log" 2>&1 || {
			grep -E 'error|Error' "$out/.bench-build.log" | head -n 20 >&2
			die "kernel build failed (full log: $out/.bench-build.log)"
		}
	fi
	say "kernel[$variant]: built in $(( $(date +%s) - t0 )) s"
	printf '%s\n' "$key" >"$out/.bench-key"
fi

release=$(cat "$out/include/config/kernel.release")
moddir=$guest/lib/modules/$release
installed=$(cat "$moddir/.bench-key" 2>/dev/null || true)
if [ "$installed" = "$key" ]; then
	: # installed already
elif [ -n "$kos" ] && [ "$installed" = "$built_key" ]; then
	# the guest has the build before these modules changed: only they
	# are installed, stripped as modules_install does (and the guest's
	# key goes first: an install cut short is not taken for whole)
	rm -f "$moddir/.bench-key"
	for ko in $kos; do
		strip --strip-debug -o "$moddir/kernel/$ko" "$out/$ko" ||
			die "cannot install $ko into $moddir"
	done
	/sbin/depmod -b "$guest" "$release" ||
		die "depmod failed for the modules in $moddir"
	printf '%s\n' "$key" >"$moddir/.bench-key"
else
	say "kernel[$variant]: installing modules of $release into the guest root"
	rm -rf "$guest/lib/modules/$release"
	make -C "$tree" O="$out" -s INSTALL_MOD_PATH="$guest" INSTALL_MOD_STRIP=1 \
		DEPMOD=/sbin/depmod modules_install >"$out/.bench-modinst.log" 2>&1 ||
		die "modules_install failed (see $out/.bench-modinst.log)"
	printf '%s\n' "$key" >"$guest/lib/modules/$release/.bench-key"
fi
printf '%s\n' "$release" >"$out/.bench-release"
phase "kernel build ($variant)" "$phase_t0"
