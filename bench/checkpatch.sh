#!/bin/sh
# SPDX-License-Identifier: MIT
# checkpatch.pl --strict over the patch series and the new kernel files.
# The Fixes: commit ids cannot be looked up without the kernel's git
# history, so that single check is left out here.
set -eu
. "$(dirname "$0")/lib.sh"

if [ -n "${KERNEL_SRC:-}" ]; then
	src=$KERNEL_SRC
else
	src=$("$BENCH_TOP/bench/fetch-kernel.sh")
fi
cp="perl $src/scripts/checkpatch.pl --strict --no-tree --quiet --ignore UNKNOWN_COMMIT_ID"
bad=0
# Run outside the repository: inside a git work tree, checkpatch looks at
# tracked .patch files as changes to the repository itself.
patches=$(awk -v d="$BENCH_TOP/patches" '!/^#/ && NF == 2 { print d "/" $2 }' "$BENCH_TOP/patches/series")
files=$(cd "$BENCH_TOP" && find drivers include -type f 2>/dev/null | sort)
cd /
for p in $patches; do
	$cp "$p" || bad=1
done
for f in $files; do
	$cp -f "$BENCH_TOP/$f" || bad=1
done
if [ "$bad" -eq 0 ]; then
	echo "checkpatch --strict: clean"
else
	die "checkpatch --strict found problems (above)"
fi
