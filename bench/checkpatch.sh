#!/bin/sh
# SPDX-License-Identifier: MIT
# checkpatch.pl --strict over the patch series and the new kernel files.
# The Fixes: commit ids cannot be looked up without the kernel's git
# history, so that single check is left out here.
set -eu
. "$(dirname "$0")/lib.sh"

src=$(kernel_source)
cp="perl $src/scripts/checkpatch.pl --strict --no-tree --quiet --ignore UNKNOWN_COMMIT_ID"
bad=0
# Run outside the repository: inside a git work tree, checkpatch looks at
# tracked .patch files as changes to the repository itself.
patches=$(series_patches fix driver | sed "s|^|$BENCH_TOP/patches/|")
files=$(new_files)
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
