#!/bin/sh
# SPDX-License-Identifier: MIT
# Write the whole series (the patches of patches/series, with the new files
# of drivers/ and include/ folded into the driver patch that builds them) as git
# format-patch files with a cover letter, ready for dri-devel, into
# $BENCH_OUT/series. The result applies with `git am` to a clean 7.2 tree.
set -eu
. "$(dirname "$0")/lib.sh"

src=$(kernel_source)
dest=$BENCH_OUT/series
work=$BENCH_CACHE/series-work
rm -rf "$work" "$dest"
mkdir -p "$work" "$dest"

patches=$(series_patches fix driver)
newfiles=$(new_files)

# A scratch repository holding the pristine versions of the touched files.
touched=$(patched_files $patches)
for f in $touched; do
	mkdir -p "$work/$(dirname "$f")"
	cp "$src/$f" "$work/$f"
done
cd "$work"
git init -q
git add -A
git -c user.name=bench -c user.email=bench@localhost commit -q \
	-m "base: $(make -s -C "$src" kernelversion 2>/dev/null || echo 7.2)"
base=$(git rev-parse HEAD)

for p in $patches; do
	git -c user.name=bench -c user.email=bench@localhost am -q --keep-cr \
		"$BENCH_TOP/patches/$p" || die "patch $p does not apply to $src"
	kind=$(awk -v p="$p" '$2 == p { print $1 }' "$BENCH_TOP/patches/series")
	if [ "$kind" = driver ]; then
		# Each new file goes into the driver patch that adds it to the
		# build: the one that changes the Makefile of its directory or
		# of the directory above.
		mine=$(patched_files "$p")
		for f in $newfiles; do
			d=$(dirname "$f")
			printf '%s\n' "$mine" | grep -qxF -e "$d/Makefile" \
				-e "$(dirname "$d")/Makefile" || continue
			mkdir -p "$d"
			cp "$BENCH_TOP/$f" "$f"
		done
		git add -A
		git -c user.name=bench -c user.email=bench@localhost \
			commit -q --amend --no-edit
	fi
done

# The cover letter comes from the author of the series' patches.
author=$(sed -n 's/^From: \(.*\) <\(.*\)>$/\1|\2/p' "$BENCH_TOP/patches/$(echo $patches | cut -d' ' -f1)" | head -n 1)
git -c user.name="${author%%|*}" -c user.email="${author#*|}" \
	format-patch -q --cover-letter --zero-commit --no-signature \
	-o "$dest" "$base"
cover=$(ls "$dest"/0000-*.patch)
subject=$(sed -n '1p' "$BENCH_TOP/patches/cover-letter.txt")
awk -v subj="$subject" -v blurbfile="$BENCH_TOP/patches/cover-letter.txt" '
	/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subj) }
	/\*\*\* BLURB HERE \*\*\*/ {
		n = 0
		while ((getline line < blurbfile) > 0)
			if (n++ >= 2) print line
		next
	}
	{ print }' "$cover" >"$cover.new"
mv "$cover.new" "$cover"

# Append the results of the last `make check`, when there is one.
if [ -f "$BENCH_OUT/fixed/outcome.txt" ] && [ -f "$BENCH_OUT/stock/outcome.txt" ]; then
	tmp=$cover.new
	awk -v fixed="$BENCH_OUT/fixed/outcome.txt" -v stock="$BENCH_OUT/stock/outcome.txt" '
		/^[A-Z][A-Za-z]* .*\([0-9]+\):$/ && !done {
			print "Results of the last run (IGT result on stock 7.2 / with this series):"
			print ""
			while ((getline l < stock) > 0) { split(l, a, " "); s[a[1]] = a[3] }
			while ((getline l < fixed) > 0) {
				split(l, a, " ")
				printf "  %-48s %-8s %s\n", a[1], s[a[1]], a[3]
			}
			print ""
			done = 1
		}
		{ print }' "$cover" >"$tmp"
	mv "$tmp" "$cover"
fi
say "series: $(ls "$dest" | wc -l) files in $dest"
ls "$dest" | sed 's/^/    /'
