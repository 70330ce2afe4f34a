#!/bin/sh
# SPDX-License-Identifier: MIT
# Write the patches as one submission per subsystem (patches/submissions)
# into $BENCH_OUT/series/NAME: git format-patch files with the version and
# cover letter of the submission and To:/Cc: from the kernel's
# scripts/get_maintainer.pl. From: and Signed-off-by: are the git identity
# of the person running it. The new files of drivers/ are folded into the
# driver patch that adds them to the build. Each submission is applied
# with `git am` on its own to the pristine files of the kernel source
# (KERNEL_PKG or KERNEL_SRC), so a submission that does not apply stops it.
set -eu
. "$(dirname "$0")/lib.sh"

name=$(git -C "$BENCH_TOP" config user.name || true)
email=$(git -C "$BENCH_TOP" config user.email || true)
[ -n "$name" ] && [ -n "$email" ] ||
	die "make series: no git identity to sign the patches with; set git config user.name and user.email"
me="$name <$email>"

src=$(kernel_source)
kver=$(make -s -C "$src" kernelversion 2>/dev/null || echo unknown)
dest=$BENCH_OUT/series
work=$BENCH_CACHE/series-work
tmp=$BENCH_CACHE/series-tmp
rm -rf "$work" "$dest" "$tmp"
mkdir -p "$work" "$dest" "$tmp"
newfiles=$(new_files)
subs=$(awk '!/^#/ && NF >= 2 { print $1 }' "$BENCH_TOP/patches/submissions")

# The patches of one submission, in series order.
submission_patches() {
	awk -v s="$1" -v kv="$(kernel_version)" "$SERIES_AWK"'
		!/^#/ && NF >= 3 && $3 == s && for_kernel($4) { print $2 }' \
		"$BENCH_TOP/patches/series"
}

# A patch file with its author's From: and Signed-off-by: made the
# identity of the person running this.
signed() {
	awk -v me="$me" '
		!hdr && /^From: / { author = substr($0, 7); hdr = 1 }
		author != "" && ($0 == "From: " author || $0 == "Signed-off-by: " author) {
			sub(/:.*/, ": " me)
		}
		{ print }' "$1"
}

# One recipient list from get_maintainer.pl's output: "to" takes the
# maintainers, "cc" everyone else (reviewers and lists).
recipients() {
	(cd "$src" && perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-keywords \
		--rolestats "$@" 2>/dev/null) >"$tmp/maintainers" ||
		die "scripts/get_maintainer.pl failed in $src"
}
pick() {
	case $1 in
	to) pat='\((maintainer|supporter|odd fixer):' ;;
	cc) pat='\((reviewer|open list|list|moderated list)' ;;
	esac
	grep -E "$pat" "$tmp/maintainers" | sed 's/ *(.*//' | sort -u
}

# A scratch repository holding the pristine versions of the touched files.
all=$(series_patches fix driver)
for f in $(patched_files $all); do
	mkdir -p "$work/$(dirname "$f")"
	cp "$src/$f" "$work/$f" 2>/dev/null ||
		die "$f: not in $src (the series expects Linux 7.2 or 7.3)"
done
cd "$work"
git init -q
git add -A
git -c user.name="$name" -c user.email="$email" commit -q -m "base: $kver"
base=$(git rev-parse HEAD)

summary=$dest/SUMMARY
: >"$summary"
for sub in $subs; do
	version=$(awk -v s="$sub" '!/^#/ && $1 == s { print $2 }' "$BENCH_TOP/patches/submissions")
	cover=$BENCH_TOP/patches/cover-$sub.txt
	[ -f "$cover" ] || die "patches/cover-$sub.txt is missing"
	patches=$(submission_patches "$sub")
	[ -n "$patches" ] || die "submission $sub has no patch in patches/series"
	git checkout -q -B "$sub" "$base"
	for p in $patches; do
		signed "$BENCH_TOP/patches/$p" >"$tmp/patch"
		git -c user.name="$name" -c user.email="$email" am -q --keep-cr \
			"$tmp/patch" ||
			die "submission $sub: $p does not apply to Linux $kver"
		kind=$(awk -v p="$p" '$2 == p { print $1 }' "$BENCH_TOP/patches/series")
		[ "$kind" = driver ] || continue
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
		git -c user.name="$name" -c user.email="$email" \
			commit -q --amend --no-edit
	done

	out=$dest/$sub
	fp() {
		[ "$version" -le 1 ] || set -- -v "$version" "$@"
		git -c user.name="$name" -c user.email="$email" format-patch -q \
			--cover-letter --zero-commit --no-signature --thread=shallow \
			"$@" -o "$out" "$base..$sub"
	}
	fp
	recipients "$out"/*.patch
	# one --to= or --cc= argument per line of get_maintainer.pl's output
	ifs=$IFS
	IFS='
'
	set -- $(pick to | sed 's/^/--to=/') $(pick cc | sed 's/^/--cc=/')
	IFS=$ifs
	rm -rf "$out"
	fp "$@"

	c=$(ls "$out"/*0000-*.patch)
	subject=$(sed -n '1p' "$cover")
	awk -v subj="$subject" -v blurbfile="$cover" '
		/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subj) }
		/\*\*\* BLURB HERE \*\*\*/ {
			n = 0
			while ((getline line < blurbfile) > 0)
				if (n++ >= 2) print line
			next
		}
		{ print }' "$c" >"$c.new"
	mv "$c.new" "$c"
	{
		n=$(printf '%s\n' $patches | wc -l)
		[ "$n" -eq 1 ] && what=patch || what=patches
		printf '%s (v%s, %s %s, applies to Linux %s)\n' "$sub" "$version" \
			"$n" "$what" "$kver"
		pick to | sed 's/^/    To: /'
		pick cc | sed 's/^/    Cc: /'
	} >>"$summary"
done

# The results of the last `make check` go into the fbdev cover letter.
c=$(ls "$dest"/fbdev/*0000-*.patch 2>/dev/null || true)
if [ -n "$c" ] && [ -f "$BENCH_OUT/fixed/outcome.txt" ] && [ -f "$BENCH_OUT/stock/outcome.txt" ]; then
	awk -v fixed="$BENCH_OUT/fixed/outcome.txt" -v stock="$BENCH_OUT/stock/outcome.txt" '
		/^[A-Z][A-Za-z]* .*\([0-9]+\):$/ && !done {
			print "Results of the last run (IGT result without / with the series):"
			print ""
			while ((getline l < stock) > 0) { split(l, a, " "); s[a[1]] = a[3] }
			while ((getline l < fixed) > 0) {
				split(l, a, " ")
				printf "  %-48s %-8s %s\n", a[1], s[a[1]], a[3]
			}
			print ""
			done = 1
		}
		{ print }' "$c" >"$c.new"
	mv "$c.new" "$c"
fi
say "series: $(printf '%s\n' $subs | wc -l) submissions in $dest, signed by $me"
cat "$summary"
