#!/bin/sh
# SPDX-License-Identifier: MIT
# Make TREE the kernel source SRC plus PATCHES (names in patches/, applied
# in the order given) plus the project's new files (drivers/, include/):
# the one place where a tree to build is prepared, for build-kernel.sh and
# series-build.sh. SRC is never written to; TREE's o/ (the build output)
# is kept, so that builds stay incremental.
# Usage: prepare-tree.sh SRC TREE [PATCH...]
set -eu
. "$(dirname "$0")/lib.sh"

src=$1
tree=$2
shift 2
[ -f "$src/Makefile" ] || die "prepare-tree: $src is not a kernel source tree"
mkdir -p "$tree/o"
rsync -a --delete --exclude=/o/ --exclude=/.git/ --exclude=/.bench-pristine \
	"$src/" "$tree/"
# rsync gives the files that an earlier preparation patched or added back
# their pristine mtimes, older than the objects built from the patched
# versions: touch every file a patch of the series or a new file may have
# changed, and those an earlier preparation did (o/.bench-touched), so
# that make rebuilds what depends on them.
touched=$tree/o/.bench-touched
{ patched_files $(awk '!/^#/ && NF >= 2 { print $2 }' "$BENCH_TOP/patches/series")
  new_files
  cat "$touched" 2>/dev/null || true; } | sort -u >"$touched.new"
mv "$touched.new" "$touched"
(cd "$tree" && while IFS= read -r f; do
	if [ -e "$f" ]; then touch "$f"; fi
done) <"$touched"
for p in "$@"; do
	if ! err=$(cd "$tree" && git apply --check -v "$BENCH_TOP/patches/$p" 2>&1); then
		file=$(printf '%s\n' "$err" | sed -n 's/^error: patch failed: \([^:]*\):.*/\1/p;s/^error: \([^:]*\): does not exist.*/\1/p' | head -n 1)
		die "patch $p does not apply to $src with the patches before it${file:+ (fails on $file)}"
	fi
	(cd "$tree" && git apply "$BENCH_TOP/patches/$p")
done
(cd "$BENCH_TOP" && for f in $(new_files); do
	mkdir -p "$tree/$(dirname "$f")"
	cp "$f" "$tree/$f"
done)
