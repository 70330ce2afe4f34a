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
cd "$BENCH_TOP"
for p in $(awk '!/^#/ && NF == 2 { print $2 }' patches/series); do
	$cp "patches/$p" || bad=1
done
for f in $(find drivers include -type f -name '*.[ch]' 2>/dev/null | sort); do
	$cp -f "$f" || bad=1
done
if [ "$bad" -eq 0 ]; then
	echo "checkpatch --strict: clean"
else
	die "checkpatch --strict found problems (above)"
fi
